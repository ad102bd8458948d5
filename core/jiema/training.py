"""One training loop for every trainer (segment's FCN, OCR's char and line models, the captcha
reader, a third-party plugin's), so each gets the same run folder, `--resume`, progress bar and
stop handling instead of its own copy of them.

A trainer keeps what is its own: the network, the data, the loss, the learning-rate schedule,
what it exports. It hands `Loop` a few callables and the loop does the rest:

- a tqdm bar on stderr with the ETA (one for the run, or one per epoch with `Loop.phase`);
- before each step, torch's thread count held (`checkpoints.hold_threads`) and, with `seed`,
  torch's generator seeded from the step (`checkpoints.seed_step`);
- after each step, a validation when `validate_at` says so, else a checkpoint when
  `checkpoint_minutes` have passed since the last one;
- each validation appended to `history`, the best kept by `metric` (`on_best` runs when it
  improves, by default writing the `best` checkpoint), a run stopped after `patience`
  validations without a better one;
- Ctrl-C or SIGTERM ends the run at the next step boundary with a checkpoint, then leaves as
  the signal asked (`checkpoints.stop_requests`); `stop_at` and `max_minutes` pause the same
  way; a run always ends with a `last` checkpoint of its final step;
- `resume(state)` puts back the weights, the optimizer's moments, the counters, the history and
  the random generators, so a resumed run repeats an unbroken one bit for bit when every batch
  is a function of the step (or of state the trainer saves in `extra_state`).

A porter's sketch (the names in `<>` are the trainer's own)::

    state = training.read_for_resume(out) if resume else None  # before building: options live there
    net, opt = <build from state's options, or the given ones>
    loop = training.Loop(out, net, opt, threads=<n>, steps=<total>, seed=<seed>,
                         validate=<() -> dict of scores>, validate_at=<every N>, metric="<key>",
                         extra_state=lambda: {"options": ..., "<counter>": ...})
    if state is not None:
        loop.resume(state)        # then read the trainer's own counters from `state`
    def batches():                # the data from `loop.step` on; ends when the run should
        while True:
            yield <batch drawn from np.random.default_rng([seed, loop.step])>
    def step(batch):              # one optimizer step; loop.step is this step's index
        ...; return {"loss": f"{value:.4f}"}   # bar postfix, or None
    loop.run(batches(), step, stop_at=stop_at, progress=progress)

The checkpoint's JSON state is the trainer's `extra_state()` plus the loop's own keys: `step`,
`best`, `bad` (validations since the best), `seconds` (training time, validations excluded),
`history`, `threads` and `random` (`checkpoints.random_state`, with `generators` by name).
Torch is imported only inside the functions that need it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from . import checkpoints
from .errors import InvalidValueError, ModelFileError

LAST, BEST = "last", "best"  # the resumable checkpoint, and the best validation's
BAR_SECONDS = 5.0  # the bar redraws at most this often: a redraw per step slows small steps
_LOOP_KEYS = ("step", "best", "bad", "seconds", "history", "threads", "random")

Batch = TypeVar("Batch")
Scores = Mapping[str, Any]


def read_last(out_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The state of a run's `last` checkpoint, or None when the run has none yet.

    Parameters
    ----------
    out_dir : path
        The run folder.

    Returns
    -------
    dict or None
        What `Loop.save` wrote (the trainer's `extra_state` and the loop's keys); pass it to
        `Loop.resume` once the network and optimizer are built.
    """
    return checkpoints.read_state(out_dir, LAST)


