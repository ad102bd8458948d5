"""Training the line recogniser (CTC) on lines rendered on the fly, starting from the char CNN.

Text comes from a segmented corpus (People's Daily by default: never the PKU test text the
benchmark reads); every 20th corpus line is held out for the evaluation lines, rendered from
their own seed. Lines are drawn in the Debian CJK fonts at 24-48 px with noise, blur, gradients
and both polarities (`jiema_ocr.synth.render_line`). A run folder holds `last.safetensors` +
`last.json` (the resumable checkpoint), `model.*` (latest export, fp16) and `best.*` (lowest
held-out CER so far), like the char CNN's. Batch `s` is drawn from the seed `(seed, s)`, so a
resumed run trains bit for bit as the unbroken one (same `threads`, a `steps` budget).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from ..cer import cer
from ..charset import Charset, default_charset
from ..line_ctc import FRAME, LineRecognizer, normalize_line
from ..synth_text import PLAIN_SHARE, half_width

EVAL_SEED = 20261123
HELD_OUT_EVERY = 20  # corpus line k is held out when k % 20 == 0
LOSS_SHOWN_EVERY = 10  # steps between loss read-outs on the bar (each is a host sync)
GRAD_CLIP = 5.0  # gradient norm cap: one bad batch cannot throw the weights far


WordSource = Literal["modern", "jieba"]
# what the card calls the fonts `LineSampler` draws plain lines in (`synth.find_fonts`)
PLAIN_FONTS = ("the Debian fonts WenQuanYi Micro Hei, WenQuanYi Zen Hei, AR PL UMing CN, "
               "AR PL UKai CN")


class LineTrainOptions(BaseModel):
    """Options of the line recogniser's training run."""

    model_config = ConfigDict(extra="forbid")

    corpus: list[str] = Field(min_length=1, description="segmented corpus files (text source)")
    init: str | None = Field("gb2312-cnn", description="char CNN, or a line recogniser to "
                             "fine-tune (name or card), to start from; None trains from random "
                             "weights")
    steps: int = Field(4000, ge=1)
    minutes: float | None = Field(None, gt=0)
    warmup: float = Field(0.03, ge=0, lt=1)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(5e-4, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    min_chars: int = Field(2, ge=1)
    max_chars: int = Field(14, ge=1)
    seed: int = 0
    threads: int = Field(1, ge=1)
    workers: int = Field(0, ge=0, description="line-rendering processes (0: in-process); the "
                         "batches are the same for any number")
    device: str = "cpu"
    checkpoint_minutes: float = Field(5.0, gt=0)
    eval_lines: int = Field(200, ge=0)
    max_lines: int | None = Field(None, ge=1, description="read only this many corpus lines")
    ascii_share: float = Field(0.5, ge=0, le=1, description="part of the lines whose full-width "
                               "digits, letters and signs (as the People's Daily prints them) "
                               "are drawn half-width, as most other text prints them")
    data: Literal["synth", "plain"] = Field(
        "synth", description="synth: lines like users' images (jiema_ocr.synth_lines: screen "
        "text, buttons, photos, pictures, titles; all training fonts; modern text mixed in); "
        "plain: the first recipe's 24-48 px lines in the four Debian fonts")
    plain_share: float = Field(PLAIN_SHARE, ge=0, le=1, description="with synth data: part "
                               "of the lines drawn as plain lines, so fine-tuning keeps them")
    words: list[WordSource] = Field(
        default_factory=lambda: list[WordSource](["modern"]),
        description="with synth data: word lists mixed into the corpus text (jieba needs the "
        "jieba package)")
    name: str = "line-ctc"


# ------------------------------------------------------------------ data


def split_texts(lines: Sequence[str], every: int = HELD_OUT_EVERY) -> tuple[list[str], list[str]]:
    """(training, held-out) corpus lines: every `every`-th line is held out."""
    train = [ln for k, ln in enumerate(lines) if k % every]
    held = [ln for k, ln in enumerate(lines) if not k % every]
    return train, held


def text_chunk(lines: Sequence[str], rng: np.random.Generator, charset: Charset,
               lo: int, hi: int) -> str:
    """A random stretch of `lo`..`hi` characters of one line, all in the charset."""
    for _ in range(100):
        line = lines[int(rng.integers(len(lines)))]
        size = int(rng.integers(lo, hi + 1))
        start = int(rng.integers(0, max(1, len(line) - size + 1)))
        chunk = "".join(ch for ch in line[start: start + size] if not ch.isspace())
        if len(chunk) >= lo and (charset.encode(chunk) >= 0).all():
            return chunk
    raise ValueError("no usable text in the corpus lines (characters outside the charset?)")


class LineSampler:
    """Random `(ink maps, texts)` of rendered lines."""

    def __init__(self, texts: Sequence[str], charset: Charset, lo: int = 2, hi: int = 14,
                 height: int = 40, ascii_share: float = 0.0) -> None:
        from ..synth import find_fonts

        self.texts, self.charset, self.lo, self.hi, self.height = texts, charset, lo, hi, height
        self.ascii_share = ascii_share
        self.fonts = find_fonts()
        if not self.fonts:
            raise FileNotFoundError("no Debian CJK font installed (fonts-wqy-microhei, "
                                    "fonts-wqy-zenhei, fonts-arphic-uming, fonts-arphic-ukai)")

    def one(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        from ..synth import font_covers, render_line

        while True:
            text = text_chunk(self.texts, rng, self.charset, self.lo, self.hi)
            fonts = [f for f in self.fonts if font_covers(f, text)]
            if fonts:
                break
        font = fonts[int(rng.integers(len(fonts)))]
        dark = bool(rng.integers(2))
        drawn = half_width(text) if rng.random() < self.ascii_share else text
        img = render_line(drawn, font, int(rng.integers(24, 49)), dark_text=dark,
                          noise=float(rng.choice([0.0, 4.0, 8.0, 12.0])),
                          blur=float(rng.choice([0.0, 0.5, 1.0])),
                          gradient=bool(rng.random() < 0.3), seed=rng).image
        gray = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return normalize_line(gray, self.height, "dark" if dark else "light"), text

    def batch(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
        items = [self.one(rng) for _ in range(n)]
        return pad_batch([x for x, _ in items], self.height), [t for _, t in items]


class SynthLineSampler(LineSampler):
    """Random `(ink maps, texts)` of lines like users' images (`jiema_ocr.synth_lines`), in
    every training font (`jiema_ocr.synth_fonts`), text from `jiema_ocr.synth_text`."""

    def __init__(self, texts: Sequence[str], charset: Charset, lo: int = 2, hi: int = 14,
                 height: int = 40, words: Sequence[str] = ("modern",),
                 plain_share: float = 0.0, ascii_share: float = 0.0) -> None:
        from ..synth_fonts import training_fonts
        from ..synth_text import TextMaker

        self.charset, self.height, self.plain_share = charset, height, plain_share
        self.plain = (LineSampler(texts, charset, lo, hi, height, ascii_share)
                      if plain_share > 0 else None)
        self.maker = TextMaker(texts, charset, words, lo, hi)
        self.fonts = training_fonts()
        if not self.fonts:
            raise FileNotFoundError("no training font installed (fonts-noto-cjk, "
                                    "fonts-noto-cjk-extra, fonts-wqy-microhei, ...)")

    def one(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        from ..synth_lines import draw_line

        if self.plain is not None and rng.random() < self.plain_share:
            return self.plain.one(rng)
        item = draw_line(self.maker, self.fonts, rng)
        return (normalize_line(item.gray, self.height, "dark" if item.dark_text else "light"),
                item.label)


class LineBatches(torch.utils.data.IterableDataset):  # type: ignore[type-arg]
    """Endless batches from step `start` on; batch `s` is drawn from the seed `(seed, s)` alone,
    so with W workers (worker w makes start + w, start + w + W, ..., the loader takes them in
    turn) the stream is the same for any number of workers and any resume point."""

    def __init__(self, sampler: LineSampler, size: int, seed: int, start: int = 0) -> None:
        self.sampler, self.size, self.seed, self.start = sampler, size, seed, start

    def __iter__(self) -> Iterator[tuple[np.ndarray, list[str]]]:
        import itertools

        info = torch.utils.data.get_worker_info()
        wid, every = (info.id, info.num_workers) if info is not None else (0, 1)
        for step in itertools.count(self.start + wid, every):
            yield self.sampler.batch(self.size, np.random.default_rng([self.seed, step]))


def make_sampler(opts: LineTrainOptions, texts: Sequence[str], charset: Charset) -> LineSampler:
    """The sampler `opts.data` names."""
    if opts.data == "synth":
        return SynthLineSampler(texts, charset, opts.min_chars, opts.max_chars,
                                words=opts.words, plain_share=opts.plain_share,
                                ascii_share=opts.ascii_share)
    return LineSampler(texts, charset, opts.min_chars, opts.max_chars,
                       ascii_share=opts.ascii_share)


def data_card(opts: LineTrainOptions, sampler: LineSampler) -> dict[str, Any]:
    """What the card says about the training data and its licences, and the font packages."""
    if not isinstance(sampler, SynthLineSampler):
        from ..synth import FONT_PACKAGES

        return {"training_data": f"lines of the --corpus text rendered in {PLAIN_FONTS}",
                "licence": "", "debian": FONT_PACKAGES}
    from ..synth_fonts import card_text, packages
    from ..synth_text import TEXT_SOURCES

    sources = [s for s in TEXT_SOURCES if "jieba" not in s[0] or "jieba" in opts.words]
    text = "; ".join(f"{name} ({licence})" for name, licence in sources)
    plain = ("" if sampler.plain is None else
             f"; {sampler.plain_share:.0%} of the lines plain 24-48 px renders in {PLAIN_FONTS}")
    return {"training_data": f"lines rendered on the fly by jiema_ocr.synth_lines in the fonts "
                             f"{card_text(sampler.fonts)}{plain}; text: {text}",
            "licence": "fonts: " + card_text(sampler.fonts) + "; text: " + ", ".join(
                sorted({lic for _, lic in sources})),
            "debian": packages(sampler.fonts)}


def pad_batch(maps: Sequence[np.ndarray], height: int) -> np.ndarray:
    """`(B, 1, height, max width)` zero-padded (zero = no ink)."""
    width = max(x.shape[1] for x in maps)
    out = np.zeros((len(maps), 1, height, width), dtype=np.float32)
    for i, x in enumerate(maps):
        out[i, 0, :, : x.shape[1]] = x
    return out


# ---------------------------------------------------------------- scoring


def greedy_texts(logits: torch.Tensor, frames: Sequence[int], labels: Sequence[str]) -> list[str]:
    """Best-path CTC read-out: frame argmax, repeats merged, blanks dropped."""
    best = logits.argmax(dim=2).cpu().numpy()
    out = []
    for row, n in zip(best, frames, strict=True):
        row = row[:n]
        keep = (row != 0) & np.concatenate([[True], row[1:] != row[:-1]])
        out.append("".join(labels[int(i) - 1] for i in row[keep]))
    return out


# ---------------------------------------------------------------- training


def _initial_net(opts: LineTrainOptions, charset: Charset) -> Any:
    from .ctc_net import CharNetCTC

    if opts.init is None:
        return CharNetCTC(len(charset), width=32, hidden=192)
    from ..classifier import load_trained
    from ..line_ctc import COMPONENT as LINE_COMPONENT
    from .train import _init_card

    if _init_card(opts.init).component == LINE_COMPONENT:
        # a line recogniser goes on training as it is (fine-tuning on other data)
        rec = LineRecognizer.load(opts.init, for_cpu=False)
        if rec.arch != "charnet_ctc" or list(rec.charset.labels) != list(charset.labels):
            raise ValueError(f"{opts.init}: not a charnet_ctc line recogniser over the default "
                             "charset")
        return rec.net

    # the train-time layers: `CharClassifier.load` prepares the net for reading (folded batch
    # norms, int8 linears), whose weights `from_charnet` cannot copy
    net, init_charset, _ = load_trained(opts.init)
    if list(init_charset.labels) != list(charset.labels):
        raise ValueError(f"{opts.init}: its charset is not the default one")
    return CharNetCTC.from_charnet(net)


def train_lines(out_dir: str | os.PathLike[str], opts: LineTrainOptions, *, resume: bool = False,
                progress: bool = True, max_minutes: float | None = None,
                stop_at: int | None = None) -> dict[str, float]:
    """Train (or with `resume`, continue) a line-recogniser run in `out_dir`; returns the last
    held-out scores (`cer`, greedy read-out, no LM). `max_minutes` or `stop_at` (steps in all)
    stop early after a checkpoint, leaving a resumable run."""
    from jiema import checkpoints, training

    from ..language_model import corpus_lines
    from .train import (
        RunningLoss,
        _init_card,
        held_out_card,
        held_out_scores,
        one_cycle,
        read_checkpoint,
        run_fraction,
    )

    out = Path(out_dir)
    device = torch.device(opts.device)
    state: dict[str, Any] | None = None
    if resume:
        state = read_checkpoint(out)
        # the saved options win, but a budget given explicitly (`steps`, `minutes`) extends the
        # run: its learning-rate schedule stretches over the new budget
        budget = {k: getattr(opts, k) for k in ("steps", "minutes") if k in opts.model_fields_set}
        # a run saved before `data` existed trained on the plain lines, and one saved before
        # `plain_share` on synth lines alone: each goes on as it was
        opts = LineTrainOptions.model_validate({"data": "plain", "plain_share": 0.0,
                                                **state["options"], **budget,
                                                "device": opts.device, "threads": opts.threads,
                                                "workers": opts.workers})
    out.mkdir(parents=True, exist_ok=True)
    checkpoints.hold_threads(opts.threads)
    torch.manual_seed(opts.seed)
    charset = default_charset()
    texts = []
    for k, line in enumerate(corpus_lines(opts.corpus)):
        if opts.max_lines is not None and k >= opts.max_lines:
            break
        texts.append(line)
    if not texts:
        from jiema.errors import InvalidValueError

        raise InvalidValueError(f"the --corpus file(s) {', '.join(opts.corpus)} hold no text "
                                "line: the training lines are drawn from their text")
    train_texts, held_texts = split_texts(texts)
    sampler = make_sampler(opts, train_texts, charset)
    held = make_sampler(opts, held_texts or train_texts, charset)
    card_data = data_card(opts, sampler)
    eval_rng = np.random.default_rng(EVAL_SEED)
    eval_items = [held.one(eval_rng) for _ in range(opts.eval_lines)]

    # a resumed run builds the network as the run did (the init model's shape), then loads
    net = _initial_net(opts, charset).to(device)
    init_rebuild = [_init_card(opts.init).rebuild] if opts.init else []
    optim = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    rec = LineRecognizer(net, charset, arch="charnet_ctc", height=sampler.height)
    saved_options = opts.model_dump(exclude={"device", "threads", "workers"})

    def evaluate() -> dict[str, float]:
        if not eval_items:
            return {}
        net.eval()
        hyps: list[str] = []
        with torch.inference_mode():
            for s in range(0, len(eval_items), 32):
                chunk = eval_items[s: s + 32]
                x = torch.from_numpy(pad_batch([x for x, _ in chunk], sampler.height))
                frames = [x.shape[1] // FRAME for x, _ in chunk]
                hyps += greedy_texts(net(x.to(device)).float(), frames, charset.labels)
        net.train()
        return {"cer": cer([t for _, t in eval_items], hyps)}

    def exported(path: Path, scores: Mapping[str, Any]) -> None:
        trained = {"trained_steps": loop.step, "trained_lines": loop.step * opts.batch_size,
                   "trained_minutes": round(loop.seconds / 60, 1), "eval_seed": EVAL_SEED,
                   "eval_lines": len(eval_items)}
        rec.save(path, name=opts.name, training={**saved_options, **trained},
                 scores=held_out_card(scores), earlier=init_rebuild, **card_data)

    def validate() -> dict[str, Any]:
        scores = evaluate()
        exported(out / "model.safetensors", scores)
        return {"step": loop.step, **scores} if scores else {}

    loop = training.Loop(
        out, net, optim, threads=opts.threads, steps=opts.steps, seed=opts.seed,
        checkpoint_minutes=opts.checkpoint_minutes, validate=validate,
        validate_at_checkpoints=True, metric="cer", lower_is_better=True,
        on_best=lambda scores: exported(out / "best.safetensors", scores),
        extra_state=lambda: {"options": saved_options}, desc="train ocr-line",
    )
    if state is not None:
        loop.resume(state)
        if run_fraction(loop, opts.steps, opts.minutes) >= 1.0:  # a resume with no new budget
            used = [f"step {loop.step} of --steps {opts.steps}"] + (
                [f"{loop.elapsed() / 60:.1f} of --minutes {opts.minutes:g}"]
                if opts.minutes is not None else [])
            loop.say(f"--resume: the run in {out} has spent its budget ({', '.join(used)}); it "
                     "ends at once. Give --steps or --minutes to train on.")
    shown = RunningLoss(LOSS_SHOWN_EVERY)

    loader = torch.utils.data.DataLoader(
        LineBatches(sampler, opts.batch_size, opts.seed, loop.step), batch_size=None,
        num_workers=opts.workers, prefetch_factor=4 if opts.workers else None,
        generator=torch.Generator().manual_seed(opts.seed))  # not torch's global generator

    def batches() -> Iterator[tuple[float, tuple[np.ndarray, list[str]]]]:
        for batch in loader:
            fraction = run_fraction(loop, opts.steps, opts.minutes)
            if fraction >= 1.0:
                return
            yield fraction, batch

    def step(item: tuple[float, tuple[np.ndarray, list[str]]]) -> dict[str, str] | None:
        fraction, (x_np, batch_texts) = item
        for group in optim.param_groups:
            group["lr"] = opts.lr * one_cycle(fraction, opts.warmup)
        x = torch.as_tensor(x_np).to(device)  # the loader hands tensors
        ids = [charset.encode(t) + 1 for t in batch_texts]
        targets = torch.from_numpy(np.concatenate(ids)).to(device)
        lengths = torch.tensor([len(i) for i in ids], dtype=torch.long)
        frames = torch.full((len(ids),), x.shape[3] // FRAME, dtype=torch.long)
        logp = torch.log_softmax(net(x).float(), dim=2).transpose(0, 1)  # (T, B, K + 1)
        loss = ctc(logp, targets, frames, lengths)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP)
        optim.step()
        return shown.show(loop.step + 1, loss)

    loop.run(batches(), step, stop_at=stop_at, max_minutes=max_minutes, progress=progress)
    return held_out_scores(loop)
