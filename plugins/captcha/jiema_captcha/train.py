"""Training a captcha reader on generated captchas (an in-memory pool refreshed by a worker,
validation on a fresh seed) or on a labelled folder (augmented batches, a held-out split,
patience), in the core's `jiema.training.Loop`: progress bar, checkpoints every few minutes and
at each validation, `resume` after a kill, then export.

The run's JSON state holds its settings, the pool refresh counter and the plateau counters
beside the loop's own; the learning rate, the batch, the augmentation and the dropout masks are
functions of the step, so a resumed run repeats an unbroken one bit for bit from where its
checkpoint was. Ctrl-C or SIGTERM stops at the end of the current step with a checkpoint; a
SIGKILL loses at most the steps since the last one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from jiema import checkpoints, training

from .folder import FolderRun
from .generator import CaptchaSettings
from .pool import FolderPool, Pool, render
from .settings import LR_DROP, FolderSettings, NetworkSettings, TrainOptions

LAST, BEST = training.LAST, training.BEST
COMPONENT = "captcha.reader.v1"
VALIDATION_OFFSET = 1_000_003
TRAINING_DATA = "synthetic: captcha==0.7.1 ImageCaptcha (DroidSansMono), seeded jiema generator"
LICENCE = "Apache-2.0 (generator font DroidSansMono: Apache-2.0)"
GENERATOR_PACKAGES = ("captcha", "pillow")  # their versions decide the training images
FOLDER_LICENCE = "the user's own images (licence unknown: do not ship without checking)"
#: Linear warm-up steps of a plateau schedule (folder data): Adam's moments settle in a few
#: dozen steps; longer only delays a run of a few hundred.
PLATEAU_WARMUP = 50
#: A validation loss this much (relative) below the best so far counts as progress for the
#: patience, as a better accuracy does (only while some validation image is read wrong).
LOSS_GAIN = 0.02
#: Below this per-character validation accuracy the network has not started to read: CTC's
#: blank phase lasts several validations, and dropping the learning rate there stalled a
#: 900-image folder (wheezy.captcha) at 5% of characters after 1,000 steps (lr / 16 by step
#: 700, the loss still falling slowly). No plateau is counted until then.
READING_CHAR_ACCURACY = 0.5


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
        folder: FolderSettings | None = None,
        prepared: FolderRun | None = None,
        resume: bool = False,
        log: Callable[[str], None] = print,
    ) -> None:
        """`folder`: train on a labelled folder (its alphabet, lengths and input size come from
        `captcha` and `network`, see `folder.prepare`) instead of generated captchas;
        `prepared`: that folder already loaded (for these settings)."""
        self.torch = torch = require_torch("training a captcha reader")
        from . import network as netmod

        self.out = Path(out_dir)
        self.log = log
        state = training.read_for_resume(self.out) if resume else None
        self.out.mkdir(parents=True, exist_ok=True)
        if state is not None:
            captcha = CaptchaSettings.model_validate(state["captcha"])
            network = NetworkSettings.model_validate(state["network"])
            options = TrainOptions.model_validate(state["options"])
            if state.get("folder"):
                folder = FolderSettings.model_validate(state["folder"])
        self.captcha = captcha or CaptchaSettings()
        self.network = network or NetworkSettings()
        self.options = opts = options or TrainOptions()
        self.folder = folder
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
        self.refreshes, self.improvements, self.best_step = 0, 0, -1
        self.accuracy_best = False  # the validation being booked reads as well as any before
        self.loss_avg: float | None = None  # the training loss, smoothed over steps
        self.best, self.best_char, self.best_loss, self.lr_scale = -1.0, -1.0, math.inf, 1.0
        self.parent_seconds, self.parent_steps = 0.0, 0
        self.loop = training.Loop(
            self.out, self.net, self.opt, threads=self.threads, steps=opts.steps,
            checkpoint_minutes=opts.checkpoint_minutes, seed=opts.seed,
            validate=self.validate_run, validate_at=opts.validate_every,
            metric="improvements", patience=opts.patience,
            on_best=self._on_progress,
            extra_state=self._state, desc="train captcha", log=log,
        )
        if state is not None:
            self.loop.resume(state)
            self._own_counters(state)
            log(f"resumed at step {self.step}")
        elif opts.init:
            self._init_from(opts.init)
        h, w = self.network.input_height, self.network.input_width
        self.data: FolderPool | None = None
        if folder is not None:
            from .folder import prepare

            run = prepared if prepared is not None and state is None else prepare(
                folder, alphabet=self.captcha.alphabet,
                case_insensitive=self.captcha.case_insensitive, input_hw=(h, w),
                normalise=self.network.normalise_input)
            self.data = FolderPool(run.train_images, run.train_labels)
            self.val_images, self.val_labels = run.val_images, run.val_labels
            self.data_summary = run.summary
        else:
            self.val_images, self.val_labels = render(
                self.captcha.model_dump_json(), opts.seed + VALIDATION_OFFSET, 0,
                opts.validation_size, h, w, self.network.normalise_input,
            )

    # the loop's counters, read through --------------------------------------------------
    @property
    def step(self) -> int:
        return self.loop.step

    @property
    def seconds(self) -> float:
        return self.loop.seconds

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.loop.history

    # checkpoints -------------------------------------------------------------------------
    def _init_from(self, model: str) -> None:
        """Start from a trained model's weights (its training time is carried into the card)."""
        from jiema.errors import ModelFileError

        from .reader import resolve_model

        spec = resolve_model(model)
        own = self.net.state_dict()
        tensors = {k: self.torch.from_numpy(np.ascontiguousarray(v))
                   for k, v in spec.load_tensors().items()}
        fits = {k: v for k, v in tensors.items() if k in own and own[k].shape == v.shape}
        if not fits:
            raise ModelFileError(f"cannot start from {model}: none of its tensors fits this "
                                 "network (another architecture or conv widths)")
        self.net.load_state_dict(fits, strict=False)
        if len(fits) < len(own):  # e.g. another alphabet: the output layer starts fresh
            left = sorted(set(own) - set(fits))
            self.log(f"from {spec.name}: {len(fits)} of {len(own)} tensors fit; fresh: "
                     + ", ".join(left[:4]) + (" ..." if len(left) > 4 else ""))
        hp = spec.card.hyperparameters
        self.parent_seconds = float(hp.get("training_seconds_total", hp.get("training_seconds", 0)))
        self.parent_steps = int(hp.get("training_steps_total", hp.get("steps_trained", 0)))
        self.log(f"initialised from {spec.name} ({self.parent_seconds:.0f}s of training)")

    def _state(self) -> dict[str, Any]:
        """The captcha run's part of every checkpoint (the loop adds step, history, ...)."""
        return {
            "parent_seconds": self.parent_seconds,
            "parent_steps": self.parent_steps,
            "captcha": self.captcha.model_dump(mode="json"),
            "network": self.network.model_dump(mode="json"),
            "options": self.options.model_dump(mode="json"),
            "refreshes": self.refreshes,
            "improvements": self.improvements,
            "best_step": self.best_step,
            "best_whole": self.best,
            "best_char": self.best_char,
            "best_loss": None if math.isinf(self.best_loss) else self.best_loss,
            "lr_scale": self.lr_scale,
            "folder": self.folder.model_dump(mode="json") if self.folder else None,
            "data": self.data_summary if self.folder else None,
        }

    def _own_counters(self, state: dict[str, Any]) -> None:
        self.parent_seconds = state.get("parent_seconds", 0.0)
        self.parent_steps = state.get("parent_steps", 0)
        self.refreshes = state["refreshes"]
        self.improvements = state.get("improvements", 0)
        self.best_step = state.get("best_step", -1)
        self.best = state.get("best_whole", -1.0)
        self.best_char = state.get("best_char", -1.0)
        self.best_loss = math.inf if state.get("best_loss") is None else state["best_loss"]
        self.lr_scale = state.get("lr_scale", 1.0)

    # loop --------------------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        """Linear warm-up over the first 3% of steps, then cosine down to lr / 50; with
        `lr_patience`, warm-up over PLATEAU_WARMUP steps, then lr divided by LR_DROP at every
        plateau of validations (`validated`)."""
        opts = self.options
        if opts.lr_patience:
            return opts.lr * self.lr_scale * min(1.0, (step + 1) / PLATEAU_WARMUP)
        warm = max(1, int(0.03 * opts.steps))
        if step < warm:
            return opts.lr * (step + 1) / warm
        frac = min(1.0, (step - warm) / max(1, opts.steps - warm))
        return opts.lr / 50 + (opts.lr - opts.lr / 50) * 0.5 * (1 + math.cos(math.pi * frac))

    def predict(self, images: np.ndarray, batch: int = 250) -> list[str]:
        return self._read(images, None, batch)[0]

    def _read(
        self, images: np.ndarray, labels: list[str] | None, batch: int = 250
    ) -> tuple[list[str], float]:
        """The texts read and, with `labels`, the mean loss on them (else NaN)."""
        from .decode import decode_ctc, decode_heads
        from .preprocess import normalise

        torch = self.torch
        self.net.eval()
        texts: list[str] = []
        loss_sum = 0.0
        with torch.no_grad():
            for i in range(0, images.shape[0], batch):
                out = self.net(normalise(images[i : i + batch]))
                if labels is not None:
                    part = labels[i : i + batch]
                    loss_sum += float(self._loss_of(out, part)) * len(part)
                lp = out.numpy()
                if self.network.arch == "ctc":
                    reads = decode_ctc(
                        lp, self.captcha.alphabet, self.captcha.min_length, self.captcha.max_length
                    )
                else:
                    reads = decode_heads(lp, self.captcha.alphabet)
                texts.extend(r.text for r in reads)
        self.net.train()
        return texts, (loss_sum / len(labels) if labels else math.nan)

    def validate(self) -> dict[str, float]:
        texts, loss = self._read(self.val_images, self.val_labels)
        return {**score(self.val_labels, texts), "validation_loss": loss}

    def validate_run(self) -> dict[str, Any]:
        """The loop's validation: the scores, the training loss, and `improvements` (the count
        of validations better than every earlier one, by `validated`: the loop's metric)."""
        scores = self.validate()
        if self.validated(scores):
            self.improvements += 1
        return {"step": self.step, "loss": self.loss_avg, **scores,
                "improvements": self.improvements}

    def _loss(self, x: Any, labels: list[str]) -> Any:
        return self._loss_of(self.net(x), labels)

    def _loss_of(self, lp: Any, labels: list[str]) -> Any:
        torch = self.torch
        ids, lengths = encode_labels(labels, self.captcha.alphabet, self.network.arch)
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

    def run(
        self, progress: bool = True, stop_at: int | None = None, max_minutes: float | None = None
    ) -> dict[str, float]:
        """Train to `steps` (or pause at step `stop_at` or after `max_minutes` of this call,
        checkpointed; `resume` goes on exactly as if never stopped); returns the best
        validation scores."""
        from .augment import augment
        from .preprocess import ink, normalise, standardise

        opts, torch = self.options, self.torch
        pool: Pool | FolderPool
        if self.data is not None:
            pool = self.data
        else:
            pool = Pool(
                self.captcha, opts.seed, self.network.input_height, self.network.input_width,
                opts.pool_size, opts.refresh, refreshes_done=self.refreshes,
                workers=opts.workers, normalise=self.network.normalise_input,
            )
        self.loop.steps = opts.steps  # a resumed run may have been given more

        def batches() -> Iterator[np.ndarray]:
            """Step `loop.step`'s images, drawn from the step number (a resumed run repeats
            them); a folder's batch holds distinct images."""
            while True:
                rng = np.random.default_rng([opts.seed, self.step])
                if isinstance(pool, FolderPool):
                    yield rng.choice(pool.size, min(opts.batch_size, pool.size), replace=False)
                else:
                    yield rng.integers(0, pool.size, opts.batch_size)

        def step(idx: np.ndarray) -> dict[str, str]:
            for group in self.opt.param_groups:
                group["lr"] = self.lr_at(self.step)
            if opts.augment and isinstance(pool, FolderPool):
                g = torch.Generator().manual_seed(opts.seed * 1_000_003 + self.step)
                x = standardise(augment(ink(pool.images[idx]), pool.boxes[idx], g))
            else:
                x = normalise(pool.images[idx])
            loss = self._loss(x, [pool.labels[i] for i in idx.tolist()])
            self.opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
            self.opt.step()
            value = float(loss.detach())
            self.loss_avg = value if self.loss_avg is None else (
                0.98 * self.loss_avg + 0.02 * value)
            if opts.refresh and (self.step + 1) % opts.refresh_every == 0:
                pool.refresh()  # after this step: the checkpoint at it holds the count
                self.refreshes = pool.refreshes
            return {"loss": f"{self.loss_avg:.4f}"}

        self.loss_avg = None
        try:
            self.loop.run(batches(), step, stop_at=stop_at, max_minutes=max_minutes,
                          progress=progress)
        finally:
            pool.close()
        if self.stopped:
            self.log(f"no better validation in the last {self.loop.bad} (patience): stopped "
                     f"at step {self.step}")
        elif max_minutes is not None and self.step < opts.steps and (
                stop_at is None or self.step < stop_at):
            self.log(f"--max-minutes {max_minutes:g} spent: paused at step {self.step}, "
                     "checkpoint saved; --resume continues")
        return self.best_scores()

    @property
    def stopped(self) -> bool:
        """Patience ran out: validation has not improved for `patience` validations."""
        return bool(self.options.patience) and self.loop.bad >= (self.options.patience or 0)

    def _on_progress(self, scores: Any) -> None:
        """A validation made progress (the loop's metric); it becomes the `best` checkpoint
        only if it reads at least as well as the best so far (a lower loss alone is progress
        for the patience, not a better model to export)."""
        if self.accuracy_best:
            self.best_step = self.step
            self.loop.save(BEST, optimizer=False)

    def validated(self, scores: dict[str, float]) -> bool:
        """Book a validation: True when it makes progress (better whole accuracy, else better
        per-character, else while some image is read wrong a loss LOSS_GAIN lower; always
        while under READING_CHAR_ACCURACY of the characters are read); notes
        whether it reads at least as well as the best so far (ties go to the later one); counts
        plateaus for `lr_patience` (the loop counts them for `patience`)."""
        whole, char = scores["whole_accuracy"], scores["char_accuracy"]
        self.accuracy_best = (whole, char) >= (self.best, self.best_char)
        loss = scores.get("validation_loss", math.nan)
        # a lower loss counts too while the reads are not all right: early on (CTC's blank
        # phase) the accuracies sit at 0 for several validations while the network learns
        better = char < READING_CHAR_ACCURACY or (whole, char) > (self.best, self.best_char) or (
            whole < 1.0 and loss < self.best_loss * (1 - LOSS_GAIN))
        if loss < self.best_loss:
            self.best_loss = loss
        if (whole, char) > (self.best, self.best_char):
            self.best, self.best_char = whole, char
        stale = 0 if better else self.loop.bad + 1  # the loop counts it after this returns
        lp = self.options.lr_patience
        if lp and stale and stale % lp == 0:
            self.lr_scale /= LR_DROP
            self.log(f"no better validation in {stale}: learning rate "
                     f"{self.options.lr * self.lr_scale:.2e}")
        return better

    def best_scores(self) -> dict[str, float]:
        """The scores of the `best` checkpoint's validation (empty before any)."""
        done = [h for h in self.history if h["step"] == self.best_step]
        return {k: v for k, v in (done[-1] if done else {}).items()
                if k not in ("step", "improvements")}


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
    checkpoint, state = training.read_for_export(run, checkpoint)
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
    data = state.get("data")
    packages: tuple[str, ...]
    if data:  # a folder run: the user's images
        training_data = (f"folder {data['folder']}: {data['images']} images, "
                         f"{data['training_images']} trained on, {data['validation_images']} "
                         f"validated on ({data['split']})")
        licence, packages = FOLDER_LICENCE, ("pillow",)  # pillow decodes the images
    else:
        training_data = (TRAINING_DATA + f", seed {state['options']['seed']}; validation seed "
                         f"{state['options']['seed'] + VALIDATION_OFFSET}")
        licence, packages = LICENCE, GENERATOR_PACKAGES
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
            **({"data": data} if data else {}),
        },
        training_data=training_data,
        licence=licence,
        scores=scores,
        **provenance(earlier=_init_rebuild(state["options"].get("init")), packages=packages),
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
