"""`jiema train ocr` (tiny run, checkpoint, resume after a stop) and `jiema train ocr-lm`."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from jiema import checkpoints
from jiema.cli import build_cli, core_group
from jiema_ocr.glyphs import default_fonts
from jiema_ocr.train_cli import register_train_commands


def _cli() -> click.Group:
    cli = build_cli()
    if "ocr-lm" not in core_group(cli, "train").commands:  # plugin.py not wired yet
        register_train_commands(cli)
    return cli


def test_train_ocr_lm_writes_a_loadable_model(tmp_path: Path) -> None:
    from jiema_ocr.language_model import load_lm

    corpus = tmp_path / "pd.txt"
    corpus.write_text("电视/n  机/n\n电脑/n  电视/n\n", encoding="utf-8")
    out = tmp_path / "lm.safetensors"
    res = CliRunner().invoke(_cli(), ["train", "ocr-lm", "--corpus", str(corpus), "--out",
                                      str(out), "--alpha", "0.2"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["vocabulary"] == 5 and summary["characters"] == 7
    assert load_lm(out).logprob("电", "视") > load_lm(out).logprob("电", "机")


def test_train_ocr_lm_rejects_a_missing_corpus(tmp_path: Path) -> None:
    res = CliRunner().invoke(_cli(), ["train", "ocr-lm", "--corpus", str(tmp_path / "no.txt"),
                                      "--out", str(tmp_path / "lm.safetensors")])
    assert res.exit_code == 2 and "does not exist" in res.output


@pytest.mark.skipif(not default_fonts(), reason="no Debian CJK font installed")
def test_train_ocr_checkpoints_and_resumes_after_a_stop(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.classifier import CharClassifier
    from jiema_ocr.cnn.train import TrainOptions, train

    run = tmp_path / "run"
    opts = TrainOptions(steps=24, batch_size=16, width=8, hidden=16, max_classes=6,
                        eval_samples=32, checkpoint_minutes=60)
    train(run, opts, progress=False, max_minutes=1e-9)  # stops at once, as a kill would
    first = checkpoints.read_state(run, "last")
    assert 1 <= first["step"] < 24
    res = CliRunner().invoke(_cli(), ["train", "ocr", "--out", str(run), "--resume",
                                      "--steps", "999"])  # the saved options win
    assert res.exit_code == 0, res.output
    assert checkpoints.read_state(run, "last")["step"] == 24
    card = json.loads((run / "best.json").read_text(encoding="utf-8"))
    assert card["hyperparameters"]["trained_steps"] >= 1
    assert {"heldout_top1", "heldout_top5"} <= set(card["scores"])
    clf = CharClassifier.load(run / "model.json")
    assert len(clf.topk([__import__("numpy").full((20, 20), 255, "uint8")], k=2)) == 1

    from jiema_ocr.cnn.train import ship

    shipped = ship(run, tmp_path / "models" / "tiny.safetensors", name="tiny",
                   scores={"eval_top1": 0.5}, facts={"total_training_minutes": 1.5})
    card = json.loads(shipped.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["name"] == "tiny" and card["files"] == ["tiny.safetensors"]
    assert card["scores"]["eval_top1"] == 0.5 and "heldout_top1" in card["scores"]
    assert card["hyperparameters"]["total_training_minutes"] == 1.5
    assert card["hyperparameters"]["trained_steps"] >= 1
    CharClassifier.load(shipped.with_suffix(".json"))


def test_train_ocr_resume_without_a_run_is_a_usage_error(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    if not default_fonts():
        pytest.skip("no Debian CJK font installed")
    res = CliRunner().invoke(_cli(), ["train", "ocr", "--out", str(tmp_path / "none"),
                                      "--resume", "--max-classes", "2", "--eval-samples", "0"])
    assert res.exit_code == 2 and "no checkpoint" in res.output


def test_init_keeps_known_classes_and_starts_new_ones_as_the_average_class(
        tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from jiema_ocr.charset import Charset
    from jiema_ocr.cnn.net import CharNet
    from jiema_ocr.cnn.train import TrainOptions, classes_missing_from, export, init_from

    torch.manual_seed(0)
    old_cs, new_cs = Charset("电视机"), Charset("电视机℃镕")
    old = CharNet(len(old_cs), width=8, hidden=16).eval()
    with torch.no_grad():  # distinct rows, so a copy to the wrong row would show
        old.head.weight.copy_(torch.randn_like(old.head.weight))
    opts = TrainOptions(width=8, hidden=16, name="tiny")
    export(old, old_cs, opts, tmp_path / "old.safetensors", {}, {})
    assert classes_missing_from(new_cs, old_cs.labels) == [3, 4]
    new = CharNet(len(new_cs), width=8, hidden=16)
    init_from(new, new_cs, str(tmp_path / "old.json"))
    new.eval()
    x = torch.rand(5, 1, 40, 40)
    with torch.no_grad():
        a, b = new(x), old(x)
    # fp16 export: the known classes agree to rounding; the new ones sit at the class mean
    assert torch.allclose(a[:, :3], b, atol=0.05)
    assert torch.allclose(a[:, 3], b.mean(dim=1), atol=0.05)
    assert torch.equal(a[:, 3], a[:, 4])


def test_init_from_a_model_of_another_shape_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema.errors import ModelFileError
    from jiema_ocr.charset import Charset
    from jiema_ocr.cnn.net import CharNet
    from jiema_ocr.cnn.train import TrainOptions, export, init_from

    cs = Charset("电视")
    export(CharNet(2, width=8, hidden=16), cs, TrainOptions(width=8, hidden=16),
           tmp_path / "m.safetensors", {}, {})
    with pytest.raises(ModelFileError, match="cannot start from"):
        init_from(CharNet(2, width=16, hidden=16), cs, str(tmp_path / "m.json"))


@pytest.mark.skipif(not default_fonts(), reason="no Debian CJK font installed")
def test_a_run_from_init_mixes_the_new_classes_into_every_batch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.charset import Charset, default_charset
    from jiema_ocr.cnn.net import CharNet
    from jiema_ocr.cnn.train import TrainOptions, _Batches, batch_split, export, train
    from jiema_ocr.glyphs import GlyphSampler

    full = default_charset()
    known = Charset(full.labels[:-3])  # a model from before the last three classes
    export(CharNet(len(known), width=8, hidden=16), known,
           TrainOptions(width=8, hidden=16), tmp_path / "old.safetensors", {},
           {"total_training_minutes": 7.0})
    sampler = GlyphSampler(full, classes=range(4))
    extra = GlyphSampler(full, classes=range(len(full) - 3, len(full)))
    parts = list(zip([sampler, extra], batch_split(8, [0.25]), strict=True))
    _, y = next(iter(_Batches(parts, 0)))
    assert len(y) == 8 and (y >= len(full) - 3).sum() == 2
    assert batch_split(8, [0.25, 0.5]) == [2, 2, 4]
    with pytest.raises(ValueError, match="leave nothing"):
        batch_split(8, [0.5, 0.5])
    opts = TrainOptions(steps=2, batch_size=8, width=64, hidden=64, max_classes=4,
                        eval_samples=4, init=str(tmp_path / "old.json"), new_class_share=0.25,
                        frequent_share=0.25)
    train(tmp_path / "run", opts, progress=False)
    card = json.loads((tmp_path / "run" / "model.json").read_text(encoding="utf-8"))
    hp = card["hyperparameters"]
    assert card["vocabulary_size"] == len(full)
    assert (hp["width"], hp["hidden"]) == (8, 16)  # the init model's shape won
    assert hp["total_minutes"] >= 7.0


def test_oversampled_classes_lose_their_sampling_advantage_at_export(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import math

    import numpy as np
    from jiema.models import find_model_files, load_tensors
    from jiema_ocr.charset import Charset
    from jiema_ocr.cnn.net import CharNet
    from jiema_ocr.cnn.train import TrainOptions, class_probs, export, sampling_log_ratio

    # 100 classes, batch 10 with 1 draw from the 2 new ones: a new class comes up
    # 0.9/100 + 0.1/2 = 0.059 of the time, an old one 0.009: log(0.059 / 0.009)
    uniform, new = class_probs(100, range(100)), class_probs(100, [98, 99])
    shift = sampling_log_ratio(100, [(uniform, 9), (new, 1)])
    assert shift[98] == shift[99] == pytest.approx(math.log(0.059 / 0.009))
    assert not shift[:98].any()
    assert not sampling_log_ratio(100, [(uniform, 10), (new, 0)]).any()
    # half of each batch weighted 3:1 between two classes: 0.5/100 + 0.5 * 3/4 vs 0.5/100
    weighted = sampling_log_ratio(100, [(uniform, 5), (class_probs(100, [0, 1], [3, 1]), 5)])
    assert weighted[0] == pytest.approx(math.log((0.005 + 0.375) / 0.005))
    assert weighted[1] == pytest.approx(math.log((0.005 + 0.125) / 0.005))
    assert not weighted[2:].any()

    cs = Charset([chr(0x4E00 + i) for i in range(100)])
    net = CharNet(100, width=8, hidden=16)
    opts = TrainOptions(width=8, hidden=16)
    export(net, cs, opts, tmp_path / "raw.safetensors", {}, {})
    export(net, cs, opts, tmp_path / "fair.safetensors", {}, {}, shift)
    raw = load_tensors(find_model_files(tmp_path / "raw.json")[0])["head.bias"]
    fair = load_tensors(find_model_files(tmp_path / "fair.json")[0])["head.bias"]
    assert np.allclose(raw[:98], fair[:98])
    assert np.allclose(raw[98:] - fair[98:], shift[98:], atol=1e-2)


def assert_same_checkpoints(a: Path, b: Path) -> None:
    """Two runs' last checkpoints hold bit-identical weights and AdamW moments."""
    torch = pytest.importorskip("torch")
    ta, tb = checkpoints.load_tensors(a, "last"), checkpoints.load_tensors(b, "last")
    assert ta.keys() == tb.keys() and any(k.startswith("opt.") for k in ta)
    for key in ta:
        assert torch.equal(ta[key], tb[key]), key


