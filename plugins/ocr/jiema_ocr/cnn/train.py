"""Training the char CNN on glyphs rendered on the fly, with checkpoints and resume.

A run lives in one folder: `last.safetensors` + `last.json` (weights, optimiser, step, random
generators: the resumable state, a `jiema.checkpoints` checkpoint written atomically every few
minutes, on Ctrl-C and at the end), `model.safetensors` + `model.json` (the latest export, fp16)
and `best.safetensors` + `best.json` (the export with the best held-out top-1 so far). Batch `s`
is rendered from its own seed `(seed, s)`, whichever worker draws it, so a resumed run trains
bit for bit as the unbroken one (with the same `threads`, and a `steps` budget: a `minutes`
budget follows the clock). The held-out set is rendered from its own seed, never seen in
training.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from ..charset import Charset, default_charset
from ..classifier import COMPONENT, TASK
from ..glyphs import INPUT_SIZE, GlyphSampler, RenderOptions
from ..synth import FONT_PACKAGES
from .net import CharNet

EVAL_SEED = 20260523  # the held-out glyphs; training seeds are derived from `seed`, never this


class TrainOptions(BaseModel):
    """Options of `jiema train ocr`; the defaults are the shipped model's recipe."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(6000, ge=1, description="optimiser steps in the whole run")
    minutes: float | None = Field(None, gt=0, description="or a time budget: the schedule "
                                  "follows whichever of steps and minutes runs out first")
    warmup: float = Field(0.05, ge=0, lt=1, description="fraction of the run warming up")
    batch_size: int = Field(128, ge=2)
    lr: float = Field(2e-3, gt=0, description="peak learning rate (one-cycle)")
    weight_decay: float = Field(1e-4, ge=0)
    label_smoothing: float = Field(0.05, ge=0, lt=1)
    width: int = Field(64, ge=8)
    hidden: int = Field(256, ge=8)
    input_size: int = Field(INPUT_SIZE, ge=16)
    seed: int = 0
    threads: int = Field(1, ge=1, description="torch intra-op threads")
    workers: int = Field(0, ge=0, description="glyph-rendering processes (0: in-process)")
    device: str = "cpu"
    checkpoint_minutes: float = Field(5.0, gt=0)
    eval_samples: int = Field(3000, ge=0)
    max_classes: int | None = Field(None, ge=2, description="train on the first N classes only")
    init: str | None = Field(None, description="start from this char model (name or path): "
                             "its classes keep their head rows, classes it lacks start fresh")
    new_class_share: float = Field(0.0, ge=0, lt=1, description="with init: the part of each "
                                   "batch drawn from the classes the init model lacks")
    frequent_share: float = Field(0.0, ge=0, lt=1, description="the part of each batch whose "
                                  "classes are drawn in proportion to the square root of their "
                                  "count in the OCR LM's text, so common characters are seen "
                                  "more (the export's logit adjustment keeps the prior uniform)")
    fonts: Literal["debian", "all"] = Field(
        "debian", description="debian: the four Debian families the shipped model learned "
        "first; all: every licensed training family (`synth_fonts.TRAINING_FAMILIES`: Noto "
        "Sans/Serif/Mono CJK SC in every weight, WenQuanYi, AR PL, Smiley Sans), never a "
        "withheld typeface")
    name: str = "gb2312-cnn"


def training_faces(fonts: str) -> list[Any] | None:
    """The faces glyphs are drawn from: None for `debian` (the sampler's default fonts), or
    every installed face of the licensed training families for `all`."""
    if fonts == "debian":
        return None
    from ..glyphs import load_face
    from ..synth_fonts import training_fonts

    faces = [load_face(f.path, f.index) for f in training_fonts()]
    if not faces:
        raise FileNotFoundError("no training font installed: apt-get install fonts-noto-cjk "
                                "fonts-noto-cjk-extra fonts-wqy-zenhei fonts-arphic-uming")
    return faces


def _fonts_card(fonts: str) -> tuple[str, str, list[str]]:
    """(training_data, licence, Debian packages) of the card for `fonts`."""
    if fonts == "debian":
        return ("glyphs rendered on the fly from the Debian fonts WenQuanYi Micro Hei, "
                "WenQuanYi Zen Hei, AR PL UMing CN, AR PL UKai CN",
                "fonts: Apache-2.0 / GPL-2 with font exception / Arphic Public License",
                list(FONT_PACKAGES))
    from ..synth_fonts import card_text, packages, training_fonts

    used = training_fonts()
    return (f"glyphs rendered on the fly from {card_text(used)}",
            "fonts: see training_data (each family with its licence)", packages(used))


