"""`jiema.training.Loop` on a toy network: a stop request ends at a step with a checkpoint that
resumes bit for bit, validation keeps the best and patience ends a run, no torch on import."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jiema import checkpoints, training
from jiema.errors import InvalidValueError, ModelFileError


def test_importing_training_does_not_import_torch() -> None:
    code = "import sys, jiema.training; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


class Toy:
    """A dropout network fitting y = sum(x) on batches drawn from (seed, step)."""

    def __init__(self, out: Path, seed: int | None, *, steps: int = 8,
                 signal_at: tuple[int, int] | None = None, resume: bool = False,
                 **loop: Any) -> None:
        import torch

        self.torch, self.signal_at = torch, signal_at
        state = training.read_last(out) if resume else None
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5),
                                       torch.nn.Linear(8, 1))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=0.05)
        self.lines: list[str] = []
        self.loop = training.Loop(out, self.net, self.opt, threads=1, steps=steps, seed=seed,
                                  checkpoint_minutes=60, log=self.lines.append, **loop)
        if state is not None:
            self.loop.resume(state)

    def batches(self) -> Any:
        while True:
            rng = np.random.default_rng([5, self.loop.step])
            x = rng.standard_normal((4, 3)).astype(np.float32)
            yield x, x.sum(axis=1, keepdims=True)

    def step(self, batch: tuple[np.ndarray, np.ndarray]) -> dict[str, str]:
        torch = self.torch
        x, y = (torch.from_numpy(a) for a in batch)
        loss = (self.net(x) - y).square().mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        if self.signal_at and self.signal_at[0] == self.loop.step + 1:  # lands mid-step
            signal.raise_signal(self.signal_at[1])
        return {"loss": f"{float(loss.detach()):.3f}"}

    def run(self, **kwargs: Any) -> None:
        self.loop.run(self.batches(), self.step, progress=False, **kwargs)


def same_checkpoints(a: Path, b: Path) -> bool:
    import torch

    ta, tb = checkpoints.load_tensors(a, "last"), checkpoints.load_tensors(b, "last")
    assert any(k.startswith("opt.") for k in ta)
    return ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)


@pytest.mark.parametrize("seed", [7, None])  # dropout seeded per step, or torch's generator
def test_a_stop_request_checkpoints_and_the_resumed_run_equals_an_unbroken_one(
        tmp_path: Path, seed: int | None) -> None:
    pytest.importorskip("torch")
    before = signal.getsignal(signal.SIGINT)
    Toy(tmp_path / "a", seed).run()
    stopped = Toy(tmp_path / "b", seed, signal_at=(3, signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        stopped.run()
    assert signal.getsignal(signal.SIGINT) is before
    assert checkpoints.read_state(tmp_path / "b", "last")["step"] == 3  # the step finished
    assert "stopped by signal" in stopped.lines[-1]
    assert not same_checkpoints(tmp_path / "a", tmp_path / "b")
    rest = Toy(tmp_path / "b", seed, resume=True)
    assert rest.loop.step == 3
    rest.run()
    assert checkpoints.read_state(tmp_path / "b", "last")["step"] == 8
    assert same_checkpoints(tmp_path / "a", tmp_path / "b")


def test_a_pause_at_stop_at_resumes_exactly_and_sigterm_exits_with_its_status(
        tmp_path: Path) -> None:
    pytest.importorskip("torch")
    Toy(tmp_path / "a", None).run()
    Toy(tmp_path / "b", None).run(stop_at=2)
    assert training.read_last(tmp_path / "b")["step"] == 2
    term = Toy(tmp_path / "b", None, resume=True, signal_at=(3, signal.SIGTERM))
    with pytest.raises(SystemExit) as stop:
        term.run()
    assert stop.value.code == 128 + signal.SIGTERM
    assert training.read_last(tmp_path / "b")["step"] == 3
    Toy(tmp_path / "b", None, resume=True).run()
    assert same_checkpoints(tmp_path / "a", tmp_path / "b")


def scripted(values: list[float], key: str = "acc") -> Any:
    """A validate function returning the next of `values` each time."""
    it = iter(values)
    return lambda: {key: next(it)}


def test_patience_ends_the_run_and_the_best_checkpoint_is_the_best_validation(
        tmp_path: Path) -> None:
    pytest.importorskip("torch")
    toy = Toy(tmp_path, 1, validate=scripted([0.5, 0.7, 0.6, 0.7, 0.9]), validate_at=2,
              metric="acc", patience=2, steps=20)
    toy.run()
    loop = toy.loop
    # validations at steps 2, 4, 6, 8: 0.7 at 4 is the best; 0.6 and 0.7 (a tie) do not improve
    assert [h["acc"] for h in loop.history] == [0.5, 0.7, 0.6, 0.7]
    assert (loop.step, loop.best, loop.bad) == (8, 0.7, 2)
    assert checkpoints.read_state(tmp_path, "best")["step"] == 4
    assert training.read_last(tmp_path)["step"] == 8
    assert loop.best_scores() == {"acc": 0.7}
    assert toy.lines[0].startswith("step 2: acc=0.5000")
    # resumed, the run is still out of patience: no step, no validation
    again = Toy(tmp_path, 1, resume=True, validate=scripted([]), validate_at=2, metric="acc",
                patience=2, steps=20)
    again.run()
    assert again.loop.step == 8 and len(again.loop.history) == 4


def test_lower_is_better_ties_and_the_last_step_validate(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    seen: list[Any] = []
    toy = Toy(tmp_path, 1, steps=5, validate=scripted([0.3, 0.3, 0.1], "cer"), validate_at=2,
              metric="cer", lower_is_better=True, ties_improve=True, on_best=seen.append)
    toy.run()
    # validations at 2, 4 and the last step 5; the tie at 4 counts as better, 0.1 is best
    assert [h["cer"] for h in toy.loop.history] == [0.3, 0.3, 0.1]
    assert seen == toy.loop.history and toy.loop.best == 0.1
    assert not (tmp_path / "best.safetensors").exists()  # on_best replaced the default


def test_a_run_without_validation_still_ends_with_a_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    toy = Toy(tmp_path, 1, steps=3)
    toy.run()
    state = training.read_last(tmp_path)
    assert (state["step"], state["best"], state["history"], state["threads"]) == (3, None, [], 1)
    assert training.read_for_export(tmp_path) == ("last", state)
    with pytest.raises(ModelFileError, match="no checkpoint"):
        training.read_for_export(tmp_path / "none")


def test_bad_settings_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="patience"):
        training.Loop(tmp_path, None, threads=1, patience=0)
    with pytest.raises(InvalidValueError, match="need a metric"):
        training.Loop(tmp_path, None, threads=1, patience=2)
    with pytest.raises(InvalidValueError, match="validate function"):
        training.Loop(tmp_path, None, threads=1, validate_at=5)
    loop = training.Loop(tmp_path, None, threads=1, extra_state=lambda: {"step": 3})
    with pytest.raises(InvalidValueError, match="loop's keys"):
        loop.state()


def test_resume_reads_the_last_checkpoint_or_says_there_is_none(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="--resume: no checkpoint in .*leave out --resume"):
        training.read_for_resume(tmp_path / "no-run")
    assert not (tmp_path / "no-run").exists()
