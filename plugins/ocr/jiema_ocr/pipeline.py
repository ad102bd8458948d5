"""The OCR pipeline: image -> layers -> text lines -> glyph boxes -> candidates -> text.

Each stage is its own module and function (`jiema.images.read_rgb`, `preprocess.preprocess`,
`layering.find_layers`, `regions.find_lines`, `cutting.cut_graph`), so any of them can be swapped
or reused. This module wires them to a character classifier (anything with
`topk(glyphs, k) -> [[(char, prob), ...], ...]`) and a line decoder (the character bigram LM over
the core's candidate lattice). Where the cut of a line is ambiguous (a narrow piece that may be
half of 川 or a digit of its own), the classifier's confidence in each possible glyph joins the
geometric cost, so recognition chooses the cut.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from jiema.images import MAX_PIXELS, ImageSource, read_rgb
from pydantic import BaseModel, ConfigDict, Field

from .bar_shapes import BARS, bar_posterior
from .classifier import MIN_PROB
from .cutting import CutGraph, CutOptions, best_cut, cut_graph, split_at, tall_band
from .layering import LayerOptions, Layers, find_layers
from .preprocess import PreprocessOptions, preprocess
from .regions import RegionOptions, TextLine, box_area, box_overlap, find_lines

Box = tuple[int, int, int, int]
Candidates = list[list[tuple[str, float]]]


class GlyphClassifier(Protocol):
    def topk(self, glyphs: Sequence[np.ndarray], k: int = 5) -> list[list[tuple[str, float]]]:
        ...


LineDecoder = Callable[[Candidates], tuple[str, list[float]]]


class OcrOptions(BaseModel):
    """Every knob of the pipeline (each stage's own options, plus decoding)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preprocess: PreprocessOptions = PreprocessOptions()
    layers: LayerOptions = LayerOptions()
    regions: RegionOptions = RegionOptions()
    cutting: CutOptions = CutOptions()
    top_k: int = Field(10, ge=1, le=50)
    layout_prior: bool = Field(True, description="re-weight candidates by glyph size and place "
                                                 "in the line (quotes high, 。 small, O tall)")
    recognition_cut: bool = Field(True, description="let classifier confidence choose cuts")
    sure_prob: float = Field(0.9, ge=0, le=1, description="glyphs recognised at least this "
                                                          "surely keep their geometric cut")
    cut_weight: float = Field(2.0, ge=0, description="geometric cost weight vs -log p")
    # fresh renders, line errors on seeds 80+81 / banner errors on seed 82: 93 / 36 without,
    # 74 / 32 with (the touching glyphs of wqy-zenhei: 他们, 好似, 热情); +2% time a line
    pitch_splits: bool = Field(True, description="where a glyph is unsure, also try cuts where "
                                                 "the pitch of the surely read glyphs puts a "
                                                 "cell boundary (glyphs that touch)")
    min_line_confidence: float = Field(
        0.15, ge=0, le=1,
        description="lines whose mean best-candidate probability is lower are not text",
    )
    # 0.15 measured on dev renders (seeds 77-79): line / banner errors 54 / 76 at 0 (off),
    # 53 / 73 at 0.1, 52 / 72 at 0.15, 52 / 73 at 0.2
    edge_glyph_confidence: float = Field(
        0.15, ge=0, le=1, description="a glyph at either end of a line whose best candidate is "
                                      "less probable than this is a speck or the edge of a "
                                      "picture, not text, and is left out")
    text_rules: bool = Field(True, description="finish the text with the rules for what the "
                                               "bigram LM cannot tell apart (，/. ，/、 一/— "
                                               "-/— 0/O 1/l, “ cut in two)")
    odd_line_confidence: float = Field(
        0.55, ge=0, le=1, description="with 3+ lines, a line read less surely than this ...")
    odd_line_size: float = Field(2.0, ge=1, description="... and this many times taller or "
                                                        "shorter than the others is dropped")
    short_line_glyphs: int = Field(3, ge=0, description="with 3+ lines, a line of at most this "
                                                        "many glyphs ...")
    short_line_confidence: float = Field(
        0.65, ge=0, le=1, description="... read less surely than this is dropped, whatever its "
                                      "size (specks of a banner's picture)")
    margin: float = Field(0.08, ge=0, description="crop margin around a glyph, x em")
    max_pixels: int = Field(MAX_PIXELS, ge=1)
    flatten_more: bool = Field(True, description="on an image with room for more lines than "
                                                 "found (or, in an image of one row, for more "
                                                 "glyphs beside its lines), try the flattened "
                                                 "ground too and keep it when it finds each "
                                                 "line and more (or one line covering them and "
                                                 "wider)")
    flatten_retry: bool = Field(True, description="when no line is found, try again with the "
                                                  "ground flattened (a gradient can hide text)")
    space_gap: float = Field(0.5, gt=0, description="gap between Latin/digit glyphs (x em) "
                                                    "that is written as a space")


@dataclass
class GlyphResult:
    box: Box  # in input-image pixels
    char: str
    confidence: float
    candidates: list[tuple[str, float]]


@dataclass
class LineResult:
    box: Box
    text: str
    confidence: float
    glyphs: list[GlyphResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "glyphs": [
                {"box": list(g.box), "char": g.char, "confidence": round(g.confidence, 4),
                 "candidates": [[c, round(p, 5)] for c, p in g.candidates]}
                for g in self.glyphs
            ],
        }


@dataclass
class OcrResult:
    lines: list[LineResult]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float | None:
        confs = [g.confidence for line in self.lines for g in line.glyphs]
        return float(np.mean(confs)) if confs else None


@dataclass
class Analysis:
    """What the image stages found (for debug pictures and for evaluating the stages)."""

    rgb: np.ndarray
    gray: np.ndarray  # preprocessed, uint8
    scale: int
    layers: Layers
    lines: list[TextLine]


@dataclass(frozen=True)
class Stages:
    """The swappable image stages (any callables with these signatures)."""

    preprocess: Callable[[np.ndarray], tuple[np.ndarray, int]]
    layers: Callable[[np.ndarray], Layers]
    lines: Callable[[np.ndarray, Layers], list[TextLine]]
    cut: Callable[[np.ndarray], CutGraph]
    #: a second preprocessing tried when the first finds no line at all (None: no retry)
    retry: Callable[[np.ndarray], tuple[np.ndarray, int]] | None = None

    @classmethod
    def from_options(cls, opts: OcrOptions) -> Stages:
        retry = None
        if opts.flatten_retry and not opts.preprocess.flatten:
            flat = opts.preprocess.model_copy(update={"flatten": True})
            retry = lambda rgb: preprocess(rgb, flat)  # noqa: E731
        return cls(
            preprocess=lambda rgb: preprocess(rgb, opts.preprocess),
            layers=lambda gray: find_layers(gray, opts.layers),
            lines=lambda gray, layers: find_lines(gray, layers, opts.regions),
            cut=lambda mask: cut_graph(mask, opts.cutting),
            retry=retry,
        )


def analyse(source: ImageSource, options: OcrOptions | None = None,
            timings: dict[str, float] | None = None, stages: Stages | None = None) -> Analysis:
    """Read, preprocess, layer and find the text lines of an image."""
    opts = options or OcrOptions()
    st = stages or Stages.from_options(opts)
    t0 = time.perf_counter()
    rgb = read_rgb(source, max_pixels=opts.max_pixels)
    gray, scale = st.preprocess(rgb)
    t1 = time.perf_counter()
    layers = st.layers(gray)
    t2 = time.perf_counter()
    lines = st.lines(gray, layers)
    # a gradient ground can hide all the text, the lines in part of the image, or part of a
    # line (the glyphs at one end sit in another layer than the rest)
    more = bool(lines) and opts.flatten_more and _room_for_more(lines, gray.shape[0])
    wider = (bool(lines) and opts.flatten_more and not more
             and _room_beside(lines, gray.shape[1]))
    if st.retry is not None and (not lines or more or wider):
        flat_gray, flat_scale = st.retry(rgb)
        flat_layers = st.layers(flat_gray)
        # flattening hollows a filled shape into its rim, which could pass for one glyph
        flat_lines = [ln for ln in st.lines(flat_gray, flat_layers) if len(ln.components) > 1]
        if flat_lines and (not lines or (more and _finds_more(flat_lines, lines))
                           or (wider and _finds_wider(flat_lines, lines))):
            gray, scale, layers, lines = flat_gray, flat_scale, flat_layers, flat_lines
    t3 = time.perf_counter()
    if timings is not None:
        timings["read"] = timings.get("read", 0.0) + t1 - t0
        timings["layers"] = timings.get("layers", 0.0) + t2 - t1
        timings["regions"] = timings.get("regions", 0.0) + t3 - t2
    return Analysis(rgb, gray, scale, layers, lines)


def _room_for_more(lines: list[TextLine], height: int) -> bool:
    """Whether the image is tall enough for more lines than the ones found (a banner, not a
    single line)."""
    return height >= 2.5 * max(ln.box[3] - ln.box[1] for ln in lines)


def _room_beside(lines: list[TextLine], width: int) -> bool:
    """Whether the image leaves room for glyphs beside its lines: at least 2.5 line heights of
    its width outside every found line."""
    covered = np.zeros(width, dtype=bool)
    for ln in lines:
        covered[ln.box[0]:ln.box[2]] = True
    height = max(ln.box[3] - ln.box[1] for ln in lines)
    return int(width - covered.sum()) >= 2.5 * height


def _finds_wider(found: list[TextLine], before: list[TextLine]) -> bool:
    """One line, in the row of each of `before` (but specks under half the tallest's height)
    and covering it, and at least a line height wider than all of them together."""
    if len(found) != 1:
        return False
    a = found[0].box

    def covered(b: Box) -> bool:
        return _same_row(a, b) and a[0] <= b[0] + 2 and a[2] >= b[2] - 2

    height = max(ln.box[3] - ln.box[1] for ln in before)
    spans = [ln.box for ln in before if ln.box[3] - ln.box[1] >= 0.5 * height]  # not specks
    width = max(b[2] for b in spans) - min(b[0] for b in spans)
    return all(covered(b) for b in spans) and (a[2] - a[0]) - width >= height


def _finds_more(found: list[TextLine], before: list[TextLine]) -> bool:
    """More lines than `before`, and one overlapping each of `before` (the other pass lost none
    of them)."""
    def overlaps(a: TextLine, b: TextLine) -> bool:
        return _same_row(a.box, b.box) and min(a.box[2], b.box[2]) > max(a.box[0], b.box[0])

    return len(found) > len(before) and all(any(overlaps(f, b) for f in found) for b in before)


def _same_row(a: Box, b: Box) -> bool:
    """Whether two boxes share over half the height of the lower one."""
    return min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(a[3] - a[1], b[3] - b[1])


def glyph_crop(gray: np.ndarray, line: TextLine, box: Box, margin: int,
               near_ink: np.ndarray | None = None) -> np.ndarray:
    """A dark-on-light uint8 crop of one glyph: the line's ink level mapped to black, its
    ground to white, and anything that is neither this glyph's ink nor next to it (a
    neighbour's stroke, the picture, noise) whitened. `near_ink`: the line mask dilated by one
    pixel, when the caller has it already."""
    lx, ly = line.box[0], line.box[1]
    x0, y0, x1, y1 = box
    mh, mw = line.mask.shape
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(mw, x1 + margin), min(mh, y1 + margin)
    if near_ink is None:
        near_ink = _dilate(line.mask)
    keep = np.zeros((cy1 - cy0, cx1 - cx0), dtype=bool)
    # strokes of the neighbours that reach into the margin are not this glyph's
    keep[y0 - cy0:y1 - cy0 + 1, max(x0 - cx0 - 1, 0):x1 - cx0 + 1] = True
    ink = keep & line.mask[cy0:cy1, cx0:cx1]
    keep &= near_ink[cy0:cy1, cx0:cx1]
    crop = gray[ly + cy0:ly + cy1, lx + cx0:lx + cx1].astype(np.float32)
    text, bg = line.text_level, line.background_level
    if abs(bg - text) < 1:
        bg = text + 1
    norm = (crop - text) * (255.0 / (bg - text))
    norm[~keep] = 255.0
    # the line's ink is ink, however faint (a dim dot must not fade out of the glyph)
    norm[ink] = np.minimum(norm[ink], INK_CEILING)
    return np.clip(norm, 0, 255).astype(np.uint8)


INK_CEILING = 128.0  # the lightest gray a pixel of the line's ink gets in a glyph crop


def _dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation by shifts (cheaper than a scipy call for one small mask)."""
    m = np.pad(mask, 1)
    out = m.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                out[1:-1, 1:-1] |= m[1 + dy:m.shape[0] - 1 + dy, 1 + dx:m.shape[1] - 1 + dx]
    return out[1:-1, 1:-1]


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
            result = self.read_line(analysis, line, timings)
            if result is not None:
                out.append(result)
        return OcrResult(self.drop_odd_lines(out), timings)

    def drop_odd_lines(self, lines: list[LineResult]) -> list[LineResult]:
        """The lines without those read as drawn shapes alone (a circle of a banner's picture
        is no ○ of text; see `SHAPES`), without those of marks alone (、（） or /、, parts of a
        picture) beside a line holding a hanzi, digit or letter, and, of three or more, without
        the odd ones out: a
        line read unsurely
        (mean best-candidate probability under `odd_line_confidence`) and more than
        `odd_line_size` times taller or shorter than the others' median — the rim of a banner's
        picture, a few specks beside it — and one of at most `short_line_glyphs` glyphs read
        less surely than `short_line_confidence`, whatever its size (7\\ or 厂、 read from the
        parts of a picture)."""
        opts = self.options
        lines = self.drop_repeated_glyphs(lines)
        lines = [ln for ln in lines if not _only_shapes(ln)]
        if any(_has_word(ln) for ln in lines):  # marks alone beside text: parts of a picture
            lines = [ln for ln in lines if _has_word(ln)]
        if len(lines) < 3:
            return lines
        heights = np.array([ln.box[3] - ln.box[1] for ln in lines], dtype=np.float64)
        keep = []
        for k, line in enumerate(lines):
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
        taken: list[Box] = []
        kept: dict[int, LineResult] = {}
        for k in order:
            line = lines[k]
            glyphs = [g for g in line.glyphs if not any(_iou(g.box, t) >= 0.5 for t in taken)]
            taken.extend(g.box for g in glyphs)
            if len(glyphs) == len(line.glyphs):
                kept[k] = line
            elif glyphs:
                em = (line.box[3] - line.box[1]) * self.options.cutting.em_per_height
                box = (min(g.box[0] for g in glyphs), min(g.box[1] for g in glyphs),
                       max(g.box[2] for g in glyphs), max(g.box[3] for g in glyphs))
                kept[k] = LineResult(box, _with_spaces(glyphs, em, self.options.space_gap),
                                     float(np.mean([g.confidence for g in glyphs])), glyphs)
        return [kept[k] for k in sorted(kept)]

    def cut(self, analysis: Analysis, line: TextLine, timings: dict[str, float] | None = None
            ) -> tuple[list[Box], Candidates]:
        """Glyph boxes (line coordinates) and their candidates.

        The geometric cut is classified first; where a glyph of it is not recognised with
        confidence (`sure_prob`), every other allowed grouping of the segments around it is
        classified too and the cut with the best geometric + recognition cost wins; with
        `pitch_splits`, that is done again on the segments also split where the line's pitch
        puts a cell boundary. A line whose glyphs are all recognised costs one classifier call
        per glyph."""
        opts = self.options
        t0 = time.perf_counter()
        graph = self.stages.cut(line.mask)
        if not graph.segments:
            return [], []
        margin = max(1, int(round(opts.margin * graph.em)))
        geo = best_cut(graph)
        t_cut = time.perf_counter() - t0
        t_cls = 0.0
        near_ink = _dilate(line.mask)
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
            return [k for k, (i, j) in enumerate(geo)
                    if _top_prob(found[graph.box(i, j)]) < opts.sure_prob]

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
            return _recognition_cut(graph, found, opts.cut_weight)

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
            boxes, cands = _paired_quotes(boxes, cands, graph.em)
            boxes, cands = _without_oversized_edge_dots(boxes, cands, band,
                                                        opts.edge_glyph_confidence)
        return boxes, cands

    def read_line(self, analysis: Analysis, line: TextLine,
                  timings: dict[str, float] | None = None) -> LineResult | None:
        boxes, cands = self.cut(analysis, line, timings)
        return self.decode_line(analysis, line, boxes, cands, timings)

    def decode_line(self, analysis: Analysis, line: TextLine, boxes: list[Box],
                    cands: Candidates, timings: dict[str, float] | None = None
                    ) -> LineResult | None:
        """The text of a cut line (None when it does not look like text)."""
        boxes, cands = _trim_unsure_ends(boxes, cands, self.options.edge_glyph_confidence)
        if not boxes:
            return None
        best = [c[0][1] if c else 0.0 for c in cands]
        if float(np.mean(best)) < self.options.min_line_confidence:
            return None  # shapes the classifier does not recognise: a picture, not text
        t0 = time.perf_counter()
        if self.options.text_rules:
            cands = _dots_may_be_commas(cands)
        if self.decoder is not None:
            text, confs = self.decoder(cands)
        else:
            text = "".join(c[0][0] for c in cands)
            confs = best
        if self.options.text_rules:
            text = _finish_text(text, cands)
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
        text = _with_spaces(glyphs, em / s, self.options.space_gap)
        return LineResult(_scaled(line.box, s), text, float(np.mean(confs)), glyphs)


def _lone_dashes_as_one(text: str, cands: Candidates) -> str:
    """The text with each — read between two hanzi turned into 一 where that is a candidate:
    the dash is printed doubled (——); in a month of the People's Daily (2,167 dashes, 1,123
    of them followed by another) a lone one hardly occurs, while a character bigram after a
    rare — looks likelier than one after the common 一. At a line's end the dash may be half
    of a —— broken across lines, so it stays."""
    out = list(text)
    for k in range(1, len(out) - 1):
        if (out[k] == "—" and "一" in dict(cands[k]) and _is_hanzi(out[k - 1])
                and _is_hanzi(out[k + 1])):
            out[k] = "一"
    return "".join(out)


def _minus_before_digits(text: str, cands: Candidates) -> str:
    """The text with a lone — or 一 right before a digit turned back into the minus sign the
    classifier read best (晴－8℃): the bigram LM prefers the common — there. A dash read best
    stays (20时—1月3日 is a range)."""
    out = list(text)
    for k in range(len(out) - 1):
        if (out[k] in FULL_WIDTH_BARS and out[k + 1].isdigit() and cands[k]
                and cands[k][0][0] == "-" and (k == 0 or out[k - 1] not in FULL_WIDTH_BARS)):
            out[k] = "-"
    return "".join(out)


def _finish_text(text: str, cands: Candidates) -> str:
    """The decoded text after the rules for what a character bigram cannot tell apart."""
    text = _minus_before_digits(_lone_dashes_as_one(text, cands), cands)
    return _dots_between_hanzi_as_commas(_zeros_among_letters(_digits_among_digits(text, cands)))


QUOTE_HALVES = {"‘": "“", "’": "”"}


def _paired_quotes(boxes: list[Box], cands: Candidates, em: float
                   ) -> tuple[list[Box], Candidates]:
    """Two glyphs read as the same single quote (‘ ‘ or ’ ’) side by side within an em are the
    two marks of one double quote (“ or ”), cut apart."""
    out_b: list[Box] = []
    out_c: Candidates = []
    k = 0
    while k < len(boxes):
        if k + 1 < len(boxes) and cands[k] and cands[k + 1]:
            a, b = cands[k][0], cands[k + 1][0]
            box = (boxes[k][0], min(boxes[k][1], boxes[k + 1][1]), boxes[k + 1][2],
                   max(boxes[k][3], boxes[k + 1][3]))
            if a[0] == b[0] and a[0] in QUOTE_HALVES and box[2] - box[0] <= em:
                out_b.append(box)
                out_c.append([(QUOTE_HALVES[a[0]], min(a[1], b[1]))])
                k += 2
                continue
        out_b.append(boxes[k])
        out_c.append(cands[k])
        k += 1
    return out_b, out_c


# ，。、 and the dots print at most 0.4 of the text band (measured on fresh renders, all four
# fonts: 99th percentile 0.37, largest 0.39); something read as one of them at an end of the
# line and much bigger is the edge of a banner's picture beside the text
DOT_MARKS = frozenset("，。、．.,·丶")
MAX_DOT_SIZE = 0.5


def _without_oversized_edge_dots(boxes: list[Box], cands: Candidates,
                                 band: tuple[float, float] | None, min_prob: float
                                 ) -> tuple[list[Box], Candidates]:
    """The glyphs without those at either end read best as a dot mark but too big for one,
    and without the unsure ones (`min_prob`) outside them (a speck beside the picture)."""
    if band is None:
        return boxes, cands
    line_h = max(band[1] - band[0], 1.0)

    def oversized_dot_or_unsure(box: Box, c: Sequence[tuple[str, float]]) -> bool:
        if not _is_sure(c, min_prob):
            return True
        size = max(box[3] - box[1], box[2] - box[0]) / line_h
        return c[0][0] in DOT_MARKS and size > MAX_DOT_SIZE

    return _trim_ends(boxes, cands, oversized_dot_or_unsure)


def _dots_may_be_commas(cands: Candidates) -> Candidates:
    """Candidates where a glyph read best as . (and not nearly as well as the name dot ·) has
    ， at the same probability: the small comma of a Ming face at body size prints as a dot
    (or 、), and the LM should choose, as it does for the other look-alikes."""
    out = []
    for c in cands:
        if c and c[0][0] == "." and dict(c).get("·", 0.0) < 0.5 * c[0][1]:
            c = [*(x for x in c if x[0] != "，"), ("，", c[0][1])]
        out.append(c)
    return out


def _dots_between_hanzi_as_commas(text: str) -> str:
    """The text with each . between two hanzi turned into ，: Chinese text never sets a full
    stop as a dot (。 is a ring), while a small comma whose tail faded prints as one."""
    out = list(text)
    for k in range(1, len(out) - 1):
        if out[k] == "." and _is_hanzi(out[k - 1]) and _is_hanzi(out[k + 1]):
            out[k] = "，"
    return "".join(out)


DIGIT_LOOKALIKES = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}
UNIT_SIGNS = frozenset("℃°％%")


def _digits_among_digits(text: str, cands: Candidates) -> str:
    """The text with a letter that looks like a digit (O, l, I, |) turned into that digit
    where it is a candidate and it stands beside a digit or before a unit sign (℃ ％), with
    no Latin letter beside it: the bigram LM cannot tell them apart there (the rare O makes an
    unseen pair look likelier than the common 0 does)."""
    out = list(text)
    changed = True
    while changed:
        changed = False
        for k, ch in enumerate(out):
            digit = DIGIT_LOOKALIKES.get(ch)
            if digit is None or digit not in dict(cands[k]):
                continue
            left = out[k - 1] if k > 0 else ""
            right = out[k + 1] if k + 1 < len(out) else ""
            if _is_latin_letter(left) or _is_latin_letter(right):
                continue
            if left.isdigit() or right.isdigit() or right in UNIT_SIGNS:
                out[k] = digit
                changed = True
    return "".join(out)


def _zeros_among_letters(text: str) -> str:
    """The text with a run of zeros between two Latin letters turned into the letter O
    (LOOK read as L00K): 0 and O share their probability in the decoder, and the bigram LM,
    knowing few Latin words, takes the common digit."""
    out = list(text)
    k = 0
    while k < len(out):
        if out[k] != "0":
            k += 1
            continue
        end = k
        while end < len(out) and out[end] == "0":
            end += 1
        if (k > 0 and end < len(out) and _is_latin_letter(out[k - 1])
                and _is_latin_letter(out[end])):
            out[k:end] = "O" * (end - k)
        k = end
    return "".join(out)


def _is_latin_letter(ch: str) -> bool:
    """A Latin letter, but none of those that look like a digit (l in ll℃ is one of a pair)."""
    return ch.isascii() and ch.isalpha() and ch not in DIGIT_LOOKALIKES


def _is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _trim_unsure_ends(boxes: list[Box], cands: Candidates, min_prob: float
                      ) -> tuple[list[Box], Candidates]:
    """The glyphs without those at either end whose best candidate is below `min_prob`."""
    return _trim_ends(boxes, cands, lambda _, c: not _is_sure(c, min_prob))


def _is_sure(c: Sequence[tuple[str, float]], min_prob: float) -> bool:
    return bool(c) and c[0][1] >= min_prob


def _trim_ends(boxes: list[Box], cands: Candidates,
               drop: Callable[[Box, Sequence[tuple[str, float]]], bool]
               ) -> tuple[list[Box], Candidates]:
    """The glyphs without the run at either end for which `drop` holds."""
    lo, hi = 0, len(boxes)
    while lo < hi and drop(boxes[lo], cands[lo]):
        lo += 1
    while hi > lo and drop(boxes[hi - 1], cands[hi - 1]):
        hi -= 1
    return boxes[lo:hi], cands[lo:hi]


def _iou(a: Box, b: Box) -> float:
    inter = box_overlap(a, b)
    return inter / (box_area(a) + box_area(b) - inter) if inter else 0.0


def _scaled(box: Box, scale: int) -> Box:
    if scale == 1:
        return box
    return (box[0] // scale, box[1] // scale, -(-box[2] // scale), -(-box[3] // scale))


# Marks whose place in the line tells them apart from look-alikes once a crop is scaled up to
# the classifier's input: quotes sit high (a comma is a low apostrophe), 。/o are small and O/0
# tall, and a tiny glyph is punctuation or a dot, not a hanzi.
HIGH_MARKS = frozenset("‘’“”'\"`^°")
SMALL_CHARS = frozenset("，。、．.,;；:：·•'\"‘’“”`^°-—－～~_…丶o")
TALL_CHARS = frozenset("0OQDCGUIl1|（）()[]{}【】《》〈〉「」『』")
# radicals that print like 、 / ) \ or like half a character (亻 of 化, 纟 of 纪), and never
# stand alone in running text (none of them occurs in a month of the People's Daily)
RARE_LOOKALIKES = frozenset("丶丿乀乁亅亻氵扌讠纟钅饣忄犭阝刂冫礻衤彳丬卩廴辶宀冖亠疒艹夂攵灬彡"
                            "匚凵勹冂厶廾尢屮巛彐")
FULL_WIDTH_BARS = frozenset("一—")
BAR_SET = frozenset(BARS)
MAX_BAR_THICKNESS = 0.35  # of the band: thicker, the glyph is no lone bar
# classes that are drawn shapes: inside text they are marks (●, 二○○○年), but a line of
# nothing else is a picture (a banner's circle or triangle)
SHAPES = frozenset("○●△▲")
RING_LIKE = frozenset("。oO0°·.•○〇")


def _has_word(line: LineResult) -> bool:
    """Whether a line holds a hanzi, a digit or a letter, not only marks and shapes."""
    return any(ch.isalnum() for ch in line.text)


def _only_shapes(line: LineResult) -> bool:
    text = line.text.replace(" ", "")
    return bool(text) and all(ch in SHAPES for ch in text)


def text_band(graph: CutGraph) -> tuple[float, float] | None:
    """Top and bottom of the line's full-height glyphs (None when there are none): the upper
    quartile of their extents, not the median, since a glyph broken into pieces (the three
    strokes of 二) counts once per piece and would pull a median in (dev: 98 -> 96 errors)."""
    return tall_band(graph.segments, 0.8 * graph.line_height, outer=75.0)


def layout_prior(cands: list[tuple[str, float]], box: Box, band: tuple[float, float] | None,
                 penalty: float = 0.02) -> list[tuple[str, float]]:
    """Candidates re-weighted by where the glyph sits in the line and how big it is:
    impossible ones are multiplied by `penalty`, then the list is renormalised and re-sorted."""
    if band is None or not cands:
        return cands
    top, bottom = band
    line_h = max(bottom - top, 1.0)
    height, width = box[3] - box[1], box[2] - box[0]
    h = height / line_h
    size = max(box[3] - box[1], box[2] - box[0]) / line_h
    center = ((box[1] + box[3]) / 2 - top) / line_h
    bar = cands[0][0] in BAR_SET and h < MAX_BAR_THICKNESS
    if bar:
        cands = _bars_by_shape(cands, width / line_h, h, center)
    out = []
    for ch, p in cands:
        ok = True
        if ch in HIGH_MARKS and center > 0.42:
            ok = False
        elif size < 0.4 and ch not in SMALL_CHARS and not ch.isascii():
            ok = False  # a dot-sized glyph is no hanzi
        elif ch == "。" and h > 0.42 or ch == "o" and not 0.36 <= h <= 0.62:
            ok = False  # 。 is smaller than a Latin o
        elif ch == "@" and h < 0.5:
            ok = False  # as tall as a capital, never the size of 。
        elif ch == "·" and not 0.25 <= center <= 0.72:
            ok = False  # the middle dot is centred; a comma whose tail faded sits low
        elif ch == "_" and center < 0.75:
            ok = False
        elif ch in FULL_WIDTH_BARS and width < 0.85 * line_h and not bar:
            ok = False  # 一 and the em dash span the em; a minus sign is shorter
        elif ch in TALL_CHARS and h < 0.5:
            ok = False
        elif ch == "0" and width > 0.75 * height or ch == "O" and width < 0.72 * height:
            ok = False  # the digit is narrower than the letter
        elif ch in RARE_LOOKALIKES:
            ok = False
        out.append((ch, p if ok else p * penalty))
    if size < 0.45 and center < 0.35 and cands[0][0] in RING_LIKE:
        # a small ring raised to the top of the line is a degree sign (the C of ℃ follows);
        # it is no class of the char model, so its ring-like look-alikes stand for it
        ring = sum(p for ch, p in cands if ch in RING_LIKE)
        out = [("°", ring)] + [(ch, p) for ch, p in out if ch not in RING_LIKE]
    total = sum(p for _, p in cands)
    new_total = sum(p for _, p in out) or 1.0
    scale = total / new_total
    return sorted(((ch, min(1.0, p * scale)) for ch, p in out), key=lambda c: -c[1])


def _bars_by_shape(cands: list[tuple[str, float]], length: float, thickness: float,
                   centre: float) -> list[tuple[str, float]]:
    """The probability the classifier gives the bars (一 — -) together, shared out among them
    by where this one sits (`bar_shapes`): the classifier cannot tell them apart."""
    mass = sum(p for ch, p in cands if ch in BAR_SET)
    shares = bar_posterior(length, thickness, centre)
    others = [(ch, p) for ch, p in cands if ch not in BAR_SET]
    bars = [(ch, mass * q) for ch, q in shares.items() if mass * q >= MIN_PROB]
    return sorted(others + bars, key=lambda c: -c[1])


def _top_prob(cands: list[tuple[str, float]]) -> float:
    return cands[0][1] if cands else 0.0


def _recognition_cut(graph: CutGraph, cands: dict[Box, list[tuple[str, float]]],
                     weight: float) -> list[tuple[int, int]]:
    """Best cut over the classified groups only (the geometric cut is always among them)."""
    def extra(i: int, j: int) -> float:
        c = cands.get(graph.box(i, j))
        if c is None:
            return math.inf
        return -math.log(max(_top_prob(c), 1e-6))

    return best_cut(graph, extra, weight)


def pitch_grid_splits(graph: CutGraph, geo: list[tuple[int, int]],
                      cands: dict[Box, list[tuple[str, float]]], mask: np.ndarray,
                      sure_prob: float) -> list[int]:
    """Columns where the line's pitch puts a cell boundary inside a segment of an unsure glyph.

    Full-width glyphs sit on a grid (one advance apart); two that touch make one segment
    across a boundary (the 子 of 好 and the 亻 of 似 in a tight face), which no grouping of
    the segments can undo. The pitch is the median step between adjacent surely read glyphs
    about an em wide; from the nearest of them, each unsure glyph's segments are split at the
    lightest column near every boundary they straddle."""
    em = graph.em
    boxes = [graph.box(i, j) for i, j in geo]
    sure = [_top_prob(cands[b]) >= sure_prob for b in boxes]
    wide = [s and 0.7 * em <= b[2] - b[0] <= 1.15 * em for s, b in zip(sure, boxes, strict=True)]
    centre = [(b[0] + b[2]) / 2 for b in boxes]
    steps = [centre[k + 1] - centre[k] for k in range(len(boxes) - 1) if wide[k] and wide[k + 1]]
    if len(steps) < 2:
        return []
    pitch = float(np.median(steps))
    if not 0.9 * em <= pitch <= 1.35 * em or sum(abs(x - pitch) <= 0.05 * pitch
                                                 for x in steps) < 0.6 * len(steps):
        return []
    anchors = [k for k, w in enumerate(wide) if w]
    counts = mask.sum(axis=0)
    out: list[int] = []
    for k, (i, j) in enumerate(geo):
        if sure[k]:
            continue
        a = min(anchors, key=lambda m: abs(m - k))
        for seg in graph.segments[i:j]:
            if seg.width < 0.4 * em:
                continue
            m = math.ceil((seg.x0 + 0.2 * em - centre[a]) / pitch - 0.5)  # first boundary in
            while (x := centre[a] + (m + 0.5) * pitch) < seg.x1 - 0.2 * em:
                lo, hi = int(x - 0.12 * em), int(x + 0.12 * em) + 1
                lo, hi = max(lo, seg.x0 + 1), min(hi, seg.x1 - 1)
                if hi > lo:
                    out.append(lo + int(np.argmin(counts[lo:hi])))
                m += 1
    return out


def glued_mark_splits(graph: CutGraph, geo: list[tuple[int, int]],
                      cands: dict[Box, list[tuple[str, float]]], mask: np.ndarray,
                      band: tuple[float, float] | None, sure_prob: float) -> list[int]:
    """Columns where a raised mark (a quote) touches the glyph beside it in an unsure glyph.

    Some faces set “ and ” proportionally, so an opening quote can touch the glyph it opens (“理
    in wqy-zenhei) and make one segment with it, off the pitch grid; its columns hold ink only
    in the top of the text band, the glyph's reach down. An unsure glyph is split where such a
    run of columns, 0.1-0.45 em wide, ends its first segment or starts its last, with at least
    0.15 em of the glyph beyond it (at the column of least ink there: the stroke where they
    touch goes with the glyph)."""
    if band is None:
        return []
    em = graph.em
    top, bottom = band
    band_h = bottom - top
    inked = mask.any(axis=0)
    # lowest ink row per column (-1: none)
    lowest = np.where(inked, mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0), -1)
    counts = mask.sum(axis=0)
    near = max(1, int(round(0.1 * em)))  # the columns where the two touch
    reach = max(near, int(round(0.25 * em)))  # the glyph's first columns

    def after_mark(counts: np.ndarray, lowest: np.ndarray, x0: int, x1: int, end: int
                   ) -> int | None:
        """The split after a mark that starts segment x0..x1 of a glyph ending at `end`."""
        raised = lowest[x0:x1] <= top + 0.45 * band_h  # or no ink
        if raised.all():
            return None
        x = x0 + int(np.argmin(raised))
        if not (0.1 * em <= x - x0 <= 0.45 * em and end - x >= 0.15 * em):
            return None
        # a mark, not the tip of a stroke or a slash's upper end: solid (as tall as a quote),
        # joined to the glyph by a thin bridge, and the glyph beside it reaches well below it
        solid = int(counts[x0:x].max())
        if (solid < 0.15 * band_h or counts[x - near:x + near].min() > 0.5 * solid
                or lowest[x:x + reach].max() - lowest[x0:x].max() < 0.25 * band_h):
            return None
        return x - near + int(np.argmin(counts[x - near:x]))

    width = mask.shape[1]
    out: list[int] = []
    for i, j in geo:
        box = graph.box(i, j)
        if _top_prob(cands[box]) >= sure_prob:
            continue
        first, last = graph.segments[i], graph.segments[j - 1]
        x = after_mark(counts, lowest, first.x0, first.x1, box[2])
        if x is not None:
            out.append(x)
        # a closing mark: the same in the mirrored line
        x = after_mark(counts[::-1], lowest[::-1], width - last.x1, width - last.x0,
                       width - box[0])
        if x is not None:
            out.append(width - x)
    return out


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _with_spaces(glyphs: list[GlyphResult], em: float, gap: float) -> str:
    """The glyph characters, with a space where two Latin/digit glyphs stand apart."""
    out = []
    for k, g in enumerate(glyphs):
        if k and _is_latin(g.char) and _is_latin(glyphs[k - 1].char):
            if g.box[0] - glyphs[k - 1].box[2] > gap * em:
                out.append(" ")
        out.append(g.char)
    return "".join(out)


# -- the default reader ---------------------------------------------------------------------
class LMDecoder:
    """`decode_line` with a fixed character LM and weight (a `LineDecoder`); the weight defaults
    to `lm_decode.DEFAULT_LM_WEIGHT` (the measured best)."""

    def __init__(self, lm: Any, lm_weight: float | None = None) -> None:
        from .lm_decode import DEFAULT_LM_WEIGHT

        self.lm = lm
        self.lm_weight = DEFAULT_LM_WEIGHT if lm_weight is None else lm_weight

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
