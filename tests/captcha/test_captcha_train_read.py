"""A tiny training run (seconds): checkpoints, resume, export, and reading the model back
through the Python API and the three CLI commands."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captcha")
import jiema  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from jiema.cli import build_cli  # noqa: E402
from jiema_captcha import plugin  # noqa: E402
from jiema_captcha.generator import CaptchaGenerator, CaptchaSettings  # noqa: E402
from jiema_captcha.reader import CaptchaReader, CaptchaResult  # noqa: E402
from jiema_captcha.settings import NetworkSettings, TrainOptions  # noqa: E402
from jiema_captcha.train import Trainer, export_model, score  # noqa: E402

TINY_NET = {"input_height": 16, "input_width": 48, "channels": (4, 8), "hidden": 8}
TINY_RUN = {
    "steps": 6, "batch_size": 8, "pool_size": 32, "refresh": 8, "refresh_every": 2,
    "validation_size": 8, "validate_every": 3, "workers": 0, "threads": 1,
}


def cli() -> object:
    return build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))


@pytest.fixture(scope="module")
def ctc_model(tmp_path_factory) -> object:
    run = tmp_path_factory.mktemp("ctc")
    captcha = CaptchaSettings(alphabet="AB", min_length=2, max_length=3)
    trainer = Trainer(run, captcha, NetworkSettings(arch="ctc", **TINY_NET),
                      TrainOptions(**TINY_RUN), log=lambda s: None)
    trainer.run(progress=False)
    weights, _ = export_model(run, run / "tiny.safetensors", name="tiny")
    return weights


def test_training_writes_checkpoints_and_resumes(tmp_path) -> None:
    net = NetworkSettings(arch="heads", **TINY_NET)
    captcha = CaptchaSettings(alphabet="XY", min_length=2, max_length=2)
    first = Trainer(tmp_path, captcha, net, TrainOptions(**TINY_RUN), log=lambda s: None)
    first.run(progress=False)
    state = json.loads((tmp_path / "last.json").read_text())
    assert state["step"] == 6 and state["refreshes"] == 3
    assert [h["step"] for h in state["history"]] == [3, 6]
    assert (tmp_path / "best.safetensors").is_file()
    # a longer run resumed from the checkpoint continues at step 6, with the saved settings
    again = Trainer(tmp_path, resume=True, log=lambda s: None)
    assert again.step == 6 and again.network.arch == "heads"
    assert again.captcha.alphabet == "XY"
    again.options.steps = 9
    again.run(progress=False)
    assert json.loads((tmp_path / "last.json").read_text())["step"] == 9


def assert_same_checkpoints(a, b) -> None:
    """Two runs' last checkpoints hold bit-identical weights and Adam moments."""
    from jiema import checkpoints

    ta, tb = checkpoints.load_tensors(a, "last"), checkpoints.load_tensors(b, "last")
    assert ta.keys() == tb.keys() and any(k.startswith("opt.") for k in ta)
    for key in ta:
        assert torch.equal(ta[key], tb[key]), key


def _unbroken_run(out, **run_options):
    """A tiny CTC run trained to its end in `out`, and its (captcha, network, run) settings
    for the interrupted twin to be compared with it."""
    net = NetworkSettings(arch="ctc", **TINY_NET)
    captcha = CaptchaSettings(alphabet="AB", min_length=2, max_length=2)
    run = dict(TINY_RUN, **run_options)
    straight = Trainer(out, captcha, net, TrainOptions(**run), log=lambda s: None)
    straight.run(progress=False)
    return straight, (captcha, net, run)


def test_a_resumed_run_is_bit_identical_to_an_unbroken_one(tmp_path) -> None:
    # validations (the core's Numba decoder) before and after the pause: they used to move
    # torch to another thread count, so the unbroken run's later steps rounded differently
    straight, (captcha, net, run) = _unbroken_run(tmp_path / "a", steps=8, validate_every=2)
    half = Trainer(tmp_path / "b", captcha, net, TrainOptions(**run), log=lambda s: None)
    half.run(progress=False, stop_at=3)  # as if killed after step 3
    del half
    rest = Trainer(tmp_path / "b", resume=True, log=lambda s: None)
    assert rest.step == 3 and rest.refreshes == 1  # the pool as it was at step 3
    rest.run(progress=False)
    for (k, a), b in zip(straight.net.state_dict().items(), rest.net.state_dict().values(),
                         strict=True):
        assert torch.equal(a, b), k
    assert_same_checkpoints(tmp_path / "a", tmp_path / "b")


