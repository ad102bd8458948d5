"""The OCR pipeline: image -> layers -> text lines -> glyph boxes -> candidates -> text.

Each stage is its own module and function (`jiema.images.read_rgb`, `preprocess.preprocess`,
`layering.find_layers`, `regions.find_lines`, `cutting.cut_graph`), so any of them can be swapped
or reused. This module wires them to a character classifier (anything with
`topk(glyphs, k) -> [[(char, prob), ...], ...]`) and a line decoder (the character bigram LM over
the core's candidate lattice). Where the cut of a line is ambiguous (a narrow piece that may be
half of 川 or a digit of its own), the classifier's confidence in each possible glyph joins the
geometric cost, so recognition chooses the cut.

The parts it wires have a module each: `analysis` (image stages), `crops`, `layout_prior`,
`text_rules`, `results`, and the recognition cut in `cutting`; the public names (`OcrOptions`,
`Stages`, `analyse`, the result types) stay importable from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from jiema.images import ImageSource

from .analysis import Analysis, Stages, analyse
from .crops import dilate, glyph_crop
from .cutting import (
    CutGraph,
    best_cut,
    best_recognised_cut,
    glued_mark_splits,
    pitch_grid_splits,
    split_at,
    top_prob,
)
from .layout_prior import layout_prior, text_band
from .options import OcrOptions
from .regions import TextLine
from .results import (
    Box,
    Candidates,
    GlyphResult,
    LineResult,
    OcrResult,
    copies_to_read,
    line_of,
    surest,
    with_spaces,
)
from .text_rules import (
    dots_may_be_commas,
    finish_text,
    has_word,
    only_shapes,
    paired_quotes,
    trim_unsure_ends,
    without_oversized_edge_dots,
)

__all__ = ["Analysis", "GlyphClassifier", "GlyphResult", "LMDecoder", "LineDecoder", "LineResult",
           "OcrOptions", "OcrReader", "OcrResult", "Stages", "analyse", "default_reader",
           "first_candidates", "glyph_crop", "lm_decoder", "read_text"]


# two glyph boxes overlapping this much (intersection over union) are the same glyph read twice
SAME_GLYPH_IOU = 0.5
# of this many lines or more, the odd ones out are dropped (`OcrOptions.odd_line_*`, `short_line_*`)
ODD_LINE_MIN_LINES = 3


class GlyphClassifier(Protocol):
    def topk(self, glyphs: Sequence[np.ndarray], k: int = 5) -> list[list[tuple[str, float]]]:
        ...


LineDecoder = Callable[[Candidates], tuple[str, list[float]]]


class OcrReader:
    """Reads the text of images with a glyph classifier and (optionally) an LM decoder."""

    def __init__(self, classifier: GlyphClassifier, decoder: LineDecoder | None = None,
                 options: OcrOptions | None = None, stages: Stages | None = None) -> None:
        self.classifier = classifier
        self.decoder = decoder
        self.options = options or OcrOptions()
        self.stages = stages or Stages.from_options(self.options)

    def __call__(self, source: ImageSource) -> OcrResult:
        return self.read(source)

    # -- stages -------------------------------------------------------------------------
    def read(self, source: ImageSource) -> OcrResult:
        timings: dict[str, float] = {}
        analysis = analyse(source, self.options, timings, self.stages)
        return self.read_analysis(analysis, timings)

    def read_analysis(self, analysis: Analysis, timings: dict[str, float] | None = None
                      ) -> OcrResult:
        timings = {} if timings is None else timings
        out = []
        for line in analysis.lines:
            result = surest(self.read_line(analysis, c, timings) for c in copies_to_read(line))
            if result is not None:
                out.append(result)
        return analysis.in_input(OcrResult(self.drop_odd_lines(out), timings))

    def drop_odd_lines(self, lines: list[LineResult], agreed: Sequence[LineResult] = ()
                       ) -> list[LineResult]:
        """The lines without those read as drawn shapes alone (a circle of a banner's picture
        is no ○ of text; see `SHAPES`), without those of marks alone (、（） or /、, parts of a
        picture) beside a line holding a hanzi, digit or letter, and, of three or more, without
        the odd ones out: a
        line read unsurely
        (mean best-candidate probability under `odd_line_confidence`) and more than
        `odd_line_size` times taller or shorter than the others' median — the rim of a banner's
        picture, a few specks beside it — and one of at most `short_line_glyphs` glyphs read
        less surely than `short_line_confidence`, whatever its size (7\\ or 厂、 read from the
        parts of a picture). Lines in `agreed` (ones two readers read alike, letter for letter)
        skip the confidence tests: a picture's parts are not read as the same word twice, and a
        white 新闻 on a dark bar, classified at 0.47 and 0.71, was dropped."""
        opts = self.options
        lines = self.drop_repeated_glyphs(lines)
        lines = [ln for ln in lines if not only_shapes(ln)]
        if any(has_word(ln) for ln in lines):  # marks alone beside text: parts of a picture
            lines = [ln for ln in lines if has_word(ln)]
        if len(lines) < ODD_LINE_MIN_LINES:
            return lines
        heights = np.array([ln.box[3] - ln.box[1] for ln in lines], dtype=np.float64)
        keep = []
        for k, line in enumerate(lines):
            if any(line is a for a in agreed):
                keep.append(line)
                continue
            others = float(np.median(np.delete(heights, k)))
            ratio = heights[k] / max(others, 1.0)
            sure = np.mean([g.candidates[0][1] if g.candidates else 0.0 for g in line.glyphs])
            if sure < opts.odd_line_confidence and not (
                    1.0 / opts.odd_line_size <= ratio <= opts.odd_line_size):
                continue
            if len(line.glyphs) <= opts.short_line_glyphs and sure < opts.short_line_confidence:
                continue
            keep.append(line)
        return keep

    def drop_repeated_glyphs(self, lines: list[LineResult]) -> list[LineResult]:
        """The lines (in their order) without glyphs a line of more glyphs also read at the same
        place: a line found in a banner's picture may take in a few glyphs of the text beside
        it (○作人 beside 作人员的组成部); a line left with no glyph is dropped."""
        order = sorted(range(len(lines)), key=lambda k: -len(lines[k].glyphs))
        taken = np.zeros((0, 4), dtype=np.int64)
        kept: dict[int, LineResult] = {}
        for k in order:
            line = lines[k]
            boxes = np.array([g.box for g in line.glyphs], dtype=np.int64).reshape(-1, 4)
            repeated = np.asarray((_iou_matrix(boxes, taken) >= SAME_GLYPH_IOU).any(axis=1))
            glyphs = [g for g, r in zip(line.glyphs, repeated.tolist(), strict=True) if not r]
            taken = np.concatenate([taken, boxes[~repeated]])
            if len(glyphs) == len(line.glyphs):
                kept[k] = line
            elif glyphs:
                em = (line.box[3] - line.box[1]) * self.options.cutting.em_per_height
                kept[k] = line_of(glyphs, em, self.options.space_gap)
        return [kept[k] for k in sorted(kept)]

    def cut(self, analysis: Analysis, line: TextLine, timings: dict[str, float] | None = None,
            other_reading: str | None = None) -> tuple[list[Box], Candidates]:
        """Glyph boxes (line coordinates) and their candidates.

        The geometric cut is classified first; where a glyph of it is not recognised with
        confidence (`sure_prob`), every other allowed grouping of the segments around it is
        classified too and the cut with the best geometric + recognition cost wins; with
        `pitch_splits`, that is done again on the segments also split where the line's pitch
        puts a cell boundary. A line whose glyphs are all recognised costs one classifier call
        per glyph. `other_reading`: the line's text as another reader read it; a glyph whose
        best candidate that reading has at the same place in the text counts as recognised."""
        opts = self.options
        t0 = time.perf_counter()
        graph = self.stages.cut(line.mask)
        if not graph.segments:
            return [], []
        margin = max(1, int(round(opts.margin * graph.em)))
        geo = best_cut(graph)
        t_cut = time.perf_counter() - t0
        t_cls = 0.0
        near_ink = dilate(line.mask)
        band = text_band(graph)
        found: dict[Box, list[tuple[str, float]]] = {}  # by box: a re-split graph reuses them

        def classify(graph: CutGraph, groups: list[tuple[int, int]]) -> None:
            nonlocal t_cut, t_cls
            boxes = list(dict.fromkeys(b for i, j in groups if (b := graph.box(i, j)) not in found))
            if not boxes:
                return
            t1 = time.perf_counter()
            crops = [glyph_crop(analysis.gray, line, b, margin, near_ink) for b in boxes]
            t2 = time.perf_counter()
            cands = self.classifier.topk(crops, k=opts.top_k)
            if opts.layout_prior:
                cands = [layout_prior(c, b, band) for c, b in zip(cands, boxes, strict=True)]
            found.update(zip(boxes, cands, strict=True))
            t_cut += t2 - t1
            t_cls += time.perf_counter() - t2

        def unsure(graph: CutGraph, geo: list[tuple[int, int]]) -> list[int]:
            cands = [found[graph.box(i, j)] for i, j in geo]
            agreed = (agreeing_glyphs([c[0][0] if c else "" for c in cands], other_reading)
                      if other_reading else set())
            return [k for k, c in enumerate(cands)
                    if top_prob(c) < opts.sure_prob and k not in agreed]

        def recognise(graph: CutGraph, geo: list[tuple[int, int]]) -> list[tuple[int, int]]:
            unsure_glyphs = unsure(graph, geo)
            if not unsure_glyphs:
                return geo
            marked = np.zeros(len(graph.segments), dtype=bool)
            for k in unsure_glyphs:
                lo = geo[max(k - 1, 0)][0]
                hi = geo[min(k + 1, len(geo) - 1)][1]
                marked[lo:hi] = True
            extra = [(i, j) for i, j, _ in graph.groups if marked[i:j].all()]
            classify(graph, extra)
            return best_recognised_cut(graph, found, opts.cut_weight)

        classify(graph, geo)
        chosen = geo
        if opts.recognition_cut:
            chosen = recognise(graph, geo)
            if opts.pitch_splits and unsure(graph, geo):
                xs = (pitch_grid_splits(graph, geo, found, line.mask, opts.sure_prob)
                      + glued_mark_splits(graph, geo, found, line.mask, band, opts.sure_prob))
                if xs:
                    t1 = time.perf_counter()
                    graph = split_at(graph, line.mask, xs, opts.cutting)
                    t_cut += time.perf_counter() - t1
                    geo = best_cut(graph)
                    classify(graph, geo)
                    chosen = recognise(graph, geo)
        if timings is not None:
            timings["cutting"] = timings.get("cutting", 0.0) + t_cut
            timings["classify"] = timings.get("classify", 0.0) + t_cls
        boxes = [graph.box(i, j) for i, j in chosen]
        cands = [found[b] for b in boxes]
        if opts.text_rules:
            boxes, cands = paired_quotes(boxes, cands, graph.em)
            boxes, cands = without_oversized_edge_dots(boxes, cands, band,
                                                        opts.edge_glyph_confidence,
                                                        end_chars(other_reading))
        return boxes, cands

    def read_line(self, analysis: Analysis, line: TextLine,
                  timings: dict[str, float] | None = None, other_reading: str | None = None
                  ) -> LineResult | None:
        boxes, cands = self.cut(analysis, line, timings, other_reading)
        return self.decode_line(analysis, line, boxes, cands, timings, other_reading)

    def decode_line(self, analysis: Analysis, line: TextLine, boxes: list[Box],
                    cands: Candidates, timings: dict[str, float] | None = None,
                    other_reading: str | None = None) -> LineResult | None:
        """The text of a cut line (None when it does not look like text); `other_reading`
        vouches for unsure end glyphs (`text_rules.trim_unsure_ends`)."""
        boxes, cands = trim_unsure_ends(boxes, cands, self.options.edge_glyph_confidence,
                                        end_chars(other_reading))
        if not boxes:
            return None
        best = [c[0][1] if c else 0.0 for c in cands]
        if float(np.mean(best)) < self.options.min_line_confidence:
            return None  # shapes the classifier does not recognise: a picture, not text
        t0 = time.perf_counter()
        if self.options.text_rules:
            cands = dots_may_be_commas(cands)
        text, confs = (self.decoder or first_candidates)(cands)
        if self.options.text_rules:
            text = finish_text(text, cands)
        if timings is not None:
            timings["decode"] = timings.get("decode", 0.0) + time.perf_counter() - t0
        s = analysis.scale
        lx, ly = line.box[0], line.box[1]
        glyphs = [
            GlyphResult(_scaled((b[0] + lx, b[1] + ly, b[2] + lx, b[3] + ly), s), ch, float(p),
                        [(c, float(q)) for c, q in cand])
            for b, ch, p, cand in zip(boxes, text, confs, cands, strict=True)
        ]
        em = max(line.height, 1.0) * self.options.cutting.em_per_height
        text = with_spaces(glyphs, em / s, self.options.space_gap)
        return LineResult(_scaled(line.box, s), text, float(np.mean(confs)), glyphs)


def end_chars(reading: str | None) -> tuple[str, str]:
    """The first and last characters of another reader's text of a line (spaces ignored)."""
    text = (reading or "").replace(" ", "")
    return (text[0], text[-1]) if text else ("", "")


