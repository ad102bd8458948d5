"""Glyph cutting: split a text line into character boxes.

The column projection of the line's ink gives *segments* (runs of inked columns). A Chinese
character can be several segments (川, 明, 好: left-right parts with thin gaps) and several
characters can touch (one wide segment), so segments are regrouped by dynamic programming with a
geometric cost built on the fact that printed hanzi are square, about one em wide: a group of
segments close to one em wide is cheap, a lone narrow segment costs a little (digits, Latin
letters, punctuation are narrow but legitimate), a group wider than an em or with a wide gap
inside is not allowed. Short narrow pieces (digits, Latin, punctuation) do not merge easily.

`cut_graph` exposes every allowed group with its geometric cost, so a caller holding a
classifier can choose the cut with recognition scores too (`best_cut(..., extra_cost=...)`,
`best_recognised_cut`), and split unsure glyphs further where the line's pitch or a raised mark
says two glyphs touch (`pitch_grid_splits`, `glued_mark_splits`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in the line mask's coordinates


class CutOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    em_per_height: float = Field(1.05, gt=0, description="em / line ink height")
    max_group_width: float = Field(1.15, gt=0, description="x em")
    max_inner_gap: float = Field(0.3, ge=0, description="x em")
    # 州 prints as five column runs (丿 丶 丨 丶 丨); at 4 it was read as 忡| (dev lines 46 -> 43)
    max_group: int = Field(6, ge=1, description="segments per glyph at most")
    narrow: float = Field(0.7, gt=0, description="segments narrower than this x em are narrow")
    tall: float = Field(0.88, gt=0, description="taller than this x line height: a hanzi part")
    narrow_cost: float = Field(0.2, ge=0, description="a short narrow glyph standing alone")
    tall_narrow_cost: float = Field(0.35, ge=0, description="a tall narrow piece standing alone")
    piece_cost: float = Field(0.1, ge=0, description="per extra segment in a group")
    # 0.3 measured on dev renders (seeds 77-79): line / banner errors 73 / 130 at 0.5, 69 / 122
    # at 0.3 (a 化 of two short halves read whole), lines worse again at 0.15
    short_group_cost: float = Field(0.3, ge=0, description="a group made of short pieces only")
    mark: float = Field(0.45, gt=0, description="pieces lower than this x line height are "
                                                "marks (dots, quotes, commas)")
    mark_cost: float = Field(0.5, ge=0, description="a group ending in a mark at the top or the "
                                                    "bottom of the line (a quote, a comma)")
    split_width: float = Field(1.25, gt=0, description="segments wider than this x em are split")
    soft_split: float | None = Field(
        0.75, gt=0, description="low segments wider than this x em are split in two as well "
                                "(the cut may still keep them whole)")
    tall_soft_split: float | None = Field(
        1.0, gt=0, description="any segment wider than this x em is split in two too (a glyph "
                               "touching a part of the next); kept whole unless recognition "
                               "prefers the halves")
    min_ink: int = Field(1, ge=1, description="ink pixels that make a column count as inked")


# Geometry of the cut, widths x em and heights x line height unless stated. Set by hand while
# developing on rendered lines; no per-value error counts were recorded (the measured ones are
# `CutOptions` fields, with their numbers).
HANZI_INK_WIDTH = 0.95  # a hanzi's usual ink width (its em box less the side bearings)
WIDER_COST_FACTOR = 2.0  # a group wider than a hanzi costs this much more than a narrower one
SPLIT_SEARCH = 0.25  # a wide segment is split at the lightest column within this of its target
SPLIT_MIN_PX = 2  # ... leaving at least this many columns on either side
ROUND_DIGIT_SHIFT = 0.15  # a split this far from the middle may be inside a bowl (00, 30)
BAND_SEGMENT_HEIGHT = 0.75  # segments this tall span the text band a dash is placed in
DASH_ROWS = (0.3, 0.7)  # a dash's centre sits in this middle part of the band
DASH_MAX_HEIGHT = 0.2  # a dash is a thin bar
DASH_SPECK = 0.15  # noise this small (both sides) inside a run of dash pieces is skipped
DASH_MAX_GAP = 0.3  # pieces of one dash lie at most this far apart
DASH_MIN_LENGTH = 1.6  # a run this long is a dash of two em or more (——)
DASH_MIN_INK = 0.8  # ... and inked over at least this share of its length
LINE_HEIGHT_QUANTILE = 0.9  # the line's height: this quantile of its segment heights
MARK_GROUP_MAX_WIDTH = 0.6  # a group of marks only (“ :) is at most this wide, unless dots (…)
LOW_MARK_TOP = 0.55  # a mark whose top is below this (x line height) is a low mark (a comma)
HIGH_MARK_BOTTOM = 0.45  # a mark whose bottom is above this is a high mark (a quote)
DOT_ROW_MIN_DOTS = 3  # an ellipsis: at least this many dots ...
DOT_ROW_MAX_SPREAD = 0.1  # ... with centres at most this far apart vertically ...
ELLIPSIS_DOT_MAX = 0.25  # ... each at most this wide and high


@dataclass(frozen=True)
class Segment:
    x0: int
    x1: int
    y0: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class CutGraph:
    """Segments of a line and the allowed groups `(i, j, geometric cost)` (segments i..j-1)."""

    segments: list[Segment]
    groups: list[tuple[int, int, float]]
    em: float
    line_height: float
    parents: list[int] | None = None  # per segment, the column run it was split from

    def box(self, i: int, j: int) -> Box:
        segs = self.segments[i:j]
        return (segs[0].x0, min(s.y0 for s in segs), segs[-1].x1, max(s.y1 for s in segs))


def column_segments(mask: np.ndarray, min_ink: int = 1) -> list[Segment]:
    """Runs of columns holding ink, each with its ink rows."""
    if mask.size == 0:
        return []
    counts = mask.sum(axis=0)
    inked = counts >= min_ink
    if not inked.any():
        return []
    edges = np.diff(np.concatenate([[0], inked.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = []
    for a, b in zip(starts, stops, strict=True):
        rows_any = mask[:, a:b].any(axis=1)
        ys = np.flatnonzero(rows_any)
        out.append(Segment(int(a), int(b), int(ys[0]), int(ys[-1]) + 1))
    return out


def split_wide(mask: np.ndarray, segments: list[Segment], em: float, split_width: float = 1.25,
               soft_width: float | None = None, tall_height: float | None = None,
               tall_soft_width: float | None = None, mark_height: float = 0.0
               ) -> tuple[list[Segment], list[int]]:
    """Split segments wider than `split_width` em (touching characters) at the lightest column
    near each multiple of the expected width; with `soft_width`, also split in two a segment
    lower than `tall_height` px and wider than `soft_width` em (two touching digits or
    letters — or one wide low glyph such as 一 or 四, which the cut may reassemble), and with
    `tall_soft_width` any segment wider than that (a glyph touching half of the next).
    A low segment split in two, at least `mark_height` px high (no bar or row of dots), is also
    split in its middle when that is far from the lightest column. Returns the pieces and, per
    piece, the index of the segment it came from."""
    out: list[Segment] = []
    parents: list[int] = []
    counts = mask.sum(axis=0)
    for p, seg in enumerate(segments):
        if em <= 0:
            n = 1
        elif seg.width > split_width * em:
            n = max(2, int(round(seg.width / (HANZI_INK_WIDTH * em))))
        elif (soft_width is not None and tall_height is not None
              and seg.width > soft_width * em and seg.height < tall_height):
            n = 2
        elif tall_soft_width is not None and seg.width > tall_soft_width * em:
            n = 2  # a glyph touching half of the next (也 + the 亻 of 们): the cut may rejoin
        else:
            n = 1
        if n == 1:
            out.append(seg)
            parents.append(p)
            continue
        cuts = [seg.x0]
        for k in range(1, n):
            target = seg.x0 + k * seg.width / n
            lo = int(max(cuts[-1] + SPLIT_MIN_PX, target - SPLIT_SEARCH * em))
            hi = int(min(seg.x1 - SPLIT_MIN_PX, target + SPLIT_SEARCH * em))
            if hi <= lo:
                continue
            at = lo + int(np.argmin(counts[lo:hi]))
            middle = int(round(target))
            if (n == 2 and mark_height <= seg.height < (tall_height or 0.0)
                    and abs(at - middle) > ROUND_DIGIT_SHIFT * em):
                # two touching round digits (00, 30) are lightest inside their bowls, not where
                # they touch: offer the middle too; the cut regroups the three pieces
                cuts += sorted((at, middle))
            else:
                cuts.append(at)
        cuts.append(seg.x1)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            ys = np.flatnonzero(mask[:, a:b].any(axis=1))
            if ys.size:
                out.append(Segment(a, b, int(ys[0]), int(ys[-1]) + 1))
                parents.append(p)
    return out, parents


def tall_band(segments: list[Segment], min_height: float, outer: float = 50.0
              ) -> tuple[float, float] | None:
    """Top and bottom of the segments at least `min_height` high (None when none is): the
    rows a line's full-height glyphs span. `outer` is the percentile taken outwards (the
    `100 - outer`th of the tops, the `outer`th of the bottoms); 50 is the median of both."""
    tall = [s for s in segments if s.height >= min_height]
    if not tall:
        return None
    return (float(np.percentile([s.y0 for s in tall], 100.0 - outer)),
            float(np.percentile([s.y1 for s in tall], outer)))


def join_dash_runs(segments: list[Segment], em: float, line_h: float) -> list[Segment]:
    """A run of thin bars at mid-height, together at least 1.6 em long (a dash such as ——,
    which the fonts draw as one bar, perhaps broken by noise into pieces and specks), as that
    many em-wide segments: the lightest-column split of a uniform bar is arbitrary."""
    rows = tall_band(segments, BAND_SEGMENT_HEIGHT * line_h) if em > 0 else None
    if rows is None:
        return segments
    top, bottom = rows
    band = (top + DASH_ROWS[0] * (bottom - top), top + DASH_ROWS[1] * (bottom - top))

    def bar(s: Segment) -> bool:
        return s.height <= DASH_MAX_HEIGHT * line_h and band[0] <= (s.y0 + s.y1) / 2 <= band[1]

    def speck(s: Segment) -> bool:
        return s.width <= DASH_SPECK * em and s.height <= DASH_SPECK * em

    out: list[Segment] = []
    k = 0
    while k < len(segments):
        if not bar(segments[k]) or speck(segments[k]):
            out.append(segments[k])
            k += 1
            continue
        j = k + 1  # extend over bars and specks within the bar's rows, closely spaced
        while (j < len(segments) and segments[j].x0 - segments[j - 1].x1 <= DASH_MAX_GAP * em
               and (bar(segments[j]) or speck(segments[j]))):
            j += 1
        while j > k + 1 and speck(segments[j - 1]):
            j -= 1  # a run ends on a bar
        run = segments[k:j]
        x0, x1 = run[0].x0, run[-1].x1
        inked = sum(s.width for s in run if not speck(s))
        n = int(round((x1 - x0) / em))
        if (x1 - x0) < DASH_MIN_LENGTH * em or inked < DASH_MIN_INK * (x1 - x0):
            out.extend(run)
        else:
            y0, y1 = min(s.y0 for s in run), max(s.y1 for s in run)
            edges = [int(round(x0 + q * (x1 - x0) / n)) for q in range(n + 1)]
            out.extend(Segment(a, b, y0, y1) for a, b in zip(edges[:-1], edges[1:], strict=True))
        k = j
    return out


def line_height(segments: list[Segment]) -> float:
    """The height of the line's characters: a high percentile of the segment heights (a comma
    below the baseline or a quote above it does not stretch it)."""
    if not segments:
        return 0.0
    heights = np.array([s.height for s in segments], dtype=np.float64)
    heights.sort()
    return float(heights[int(round(LINE_HEIGHT_QUANTILE * (len(heights) - 1)))])


def cut_graph(mask: np.ndarray, options: CutOptions | None = None) -> CutGraph:
    """Segments of the line mask and every allowed regrouping with its geometric cost."""
    opts = options or CutOptions()
    raw = column_segments(mask, opts.min_ink)
    line_h = line_height(raw)
    em = line_h * opts.em_per_height
    raw = join_dash_runs(raw, em, line_h)
    segs, parents = split_wide(mask, raw, em, opts.split_width, opts.soft_split,
                               opts.tall * line_h, opts.tall_soft_split, opts.mark * line_h)
    return _graph(segs, parents, em, line_h, opts)


def split_at(graph: CutGraph, mask: np.ndarray, xs: list[int],
             options: CutOptions | None = None) -> CutGraph:
    """The graph with its segments also split at columns `xs` (each piece keeps its segment's
    parent, so the whole segment is still one group at its old cost)."""
    opts = options or CutOptions()
    parents = graph.parents or list(range(len(graph.segments)))
    segs: list[Segment] = []
    out_parents: list[int] = []
    for seg, parent in zip(graph.segments, parents, strict=True):
        cuts = [seg.x0, *sorted(x for x in set(xs) if seg.x0 + 1 < x < seg.x1 - 1), seg.x1]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            ys = np.flatnonzero(mask[:, a:b].any(axis=1))
            if ys.size:
                segs.append(Segment(a, b, int(ys[0]), int(ys[-1]) + 1))
                out_parents.append(parent)
    return _graph(segs, out_parents, graph.em, graph.line_height, opts)


def _graph(segs: list[Segment], parents: list[int], em: float, line_h: float,
           opts: CutOptions) -> CutGraph:
    groups: list[tuple[int, int, float]] = []
    for i in range(len(segs)):
        for j in range(i + 1, min(len(segs), i + opts.max_group) + 1):
            if j > i + 1 and parents[i] == parents[j - 1]:
                # pieces of one split segment (all of them: the segment itself), costed as one
                # segment; a low one about an em wide is as likely two digits or letters side
                # by side as one glyph, like a low group of several segments
                whole_seg = Segment(segs[i].x0, segs[j - 1].x1, min(s.y0 for s in segs[i:j]),
                                    max(s.y1 for s in segs[i:j]))
                cost = _group_cost([whole_seg], em, line_h, opts)
                cost = 1.0 if cost is None else cost
                if (opts.mark * line_h <= whole_seg.height < opts.tall * line_h
                        and whole_seg.width >= opts.narrow * em):  # not a bar such as 一
                    cost += opts.short_group_cost
                groups.append((i, j, cost))
                continue
            cost = _group_cost(segs[i:j], em, line_h, opts)
            if cost is None:
                if j > i + 1:
                    break  # wider groups only get worse
                cost = 1.0  # a lone segment is always allowed
            groups.append((i, j, cost))
    return CutGraph(segs, groups, em, line_h, parents)


def _group_cost(segs: list[Segment], em: float, line_h: float, opts: CutOptions
                ) -> float | None:
    width = segs[-1].x1 - segs[0].x0
    if em <= 0:
        return 0.0
    tall = max(s.height for s in segs) >= opts.tall * line_h
    if len(segs) == 1:
        if width < opts.narrow * em:
            return opts.tall_narrow_cost if tall else opts.narrow_cost
        return _width_cost(width / em)
    if width > opts.max_group_width * em:
        return None
    gaps = [b.x0 - a.x1 for a, b in zip(segs[:-1], segs[1:], strict=True)]
    if max(gaps) > opts.max_inner_gap * em:
        return None
    small = [s.height < opts.mark * line_h for s in segs]
    if all(small):  # the two marks of a quote, a colon drawn as two pieces, the dots of …
        if width > MARK_GROUP_MAX_WIDTH * em and not _dot_row(segs, em):
            return None
        return opts.narrow_cost + opts.piece_cost * (len(segs) - 1)
    y0, y1 = min(s.y0 for s in segs), max(s.y1 for s in segs)
    cost = _width_cost(width / em) + opts.piece_cost * (len(segs) - 1)
    if not tall and (y1 - y0) < opts.tall * line_h and not any(small):
        cost += opts.short_group_cost  # digits and letters side by side
    for end in (segs[0], segs[-1]):  # punctuation beside a character: a comma, a quote
        if end.height < opts.mark * line_h and (end.y0 >= LOW_MARK_TOP * line_h
                                                 or end.y1 <= HIGH_MARK_BOTTOM * line_h):
            cost += opts.mark_cost
    return cost


def _dot_row(segs: list[Segment], em: float) -> bool:
    """Three or more dots side by side at one height: an ellipsis (…), about an em wide."""
    if len(segs) < DOT_ROW_MIN_DOTS:
        return False
    centers = [(s.y0 + s.y1) / 2 for s in segs]
    return (max(centers) - min(centers) <= DOT_ROW_MAX_SPREAD * em
            and all(s.width <= ELLIPSIS_DOT_MAX * em and s.height <= ELLIPSIS_DOT_MAX * em
                    for s in segs))


def _width_cost(width_em: float) -> float:
    """Distance from a hanzi's usual ink width (0.95 em); wider counts double, since a glyph
    wider than its em box is rarer than a narrow one."""
    d = width_em - HANZI_INK_WIDTH
    return WIDER_COST_FACTOR * d if d > 0 else -d


def best_cut(graph: CutGraph, extra_cost: Callable[[int, int], float] | None = None,
             weight: float = 1.0) -> list[tuple[int, int]]:
    """The cheapest partition of the segments into groups: `weight` x geometric cost, plus
    `extra_cost(i, j)` (e.g. minus the log-probability of the classifier's best guess)."""
    n = len(graph.segments)
    if n == 0:
        return []
    best = np.full(n + 1, np.inf)
    back = np.full(n + 1, -1, dtype=np.int64)
    best[0] = 0.0
    by_end: dict[int, list[tuple[int, float]]] = {}
    for i, j, cost in graph.groups:
        by_end.setdefault(j, []).append((i, cost))
    for j in range(1, n + 1):
        for i, cost in by_end.get(j, ()):
            total = best[i] + weight * cost + (extra_cost(i, j) if extra_cost else 0.0)
            if total < best[j]:
                best[j], back[j] = total, i
    out = []
    j = n
    while j > 0:
        i = int(back[j])
        out.append((i, j))
        j = i
    return out[::-1]


def cut_line(mask: np.ndarray, options: CutOptions | None = None) -> list[Box]:
    """Character boxes of a line (its ink mask), by geometry alone, left to right."""
    graph = cut_graph(mask, options)
    return [graph.box(i, j) for i, j in best_cut(graph)]


# -- recognition cut: the classifier's confidence chooses among the allowed cuts --------------

PROB_FLOOR = 1e-6  # -log of a glyph read with no confidence stays finite
# pitch-grid splits, x em (`OcrOptions.pitch_splits`: its gain measured on fresh renders, seeds
# 80-82; the values below set by hand on those renders, no per-value counts recorded)
PITCH_GLYPH_WIDTH = (0.7, 1.15)  # surely read glyphs this wide set the pitch
PITCH_RANGE = (0.9, 1.35)  # a pitch outside this is no full-width grid
PITCH_STEP_AGREEMENT = 0.05  # steps within this share of the pitch agree with it ...
PITCH_MIN_AGREEING = 0.6  # ... and at least this share of the steps must
PITCH_MIN_SEGMENT = 0.4  # narrower segments are not split on the grid
PITCH_END_MARGIN = 0.2  # boundaries this near a segment's ends are not split at
PITCH_SEARCH = 0.12  # the split is the lightest column within this of the boundary
# glued-mark splits: widths x em, heights x the text band (set by hand on renders of quotes in
# wqy-zenhei, which sets them proportionally; no per-value counts recorded)
GLUED_TOUCH = 0.1  # the columns where a mark and its glyph touch
GLUED_GLYPH_START = 0.25  # the glyph's first columns, past the mark
GLUED_MARK_RAISED = 0.45  # a mark's ink ends above this far down the band
GLUED_MARK_WIDTH = (0.1, 0.45)  # a mark's run of raised columns is this wide
GLUED_GLYPH_BEYOND = 0.15  # at least this much of the glyph lies beyond the mark
GLUED_MARK_MIN_INK = 0.15  # a mark's fullest column holds at least this much ink (solid)
GLUED_BRIDGE = 0.5  # the bridge to the glyph holds under this x the mark's fullest column
GLUED_GLYPH_DROP = 0.25  # the glyph reaches at least this much lower than the mark

def top_prob(cands: list[tuple[str, float]]) -> float:
    return cands[0][1] if cands else 0.0


def best_recognised_cut(graph: CutGraph, cands: dict[Box, list[tuple[str, float]]],
                     weight: float) -> list[tuple[int, int]]:
    """Best cut over the classified groups only (the geometric cut is always among them)."""
    def extra(i: int, j: int) -> float:
        c = cands.get(graph.box(i, j))
        if c is None:
            return math.inf
        return -math.log(max(top_prob(c), PROB_FLOOR))

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
    sure = [top_prob(cands[b]) >= sure_prob for b in boxes]
    lo_w, hi_w = PITCH_GLYPH_WIDTH
    wide = [s and lo_w * em <= b[2] - b[0] <= hi_w * em
            for s, b in zip(sure, boxes, strict=True)]
    centre = [(b[0] + b[2]) / 2 for b in boxes]
    steps = [centre[k + 1] - centre[k] for k in range(len(boxes) - 1) if wide[k] and wide[k + 1]]
    if len(steps) < 2:
        return []
    pitch = float(np.median(steps))
    if (not PITCH_RANGE[0] * em <= pitch <= PITCH_RANGE[1] * em
            or sum(abs(x - pitch) <= PITCH_STEP_AGREEMENT * pitch
                   for x in steps) < PITCH_MIN_AGREEING * len(steps)):
        return []
    anchors = [k for k, w in enumerate(wide) if w]
    counts = mask.sum(axis=0)
    out: list[int] = []
    for k, (i, j) in enumerate(geo):
        if sure[k]:
            continue
        a = min(anchors, key=lambda m: abs(m - k))
        for seg in graph.segments[i:j]:
            if seg.width < PITCH_MIN_SEGMENT * em:
                continue
            # the first boundary in
            m = math.ceil((seg.x0 + PITCH_END_MARGIN * em - centre[a]) / pitch - 0.5)
            while (x := centre[a] + (m + 0.5) * pitch) < seg.x1 - PITCH_END_MARGIN * em:
                lo, hi = int(x - PITCH_SEARCH * em), int(x + PITCH_SEARCH * em) + 1
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
    near = max(1, int(round(GLUED_TOUCH * em)))  # the columns where the two touch
    reach = max(near, int(round(GLUED_GLYPH_START * em)))  # the glyph's first columns

    def after_mark(counts: np.ndarray, lowest: np.ndarray, x0: int, x1: int, end: int
                   ) -> int | None:
        """The split after a mark that starts segment x0..x1 of a glyph ending at `end`."""
        raised = lowest[x0:x1] <= top + GLUED_MARK_RAISED * band_h  # or no ink
        if raised.all():
            return None
        x = x0 + int(np.argmin(raised))
        if not (GLUED_MARK_WIDTH[0] * em <= x - x0 <= GLUED_MARK_WIDTH[1] * em
                and end - x >= GLUED_GLYPH_BEYOND * em):
            return None
        # a mark, not the tip of a stroke or a slash's upper end: solid (as tall as a quote),
        # joined to the glyph by a thin bridge, and the glyph beside it reaches well below it
        solid = int(counts[x0:x].max())
        if (solid < GLUED_MARK_MIN_INK * band_h
                or counts[x - near:x + near].min() > GLUED_BRIDGE * solid
                or lowest[x:x + reach].max() - lowest[x0:x].max() < GLUED_GLYPH_DROP * band_h):
            return None
        return x - near + int(np.argmin(counts[x - near:x]))

    width = mask.shape[1]
    out: list[int] = []
    for i, j in geo:
        box = graph.box(i, j)
        if top_prob(cands[box]) >= sure_prob:
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