KILLED_RUN = """
import sys, time
import torch
torch.set_num_threads(1)
from jiema_captcha.generator import CaptchaSettings
from jiema_captcha.settings import NetworkSettings, TrainOptions
from jiema_captcha.train import Trainer

class Slow(Trainer):  # slow enough to be killed mid-run; sleeping changes no number
    def _loss(self, x, labels):
        time.sleep(float(sys.argv[3]))
        return super()._loss(x, labels)

if sys.argv[2] == "resume":
    Slow(sys.argv[1], resume=True, log=lambda s: None).run(progress=False)
else:
    Slow(sys.argv[1], CaptchaSettings(alphabet="AB", min_length=2, max_length=2),
         NetworkSettings(arch="ctc", **%(net)r), TrainOptions(**%(run)r),
         log=lambda s: None).run(progress=False)
"""


def test_a_run_killed_outright_resumes_bit_identical(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from jiema import checkpoints

    net = NetworkSettings(arch="ctc", **TINY_NET)
    captcha = CaptchaSettings(alphabet="AB", min_length=2, max_length=2)
    # a checkpoint after every step; a validation (the Numba decoder) at step 3, before the kill
    run = dict(TINY_RUN, steps=10, validate_every=3, checkpoint_minutes=1e-9)
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN % {"net": TINY_NET, "run": run}, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, str(script), str(killed), "new", "0.05"], env=env)
    try:
        deadline = time.monotonic() + 120
        while child.poll() is None:  # kill it once a checkpoint after the validation is there
            assert time.monotonic() < deadline, "the run wrote no checkpoint"
            state = checkpoints.read_state(killed, "last") if killed.is_dir() else None
            if state is not None and state["step"] >= 4:
                break
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert 4 <= checkpoints.read_state(killed, "last")["step"] < 10
    subprocess.run([sys.executable, str(script), str(killed), "resume", "0"], env=env,
                   check=True)
    straight = Trainer(tmp_path / "straight", captcha, net, TrainOptions(**run),
                       log=lambda s: None)
    straight.run(progress=False)
    assert checkpoints.read_state(killed, "last")["step"] == 10
    assert_same_checkpoints(tmp_path / "straight", killed)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_stops_at_a_step_with_a_checkpoint(tmp_path, sig: str) -> None:
    import signal

    number = getattr(signal, sig)
    before = signal.getsignal(number)

    class Interrupted(Trainer):
        def _loss(self, x, labels):  # the signal lands in the middle of step 4
            if self.step == 3:
                signal.raise_signal(number)
            return super()._loss(x, labels)

    _, (captcha, net, run) = _unbroken_run(tmp_path / "a", validate_every=2,
                                           checkpoint_minutes=60.0)
    stopped = Interrupted(tmp_path / "b", captcha, net, TrainOptions(**run), log=lambda s: None)
    with pytest.raises(KeyboardInterrupt if sig == "SIGINT" else SystemExit):
        stopped.run(progress=False)
    assert signal.getsignal(number) is before  # the run's handler is gone again
    assert json.loads((tmp_path / "b" / "last.json").read_text())["step"] == 4
    rest = Trainer(tmp_path / "b", resume=True, log=lambda s: None)
    rest.run(progress=False)
    assert_same_checkpoints(tmp_path / "a", tmp_path / "b")


def test_heads_need_a_fixed_length(tmp_path) -> None:
    with pytest.raises(jiema.errors.ConfigError):
        Trainer(tmp_path, CaptchaSettings(min_length=3, max_length=5),
                NetworkSettings(arch="heads", **TINY_NET), TrainOptions(**TINY_RUN))


