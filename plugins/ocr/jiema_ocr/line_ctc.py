"""A second emission model: whole-line recognition (conv features -> CTC), no glyph cutting.

Its per-frame posteriors are decoded by the core's CTC lattice with the same character LM
(`ctc_decode.decode_frames`): the LM scores consecutive emitted characters, and each
character's frames give its glyph box.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from jiema.errors import ModelFileError, ShapeError

from .charset import Charset, default_charset
from .ctc_decode import CTC_LM_WEIGHT, decode_frames
from .glyphs import (
    INK_LEVEL_PERCENTILE,
    INK_MARGIN_PX,
    INK_THRESHOLD,
    INPUT_SIZE,
    MIN_INK_CONTRAST,
    FontFace,
    Polarity,
    _otsu,
    _pil_font,
)
from .language_model import CharLM
from .text_rules import is_hanzi

COMPONENT = "ocr.line_ctc.v1"
LINE_HEIGHT = 32
FRAME = 4  # input pixels per output frame
# `render_line`'s training lines, chosen by hand: a light ground, dark ink, a margin of a
# quarter of the font size (the noise and the recogniser's normalisation do the rest)
RENDER_GROUND, RENDER_INK = 235, 30  # gray levels
RENDER_PAD_PER_SIZE = 4  # margin = font size // this


def normalize_line(img: np.ndarray, height: int = LINE_HEIGHT,
                   polarity: Polarity = "dark") -> np.ndarray:
    """A text-line crop as a `(height, W)` float32 ink map: ink rows cropped, scaled to `height`
    (aspect kept), padded on the right to a multiple of the frame width."""
    from PIL import Image

    g = np.asarray(img, dtype=np.float32)
    if g.ndim == 3:
        g = g[..., :3].mean(axis=2)
    if g.ndim != 2:
        raise ShapeError(f"a line image must be 2-D gray or H x W x C, got shape {g.shape}")
    if g.size == 0 or float(g.max() - g.min()) < MIN_INK_CONTRAST:
        return np.zeros((height, FRAME), dtype=np.float32)
    dark = g <= _otsu(g)
    ink_dark = bool(dark.mean() <= 0.5) if polarity == "auto" else polarity == "dark"
    if ink_dark:
        bg = float(np.median(g[~dark])) if (~dark).any() else float(g.max())
        ink = (bg - g) / max(bg - float(np.percentile(g, INK_LEVEL_PERCENTILE)), 1e-6)
    else:
        bg = float(np.median(g[dark])) if dark.any() else float(g.min())
        ink = (g - bg) / max(float(np.percentile(g, 100 - INK_LEVEL_PERCENTILE)) - bg, 1e-6)
    ink = np.clip(ink, 0.0, 1.0)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    if rows.size:
        ink = ink[rows.min(): rows.max() + 1]
    inner = height - INK_MARGIN_PX
    w = max(1, round(ink.shape[1] * inner / ink.shape[0]))
    scaled = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(
        (w, inner), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    width = -(-(w + INK_MARGIN_PX) // FRAME) * FRAME
    out = np.zeros((height, width), dtype=np.float32)
    out[2: 2 + inner, 2: 2 + w] = scaled
    return out


def render_line(text: str, face: FontFace, rng: np.random.Generator, size: int = 28,
                noise: float = 8.0) -> np.ndarray:
    """`text` drawn dark on light (uint8), with a small margin and some noise: training lines."""
    from PIL import Image, ImageDraw

    font = _pil_font(face.path, face.index, size)
    left, top, right, bottom = font.getbbox(text)
    pad = size // RENDER_PAD_PER_SIZE
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), RENDER_GROUND)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=RENDER_INK, font=font)
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0, noise, (img.height, img.width))
    return np.clip(arr, 0, 255).astype(np.uint8)


ARCHS = ("line_ctc", "charnet_ctc")  # LineCTCNet (small, from scratch) / CharNetCTC (char CNN)


class LineRecognizer:
    """A trained line network with its charset: frame posteriors, candidates, decoded text.

    `arch` "line_ctc" is the small `LineCTCNet` (32-px lines, trained from scratch);
    "charnet_ctc" is `CharNetCTC`, the char CNN run along 40-px lines and fine-tuned with CTC
    (`jiema_ocr.cnn.line_train`)."""

    def __init__(self, net: Any, charset: Charset, arch: str = "line_ctc",
                 height: int = LINE_HEIGHT) -> None:
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        self.net = net.eval()
        self.charset = charset
        self.arch = arch
        self.height = height

    @classmethod
    def create(cls, charset: Charset | None = None, width: int = 32,
               hidden: int = 128, seed: int = 0, arch: str = "line_ctc",
               height: int | None = None) -> LineRecognizer:
        """An untrained recogniser (for training), its weights drawn from `seed`."""
        import torch

        torch.manual_seed(seed)
        cs = charset or default_charset()
        if arch == "charnet_ctc":
            from .cnn.ctc_net import CharNetCTC

            h = height or INPUT_SIZE  # the char CNN's input side (its conv stages start it)
            return cls(CharNetCTC(len(cs), input_size=h, width=width, hidden=hidden), cs,
                       arch, h)
        from .cnn.ctc_net import LineCTCNet

        return cls(LineCTCNet(len(cs), width=width, hidden=hidden), cs, arch,
                   height or LINE_HEIGHT)

    def log_probs(self, line: np.ndarray, polarity: Polarity = "dark") -> np.ndarray:
        """`(T, K + 1)` float32 frame log-posteriors of one line image."""
        import torch

        x = torch.from_numpy(normalize_line(line, self.height, polarity))[None, None]
        self.net.eval()
        with torch.inference_mode():
            return torch.log_softmax(self.net(x)[0].float(), dim=1).numpy()

    def read(self, line: np.ndarray, lm: CharLM | None = None,
             lm_weight: float = CTC_LM_WEIGHT,
             k: int = 5, polarity: Polarity = "dark") -> tuple[str, list[float]]:
        """Text and per-character confidences of one line (LM decoding when `lm` is given)."""
        reading = decode_frames(self.log_probs(line, polarity), self.charset.labels, lm,
                                lm_weight, k)
        return reading.text, reading.confidences

    def fit(self, lines: Sequence[np.ndarray], texts: Sequence[str], steps: int = 200,
            lr: float = 3e-3, seed: int = 0) -> float:
        """Train on (line image, text) pairs with CTC loss (full batch); returns the last loss.
        Enough for tests and small sets; long runs: `jiema_ocr.cnn.line_train`."""
        import torch

        torch.manual_seed(seed)
        xs = [normalize_line(im, self.height) for im in lines]
        width = max(x.shape[1] for x in xs)
        batch = np.zeros((len(xs), 1, self.height, width), dtype=np.float32)
        for i, x in enumerate(xs):
            batch[i, 0, :, : x.shape[1]] = x
        frames = torch.tensor([x.shape[1] // FRAME for x in xs], dtype=torch.long)
        ids = [self.charset.encode(t) for t in texts]
        if any((i < 0).any() for i in ids):
            raise ValueError("a training text has characters outside the charset")
        targets = torch.from_numpy(np.concatenate(ids) + 1)
        lengths = torch.tensor([len(i) for i in ids], dtype=torch.long)
        inputs = torch.from_numpy(batch)
        ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
        optim = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.net.train()
        loss = torch.zeros(())
        for _ in range(steps):
            logp = torch.log_softmax(self.net(inputs), dim=2).transpose(0, 1)  # (T, B, K)
            loss = ctc(logp, targets, frames, lengths)
            optim.zero_grad()
            loss.backward()
            optim.step()
        self.net.eval()
        return float(loss.detach())

    def _sizes(self) -> tuple[int, int]:
        net = self.net
        if self.arch == "charnet_ctc":
            return 2 * int(net.features[0].out_channels), int(net.head.in_channels)
        return int(net.features[0].out_channels), int(net.head.in_channels)

    def save(self, path: str | os.PathLike[str], name: str = "line-ctc",
             training: dict[str, Any] | None = None,
             scores: dict[str, float] | None = None,
             earlier: Sequence[Sequence[str]] = (), training_data: str = "",
             licence: str = "", debian: Sequence[str] | None = None) -> Path:
        """fp16 safetensors + card (`training`: hyperparameters and run facts for the card;
        `earlier`: the rebuild lines of the model it started from; `training_data`, `licence`
        and `debian` (font packages, default the four Debian fonts'): the data it saw)."""
        from jiema.models import ModelCard, provenance, save_model

        from .synth import FONT_PACKAGES

        tensors = {k: v.detach().cpu().to(dtype=_half(v)).numpy()
                   for k, v in self.net.state_dict().items()
                   if not k.endswith("num_batches_tracked")}
        width, hidden = self._sizes()
        card = ModelCard(name=name, component=COMPONENT, task="ocr",
                         description="Line recogniser: conv features -> CTC over blank + "
                                     f"charset ({self.arch}).",
                         vocabulary_size=len(self.charset), labels=list(self.charset.labels),
                         hyperparameters={**(training or {}), "arch": self.arch,
                                          "width": width, "hidden": hidden,
                                          "line_height": self.height, "frame": FRAME},
                         scores=scores or {}, training_data=training_data, licence=licence,
                         **provenance(earlier=earlier,
                                      debian=FONT_PACKAGES if debian is None else debian))
        weights, _ = save_model(tensors, card, Path(path))
        return weights

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, for_cpu: bool = True) -> LineRecognizer:
        """A stored recogniser. `for_cpu`: its net prepared for CPU reading by
        `jiema.nn.for_cpu_inference` (batch norms folded, strided pools, channels-last: about
        40% less time per line, posteriors equal up to float rounding) and its conv features
        in bfloat16 where the CPU does that natively (`jiema.nn.in_bfloat16`). The head over
        the charset is one matrix product (`jiema.nn.PointwiseAsMatmul`), in bfloat16 too: on
        the news screenshot's 6,921 frames 174 -> 104 ms (the log-softmax after it unchanged);
        dev renders (seeds 103 and 211, 60 images a set) read the same but for pages
        437 -> 438 and 390 -> 389 errors. Where bfloat16 is not native the head runs in int8
        (`jiema.nn.PointwiseAsLinear`, `quantize_linears`): on a 2-core AMD EPYC with AVX2
        only, the whole news screenshot 2.36 -> 2.19 s (mean of three, one thread); dev
        renders (held-out seeds 1201 / 1303, 60 images a set, with `ocr_real_dev`) 161 -> 162
        errors, `ocr_real_dev` 14 -> 13. False keeps the train-time layers (to fine-tune or
        save it again)."""
        import torch
        from jiema.models import find_model_files, load_tensors

        from .classifier import resolve_model_path

        weights, card = find_model_files(resolve_model_path(path))
        if card.component != COMPONENT or not card.labels:
            raise ModelFileError(f"{weights} is a {card.component!r} model, not {COMPONENT!r}")
        hp = card.hyperparameters
        arch = str(hp.get("arch", "line_ctc"))
        if arch not in ARCHS:
            raise ModelFileError(f"{weights}: unknown line-recogniser arch {arch!r}")
        rec = cls.create(Charset(card.labels), width=int(hp["width"]), hidden=int(hp["hidden"]),
                         arch=arch, height=int(hp.get("line_height", LINE_HEIGHT)))
        state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in
                 load_tensors(weights).items()}
        missing, unexpected = rec.net.load_state_dict(state, strict=False)
        if [m for m in missing if not m.endswith("num_batches_tracked")] or unexpected:
            raise ModelFileError(f"{weights} does not fit the line recogniser")
        rec.net.eval()
        if for_cpu:
            from jiema.nn import (
                PointwiseAsLinear,
                PointwiseAsMatmul,
                for_cpu_inference,
                in_bfloat16,
                native_bfloat16,
                quantize_linears,
            )

            rec.net = for_cpu_inference(rec.net)
            rec.net.features = in_bfloat16(rec.net.features)
            if arch == "charnet_ctc":
                rec.net.hidden = in_bfloat16(rec.net.hidden)
                rec.net.head = (in_bfloat16(PointwiseAsMatmul(rec.net.head)) if native_bfloat16()
                                else quantize_linears(PointwiseAsLinear(rec.net.head)))
        return rec


