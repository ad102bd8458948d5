"""Training a captcha reader: in-memory pool refreshed by a worker, tqdm, validation on a fresh
seed, checkpoints every few minutes and at each validation, `resume` after a kill, export.

Checkpoints are safetensors (network and Adam state) plus the run's JSON state (settings, step,
pool refresh counter, random generators, torch thread count, history); the learning rate, the
batch and the dropout masks are functions of the step, so a resumed run repeats an unbroken one
bit for bit from where its checkpoint was. Ctrl-C or SIGTERM stops at the end of the current
step with a checkpoint; a SIGKILL loses at most the steps since the last one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from jiema import checkpoints

from .generator import CaptchaSettings
from .pool import Pool, render
from .settings import NetworkSettings, TrainOptions

LAST, BEST = "last", "best"
COMPONENT = "captcha.reader.v1"
VALIDATION_OFFSET = 1_000_003
TRAINING_DATA = "synthetic: captcha==0.7.1 ImageCaptcha (DroidSansMono), seeded jiema generator"
LICENCE = "Apache-2.0 (generator font DroidSansMono: Apache-2.0)"
GENERATOR_PACKAGES = ("captcha", "pillow")  # their versions decide the training images


def require_torch(purpose: str) -> Any:
    from jiema.errors import MissingExtraError

    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("torch", "torch", purpose) from exc
    return torch


def encode_labels(labels: list[str], alphabet: str, arch: str) -> tuple[np.ndarray, np.ndarray]:
    """Class ids, concatenated, and per-label lengths; CTC ids start at 1 (0 is blank)."""
    index = {c: i + (1 if arch == "ctc" else 0) for i, c in enumerate(alphabet)}
    ids = np.array([index[c] for lab in labels for c in lab], dtype=np.int64)
    return ids, np.array([len(lab) for lab in labels], dtype=np.int64)


def score(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Whole-captcha accuracy and per-character accuracy (position by position against the
    label; a missing or extra character counts as wrong)."""
    whole = sum(g == p for g, p in zip(gold, pred, strict=True))
    right = sum(a == b for g, p in zip(gold, pred, strict=True) for a, b in zip(g, p, strict=False))
    total = sum(max(len(g), len(p)) for g, p in zip(gold, pred, strict=True))
    return {
        "whole_accuracy": whole / max(1, len(gold)),
        "char_accuracy": right / max(1, total),
    }


