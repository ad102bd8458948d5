"""Training on a folder of labelled captchas: labels from names or labels.tsv, bad samples,
the split, the input size, augmentation, and `jiema train captcha --data` end to end (tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
from jiema.errors import InputDecodeError, InvalidInputError  # noqa: E402
from jiema_captcha import folder as fold  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def cli() -> object:
    import jiema
    from jiema.cli import build_cli
    from jiema_captcha import plugin

    return build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))


def draw(label: str, size: tuple[int, int] = (90, 30)) -> Image.Image:
    """A plain captcha-like image: the label in Pillow's default font, a line across."""
    image = Image.new("RGB", size, (240, 240, 230))
    d = ImageDraw.Draw(image)
    d.text((6, 8), label, fill=(20, 30, 90))
    d.line([(0, size[1] - 5), (size[0], 4)], fill=(150, 150, 150))
    return image


def make_folder(root: Path, labels: list[str], *, style: str = "plain") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, lab in enumerate(labels):
        name = {"plain": f"{lab}.png", "under": f"{lab}_{i}.png", "dash": f"{lab}-{i}.png"}[style]
        draw(lab).save(root / name)
    return root


def test_labels_come_from_names_up_to_the_first_separator(tmp_path) -> None:
    assert fold.label_from_name(Path("a1b2c.png")) == "a1b2c"
    assert fold.label_from_name(Path("a1b2c_17.png")) == "a1b2c"
    assert fold.label_from_name(Path("A1B2C-0.png")) == "A1B2C"
    assert fold.label_from_name(Path("ab-1_2.jpg")) == "ab"
    make_folder(tmp_path, ["ab12", "cd34"], style="under")
    (tmp_path / "notes.txt").write_text("not an image")
    assert [s.label for s in fold.list_samples(tmp_path)] == ["ab12", "cd34"]


def test_labels_tsv_wins_over_names(tmp_path) -> None:
    make_folder(tmp_path, ["ab12", "cd34"])
    (tmp_path / "labels.tsv").write_text("ab12.png\tXY\n# a comment\ncd34.png\tZW\n")
    assert [s.label for s in fold.list_samples(tmp_path)] == ["XY", "ZW"]
    (tmp_path / "labels.tsv").write_text("ab12.png XY\n")
    with pytest.raises(InvalidInputError, match=r"labels.tsv:1: expected file<TAB>label"):
        fold.list_samples(tmp_path)
    (tmp_path / "labels.tsv").write_bytes(b"ab12.png\tXY\ncd34.png\t\xff\xfe\n")
    with pytest.raises(InputDecodeError, match=r"labels.tsv: invalid UTF-8.*offset 21"):
        fold.list_samples(tmp_path)


def test_bad_samples_are_listed_in_one_error_or_skipped(tmp_path) -> None:
    make_folder(tmp_path, ["ab12", "cd34", "ef56"])
    (tmp_path / "ab21.png").write_bytes(b"not a png")
    (tmp_path / "_3.png").write_bytes((tmp_path / "ab12.png").read_bytes())  # empty label
    with pytest.raises(InvalidInputError) as err:
        fold.load_folder(tmp_path, alphabet="abcd1234")
    msg = str(err.value)
    assert msg.startswith("3 bad sample(s)") and "--skip-bad" in msg and "\n" not in msg
    assert "_3.png: empty label" in msg and "ab21.png: not a readable image" in msg
    assert "ef56.png: label 'ef56' has characters outside the alphabet: 56ef" in msg
    ok = fold.load_folder(tmp_path, alphabet="abcd1234", skip_bad=True)
    assert ok.labels == ["ab12", "cd34"] and ok.skipped == 3
    assert ok.images[0].dtype == np.uint8 and ok.images[0].shape == (30, 90)


def test_many_bad_samples_name_the_first_few(tmp_path) -> None:
    for i in range(8):
        (tmp_path / f"x{i}.png").write_bytes(b"junk")
    with pytest.raises(InvalidInputError, match=r"8 bad sample.*; and 3 more$"):
        fold.load_folder(tmp_path)