def _half(v: Any) -> Any:
    import torch

    return torch.float16 if v.is_floating_point() else v.dtype


class LineCTCReader:
    """Reads images like `pipeline.OcrReader`, but each text line the image stages find goes
    whole to the line recogniser (no glyph cutting); its positions' candidates go to the same
    line decoder (`pipeline.LMDecoder`: the character LM; None: best candidate). Glyph boxes
    come from the frames of each position."""

    def __init__(self, recognizer: LineRecognizer, decoder: Any = None, options: Any = None,
                 k: int = 5, stages: Any = None) -> None:
        from .analysis import Stages
        from .options import OcrOptions

        self.recognizer = recognizer
        self.decoder = decoder
        self.options = options or OcrOptions()
        self.stages = stages or Stages.from_options(self.options)
        self.k = k

    def __call__(self, source: Any) -> Any:
        return self.read(source)

    def read(self, source: Any) -> Any:
        """An `OcrResult` for one image (path, bytes, PIL image or array)."""
        from .analysis import analyse

        timings: dict[str, float] = {}
        return self.read_analysis(analyse(source, self.options, timings, self.stages), timings)

    def read_analysis(self, analysis: Any, timings: dict[str, float] | None = None) -> Any:
        import time

        from .results import OcrResult, copies_to_read, surest

        timings = {} if timings is None else timings
        t0 = time.perf_counter()

        lines = [r for r in (surest(self.read_line(analysis, c) for c in copies_to_read(ln))
                             for ln in analysis.lines) if r is not None]
        timings["recognise"] = timings.get("recognise", 0.0) + time.perf_counter() - t0
        return analysis.in_input(OcrResult(lines, timings))

    def _lm(self) -> tuple[CharLM | None, float]:
        """The decoder's LM and weight (an `LMDecoder`; a decoder with no `lm`, such as
        `ocr.no_lm.v1`'s, or None: no LM). The frames are decoded here, with the LM alone."""
        lm = getattr(self.decoder, "lm", None)
        if lm is None:
            return None, 0.0
        weight = getattr(self.decoder, "requested_weight", None)
        return lm, CTC_LM_WEIGHT if weight is None else float(weight)

    def read_line(self, analysis: Any, line: Any) -> Any:
        """A `LineResult` (None when the line does not look like text)."""
        from .crops import glyph_crop
        from .results import GlyphResult, LineResult

        h, w = line.mask.shape
        crop = glyph_crop(analysis.gray, line, (0, 0, w, h), 0)  # dark on light
        lp = self.recognizer.log_probs(crop, "dark")
        reading = decode_frames(lp, self.recognizer.charset.labels, *self._lm(), self.k)
        if not reading.text:
            return None
        if float(np.mean(reading.confidences)) < self.options.min_line_confidence:
            return None
        text, confs, spans, cands = (reading.text, reading.confidences, reading.spans,
                                     reading.candidates)
        rows = np.flatnonzero((crop < 128).any(axis=1))
        top, bottom = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, h)
        # normalize_line's scale
        f = (self.recognizer.height - INK_MARGIN_PX) / max(bottom - top, 1)
        s = analysis.scale
        lx, ly = line.box[0], line.box[1]
        glyphs = []
        for (t0, t1), ch, p, cand in zip(spans, text, confs, cands, strict=True):
            # clamped into the crop: the frames' scale comes from the ink rows, which
            # `normalize_line` finds by its own threshold, so the last frames can overshoot
            x0 = min(max(0, int((FRAME * t0 - 2) / f)), w - 1)
            x1 = max(x0 + 1, min(w, int(math.ceil((FRAME * (t1 + 1) - 2) / f))))
            box = ((lx + x0) // s, (ly + top) // s, -(-(lx + x1) // s), -(-(ly + bottom) // s))
            glyphs.append(GlyphResult(box, ch, float(p), [(c, float(q)) for c, q in cand]))
        glyphs = hanzi_an_em_apart(runs_as_wide_as_their_ink(glyphs), *self._lm())
        box = (line.box[0] // s, line.box[1] // s, -(-line.box[2] // s), -(-line.box[3] // s))
        return LineResult(box, "".join(g.char for g in glyphs),
                          float(np.mean([g.confidence for g in glyphs])), glyphs)


#: The least distance between the centres of two hanzi read one after the other, x the line's
#: ink height: hanzi are set an em apart (0.84-1.18 em on the dev renders); the recogniser read
#: 整合 as 整台合 and 深度融合 as 深度良融合 on the news screenshot, the made-up glyph's centre 0.1
#: em from its neighbour's.
HANZI_MIN_ADVANCE = 0.45


def hanzi_an_em_apart(glyphs: list[Any], lm: CharLM | None = None, weight: float = 0.0
                      ) -> list[Any]:
    """The glyphs with one of two hanzi read closer than `HANZI_MIN_ADVANCE`: two readings of
    one glyph (the CTC head emits 台 and then 合 over the frames of 合). The one kept is the
    surer, or with an `lm`, the one whose log confidence plus `weight` times the LM's score
    beside its neighbours is the higher (公斤 read 公厅斤, with 厅 the surer)."""
    def score(k: int, prev: str, nxt: str) -> float:
        g = glyphs[k]
        s = math.log(max(g.confidence, 1e-9))
        if lm is not None and weight:
            s += weight * ((lm.logprob(prev, g.char) if prev else 0.0)
                           + (lm.logprob(g.char, nxt) if nxt else 0.0))
        return s

    out: list[int] = []
    for k, g in enumerate(glyphs):
        if out and is_hanzi(g.char) and is_hanzi(glyphs[out[-1]].char):
            j = out[-1]
            prev = glyphs[j]
            em = max(g.box[3] - g.box[1], prev.box[3] - prev.box[1], 1)
            if (g.box[0] + g.box[2]) - (prev.box[0] + prev.box[2]) < 2 * HANZI_MIN_ADVANCE * em:
                before = glyphs[out[-2]].char if len(out) > 1 else ""
                after = glyphs[k + 1].char if k + 1 < len(glyphs) else ""
                if score(k, before, after) > score(j, before, after):
                    out[-1] = k
                continue
        out.append(k)
    return [glyphs[k] for k in out]


# the least advance, x the line's ink height, of the Latin letters `runs_as_wide_as_their_ink`
# also cuts down (www. read as wwwww.); other ASCII runs are left as read
RUN_ADVANCE = {ch: 0.6 for ch in "wmWM"}


def runs_as_wide_as_their_ink(glyphs: list[Any]) -> list[Any]:
    """The glyphs with each run of one full-width character (a hanzi, —, “) cut down to as many
    as its extent holds: full-width characters stand an em (the line's ink height) apart, so a
    run whose first and last centres are d em apart holds d + 1 of them, rounded. The recogniser
    emits a long bar or mark again every few frames: ——— read as eight dashes, 一 or “ as two
    0.2 em apart, where real repeats (纷纷, 一一) stand 0.84-1.18 em apart (dev renders). Each
    glyph kept takes one share of the run, with its surest member's reading. Wide Latin letters
    (`RUN_ADVANCE`) stand at least 0.6 em apart: 0.66-0.78 in www, 0.28-0.39 when emitted again
    (dev renders: 448 -> 447 errors; benchmark screen and photo sets 37 -> 36)."""
    out: list[Any] = []
    for _, same in itertools.groupby(glyphs, key=lambda g: g.char):
        run = list(same)
        em = max(g.box[3] - g.box[1] for g in run)
        span = ((run[-1].box[0] + run[-1].box[2]) - (run[0].box[0] + run[0].box[2])) / 2
        advance = RUN_ADVANCE.get(run[0].char, 0.0 if run[0].char.isascii() else 1.0)
        if not advance:
            out += run
            continue
        keep = min(len(run), math.floor(span / (advance * max(em, 1)) + 0.5) + 1)
        if keep == len(run):
            out += run
            continue
        for part in np.array_split(np.arange(len(run)), keep):
            members = [run[int(i)] for i in part]
            best = max(members, key=lambda g: g.confidence)
            box = (min(g.box[0] for g in members), min(g.box[1] for g in members),
                   max(g.box[2] for g in members), max(g.box[3] for g in members))
            out.append(replace(best, box=box))
    return out