class Trainer:
    """One run in `out_dir`: network, optimizer, pool and loop state."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        captcha: CaptchaSettings | None = None,
        network: NetworkSettings | None = None,
        options: TrainOptions | None = None,
        *,
        resume: bool = False,
        log: Callable[[str], None] = print,
    ) -> None:
        self.torch = torch = require_torch("training a captcha reader")
        from . import network as netmod

        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = log
        state = self._read_state() if resume else None
        if resume and state is None:
            log(f"no checkpoint in {self.out}; starting fresh")
        if state is not None:
            captcha = CaptchaSettings.model_validate(state["captcha"])
            network = NetworkSettings.model_validate(state["network"])
            options = TrainOptions.model_validate(state["options"])
        self.captcha = captcha or CaptchaSettings()
        self.network = network or NetworkSettings()
        self.options = opts = options or TrainOptions()
        if self.network.arch == "heads" and self.captcha.min_length != self.captcha.max_length:
            from jiema.errors import ConfigError

            raise ConfigError("--arch heads reads a fixed length; give one --length, or use ctc")
        # the count a resumed run must keep: float sums split over threads round differently
        self.threads = int(state["threads"]) if state and state.get("threads") else (
            opts.threads or torch.get_num_threads())
        checkpoints.hold_threads(self.threads)
        torch.manual_seed(opts.seed)
        self.net = netmod.build(self.network, len(self.captcha.alphabet), self.captcha.max_length)
        decay: list[Any] = []
        no_decay: list[Any] = []
        for name, p in self.net.named_parameters():
            (no_decay if p.ndim == 1 or name.endswith("bias") else decay).append(p)
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": opts.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=opts.lr,
        )
        self.step, self.refreshes, self.best, self.seconds = 0, 0, -1.0, 0.0
        self.history: list[dict[str, float]] = []
        self.parent_seconds, self.parent_steps = 0.0, 0
        if state is not None:
            self._load_checkpoint(state)
            self.parent_seconds = state.get("parent_seconds", 0.0)
            self.parent_steps = state.get("parent_steps", 0)
            log(f"resumed at step {self.step}")
        elif opts.init:
            self._init_from(opts.init)
        h, w = self.network.input_height, self.network.input_width
        self.val_images, self.val_labels = render(
            self.captcha.model_dump_json(), opts.seed + VALIDATION_OFFSET, 0,
            opts.validation_size, h, w,
        )

    # checkpoints -------------------------------------------------------------------------
    def _read_state(self) -> dict[str, Any] | None:
        return checkpoints.read_state(self.out, LAST)

    def _init_from(self, model: str) -> None:
        """Start from a trained model's weights (its training time is carried into the card)."""
        from jiema.errors import ModelFileError

        from .reader import resolve_model

        spec = resolve_model(model)
        tensors = {k: self.torch.from_numpy(np.ascontiguousarray(v))
                   for k, v in spec.load_tensors().items()}
        try:
            self.net.load_state_dict(tensors)
        except RuntimeError as exc:
            raise ModelFileError(
                f"cannot start from {model}: its network differs ({str(exc).splitlines()[0]})"
            ) from None
        hp = spec.card.hyperparameters
        self.parent_seconds = float(hp.get("training_seconds_total", hp.get("training_seconds", 0)))
        self.parent_steps = int(hp.get("training_steps_total", hp.get("steps_trained", 0)))
        self.log(f"initialised from {spec.name} ({self.parent_seconds:.0f}s of training)")

    def _state(self) -> dict[str, Any]:
        return {
            "parent_seconds": self.parent_seconds,
            "parent_steps": self.parent_steps,
            "captcha": self.captcha.model_dump(mode="json"),
            "network": self.network.model_dump(mode="json"),
            "options": self.options.model_dump(mode="json"),
            "step": self.step,
            "refreshes": self.refreshes,
            "best": self.best,
            "seconds": self.seconds,
            "history": self.history,
            "threads": self.threads,
            "random": checkpoints.random_state(),
        }

    def _save(self, name: str, with_optimizer: bool = True) -> None:
        tensors = checkpoints.pack(self.net, self.opt if with_optimizer else None)
        checkpoints.save(self.out, name, tensors, self._state())

    def _load_checkpoint(self, state: dict[str, Any]) -> None:
        checkpoints.restore(checkpoints.load_tensors(self.out, LAST), self.net, self.opt)
        self.step, self.refreshes = state["step"], state["refreshes"]
        self.best, self.seconds = state["best"], state["seconds"]
        self.history = state["history"]
        if "random" in state:
            checkpoints.set_random_state(state["random"])

    # loop --------------------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        """Linear warm-up over the first 3% of steps, then cosine down to lr / 50."""
        opts = self.options
        warm = max(1, int(0.03 * opts.steps))
        if step < warm:
            return opts.lr * (step + 1) / warm
        frac = min(1.0, (step - warm) / max(1, opts.steps - warm))
        return opts.lr / 50 + (opts.lr - opts.lr / 50) * 0.5 * (1 + math.cos(math.pi * frac))

    def predict(self, images: np.ndarray, batch: int = 250) -> list[str]:
        from .decode import decode_ctc, decode_heads
        from .preprocess import normalise

        torch = self.torch
        self.net.eval()
        texts: list[str] = []
        with torch.no_grad():
            for i in range(0, images.shape[0], batch):
                lp = self.net(normalise(images[i : i + batch])).numpy()
                if self.network.arch == "ctc":
                    reads = decode_ctc(
                        lp, self.captcha.alphabet, self.captcha.min_length, self.captcha.max_length
                    )
                else:
                    reads = decode_heads(lp, self.captcha.alphabet)
                texts.extend(r.text for r in reads)
        self.net.train()
        return texts

    def validate(self) -> dict[str, float]:
        return score(self.val_labels, self.predict(self.val_images))

    def _loss(self, x: Any, labels: list[str]) -> Any:
        torch = self.torch
        ids, lengths = encode_labels(labels, self.captcha.alphabet, self.network.arch)
        lp = self.net(x)
        if self.network.arch == "heads":
            return torch.nn.functional.nll_loss(
                lp.reshape(-1, lp.shape[-1]), torch.from_numpy(ids)
            )
        b, t, _ = lp.shape
        return torch.nn.functional.ctc_loss(
            lp.transpose(0, 1), torch.from_numpy(ids),
            torch.full((b,), t, dtype=torch.long), torch.from_numpy(lengths),
            blank=0, zero_infinity=True,
        )

    def run(self, progress: bool = True, stop_at: int | None = None) -> dict[str, float]:
        """Train to `steps` (or pause at step `stop_at`, checkpointed; `resume` goes on exactly
        as if never stopped); returns the best validation scores."""
        from tqdm import tqdm

        from .preprocess import normalise

        opts, torch = self.options, self.torch
        pool = Pool(
            self.captcha, opts.seed, self.network.input_height, self.network.input_width,
            opts.pool_size, opts.refresh, refreshes_done=self.refreshes, workers=opts.workers,
        )
        every = opts.checkpoint_minutes * 60
        last_save = t0 = time.monotonic()
        bar = tqdm(total=opts.steps, initial=self.step, disable=not progress, mininterval=10.0,
                   unit="step", desc="train captcha")
        loss_avg = None
        with checkpoints.stop_requests() as asked, _closing(bar, pool):
            self.net.train()
            end = opts.steps if stop_at is None else min(stop_at, opts.steps)
            while self.step < end and not asked:
                checkpoints.hold_threads(self.threads)  # validation's decoder may change them
                for group in self.opt.param_groups:
                    group["lr"] = self.lr_at(self.step)
                # batch and dropout drawn from the step number: a resumed run repeats them
                rng = np.random.default_rng([opts.seed, self.step])
                torch.manual_seed(opts.seed * 1_000_003 + self.step)
                idx = rng.integers(0, pool.size, opts.batch_size)
                x = normalise(pool.images[idx])
                loss = self._loss(x, [pool.labels[i] for i in idx.tolist()])
                self.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
                self.opt.step()
                self.step += 1
                value = float(loss.detach())
                loss_avg = value if loss_avg is None else 0.98 * loss_avg + 0.02 * value
                bar.update(1)
                bar.set_postfix(loss=f"{loss_avg:.4f}", refresh=False)
                if opts.refresh and self.step % opts.refresh_every == 0:
                    pool.refresh()
                    self.refreshes = pool.refreshes
                now = time.monotonic()
                if self.step % opts.validate_every == 0 or self.step == opts.steps:
                    self.seconds += now - t0
                    scores = self.validate()
                    t0 = last_save = time.monotonic()
                    self.history.append(
                        {"step": self.step, "loss": loss_avg, "seconds": self.seconds, **scores}
                    )
                    self.log(
                        f"step {self.step}: loss {loss_avg:.4f}, "
                        f"whole {scores['whole_accuracy']:.4f}, "
                        f"char {scores['char_accuracy']:.4f} ({self.seconds:.0f}s)"
                    )
                    if scores["whole_accuracy"] >= self.best:
                        self.best = scores["whole_accuracy"]
                        self._save(BEST, with_optimizer=False)
                    self._save(LAST)
                elif now - last_save > every or self.step == end or asked:
                    self.seconds += now - t0
                    t0 = last_save = now
                    self._save(LAST)
        if asked:
            self.log(f"stopped by signal {asked['signal']} at step {self.step}, checkpoint saved; "
                     "--resume continues")
            checkpoints.raise_stop(asked)
        return self.best_scores()

    def best_scores(self) -> dict[str, float]:
        done = [h for h in self.history if h["whole_accuracy"] == self.best]
        return {k: v for k, v in (done[-1] if done else {}).items() if k != "step"}