def test_split_is_seeded_and_disjoint() -> None:
    a_train, a_val = fold.split(50, 0.1, seed=3)
    b_train, b_val = fold.split(50, 0.1, seed=3)
    assert np.array_equal(a_val, b_val) and len(a_val) == 5
    assert sorted(np.concatenate([a_train, a_val]).tolist()) == list(range(50))
    assert not np.array_equal(a_val, fold.split(50, 0.1, seed=4)[1])
    with pytest.raises(InvalidInputError, match="cannot be split"):
        fold.split(1, 0.1, seed=0)


def test_input_size_keeps_the_aspect_ratio_and_fits_the_longest_label() -> None:
    wide = [np.zeros((60, 160), np.uint8)] * 3
    assert fold.input_size(wide, max_length=5) == (32, 84)  # 32 * 160 / 60 = 85.3 -> 84
    assert fold.input_size([np.zeros((40, 40), np.uint8)], max_length=8) == (32, 64)
    assert fold.input_size([np.zeros((10, 900), np.uint8)], max_length=4)[1] == 320


def test_prepare_derives_alphabet_lengths_and_lowercases(tmp_path) -> None:
    from jiema_captcha.settings import FolderSettings

    make_folder(tmp_path / "d", ["Ab12", "cD3", "ef456", "GH78", "ij90"] * 2, style="dash")
    run = fold.prepare(FolderSettings(data=str(tmp_path / "d"), val_split=0.2),
                       case_insensitive=True)
    assert run.captcha.alphabet == "0123456789abcdefghij" and run.captcha.case_insensitive
    assert (run.captcha.min_length, run.captcha.max_length) == (3, 5)
    assert len(run.train_labels) == 8 and len(run.val_labels) == 2
    assert run.train_images.shape == (8, 32, 96) and run.input_size == (32, 96)
    assert run.summary["images"] == 10 and run.summary["lengths"] == [3, 4, 5]


def test_prepare_with_a_validation_folder(tmp_path) -> None:
    from jiema_captcha.settings import FolderSettings

    train = make_folder(tmp_path / "t", ["AB12", "BA21", "A1B"])
    val = make_folder(tmp_path / "v", ["12AB", "B2A1x"])
    (val / "junk.png").write_bytes(b"junk")
    run = fold.prepare(FolderSettings(data=str(train), val_data=str(val), skip_bad=True),
                       alphabet="AB12")
    assert run.train_labels == ["A1B", "AB12", "BA21"] and run.val_labels == ["12AB"]
    assert run.summary["skipped_bad"] == 2 and run.summary["images"] == 4
    assert run.summary["split"] == f"validation folder {val}"


def test_augment_keeps_shape_and_ink_box_and_is_seeded() -> None:
    torch = pytest.importorskip("torch")
    from jiema_captcha.augment import augment, ink_boxes
    from jiema_captcha.preprocess import ink

    images = np.full((4, 32, 96), 255, np.uint8)
    images[:, 10:22, 30:60] = 0  # ink in the middle third
    boxes = ink_boxes(images)
    assert np.allclose(boxes[0], [2 * 30 / 96 - 1, 2 * 60 / 96 - 1, 2 * 10 / 32 - 1,
                                  2 * 22 / 32 - 1])
    a = augment(ink(images), boxes, torch.Generator().manual_seed(1))
    b = augment(ink(images), boxes, torch.Generator().manual_seed(1))
    c = augment(ink(images), boxes, torch.Generator().manual_seed(2))
    assert a.shape == (4, 1, 32, 96) and torch.equal(a, b) and not torch.equal(a, c)
    # no crop cuts the ink: every image keeps (nearly) all of it, noise aside
    kept = (a > 0.5).float().sum(dim=(1, 2, 3))
    assert (kept > 0.6 * 12 * 30).all()


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory) -> tuple[Path, Path]:
    pytest.importorskip("torch")
    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("folder")
    labels = ["AB12", "BA21", "A1B", "12AB", "B2A1", "2B1A"] * 4
    data = make_folder(root / "data", labels, style="under")
    run = root / "run"
    res = CliRunner().invoke(cli(), [
        "train", "captcha", "--data", str(data), "--out", str(run), "--steps", "4",
        "--batch-size", "8", "--channels", "4,8", "--hidden", "8", "--validate-every", "2",
        "--val-split", "0.25",
    ])
    assert res.exit_code == 0, res.output
    return data, run