def read_for_resume(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The state of a run's `last` checkpoint for `--resume` (see `read_last`).

    Raises `ModelFileError` when the run has none: a mistyped run folder given with `--resume`
    must not start a new run there.
    """
    state = read_last(out_dir)
    if state is None:
        raise ModelFileError(f"--resume: no checkpoint in {out_dir}; leave out --resume to "
                             "start a new run there")
    return state


def read_for_export(run_dir: str | os.PathLike[str],
                    name: str = BEST) -> tuple[str, dict[str, Any]]:
    """The checkpoint of a run to export: `name` (the best one by default), or `last` when the
    run has no `name` yet (it never validated).

    Parameters
    ----------
    run_dir : path
        The run folder.
    name : str
        The checkpoint wanted.

    Returns
    -------
    (str, dict)
        The checkpoint's name (its tensors are `<run_dir>/<name>.safetensors`) and its state.

    Raises `ModelFileError` when the run has neither.
    """
    for which in (name, LAST):
        state = checkpoints.read_state(run_dir, which)
        if state is not None:
            return which, state
    raise ModelFileError(f"no checkpoint in {run_dir}")


class Loop:
    """The loop of one training run in `out_dir`: its counters, progress bar and checkpoints.

    Parameters
    ----------
    out_dir : path
        The run folder (created): `last.*` (resumable), `best.*` (by default) and whatever the
        trainer exports there.
    net, optimizer : torch modules
        What each checkpoint packs (`checkpoints.pack`); `optimizer` may be None.
    threads : int
        Torch's intra-op thread count, held before every step and saved (a resumed run must
        train on as many threads as the unbroken one to round the same).
    steps : int, optional
        The run's length: the bar's total, and the loop ends at this step. None: the batches
        decide (the loop ends when they run out).
    checkpoint_minutes : float
        A `last` checkpoint after the first step this long after the previous one.
    seed : int, optional
        Seed torch's generator from `(seed, step)` before every step (dropout then repeats in
        a resumed run whatever came before); None leaves torch's generator as it is (it is
        still saved and restored with the checkpoint), or to the step function, which may seed
        it its own way.
    generators : mapping of str to numpy Generator, optional
        The trainer's own generators, saved and restored by name with the checkpoint.
    validate : callable () -> mapping, optional
        Scores the network (put it back in training mode); returns what goes into `history`
        (scores, and any facts such as the step or epoch). An empty mapping is no validation.
    validate_at : int or callable (step) -> bool, optional
        When to validate: every N steps and at step `steps`; or after the steps the callable
        is true for (called with the number of steps done).
    validate_at_checkpoints : bool
        Validate at every time-based checkpoint and at the end too (for runs that validate
        by the clock rather than by the step).
    metric : str or callable (scores) -> float, optional
        What "best" means: a key of the validation's mapping, or a function of it.
    lower_is_better : bool
        The metric is an error (CER, loss): lower improves.
    ties_improve : bool
        A validation equal to the best counts as better (the later network wins).
    patience : int, optional
        End the run after this many validations in a row without a better metric.
    on_best : callable (scores) -> None, optional
        Runs when a validation improves the best (after the counters are updated, before the
        `last` checkpoint); default: `save(BEST)`, network and optimizer.
    extra_state : callable () -> dict, optional
        The trainer's part of every checkpoint's JSON state (options, its own counters).
    extra_tensors : callable () -> dict, optional
        Tensors (torch) added to every checkpoint (a vocabulary, say).
    desc : str
        The progress bar's label.
    log : callable (str) -> None, optional
        Where a validation's line and the stop message go; default: `tqdm.write` to stderr.

    Attributes
    ----------
    steps : int or None
        As given; raise it before `run` to give a resumed run more steps.
    step : int
        Optimizer steps done in the whole run (resumed runs included).
    best : float or None
        The best metric so far (None before the first validation).
    bad : int
        Validations since the best.
    seconds : float
        Training time so far, validations and checkpoints excluded (see `elapsed`).
    history : list of dict
        Every validation's mapping, in order.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        net: Any,
        optimizer: Any | None = None,
        *,
        threads: int,
        steps: int | None = None,
        checkpoint_minutes: float = 5.0,
        seed: int | None = None,
        generators: Mapping[str, Any] | None = None,
        validate: Callable[[], Scores] | None = None,
        validate_at: int | Callable[[int], bool] | None = None,
        validate_at_checkpoints: bool = False,
        metric: str | Callable[[Scores], float] | None = None,
        lower_is_better: bool = False,
        ties_improve: bool = False,
        patience: int | None = None,
        on_best: Callable[[Scores], None] | None = None,
        extra_state: Callable[[], dict[str, Any]] | None = None,
        extra_tensors: Callable[[], dict[str, Any]] | None = None,
        desc: str = "train",
        log: Callable[[str], None] | None = None,
    ) -> None:
        if threads < 1:
            raise InvalidValueError(f"threads must be at least 1, got {threads}")
        if steps is not None and steps < 0:
            raise InvalidValueError(f"steps must be 0 or more, got {steps}")
        if not checkpoint_minutes > 0:
            raise InvalidValueError(f"checkpoint_minutes must be above 0, got {checkpoint_minutes}")
        if isinstance(validate_at, int) and validate_at < 1:
            raise InvalidValueError(f"validate_at must be at least 1 step, got {validate_at}")
        if patience is not None and patience < 1:
            raise InvalidValueError(f"patience must be at least 1, got {patience}")
        if (validate_at is not None or validate_at_checkpoints) and validate is None:
            raise InvalidValueError("validate_at needs a validate function")
        if (patience is not None or on_best is not None) and metric is None:
            raise InvalidValueError("patience and on_best need a metric")
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.net, self.optimizer = net, optimizer
        self.threads, self.steps, self.seed = threads, steps, seed
        self.checkpoint_seconds = checkpoint_minutes * 60
        self.generators = dict(generators or {})
        self.validate, self.validate_at = validate, validate_at
        self.validate_at_checkpoints = validate_at_checkpoints
        self.metric, self.lower_is_better, self.ties_improve = metric, lower_is_better, ties_improve
        self.patience = patience
        self.on_best = on_best if on_best is not None else (lambda scores: self.save(BEST))
        self.extra_state, self.extra_tensors = extra_state, extra_tensors
        self.desc, self.log = desc, log
        self.step, self.bad, self.seconds = 0, 0, 0.0
        self.best: float | None = None
        self.history: list[dict[str, Any]] = []
        self.bar: Any = None
        self._t0: float | None = None  # when the running stretch of training time began
        self._last_save = 0.0
        self._saved_at: int | None = None  # the step of this process's latest `last` checkpoint
        self._progress = self._running = False

    # state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The JSON state a checkpoint holds: `extra_state()` and the loop's keys."""
        extra = self.extra_state() if self.extra_state is not None else {}
        clash = set(extra) & set(_LOOP_KEYS)
        if clash:
            raise InvalidValueError(f"extra_state may not set the loop's keys {sorted(clash)}")
        return {
            **extra, "step": self.step, "best": self.best, "bad": self.bad,
            "seconds": self.elapsed(), "history": self.history, "threads": self.threads,
            "random": checkpoints.random_state(self.generators),
        }

    def save(self, name: str = LAST, *, optimizer: bool = True) -> None:
        """Write checkpoint `name` (atomic safetensors + JSON, `checkpoints.save`): the network,
        the optimizer's state unless `optimizer` is False, `extra_tensors()` and `state()`."""
        tensors = checkpoints.pack(self.net, self.optimizer if optimizer else None)
        if self.extra_tensors is not None:
            tensors.update(self.extra_tensors())
        checkpoints.save(self.out, name, tensors, self.state())
        if name == LAST:
            self._saved_at = self.step

    def resume(self, state: Mapping[str, Any]) -> None:
        """Continue from `state` (what `read_last` returned): the `last` checkpoint's tensors
        into the network and optimizer, the counters, the history and the random generators."""
        checkpoints.restore(checkpoints.load_tensors(self.out, LAST), self.net, self.optimizer)
        self.step = int(state["step"])
        self.best = state.get("best")
        self.bad = int(state.get("bad", 0))
        self.seconds = float(state.get("seconds", 0.0))
        self.history = list(state.get("history", []))
        if "random" in state:
            checkpoints.set_random_state(state["random"], self.generators)

    def elapsed(self) -> float:
        """Training seconds so far, the running stretch included (a time budget reads this)."""
        running = time.monotonic() - self._t0 if self._t0 is not None else 0.0
        return self.seconds + running

    def best_scores(self) -> dict[str, Any]:
        """The latest validation whose metric is the best (empty before any)."""
        best = [h for h in self.history if self.best is not None and self._value(h) == self.best]
        return dict(best[-1]) if best else {}

    # loop ----------------------------------------------------------------------------------
    def phase(self, total: int | None, *, done: int = 0, desc: str | None = None,
              unit: str = "step") -> None:
        """Start a fresh progress bar (an epoch's, say) of `total` units, `done` of them done."""
        from tqdm import tqdm

        if self.bar is not None:
            self.bar.close()
        self.bar = tqdm(total=total, initial=done, desc=desc or self.desc, unit=unit,
                        disable=not self._progress, mininterval=BAR_SECONDS, dynamic_ncols=True)

    def run(self, batches: Iterable[Batch], step: Callable[[Batch], Mapping[str, Any] | None],
            *, stop_at: int | None = None, max_minutes: float | None = None,
            progress: bool = True) -> None:
        """Train until `steps`, the batches' end, `patience`, `stop_at` (steps in all) or
        `max_minutes` (of this call), or a stop request; the run ends with a `last` checkpoint.
        The network trains in training mode (`validate` puts it back there after scoring).

        Parameters
        ----------
        batches : iterable
            The data from step `self.step` on (a resumed run starts there); drawn lazily, one
            per step, after the loop has checked it is not done.
        step : callable (batch) -> mapping or None
            One optimizer step (`self.step` is its index); returns the bar's postfix or None.
        stop_at, max_minutes : optional
            Pause there, checkpointed: `resume` goes on as if never stopped.
        progress : bool
            Show the bar.

        Raises KeyboardInterrupt (Ctrl-C) or SystemExit(128 + signal) after a stop request,
        once the checkpoint is written.
        """
        self._progress, self._running = progress, True
        self.net.train()
        started = self._t0 = self._last_save = time.monotonic()
        finished = object()
        stream = iter(batches)
        try:
            with checkpoints.stop_requests() as asked:
                while not self._done(stop_at):
                    batch = next(stream, finished)
                    if batch is finished:
                        break
                    if self.bar is None:
                        self.phase(self.steps, done=self.step)
                    checkpoints.hold_threads(self.threads)
                    if self.seed is not None:
                        checkpoints.seed_step(self.seed, self.step)
                    shown = step(batch)  # type: ignore[arg-type]
                    self.step += 1
                    self.bar.update(1)
                    if shown:
                        self.bar.set_postfix(shown, refresh=False)
                    if self._validates():
                        self.checkpoint(validate=True)
                    elif time.monotonic() - self._last_save >= self.checkpoint_seconds:
                        self.checkpoint()
                    if asked or (max_minutes is not None
                                 and time.monotonic() - started >= max_minutes * 60):
                        break
                if self._saved_at != self.step:
                    self.checkpoint()
        finally:
            self._pause()
            self._running = False
            if self.bar is not None:
                self.bar.close()
                self.bar = None
        if asked:
            self.say(f"stopped by signal {asked['signal']} at step {self.step}, checkpoint "
                      "saved; --resume continues")
            checkpoints.raise_stop(asked)

    def checkpoint(self, *, validate: bool = False) -> None:
        """Write the `last` checkpoint, after a validation when `validate` (or
        `validate_at_checkpoints`) asks for one; its time is not training time."""
        self._pause()
        try:
            if self.validate is not None and (validate or self.validate_at_checkpoints):
                self._validation()
            self.save(LAST)
        finally:
            self._last_save = time.monotonic()
            if self._running:  # the clock goes on
                self._t0 = self._last_save

    # helpers -------------------------------------------------------------------------------
    def _done(self, stop_at: int | None) -> bool:
        return ((self.steps is not None and self.step >= self.steps)
                or (stop_at is not None and self.step >= stop_at)
                or (self.patience is not None and self.bad >= self.patience))

    def _validates(self) -> bool:
        when = self.validate_at
        if when is None:
            return False
        if callable(when):
            return bool(when(self.step))
        return self.step % when == 0 or self.step == self.steps

    def _validation(self) -> None:
        assert self.validate is not None
        scores = dict(self.validate())
        if not scores:
            return
        self.history.append(scores)
        if self.metric is not None:
            value = self._value(scores)
            if self._improves(value):
                self.best, self.bad = value, 0
                self.on_best(scores)
            else:
                self.bad += 1
        shown = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in scores.items() if k != "step")
        self.say(f"step {self.step}: {shown} ({self.elapsed():.0f}s)")

    def _value(self, scores: Scores) -> float:
        metric = self.metric
        return float(metric(scores) if callable(metric) else scores[metric])  # type: ignore[index]

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return not math.isnan(value)
        if value == self.best:
            return self.ties_improve
        return value < self.best if self.lower_is_better else value > self.best

    def _pause(self) -> None:
        if self._t0 is not None:
            self.seconds += time.monotonic() - self._t0
            self._t0 = None

    def say(self, line: str) -> None:
        """A line for the user (a validation, a stop): to `log`, else above the bar on stderr."""
        if self.log is not None:
            self.log(line)
        else:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)