@pytest.mark.skipif(not default_fonts(), reason="no Debian CJK font installed")
def test_a_paused_and_resumed_char_run_is_bit_identical_to_an_unbroken_one(
        tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.cnn.train import TrainOptions, train

    opts = TrainOptions(steps=6, batch_size=8, width=8, hidden=16, max_classes=6,
                        eval_samples=8, checkpoint_minutes=60)  # dropout 0.2 in the head
    train(tmp_path / "a", opts, progress=False)
    train(tmp_path / "b", opts, progress=False, stop_at=2)
    assert checkpoints.read_state(tmp_path / "b", "last")["step"] == 2
    train(tmp_path / "b", opts, progress=False, resume=True)
    assert_same_checkpoints(tmp_path / "a", tmp_path / "b")


@pytest.mark.skipif(not default_fonts(), reason="no Debian CJK font installed")
def test_the_batch_stream_is_the_same_for_any_worker_count_and_start(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from jiema_ocr.charset import default_charset
    from jiema_ocr.cnn.train import _Batches
    from jiema_ocr.glyphs import GlyphSampler

    parts = [(GlyphSampler(default_charset(), classes=range(6), size=16), 2)]

    def stream(workers: int, start: int, n: int) -> list[object]:
        loader = torch.utils.data.DataLoader(_Batches(parts, 7, start), batch_size=None,
                                             num_workers=workers)
        return [b for b, _ in zip(loader, range(n), strict=False)]

    one = stream(0, 0, 4)
    for got, want in zip(stream(2, 0, 4) + stream(0, 2, 2), one + one[2:], strict=True):
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_an_old_pickle_checkpoint_is_refused_not_loaded(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.cnn.train import TrainOptions, train

    (tmp_path / "last.pt").write_bytes(b"not to be unpickled")
    with pytest.raises(FileNotFoundError, match="pickle checkpoint .* never loaded"):
        train(tmp_path, TrainOptions(), resume=True, progress=False)


@pytest.mark.skipif(not default_fonts(), reason="no Debian CJK font installed")
def test_a_run_without_held_out_glyphs_checkpoints_and_exports(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.cnn.train import TrainOptions, train

    opts = TrainOptions(steps=2, batch_size=8, width=8, hidden=16, max_classes=6, eval_samples=0)
    assert train(tmp_path, opts, progress=False) == {}
    assert checkpoints.read_state(tmp_path, "last")["step"] == 2
    assert (tmp_path / "model.json").is_file() and not (tmp_path / "best.json").exists()


def test_fonts_all_draws_from_every_licensed_family_and_names_them_on_the_card(
        tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.cnn.train import TrainOptions, train, training_faces
    from jiema_ocr.synth_fonts import training_fonts, withheld_reason

    if not any(f.name.startswith("Noto") for f in training_fonts()):
        pytest.skip("no Noto CJK font installed (fonts-noto-cjk)")
    faces = training_faces("all")
    assert training_faces("debian") is None  # the sampler's default four families
    assert len(faces) > len(default_fonts())
    assert not any(withheld_reason(f.name, Path(f.path).name) for f in faces)
    noto = [f for f in faces if f.path.endswith(".ttc") and "Noto" in f.name]
    assert noto and all(f.index != 0 for f in noto)  # the SC face, not the collection's first
    opts = TrainOptions(steps=2, batch_size=8, width=8, hidden=16, max_classes=6,
                        eval_samples=0, fonts="all")
    train(tmp_path, opts, progress=False)
    card = json.loads((tmp_path / "model.json").read_text())
    assert "Noto Sans CJK SC" in card["training_data"] and "fonts-noto-cjk" in str(card)
    assert card["hyperparameters"]["fonts"] == "all"