def test_train_on_a_folder_writes_one_model_with_its_card(folder_run) -> None:
    data, run = folder_run
    models = sorted(p.name for p in run.glob("*.safetensors"))
    assert models == ["best.safetensors", "last.safetensors", "run.safetensors"]
    card = json.loads((run / "run.json").read_text())
    hp = card["hyperparameters"]
    assert hp["captcha"]["alphabet"] == "12AB"
    assert (hp["captcha"]["min_length"], hp["captcha"]["max_length"]) == (3, 4)
    assert hp["network"]["input_height"] == 32 and hp["network"]["input_width"] == 96
    assert hp["data"]["folder"] == str(data.resolve()) and hp["data"]["images"] == 24
    assert hp["data"]["validation_images"] == 6 and hp["training"]["augment"]
    assert str(data.resolve()) in card["training_data"]
    assert "validation_whole_accuracy" in card["scores"] and hp["training_seconds"] > 0
    state = json.loads((run / "last.json").read_text())
    assert state["threads"] == 2 and state["options"]["patience"] == 6


def test_read_and_eval_a_folder_model(folder_run) -> None:
    from click.testing import CliRunner

    data, run = folder_run
    model = str(run / "run.safetensors")
    read = CliRunner().invoke(cli(), ["captcha", "--model", model, str(data / "AB12_0.png")])
    assert read.exit_code == 0, read.output
    assert set(read.output.split("\t")[1].strip()) <= set("12AB")
    ev = CliRunner().invoke(cli(), ["eval", "captcha", "--model", model, "--labels", str(data)])
    assert ev.exit_code == 0, ev.output
    assert "images\t24" in ev.output  # labels from the file names, no labels.tsv needed


def test_folder_run_resumes_where_it_stopped(folder_run, tmp_path) -> None:
    from click.testing import CliRunner

    data, run = folder_run
    again = tmp_path / "again"
    again.mkdir()
    for f in ("last.safetensors", "last.json", "best.safetensors", "best.json"):
        (again / f).write_bytes((run / f).read_bytes())
    state = json.loads((again / "last.json").read_text())
    assert state["step"] == 4
    res = CliRunner().invoke(cli(), ["train", "captcha", "--out", str(again), "--resume"])
    assert res.exit_code == 0, res.output
    assert "resumed at step 4" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--length", "4"], "--length shape generated captchas: not with --data"),
        (["--alphabet", "AB"], "outside the alphabet"),
        (["--arch", "heads"], "--arch heads reads a fixed length"),
    ],
)
def test_folder_mistakes_are_one_line_errors(tmp_path, args, message) -> None:
    pytest.importorskip("torch")
    from click.testing import CliRunner

    data = make_folder(tmp_path / "d", ["AB12", "A1B", "B2A1"] * 2)
    res = CliRunner().invoke(cli(), ["train", "captcha", "--data", str(data), "--out",
                                     str(tmp_path / "r"), "--steps", "1", *args])
    assert res.exit_code != 0 and message in res.output, res.output
    assert "Traceback" not in res.output