class _Batches(torch.utils.data.IterableDataset):  # type: ignore[type-arg]
    """Endless rendered batches from step `start` on, each the concatenation of `parts` (a
    sampler and how many of the batch it draws). Batch `s` draws from `(seed, s)` alone: with W
    workers, worker w makes batches start + w, start + w + W, ... and the loader takes them in
    turn, so the stream is the same for any number of workers and any resume point."""

    def __init__(self, parts: Sequence[tuple[GlyphSampler, int]], seed: int,
                 start: int = 0) -> None:
        self.parts = [(s, n) for s, n in parts if n > 0]
        self.seed, self.start = seed, start

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        info = torch.utils.data.get_worker_info()
        wid, every = (info.id, info.num_workers) if info is not None else (0, 1)
        for step in itertools.count(self.start + wid, every):
            rng = np.random.default_rng([self.seed, step])
            drawn = [sampler.sample(n, rng) for sampler, n in self.parts]
            if len(drawn) == 1:
                yield drawn[0]
            else:
                yield (np.concatenate([x for x, _ in drawn]),
                       np.concatenate([y for _, y in drawn]))


def batch_split(batch_size: int, shares: Sequence[float]) -> list[int]:
    """How many of a batch each share draws; the first (the uniform draw) takes the rest."""
    extra = [round(batch_size * s) for s in shares]
    if sum(extra) >= batch_size:
        raise ValueError(f"shares {list(shares)} leave nothing of a batch of {batch_size}")
    return [batch_size - sum(extra), *extra]


def held_out_set(sampler: GlyphSampler, n: int, seed: int = EVAL_SEED) -> tuple[Any, Any]:
    return sampler.sample(n, np.random.default_rng(seed))


def accuracy(net: Any, x: np.ndarray, y: np.ndarray, device: str = "cpu",
             batch: int = 512, bias_shift: np.ndarray | None = None) -> dict[str, float]:
    """Top-1 and top-5 accuracy of `net` on inputs `x` with labels `y` (logits less
    `bias_shift`, as exported)."""
    shift = torch.as_tensor(bias_shift, dtype=torch.float32) if bias_shift is not None else None
    was_training = net.training
    net.eval()
    top1 = top5 = 0
    with torch.inference_mode():
        for s in range(0, len(y), batch):
            logits = net(torch.from_numpy(x[s: s + batch]).to(device)).float().cpu()
            if shift is not None:
                logits = logits - shift
            best = logits.topk(5, dim=1).indices.numpy()
            lab = y[s: s + batch, None]
            top1 += int((best[:, :1] == lab).sum())
            top5 += int((best == lab).any(axis=1).sum())
    net.train(was_training)  # a loaded classifier stays in eval mode
    n = max(len(y), 1)
    return {"top1": top1 / n, "top5": top5 / n}


def _init_card(model: str) -> Any:
    from jiema.models import find_model_files

    from ..classifier import resolve_model_path

    return find_model_files(resolve_model_path(model))[1]


def classes_missing_from(charset: Charset, labels: Sequence[str]) -> list[int]:
    """Ids of `charset` whose characters a model with class `labels` has no class for."""
    have = Charset(labels)
    return [i for i, ch in enumerate(charset.labels) if have.id(ch) is None]


def init_from(net: Any, charset: Charset, model: str) -> None:
    """Copy a trained char model into `net` (same width and hidden size): every layer, and the
    head rows of the classes both charsets share; the classes it lacks keep fresh rows."""
    from jiema.errors import ModelFileError

    from ..classifier import load_trained

    old_net, old_labels, _ = load_trained(model)
    state = old_net.state_dict()
    mine = net.state_dict()
    for key, value in state.items():
        if key.startswith("head.") or key.endswith("num_batches_tracked"):
            continue
        theirs = tuple(mine[key].shape) if key in mine else None
        if theirs != tuple(value.shape):
            raise ModelFileError(f"cannot start from {model}: {key} is {tuple(value.shape)}, "
                                 f"this network's is {theirs}")
        mine[key] = value.clone()
    shared = [(i, old_labels.id(ch)) for i, ch in enumerate(charset.labels)]
    new_ids = [i for i, j in shared if j is None]
    rows = torch.tensor([i for i, j in shared if j is not None])
    old_rows = torch.tensor([j for _, j in shared if j is not None])
    with torch.no_grad():
        mine["head.weight"][rows] = state["head.weight"][old_rows]
        mine["head.bias"][rows] = state["head.bias"][old_rows]
        if new_ids:  # a new class starts as the average known class (its logit sits far below
            # the winner's), not at random, which would outscore every trained class
            mine["head.weight"][new_ids] = state["head.weight"].mean(dim=0)
            mine["head.bias"][new_ids] = state["head.bias"].mean()
    net.load_state_dict(mine)