def agreeing_glyphs(chars: list[str], other: str) -> set[int]:
    """Indices of `chars` that an alignment of the two texts pairs with the same character of
    `other` (another reader's text of the line; spaces ignored)."""
    import difflib

    matcher = difflib.SequenceMatcher(None, chars, list(other.replace(" ", "")), autojunk=False)
    return {i for block in matcher.get_matching_blocks()
            for i in range(block.a, block.a + block.size)}


def first_candidates(cands: Candidates) -> tuple[str, list[float]]:
    """The line decoder without a language model (`ocr.no_lm.v1`): each glyph's first (most
    probable) candidate, its probability the confidence."""
    return "".join(c[0][0] for c in cands), [c[0][1] if c else 0.0 for c in cands]


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`(len(a), len(b))` intersection over union of two `(n, 4)` box arrays (0 where two boxes
    share no pixel): one array operation instead of a Python call per pair, which cost a page
    of 800 glyphs a third of a second."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.maximum(w, 0) * np.maximum(h, 0)

    def area(x: np.ndarray) -> np.ndarray:
        return np.maximum(x[:, 2] - x[:, 0], 0) * np.maximum(x[:, 3] - x[:, 1], 0)

    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(inter > 0, inter / np.maximum(union, 1), 0.0)


def _scaled(box: Box, scale: int) -> Box:
    if scale == 1:
        return box
    return (box[0] // scale, box[1] // scale, -(-box[2] // scale), -(-box[3] // scale))


# -- the default reader ---------------------------------------------------------------------
class LMDecoder:
    """`decode_line` with a fixed character LM and weight (a `LineDecoder`); the weight defaults
    to `lm_decode.DEFAULT_LM_WEIGHT` (the measured best for glyph candidates).
    `requested_weight` is the weight asked for (None: each reader's own measured default; the
    line-CTC reader's is `ctc_decode.CTC_LM_WEIGHT`)."""

    def __init__(self, lm: Any, lm_weight: float | None = None) -> None:
        self.lm = lm
        self.requested_weight = lm_weight

    @property
    def lm_weight(self) -> float:
        """The weight glyph candidates are decoded with."""
        from .lm_decode import DEFAULT_LM_WEIGHT

        return DEFAULT_LM_WEIGHT if self.requested_weight is None else self.requested_weight

    def __call__(self, cands: Candidates) -> tuple[str, list[float]]:
        from .lm_decode import decode_line

        return decode_line(cands, self.lm, lm_weight=self.lm_weight)


def lm_decoder(lm: Any, lm_weight: float | None = None) -> LMDecoder:
    return LMDecoder(lm, lm_weight)


def default_reader(model: str | Path | None = None, *, use_lm: bool = True,
                   lm_weight: float | None = None, options: OcrOptions | None = None
                   ) -> OcrReader:
    """The shipped char CNN (or `model`) and, unless `use_lm` is off, the shipped bigram LM."""
    from .classifier import DEFAULT_MODEL, CharClassifier

    classifier = CharClassifier.load(model if model is not None else DEFAULT_MODEL)
    decoder = None
    if use_lm:
        from .language_model import load_default_lm

        decoder = lm_decoder(load_default_lm(), lm_weight)
    return OcrReader(classifier, decoder, options)


def read_text(source: ImageSource, reader: OcrReader | None = None) -> OcrResult:
    """Convenience: the text of one image with the default reader."""
    return (reader or default_reader()).read(source)