def test_a_paused_folder_run_resumes_bit_identical(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    from jiema import checkpoints
    from jiema_captcha.settings import FolderSettings, NetworkSettings, TrainOptions
    from jiema_captcha.train import Trainer

    data = make_folder(tmp_path / "d", ["AB12", "BA21", "A1B", "12AB"] * 3, style="under")
    folder = FolderSettings(data=str(data), val_split=0.25)
    run = fold.prepare(folder)
    net = NetworkSettings(input_height=32, input_width=96, channels=(4, 8), hidden=8)
    opts = TrainOptions(steps=6, batch_size=4, validate_every=2, threads=1, augment=True,
                        lr_patience=1, patience=5)

    def trainer(out: Path, resume: bool = False) -> Trainer:
        if resume:
            return Trainer(out, resume=True, log=lambda s: None)
        return Trainer(out, run.captcha, net, opts, folder=folder, log=lambda s: None)

    trainer(tmp_path / "a").run(progress=False)
    trainer(tmp_path / "b").run(progress=False, stop_at=3)
    rest = trainer(tmp_path / "b", resume=True)
    assert rest.step == 3 and rest.data is not None and rest.data.size == 9
    rest.run(progress=False)
    ta = checkpoints.load_tensors(tmp_path / "a", "last")
    tb = checkpoints.load_tensors(tmp_path / "b", "last")
    assert ta.keys() == tb.keys()
    for key in ta:
        assert torch.equal(ta[key], tb[key]), key


def test_plateaus_drop_the_learning_rate_and_count_for_patience() -> None:
    from types import SimpleNamespace

    from jiema_captcha.settings import TrainOptions
    from jiema_captcha.train import Trainer

    said: list[str] = []
    t = SimpleNamespace(best=-1.0, best_char=-1.0, best_loss=float("inf"), lr_scale=1.0,
                        loop=SimpleNamespace(bad=0), log=said.append,
                        options=TrainOptions(lr=1e-3, lr_patience=2))

    def book(whole: float, char: float, loss: float) -> bool:
        better = Trainer.validated(t, {"whole_accuracy": whole, "char_accuracy": char,
                                       "validation_loss": loss})
        t.loop.bad = 0 if better else t.loop.bad + 1  # as the loop counts
        return better

    assert book(0.0, 0.0, 10.0)  # the first validation
    assert book(0.0, 0.05, 12.0) and book(0.0, 0.02, 12.5)  # not reading yet: no plateau
    assert t.lr_scale == 1.0 and not said
    assert book(0.0, 0.6, 9.0)  # reading: from here plateaus count
    assert book(0.0, 0.6, 8.0)  # only the loss moves, and that counts
    assert not book(0.0, 0.6, 7.95)  # under LOSS_GAIN
    assert not book(0.0, 0.6, 9.5) and t.lr_scale == 0.25 and said  # 2 stale: lr / 4
    assert book(0.5, 0.8, 9.9)  # a better read counts whatever the loss
    assert book(0.5, 0.9, 9.9) and not book(0.5, 0.85, 9.9) and not t.accuracy_best
    assert book(0.4, 0.9, 5.0) and not t.accuracy_best  # progress, but not the model to keep
    assert book(1.0, 1.0, 1.0) and not book(1.0, 1.0, 0.1)  # all read right: loss no more
    assert t.lr_scale == 0.25


def test_max_minutes_pauses_and_still_exports(tmp_path) -> None:
    pytest.importorskip("torch")
    from click.testing import CliRunner

    data = make_folder(tmp_path / "d", ["AB12", "A1B", "B2A1"] * 3)
    run = tmp_path / "r"
    res = CliRunner().invoke(cli(), [
        "train", "captcha", "--data", str(data), "--out", str(run),
        "--channels", "4,8", "--hidden", "8", "--max-minutes", "0.000001"])  # 60 us: one step
    assert res.exit_code == 0, res.output
    assert "paused at step 1" in res.output
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 1
    # a small folder's defaults: batch 32, the least step cap, the most frequent validation
    opts = state["options"]
    assert (opts["batch_size"], opts["steps"], opts["validate_every"]) == (32, 3000, 50)
    assert (run / "r.safetensors").is_file()  # never validated: the last checkpoint's network


def test_a_folder_run_has_a_time_budget_by_default(tmp_path, monkeypatch) -> None:
    """Without --max-minutes a folder run pauses (and exports) within the issue's bounds: its
    step cap alone would let a 9,000-image run go on about 45 minutes."""
    pytest.importorskip("torch")
    from click.testing import CliRunner
    from jiema_captcha import cli as captcha_cli
    from jiema_captcha.train import Trainer

    assert captcha_cli.folder_minutes(500) == 9.0 and captcha_cli.folder_minutes(1000) == 9.0
    assert captcha_cli.folder_minutes(5000) == 15.0 and captcha_cli.folder_minutes(10000) == 28.0
    given: list[float | None] = []
    real_run = Trainer.run

    def run(self, progress=True, stop_at=None, max_minutes=None):  # type: ignore[no-untyped-def]
        given.append(max_minutes)
        return real_run(self, progress=progress, stop_at=1, max_minutes=max_minutes)

    monkeypatch.setattr(Trainer, "run", run)
    data = make_folder(tmp_path / "d", ["AB12", "A1B", "B2A1"] * 3)
    base = ["train", "captcha", "--data", str(data), "--channels", "4,8", "--hidden", "8"]
    res = CliRunner().invoke(cli(), [*base, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert given == [9.0] and "time budget 9 min" in res.output
    res = CliRunner().invoke(cli(), [*base, "--out", str(tmp_path / "s"), "--max-minutes", "2"])
    assert res.exit_code == 0, res.output
    assert given == [9.0, 2.0]
    res = CliRunner().invoke(cli(), ["train", "captcha", "--out", str(tmp_path / "r"), "--resume"])
    assert res.exit_code == 0, res.output
    assert given == [9.0, 2.0, 9.0]  # a resumed folder run gets the budget again


def test_a_folder_run_is_regularised_harder_than_a_generated_one(tmp_path) -> None:
    """A few hundred images are memorised: folder runs train with more dropout and weight decay
    (recorded in the run's state); generated runs keep the settings their models were made with."""
    pytest.importorskip("torch")
    from click.testing import CliRunner
    from jiema import checkpoints
    from jiema_captcha import cli as captcha_cli
    from jiema_captcha.settings import NetworkSettings, TrainOptions

    data = make_folder(tmp_path / "d", ["AB12", "A1B", "B2A1"] * 3)
    small = ["--channels", "4,8", "--hidden", "8", "--steps", "1"]
    res = CliRunner().invoke(cli(), ["train", "captcha", "--data", str(data), *small,
                                     "--out", str(tmp_path / "f")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli(), ["train", "captcha", *small, "--validation-size", "4",
                                     "--out", str(tmp_path / "g")])
    assert res.exit_code == 0, res.output
    folder = checkpoints.read_state(tmp_path / "f", "last")
    generated = checkpoints.read_state(tmp_path / "g", "last")
    assert folder["network"]["dropout"] == captcha_cli.FOLDER_DROPOUT
    assert folder["options"]["weight_decay"] == captcha_cli.FOLDER_WEIGHT_DECAY
    assert generated["network"]["dropout"] == NetworkSettings.model_fields["dropout"].default
    assert generated["options"]["weight_decay"] == TrainOptions.model_fields[
        "weight_decay"].default


def test_dropout_and_weight_decay_given_win_over_the_folder_defaults(tmp_path) -> None:
    """A large varied folder (a general model's) trains with the regularisation asked for."""
    pytest.importorskip("torch")
    from click.testing import CliRunner
    from jiema import checkpoints

    data = make_folder(tmp_path / "d", ["AB12", "A1B", "B2A1"] * 3)
    small = ["--channels", "4,8", "--hidden", "8", "--steps", "1"]
    res = CliRunner().invoke(cli(), ["train", "captcha", "--data", str(data), *small,
                                     "--dropout", "0.05", "--weight-decay", "0.001",
                                     "--out", str(tmp_path / "f")])
    assert res.exit_code == 0, res.output
    state = checkpoints.read_state(tmp_path / "f", "last")
    assert state["network"]["dropout"] == 0.05
    assert state["options"]["weight_decay"] == 0.001
    res = CliRunner().invoke(cli(), ["train", "captcha", "--data", str(data), *small,
                                     "--dropout", "1", "--out", str(tmp_path / "g")])
    assert res.exit_code == 2 and "--dropout" in res.output


def test_a_large_folder_gets_the_larger_network_unless_one_is_given(tmp_path, monkeypatch) -> None:
    """Folders of LARGE_FOLDER training images or more train the larger reader on taller
    inputs, smaller folders and generated runs the small one, both folder kinds regularised
    alike; --channels / --hidden / --input-size given win."""
    pytest.importorskip("torch")
    from click.testing import CliRunner
    from jiema import checkpoints
    from jiema_captcha import cli as captcha_cli

    monkeypatch.setattr(captcha_cli, "SMALL_NETWORK", ((4, 8), 8))
    monkeypatch.setattr(captcha_cli, "LARGE_NETWORK", ((6, 10), 12))
    monkeypatch.setattr(fold, "LARGE_FOLDER", 12)
    monkeypatch.setattr(fold, "LARGE_INPUT_HEIGHT", 40)
    small = make_folder(tmp_path / "small", ["AB12", "A1B", "B2A1"] * 3, style="under")
    large = make_folder(tmp_path / "large", ["AB12", "A1B", "B2A1"] * 5, style="under")
    one_step = ["--steps", "1", "--val-split", "0.2"]

    def network(data: Path, out: str, *extra: str) -> tuple[list[int], int, int, float, float]:
        res = CliRunner().invoke(cli(), ["train", "captcha", "--data", str(data), *one_step,
                                         *extra, "--out", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
        state = checkpoints.read_state(tmp_path / out, "last")
        net = state["network"]
        return (list(net["channels"]), net["hidden"], net["input_height"], net["dropout"],
                state["options"]["weight_decay"])

    folder_regularised = (captcha_cli.FOLDER_DROPOUT, captcha_cli.FOLDER_WEIGHT_DECAY)
    assert network(small, "s") == ([4, 8], 8, 32, *folder_regularised)  # 8 training images
    assert network(large, "l") == ([6, 10], 12, 40, *folder_regularised)  # 12 training images
    assert network(large, "g", "--channels", "4,4", "--hidden", "9", "--input-size", "16x48"
                   )[:3] == ([4, 4], 9, 16)


def test_resume_without_a_checkpoint_is_an_error_not_a_new_run(tmp_path) -> None:
    # a mistyped run folder given with --resume used to start a generated run there
    pytest.importorskip("torch")
    from click.testing import CliRunner

    out = tmp_path / "no-such-run"
    res = CliRunner().invoke(cli(), ["train", "captcha", "--out", str(out), "--resume"])
    assert res.exit_code != 0
    assert "no checkpoint in" in res.output and "leave out --resume" in res.output
    assert not out.exists()


def test_resume_without_a_checkpoint_fails_before_reading_the_folder(tmp_path, monkeypatch) -> None:
    # the error comes before the (slow, for a large folder) loading of the images
    pytest.importorskip("torch")
    from click.testing import CliRunner
    from jiema_captcha import folder as folder_module

    def never(*args, **kwargs):
        raise AssertionError("the folder was read")

    monkeypatch.setattr(folder_module, "prepare", never)
    data = make_folder(tmp_path / "d", ["AB12", "A1B", "B2A1"] * 3)
    res = CliRunner().invoke(cli(), ["train", "captcha", "--data", str(data), "--out",
                                     str(tmp_path / "r"), "--resume"])
    assert res.exit_code != 0 and "no checkpoint in" in res.output, res.output


def test_normalise_input_is_kept_in_the_card_and_used_in_reading(tmp_path) -> None:
    pytest.importorskip("torch")
    from click.testing import CliRunner
    from jiema_captcha.reader import CaptchaReader

    data = make_folder(tmp_path / "d", ["AB12", "BA21", "A1B", "12AB"] * 2, style="under")
    run = tmp_path / "r"
    res = CliRunner().invoke(cli(), [
        "train", "captcha", "--data", str(data), "--out", str(run), "--steps", "2",
        "--batch-size", "4", "--channels", "4,8", "--hidden", "8", "--val-split", "0.25",
        "--input-size", "32x96", "--normalise-input",
    ])
    assert res.exit_code == 0, res.output
    card = json.loads((run / "r.json").read_text())
    assert card["hyperparameters"]["network"]["normalise_input"] is True
    # the same captcha light-on-dark in a wider canvas is the same network input
    plain = draw("AB12")
    dark = Image.new("RGB", (130, 50), (15, 15, 25))
    dark.paste(Image.eval(plain, lambda v: 255 - v), (20, 10))
    reader = CaptchaReader(str(run / "r.safetensors"))
    a, b = reader.prepare(plain).astype(int), reader.prepare(dark).astype(int)
    assert np.abs(a - b).mean() < 12
    assert reader.read(dark).text == reader.read(plain).text