def sampling_log_ratio(n_classes: int, parts: Sequence[tuple[np.ndarray, int]]
                       ) -> np.ndarray:
    """Per class, log(how often training drew it / how often the first part alone would), for
    batches made of `parts` (class probabilities over all classes, and how many of the batch
    draw from them; the first is the plain uniform draw). A class seen 60x more often learns a
    logit ~log(60) too high; the export subtracts this (the usual logit adjustment), so
    oversampled classes do not outvote look-alikes (／ read as ×)."""
    total = sum(n for _, n in parts)
    drawn = np.zeros(n_classes, dtype=np.float64)
    for probs, n in parts:
        drawn += n / total * np.asarray(probs, dtype=np.float64)
    base = parts[0][1] / total * np.asarray(parts[0][0], dtype=np.float64)
    out = np.zeros(n_classes, dtype=np.float64)
    seen = base > 0  # a class the plain draw never makes keeps its logit
    out[seen] = np.log(drawn[seen] / base[seen])
    return out


def class_probs(n_classes: int, classes: Sequence[int] | np.ndarray,
                weights: np.ndarray | None = None) -> np.ndarray:
    """A sampler's class distribution over all `n_classes` (uniform over `classes`, or in
    proportion to `weights`, one per class)."""
    out = np.zeros(n_classes, dtype=np.float64)
    ids = np.asarray(classes, dtype=np.int64)
    w = np.ones(ids.size) if weights is None else np.asarray(weights, dtype=np.float64)
    out[ids] = w / w.sum()
    return out


def text_weights(charset: Charset) -> np.ndarray:
    """Per class, sqrt of its count in the OCR LM's text: common characters drawn more often,
    without the rare ones vanishing."""
    from ..language_model import text_counts

    return np.sqrt(text_counts(charset.labels))