def test_export_card_and_reader_sources_agree(ctc_model) -> None:
    card = json.loads(ctc_model.with_suffix(".json").read_text())
    assert card["component"] == "captcha.reader.v1" and card["task"] == "captcha"
    assert card["labels"] == ["A", "B"]
    hp = card["hyperparameters"]
    # rounded to 0.1 s: the tiny run can take less than 0.05 s on a fast machine
    assert 0.0 <= hp["training_seconds"] <= hp["training_seconds_total"]
    reader = CaptchaReader(ctc_model, batch_size=3)
    gen = CaptchaGenerator(reader.captcha, seed=99)
    pngs = [gen.png(i)[0] for i in range(5)]
    from PIL import Image

    pil = Image.open(io.BytesIO(pngs[0]))
    one = reader.read(pngs[0])
    assert isinstance(one, CaptchaResult)
    assert 2 <= len(one.text) <= 3 and set(one.text) <= {"A", "B"}
    assert len(one.char_confidences) == len(one.text)
    assert reader.read(pil) == one == reader.read(np.asarray(pil.convert("RGB")))
    batch = reader.read_batch(pngs)
    singles = [reader.read(p) for p in pngs]
    assert [r.text for r in batch] == [r.text for r in singles]
    assert np.allclose([r.confidence for r in batch], [r.confidence for r in singles])
    each = reader.read_each([pngs[0], b"junk", pngs[1]])
    assert [each[0].text, each[2].text] == [batch[0].text, batch[1].text]
    assert isinstance(each[1], jiema.errors.InvalidInputError)


def test_read_captchas_takes_every_kind_of_source(ctc_model, tmp_path) -> None:
    from jiema_captcha import read_captchas
    from PIL import Image

    reader = CaptchaReader(ctc_model)
    gen = CaptchaGenerator(reader.captcha, seed=17)
    pngs = [gen.png(i)[0] for i in range(4)]
    path = tmp_path / "one.png"
    path.write_bytes(pngs[0])
    pil = Image.open(io.BytesIO(pngs[1]))
    sources = [str(path), pngs[1], pil.convert("P"), np.asarray(pil.convert("L")), pngs[2]]
    got = read_captchas(sources, model=ctc_model, batch_size=2)
    want = [reader.read(s) for s in (pngs[0], pngs[1], pngs[1], pngs[1], pngs[2])]
    assert [r.text for r in got] == [r.text for r in want]
    # (the palette copy is quantised: its pixels, hence its confidence, move a little)
    assert np.allclose([r.confidence for r in got], [r.confidence for r in want], atol=1e-3)
    with pytest.raises(jiema.errors.InvalidInputError, match="not an image"):
        read_captchas([pngs[0], b"junk"], model=ctc_model)


def test_init_from_a_model_carries_its_training_time_into_the_card(ctc_model, tmp_path) -> None:
    parent = json.loads(ctc_model.with_suffix(".json").read_text())["hyperparameters"]
    run = dict(TINY_RUN, steps=2, validate_every=2, init=str(ctc_model))
    captcha = CaptchaSettings(alphabet="AB", min_length=2, max_length=3)
    Trainer(tmp_path, captcha, NetworkSettings(arch="ctc", **TINY_NET), TrainOptions(**run),
            log=lambda s: None).run(progress=False)
    hp = json.loads(export_model(tmp_path, tmp_path / "child.safetensors")[1].read_text())[
        "hyperparameters"]
    assert hp["initialised_from"] == "tiny" and parent["initialised_from"] is None
    assert hp["training_steps_total"] == parent["training_steps_total"] + 2
    assert hp["training_seconds_total"] == pytest.approx(
        parent["training_seconds_total"] + hp["training_seconds"], abs=0.11)


def test_captcha_command_plain_and_jsonl(ctc_model, tmp_path) -> None:
    gen = CaptchaGenerator(CaptchaSettings(alphabet="AB", min_length=2, max_length=3), seed=5)
    files = []
    for i in range(3):
        f = tmp_path / f"{i}.png"
        f.write_bytes(gen.png(i)[0])
        files.append(str(f))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    ok = CliRunner().invoke(cli(), ["captcha", "--model", str(ctc_model), *files])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == files
    res = CliRunner().invoke(
        cli(), ["captcha", "--model", str(ctc_model), "--jsonl", "--batch-size", "2",
                files[0], str(bad), files[1]],
    )
    assert res.exit_code == 1
    records = [json.loads(x) for x in res.stdout.splitlines()]
    assert [r["file"] for r in records] == [files[0], str(bad), files[1]]
    assert records[1]["error"] and records[1]["text"] is None
    assert records[0]["error"] is None and 0 <= records[0]["confidence"] <= 1
    assert records[0]["text"] == lines[0].split("\t")[1]