@contextmanager
def _closing(bar: Any, pool: Pool) -> Iterator[None]:
    try:
        yield
    finally:
        bar.close()
        pool.close()


def export_model(
    run_dir: str | os.PathLike[str],
    weights: str | os.PathLike[str],
    *,
    name: str | None = None,
    description: str = "",
    checkpoint: str = BEST,
    extra_scores: dict[str, float] | None = None,
) -> tuple[Path, Path]:
    """Write the run's `checkpoint` network as float32 safetensors plus its model card."""
    from jiema.models import ModelCard, provenance, save_model
    from safetensors.numpy import load_file

    run = Path(run_dir)
    state = checkpoints.read_state(run, checkpoint)
    if state is None:
        checkpoint = LAST
        state = checkpoints.read_state(run, checkpoint)
    if state is None:
        from jiema.errors import ModelFileError

        raise ModelFileError(f"no checkpoint in {run}")
    tensors = {
        k[4:]: v.astype(np.float32) if v.dtype.kind == "f" else v
        for k, v in load_file(str(run / f"{checkpoint}.safetensors")).items()
        if k.startswith("net.")
    }
    captcha = CaptchaSettings.model_validate(state["captcha"])
    network = NetworkSettings.model_validate(state["network"])
    at = [h for h in state["history"] if h["step"] == state["step"]]
    scores = {
        f"validation_{k}": float(v)
        for k, v in (at[-1] if at else {}).items()
        if k.endswith("accuracy")
    }
    scores.update(extra_scores or {})
    last = checkpoints.read_state(run, LAST) or state
    weights = Path(weights)
    what = "CTC reader (conv -> BiGRU -> CTC, grammar Viterbi)" if network.arch == "ctc" else (
        "conv stack + independent softmax heads (the seed's baseline)"
    )
    card = ModelCard(
        name=name or weights.stem,
        component=COMPONENT,
        task="captcha",
        description=description or f"Captcha {what}, alphabet {captcha.alphabet!r}.",
        vocabulary_size=len(captcha.alphabet),
        labels=list(captcha.alphabet),
        hyperparameters={
            "captcha": captcha.model_dump(mode="json"),
            "network": network.model_dump(mode="json"),
            "training": state["options"],
            "steps_trained": state["step"],
            "training_seconds": round(float(last["seconds"]), 1),
            "training_seconds_total": round(
                float(last["seconds"]) + float(last.get("parent_seconds", 0.0)), 1
            ),
            "training_steps_total": last["step"] + int(last.get("parent_steps", 0)),
            "initialised_from": Path(init).stem if (init := state["options"].get("init")) else None,
            "threads": state["options"].get("threads"),
        },
        training_data=TRAINING_DATA + f", seed {state['options']['seed']}; validation seed "
        f"{state['options']['seed'] + VALIDATION_OFFSET}",
        licence=LICENCE,
        scores=scores,
        **provenance(earlier=_init_rebuild(state["options"].get("init")),
                     packages=GENERATOR_PACKAGES),
    )
    return save_model(tensors, card, weights)


def _init_rebuild(init: str | None) -> list[list[str]]:
    """The rebuild lines of the model a run started from (none when it is gone)."""
    if not init:
        return []
    from jiema.errors import ModelFileError, UnknownNameError

    from .reader import resolve_model

    try:
        card = resolve_model(init).card
    except (ModelFileError, UnknownNameError):
        return []
    return [card.rebuild] if card is not None else []