def export(net: Any, charset: Charset, opts: TrainOptions, path: Path,
           scores: dict[str, float], trained: dict[str, Any],
           bias_shift: np.ndarray | None = None) -> None:
    """Write fp16 safetensors + model card (the format `CharClassifier.load` reads);
    `bias_shift` is subtracted from the head's bias (see `sampling_log_ratio`)."""
    from jiema.models import ModelCard, provenance, save_model

    tensors = {k: v.detach().cpu().to(torch.float16).numpy()
               for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    if bias_shift is not None and bias_shift.any():
        bias = tensors["head.bias"].astype(np.float64) - bias_shift
        tensors["head.bias"] = bias.astype(np.float16)
    training_data, licence, debian = _fonts_card(opts.fonts)
    card = ModelCard(
        name=opts.name, component=COMPONENT, task=TASK,
        description="Char CNN over GB2312 hanzi, digits, Latin letters and punctuation; "
                    "input: 40x40 ink map from jiema_ocr.glyphs.normalize_glyph.",
        vocabulary_size=len(charset), labels=list(charset.labels),
        hyperparameters={**opts.model_dump(exclude={"device", "workers", "threads"}), **trained},
        training_data=training_data,
        licence=licence,
        scores=scores,
        **provenance(earlier=[_init_card(opts.init).rebuild] if opts.init else [],
                     debian=debian),
    )
    save_model(tensors, card, path)


LAST = "last"  # the resumable checkpoint (jiema.training); model.* and best.* are exports
OLD_CHECKPOINT = "last.pt"  # the pickle earlier versions wrote: never loaded
LOSS_SHOWN_EVERY = 20  # steps between loss read-outs on the bar (each is a host sync)


def read_checkpoint(out: Path) -> dict[str, Any]:
    """The state of the run in `out` for `--resume` (its tensors stay in `last.safetensors`)."""
    from jiema import training

    state = training.read_last(out)
    if state is None:
        if (out / OLD_CHECKPOINT).is_file():
            raise FileNotFoundError(
                f"--resume: {out / OLD_CHECKPOINT} is a pickle checkpoint of an older jiema, "
                "which is never loaded; start a new run (--init can start from its model)")
        raise FileNotFoundError(f"--resume: no checkpoint {out / (LAST + '.safetensors')}")
    return state


def held_out_card(scores: Mapping[str, Any]) -> dict[str, float]:
    """A validation's scores as a model card names them."""
    return {f"heldout_{k}": v for k, v in scores.items() if k != "step"}


def held_out_scores(loop: Any) -> dict[str, float]:
    """The last validation's held-out scores (empty when the run has none)."""
    return {k: v for k, v in loop.history[-1].items() if k != "step"} if loop.history else {}


def run_fraction(loop: Any, steps: int, minutes: float | None) -> float:
    """How much of its budget a run has used: steps, or the clock when `minutes` runs out
    first (then the schedule follows the clock)."""
    done = loop.step / steps
    if minutes is not None:
        done = max(done, loop.elapsed() / (minutes * 60))
    return done


def one_cycle(fraction: float, warmup: float) -> float:
    """The learning rate's factor at `fraction` of the run: linear warm-up over `warmup`, then
    cosine decay to zero (floored at 1e-3 so the last steps still move)."""
    scale = fraction / warmup if fraction < warmup else 0.5 * (1 + math.cos(
        math.pi * (fraction - warmup) / (1 - warmup)))
    return max(scale, 1e-3)


class RunningLoss:
    """The loss shown on the bar: read every `every` steps (a host sync), smoothed."""

    def __init__(self, every: int) -> None:
        self.every, self.value = every, math.nan

    def show(self, step: int, loss: Any) -> dict[str, str] | None:
        if step % self.every:
            return None
        value = float(loss.detach())
        self.value = value if math.isnan(self.value) else 0.8 * self.value + 0.2 * value
        return {"loss": f"{self.value:.3f}"}


def train(out_dir: str | os.PathLike[str], opts: TrainOptions, *, resume: bool = False,
          progress: bool = True, max_minutes: float | None = None,
          stop_at: int | None = None) -> dict[str, float]:
    """Train (or with `resume`, continue) a run in `out_dir`; returns the last held-out scores.
    `max_minutes` stops early (after a checkpoint) so a time-boxed job leaves a resumable run;
    `stop_at` pauses after that many steps in all, the same way."""
    from jiema import checkpoints, training

    out = Path(out_dir)
    device = torch.device(opts.device)
    state: dict[str, Any] | None = None
    if resume:  # the saved options win (the network and schedule depend on them)
        state = read_checkpoint(out)
        saved = TrainOptions.model_validate({**opts.model_dump(), **state["options"]})
        opts = saved.model_copy(update={"device": opts.device, "workers": opts.workers,
                                        "threads": opts.threads})
    out.mkdir(parents=True, exist_ok=True)
    checkpoints.hold_threads(opts.threads)
    torch.manual_seed(opts.seed)
    charset = default_charset()
    parent_minutes, shift = 0.0, None
    if opts.init:  # the network's shape is the init model's
        card = _init_card(opts.init)
        parent = card.hyperparameters
        opts = opts.model_copy(update={k: int(parent[k]) for k in ("width", "hidden", "input_size")
                                       if k in parent})
        parent_minutes = float(parent.get("total_minutes",
                                          parent.get("total_training_minutes",
                                                     parent.get("trained_minutes", 0.0))))
    classes = range(opts.max_classes) if opts.max_classes else None
    faces = training_faces(opts.fonts)
    sampler = GlyphSampler(charset, faces, options=RenderOptions(), size=opts.input_size,
                           classes=classes)
    net = CharNet(len(charset), input_size=opts.input_size, width=opts.width,
                  hidden=opts.hidden).to(device)
    parts: list[tuple[GlyphSampler, float]] = []  # extra samplers and their batch shares
    if opts.init:
        new_ids = classes_missing_from(charset, card.labels or [])
        if new_ids and opts.new_class_share > 0:
            parts.append((GlyphSampler(charset, faces, options=RenderOptions(),
                                       size=opts.input_size, classes=new_ids),
                          opts.new_class_share))
        if state is None:
            init_from(net, charset, opts.init)
    if opts.frequent_share > 0:
        parts.append((GlyphSampler(charset, faces, options=RenderOptions(),
                                   size=opts.input_size, classes=sampler.classes.tolist(),
                                   weights=text_weights(charset)[sampler.classes]),
                      opts.frequent_share))
    samplers = [sampler, *(p for p, _ in parts)]
    sizes = batch_split(opts.batch_size, [share for _, share in parts])
    if parts:  # each sampler's class distribution, with the part of the batch it draws
        shift = sampling_log_ratio(len(charset), [
            (class_probs(len(charset), s.classes, s.probs), n)
            for s, n in zip(samplers, sizes, strict=True)])
    optim = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    saved_options = opts.model_dump(exclude={"device", "workers", "threads"})

    def exported(path: Path, scores: Mapping[str, Any]) -> None:
        run_minutes = loop.seconds / 60
        trained = {"trained_steps": loop.step, "trained_samples": loop.step * opts.batch_size,
                   "trained_minutes": round(run_minutes, 1), "eval_seed": EVAL_SEED,
                   "eval_samples": len(y_eval),
                   "total_minutes": round(parent_minutes + run_minutes, 1)}
        export(net, charset, opts, path, held_out_card(scores), trained, shift)

    def validate() -> dict[str, Any]:
        scores = accuracy(net, x_eval, y_eval, opts.device, bias_shift=shift) if len(
            y_eval) else {}
        exported(out / "model.safetensors", scores)
        return {"step": loop.step, **scores} if scores else {}

    loop = training.Loop(
        out, net, optim, threads=opts.threads, steps=opts.steps, seed=opts.seed,
        checkpoint_minutes=opts.checkpoint_minutes, validate=validate,
        validate_at_checkpoints=True, metric="top1",
        on_best=lambda scores: exported(out / "best.safetensors", scores),
        extra_state=lambda: {"options": saved_options}, desc="train ocr",
    )
    if state is not None:
        loop.resume(state)
    x_eval, y_eval = (held_out_set(sampler, opts.eval_samples) if opts.eval_samples
                      else (np.zeros((0, 1, opts.input_size, opts.input_size), np.float32),
                            np.zeros(0, np.int64)))
    loader = torch.utils.data.DataLoader(
        _Batches(list(zip(samplers, sizes, strict=True)), opts.seed, loop.step),
        batch_size=None,
        num_workers=opts.workers, persistent_workers=False,
        prefetch_factor=4 if opts.workers else None,
        generator=torch.Generator().manual_seed(opts.seed),  # not torch's global generator
    )
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=opts.label_smoothing)
    shown = RunningLoss(LOSS_SHOWN_EVERY)

    def batches() -> Iterator[tuple[float, Any]]:
        for batch in loader:
            fraction = run_fraction(loop, opts.steps, opts.minutes)
            if fraction >= 1.0:
                return
            yield fraction, batch

    def step(item: tuple[float, Any]) -> dict[str, str] | None:
        fraction, (xb, yb) = item
        for group in optim.param_groups:
            group["lr"] = opts.lr * one_cycle(fraction, opts.warmup)
        xb = torch.as_tensor(xb).to(device, non_blocking=True)
        yb = torch.as_tensor(yb).to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = loss_fn(net(xb).float(), yb)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        return shown.show(loop.step + 1, loss)

    loop.run(batches(), step, stop_at=stop_at, max_minutes=max_minutes, progress=progress)
    return held_out_scores(loop)


def ship(run_dir: str | os.PathLike[str], weights: str | os.PathLike[str], *,
         name: str = "gb2312-cnn", scores: dict[str, float] | None = None,
         which: str = "best", facts: dict[str, Any] | None = None) -> Path:
    """Copy a run's `best` (or `model`) export to `weights` under `name`, adding `scores`
    (e.g. from `evaluate_classifier`) to its card and `facts` about the run (e.g. its total
    training time) to the card's hyperparameters."""
    from jiema.models import find_model_files, load_tensors, save_model

    src, card = find_model_files(Path(run_dir) / f"{which}.json")
    card = card.model_copy(update={"name": name, "files": [],
                                   "scores": {**card.scores, **(scores or {})},
                                   "hyperparameters": {**card.hyperparameters,
                                                       **(facts or {})}})
    out = Path(weights)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(load_tensors(src), card, out)
    return out