def test_eval_generate_save_then_labels(ctc_model, tmp_path) -> None:
    saved = tmp_path / "set"
    gen = CliRunner().invoke(cli(), ["eval", "captcha", "--model", str(ctc_model),
                                     "--generate", "6", "--seed", "123", "--save", str(saved)])
    assert gen.exit_code == 0, gen.output
    assert len((saved / "labels.tsv").read_text().splitlines()) == 6
    lab = CliRunner().invoke(cli(), ["eval", "captcha", "--model", str(ctc_model),
                                     "--labels", str(saved)])
    assert lab.exit_code == 0, lab.output
    pick = [x for x in gen.output.splitlines() if x.startswith(("whole", "char"))]
    assert pick == [x for x in lab.output.splitlines() if x.startswith(("whole", "char"))]
    usage = CliRunner().invoke(cli(), ["eval", "captcha", "--model", str(ctc_model),
                                       "--generate", "3"])
    assert usage.exit_code == 2 and "--seed" in usage.output


def test_train_command_writes_a_model(tmp_path) -> None:
    res = CliRunner().invoke(cli(), [
        "train", "captcha", "--alphabet", "AB", "--length", "2", "--case-insensitive",
        "--arch", "ctc", "--out", str(tmp_path / "run"), "--steps", "2", "--batch-size", "4",
        "--input-size", "16x48", "--channels", "4,8", "--hidden", "8", "--pool-size", "16",
        "--refresh", "4", "--refresh-every", "1", "--workers", "0", "--validation-size", "4",
        "--validate-every", "2", "--name", "tiny-ci",
    ])
    assert res.exit_code == 0, res.output
    card = json.loads((tmp_path / "run" / "tiny-ci.json").read_text())
    assert card["name"] == "tiny-ci" and card["hyperparameters"]["captcha"]["case_insensitive"]
    assert card["hyperparameters"]["captcha"]["alphabet"] == "ab"  # labels are lowercase
    # the card records its command; a run started from it with --init lists that line first
    assert card["rebuild"][0].startswith("jiema train captcha ")
    assert "--alphabet AB --length 2 " in card["rebuild"][0]
    assert "captcha" in card["software"]
    first = tmp_path / "run" / "tiny-ci.safetensors"
    again = CliRunner().invoke(cli(), [
        "train", "captcha", "--alphabet", "AB", "--length", "2", "--case-insensitive",
        "--out", str(tmp_path / "run2"), "--steps", "1", "--batch-size", "4",
        "--input-size", "16x48", "--channels", "4,8", "--hidden", "8", "--pool-size", "16",
        "--refresh", "4", "--workers", "0", "--validation-size", "4", "--init", str(first),
    ])
    assert again.exit_code == 0, again.output
    rebuild = json.loads((tmp_path / "run2" / "run2.json").read_text())["rebuild"]
    assert rebuild[0] == card["rebuild"][0] and len(rebuild) == 2
    assert f"--init {first}" in rebuild[1] and "--steps 1 " in rebuild[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--alphabet", "AAB"], "repeats characters"),
        (["--channels", "4,4,4,4,4,4", "--input-size", "32x96"], "at least 64"),
        (["--arch", "heads", "--input-size", "32x16", "--channels", "4,4,4,4,4"], "width of at"),
        (["--length", "5-3"], "MIN <= MAX"),
    ],
)
def test_train_command_bad_settings_are_one_line_usage_errors(tmp_path, args, message) -> None:
    quick = ["--steps", "1", "--pool-size", "16", "--validation-size", "2", "--workers", "0"]
    res = CliRunner().invoke(cli(), ["train", "captcha", "--out", str(tmp_path / "r"), *quick,
                                     *args])  # (quick: a case that fails to fail ends soon)
    assert res.exit_code == 2 and message in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "r").exists()


def test_score_counts_missing_characters_as_wrong() -> None:
    s = score(["ABCD", "ABCD"], ["ABCD", "ABC"])
    assert s["whole_accuracy"] == 0.5 and s["char_accuracy"] == 7 / 8
