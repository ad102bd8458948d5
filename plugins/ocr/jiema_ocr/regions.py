"""Text regions: connected components of each layer, filtered and grouped into text lines.

Per layer (see `layering`), `scipy.ndimage.label` finds the components. Components of a
plausible glyph-part size are *seeds*; seeds that sit side by side at a similar height are
linked into lines (union-find). A line is kept when it looks like text: a few seeds of similar
height, a stroke-like fill, not one isolated blob — which rejects backgrounds, the holes inside
characters and the drawn picture of a banner. Small components (punctuation, the dot of an `i`,
一) are then attached to the line whose band they fall in. The same line found in two layers
(anti-aliased edges) is kept once, and the lines are ordered top-to-bottom, left-to-right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .layering import Layers

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
log = logging.getLogger("jiema.ocr")


class RegionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_height: int = Field(6, ge=1, description="smallest seed height, px")
    max_layer_fraction: float = Field(0.6, gt=0, le=1, description="layers holding more of the "
                                                                  "pixels are ground, skipped")
    min_line_height: int = Field(12, ge=1, description="smallest line height, px (after the "
                                                       "upscale of small images)")
    max_height_fraction: float = Field(0.97, gt=0, le=1)
    min_blob_thickness: float = Field(3.5, ge=0, description="px; thinner is never a blob")
    min_contrast: float = Field(
        1.35, ge=0, description="|ink - ground| (medians) / (their standard deviations summed)")
    refine: bool = Field(True, description="add back thin strokes nearer the ink level than "
                                           "the ground that touch the line's ink")
    min_isolation: float = Field(
        0.7, ge=0, le=1, description="share of the layer's ink in a line's box that is the line's")
    max_line_fill: float = Field(0.85, gt=0, le=1, description="median seed fill of a line")
    min_line_fill: float = Field(0.08, ge=0)
    link_gap: float = Field(1.2, gt=0, description="max gap between seeds, x their height")
    row_gap: float = Field(2.0, gt=0, description="groups of seeds in one row this close (x "
                                                  "their height, punctuation in the gap not "
                                                  "counted) are one line")
    link_overlap: float = Field(0.7, gt=0, le=1, description="vertical overlap, x smaller h")
    height_ratio: float = Field(0.5, gt=0, le=1, description="min h_small / h_large to link")
    min_attach_area: int = Field(3, ge=1)
    # an opening mark after a closing one can end a line more than an em past the last ink
    # (。（ and ，“: each mark is drawn at the far side of its cell). The reach was 1.1 before.
    # Fresh renders, line errors on seeds 80+81 and banner errors on seed 82: 98 / 37 at 1.1,
    # 93 / 36 at 1.5, 87 / 43 at 1.8. Only marks that no glyph follows join from that far
    # (picture bits before a banner line did).
    trailing_mark_reach: float = Field(
        1.5, gt=0, description="marks this far past a line's right end (x line height) join it")
    max_height_spread: float = Field(1.6, gt=1, description="tallest seed / median seed")
    dedupe_overlap: float = Field(0.3, ge=0, le=1)
    layer_runs: bool = Field(
        True, description="also look for lines in runs of adjacent layers ending at the far end "
                          "from the ground (thin anti-aliased strokes spread one text colour "
                          "over several layers)")
    max_stroke: float = Field(
        0.14, gt=0, description="a line's ink area / boundary length limit, x line height")
    max_blob: float = Field(
        0.17, gt=0, description="a component's ink area / boundary length limit, x its size "
                                "(a disc: 0.25, blurred bold strokes: ~0.12)")


@dataclass
class TextLine:
    """A text line found in one layer. `mask` is the line's own ink (its components only)."""

    box: Box
    layer: int
    mask: np.ndarray  # bool, the box's size
    height: float  # ink height of the line, px
    text_level: float  # mean gray of the ink
    background_level: float  # median gray around it
    score: float = 0.0
    components: list[Box] = field(default_factory=list)
    core: Box | None = None  # the box of the seeds alone, without the marks attached to them

    @property
    def light_text(self) -> bool:
        return self.text_level > self.background_level


@dataclass
class _Comps:
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    area: np.ndarray

    @property
    def h(self) -> np.ndarray:
        return self.y1 - self.y0

    @property
    def w(self) -> np.ndarray:
        return self.x1 - self.x0


def _components(mask: np.ndarray) -> tuple[np.ndarray, _Comps]:
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    slices = ndimage.find_objects(labels)
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    y0 = np.array([s[0].start for s in slices], dtype=np.int64)
    y1 = np.array([s[0].stop for s in slices], dtype=np.int64)
    x0 = np.array([s[1].start for s in slices], dtype=np.int64)
    x1 = np.array([s[1].stop for s in slices], dtype=np.int64)
    return labels, _Comps(x0, y0, x1, y1, area)


def _link_seeds(c: _Comps, seeds: np.ndarray, bridges: np.ndarray, marks: np.ndarray,
                opts: RegionOptions) -> list[list[int]]:
    """Groups of seeds standing side by side at a similar height (pairwise tests, vectorised,
    then connected components of the link graph)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(seeds)
    h = c.h.astype(np.float64)
    x0, y0, x1, y1 = _stacked_units(c, seeds)
    hs = (y1 - y0).astype(np.float64)
    small = np.minimum(hs[:, None], hs[None, :])
    large = np.maximum(hs[:, None], hs[None, :])
    overlap = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    gap = np.maximum(x0[None, :] - x1[:, None], x0[:, None] - x1[None, :])
    linked = ((small >= opts.height_ratio * large) & (overlap >= opts.link_overlap * small)
              & (gap <= opts.link_gap * large))
    rows, cols = np.nonzero(np.triu(linked, 1))
    extra_r = extra_c = np.zeros(0, dtype=np.int64)
    # small components (punctuation, 一) bridge the seeds on either side of them
    if len(bridges):
        bgap = np.maximum(x0[None, :] - c.x1[bridges][:, None],
                          c.x0[bridges][:, None] - x1[None, :])
        near = ((c.y0[bridges][:, None] >= y0[None, :] - 0.1 * hs[None, :])
                & (c.y1[bridges][:, None] <= y1[None, :] + 0.15 * hs[None, :])
                & (bgap <= opts.link_gap * hs[None, :])
                & (h[bridges][:, None] <= 0.6 * hs[None, :]))
        near = near[near.sum(axis=1) >= 2]
        if len(near):
            # only seeds of one row: each must overlap the tallest near seed vertically
            anchor = np.where(near, hs[None, :], -1.0).argmax(axis=1)
            ov = (np.minimum(y1[None, :], y1[anchor][:, None])
                  - np.maximum(y0[None, :], y0[anchor][:, None]))
            row = (near & (ov >= opts.link_overlap * hs[None, :])
                   & (hs[None, :] >= opts.height_ratio * hs[anchor][:, None]))
            k, extra_c = np.nonzero(row)
            extra_r = anchor[k]
    r = np.concatenate([rows, extra_r])
    cc = np.concatenate([cols, extra_c])
    graph = coo_matrix((np.ones(len(r)), (r, cc)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for pos in np.argsort(x0, kind="stable"):
        groups.setdefault(int(comp[pos]), []).append(int(seeds[pos]))
    return _merge_row_groups(c, list(groups.values()), marks, opts)


def _stacked_units(c: _Comps, seeds: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per seed, the box it links by: its own, or with the flat seed stacked right above or
    below it when the two make one square glyph (the halves of 会, 条, 吕). Alone, either
    half is too low to link to the full-height glyphs beside it."""
    x0, y0, x1, y1 = (a[seeds].copy() for a in (c.x0, c.y0, c.x1, c.y1))
    w, h = x1 - x0, y1 - y0
    flat = np.flatnonzero(h < 0.75 * w)
    if len(flat) < 2:
        return x0, y0, x1, y1
    fx0, fy0, fx1, fy1, fw, fh = x0[flat], y0[flat], x1[flat], y1[flat], w[flat], h[flat]
    shared = np.minimum(fx1[:, None], fx1[None, :]) - np.maximum(fx0[:, None], fx0[None, :])
    gap = np.maximum(fy0[None, :] - fy1[:, None], fy0[:, None] - fy1[None, :])
    ux0 = np.minimum(fx0[:, None], fx0[None, :])
    ux1 = np.maximum(fx1[:, None], fx1[None, :])
    uy0 = np.minimum(fy0[:, None], fy0[None, :])
    uy1 = np.maximum(fy1[:, None], fy1[None, :])
    pair = ((shared >= 0.6 * np.minimum(fw[:, None], fw[None, :]))
            & (gap <= 0.25 * np.maximum(fh[:, None], fh[None, :]))
            & (uy1 - uy0 <= 1.3 * (ux1 - ux0)) & (uy1 - uy0 >= 0.7 * (ux1 - ux0)))
    np.fill_diagonal(pair, False)
    for a, b in zip(*np.nonzero(np.triu(pair, 1)), strict=True):
        for k in (flat[a], flat[b]):
            x0[k], y0[k] = min(x0[k], ux0[a, b]), min(y0[k], uy0[a, b])
            x1[k], y1[k] = max(x1[k], ux1[a, b]), max(y1[k], uy1[a, b])
    return x0, y0, x1, y1


def _merge_row_groups(c: _Comps, groups: list[list[int]], marks: np.ndarray,
                      opts: RegionOptions) -> list[list[int]]:
    """Join groups of one row split by a character made of small pieces (会, 二, 心) or by
    punctuation: same band, similar height, a gap under `row_gap` x their height (not counting
    small components standing in the gap), or boxes lying over each other (one broken line).
    All pairs are tested at once (the covered-gap test only for each group's nearest same-row
    neighbour); merged groups are tested again until nothing merges."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(groups) < 2:
        return groups
    bx0, bx1 = c.x0[marks], c.x1[marks]
    bcy = (c.y0[marks] + c.y1[marks]) / 2
    groups = [list(g) for g in groups]
    boxes = np.array([[c.x0[g].min(), c.y0[g].min(), c.x1[g].max(), c.y1[g].max()]
                      for g in (np.asarray(gr) for gr in groups)], dtype=np.int64)
    while len(groups) > 1:
        x0, y0, x1, y1 = boxes.T
        h, n = y1 - y0, len(groups)
        small = np.minimum(h[:, None], h[None, :])
        large = np.maximum(h[:, None], h[None, :])
        overlap = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
        inter = (np.maximum(overlap, 0)
                 * np.maximum(np.minimum(x1[:, None], x1[None, :])
                              - np.maximum(x0[:, None], x0[None, :]), 0))
        area = h * (x1 - x0)
        stacked = inter >= 0.3 * np.minimum(area[:, None], area[None, :])
        idx = np.arange(n)
        right = (x0[None, :] > x0[:, None]) | ((x0[None, :] == x0[:, None])
                                                & (idx[None, :] > idx[:, None]))
        same = right & (small >= 0.6 * large) & (stacked | (overlap >= opts.link_overlap * small))
        gap = x0[None, :] - x1[:, None]
        limit = opts.row_gap * large
        ok = same & (stacked | (gap <= limit))
        far = same & ~ok
        for i in np.flatnonzero(far.any(axis=1) & ~ok.any(axis=1)):
            j = int(np.flatnonzero(far[i])[np.argmin(x0[far[i]])])  # the nearest to the right
            top, bottom = max(y0[i], y0[j]), min(y1[i], y1[j])
            inside = (bx1 > x1[i]) & (bx0 < x0[j]) & (bcy >= top) & (bcy <= bottom)
            if gap[i, j] - _covered(bx0[inside], bx1[inside], int(x1[i]), int(x0[j])) \
                    <= limit[i, j]:  # punctuation in the gap (a comma, a dash) does not count
                ok[i, j] = True
        if not ok.any():
            break
        rows, cols = np.nonzero(ok)
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        count, comp = connected_components(graph, directed=False)
        merged: list[list[int]] = [[] for _ in range(count)]
        new_boxes = np.zeros((count, 4), dtype=np.int64)
        new_boxes[:, :2] = np.iinfo(np.int64).max
        new_boxes[:, 2:] = np.iinfo(np.int64).min
        for k in np.argsort(x0, kind="stable"):
            t = comp[k]
            merged[t].extend(groups[k])
            new_boxes[t, :2] = np.minimum(new_boxes[t, :2], boxes[k, :2])
            new_boxes[t, 2:] = np.maximum(new_boxes[t, 2:], boxes[k, 2:])
        groups, boxes = merged, new_boxes
    return groups


def find_lines(gray: np.ndarray, layers: Layers, options: RegionOptions | None = None
               ) -> list[TextLine]:
    """Text lines of a uint8 gray image over all its layers, in reading order."""
    opts = options or RegionOptions()
    layer_of = layers.label(gray)
    candidates: list[TextLine] = []
    if layers.count < 2:
        return []
    fractions = layers.fractions()
    for k in range(layers.count):
        if fractions[k] > opts.max_layer_fraction:
            continue  # the ground: text never covers most of an image
        mask = layer_of == k
        candidates.extend(_lines_in_layer(gray, mask, k, opts))
    if opts.layer_runs:
        for lo, hi in layer_runs(fractions, opts.max_layer_fraction):
            mask = (layer_of >= lo) & (layer_of <= hi)
            candidates.extend(_lines_in_layer(gray, mask, lo if hi == layers.count - 1 else hi,
                                              opts))
    kept = _absorb_fragments(_dedupe(candidates, opts))
    return order_lines(kept)


def layer_runs(fractions: np.ndarray, max_fraction: float) -> list[tuple[int, int]]:
    """Runs `(first, last)` of two or more adjacent layers from the ground (the largest layer)
    outwards to the darkest or the lightest layer: the ink of a thin light stroke on a dark
    ground is its core's layer plus the anti-aliased levels between it and the ground."""
    count = len(fractions)
    if count < 3:
        return []
    ground = int(np.argmax(fractions))
    runs = [(k, count - 1) for k in range(ground + 1, count - 1)]
    runs += [(0, k) for k in range(1, ground)]
    return [(a, b) for a, b in runs if float(np.sum(fractions[a:b + 1])) <= max_fraction]


def _absorb_fragments(lines: list[TextLine]) -> list[TextLine]:
    """A small 'line' in the band of a larger one of the same layer, right next to it (a
    punctuation mark broken by noise), becomes part of it."""
    out: list[TextLine] = []
    for line in sorted(lines, key=lambda ln: -ln.height):
        for big in out:
            b, s = big.box, line.box
            near = s[0] <= b[2] + big.height and s[2] >= b[0] - big.height
            inside = s[1] >= b[1] - 0.1 * big.height and s[3] <= b[3] + 0.15 * big.height
            if (big.layer == line.layer and line.height < 0.5 * big.height and near
                    and inside and len(line.components) <= 3):
                _merge_into(big, line)
                break
        else:
            out.append(line)
    return out


def _merge_into(big: TextLine, small: TextLine) -> None:
    b, s = big.box, small.box
    box = (min(b[0], s[0]), min(b[1], s[1]), max(b[2], s[2]), max(b[3], s[3]))
    mask = np.zeros((box[3] - box[1], box[2] - box[0]), dtype=bool)
    mask[b[1] - box[1]:b[3] - box[1], b[0] - box[0]:b[2] - box[0]] |= big.mask
    mask[s[1] - box[1]:s[3] - box[1], s[0] - box[0]:s[2] - box[0]] |= small.mask
    big.box, big.mask = box, mask
    big.components = big.components + small.components


def _lines_in_layer(gray: np.ndarray, mask: np.ndarray, layer: int, opts: RegionOptions
                    ) -> list[TextLine]:
    H, W = gray.shape
    if not mask.any():
        return []
    labels, c = _components(mask)
    if len(c.area) == 0:
        return []
    h, w = c.h, c.w
    fill = c.area / np.maximum(h * w, 1)
    big_background = (h >= opts.max_height_fraction * H) & (w >= 0.5 * W)
    thick = _thickness(mask, labels, c)
    blob = (thick > opts.max_blob * np.maximum(h, w)) & (thick > opts.min_blob_thickness)
    seeds = np.flatnonzero(
        (h >= opts.min_height)
        & (h < opts.max_height_fraction * H)
        & ~big_background
        & ~blob
        & (w <= 4 * h + 2)
    )
    if len(seeds) == 0 or len(seeds) > 1500:
        return []
    lines = []
    # small components: marks (a solid dot or quote too) narrow the gap between two groups of a
    # row; bridges, the ones that are not blobs, also link the seeds on either side of them
    marks = np.flatnonzero((h <= 0.6 * h[seeds].max()) & (c.area >= max(opts.min_attach_area, 4))
                           & (fill > 0.05))
    if len(marks) > 20 * len(seeds) + 50:
        marks = marks[:0]  # a noise field: bridging would chain everything together
    bridges = marks[~blob[marks]]
    rows: list[tuple[np.ndarray, set[int], float]] = []
    for group in _link_seeds(c, seeds, bridges, marks, opts):
        g = np.array(group)
        if len(g) == 1:  # most groups: a lone component, settled without the group tests
            i = int(g[0])
            if not opts.min_line_fill <= fill[i] <= opts.max_line_fill:
                _why(layer, g, c, f"median fill {fill[i]:.2f}")
                continue
            if not _lone_glyph_ok(int(h[i]), int(w[i]), float(fill[i]), H, W):
                _why(layer, g, c, "a lone component")
                continue
        gh = h[g]
        med = _quantile(_column_heights(c, g), 0.8)  # seeds stacked in a column: one glyph
        keep = g[gh <= opts.max_height_spread * med]  # a picture part beside the text
        if len(keep) == 0:
            continue
        g = keep
        g = _trim_edge_slivers(c, g, fill)
        if med < 0.5 * float(c.y1[g].max() - c.y0[g].min()):
            _why(layer, g, c, "texture: small bits over a tall area")
            continue  # small bits chained over a tall area: texture or noise, not a line
        gfill = _quantile(fill[g], 0.5)
        if not (opts.min_line_fill <= gfill <= opts.max_line_fill):
            _why(layer, g, c, f"median fill {gfill:.2f}")
            continue
        big = int(g[np.argmax(c.area[g] / np.maximum(fill[g], 1e-6))])  # the largest box
        gx0, gy0, gx1, gy1 = c.x0[g].min(), c.y0[g].min(), c.x1[g].max(), c.y1[g].max()
        dominant = h[big] * w[big] >= 0.8 * (gx1 - gx0) * (gy1 - gy0)
        if (len(g) == 1 or dominant) and not _lone_glyph_ok(int(h[big]), int(w[big]),
                                                             float(fill[big]), H, W):
            _why(layer, g, c, "a lone component")
            continue  # the isolated-region test
        if len(_column_heights(c, g)) == 1 and not _lone_glyph_ok(
                int(gy1 - gy0), int(gx1 - gx0),
                float(c.area[g].sum()) / max(int((gx1 - gx0) * (gy1 - gy0)), 1), H, W):
            _why(layer, g, c, "a lone glyph column")
            continue  # parts stacked in one column (a ring over a triangle) are one "glyph"
        x0, y0 = int(c.x0[g].min()), int(c.y0[g].min())
        x1, y1 = int(c.x1[g].max()), int(c.y1[g].max())
        line_h = y1 - y0
        if line_h < opts.min_line_height:
            continue
        members = set(int(i) for i in g)
        start, reach = x0, x1
        for _ in range(8):  # marks in a row at either end (———, ”。, a leading ，“) reach on
            attached = _attachments(c, (start, y0, reach, y1), line_h,
                                    np.fromiter(members, dtype=np.int64), blob, opts)
            grown = not attached <= members  # the rest of a glyph under a part just taken
            members |= attached
            ends = [i for i in attached if (c.x0[i] < start or c.x1[i] > reach)
                    and _reaches(c, i, line_h, y0, y1)]
            new_start = min((int(c.x0[i]) for i in ends), default=start)
            new_reach = max((int(c.x1[i]) for i in ends), default=reach)
            if new_start >= start and new_reach <= reach and not grown:
                break
            start, reach = min(start, new_start), max(reach, new_reach)
        rows.append((g, members, med))
    for g, members, med in _join_shared(c, rows):
        mx0 = min(int(c.x0[i]) for i in members)
        mx1 = max(int(c.x1[i]) for i in members)
        my0 = min(int(c.y0[i]) for i in members)
        my1 = max(int(c.y1[i]) for i in members)
        box = (mx0, my0, mx1, my1)
        line_h = int(c.y1[g].max() - c.y0[g].min())
        sub = labels[my0:my1, mx0:mx1]
        lut = np.zeros(len(c.area) + 1, dtype=bool)
        lut[np.fromiter(members, dtype=np.int64) + 1] = True
        own = lut[sub]
        if own.sum() < opts.min_isolation * mask[my0:my1, mx0:mx1].sum():
            _why(layer, g, c, "not isolated")
            continue  # the isolated-region test: the layer's other ink crowds the box
        if _stroke_width(own) > opts.max_stroke * line_h:
            _why(layer, g, c, "blobs")
            continue  # blobs (a picture's shapes), not pen strokes
        crop = gray[my0:my1, mx0:mx1]
        ink = crop[own]
        text_level = float(ink.mean())
        others = crop[~mask[my0:my1, mx0:mx1]]
        bg_level = _median_u8(others) if others.size else 255.0 - text_level
        if others.size:
            spread = float(ink.std()) + float(others.std()) + 1e-6
            if abs(_median_u8(ink) - bg_level) < opts.min_contrast * spread:
                _why(layer, g, c, f"contrast {abs(_median_u8(ink) - bg_level) / spread:.2f}")
                continue  # ink and ground differ no more than each varies: noise, texture
        if opts.refine:
            own = _refine(crop, own, text_level, bg_level)
        # the same line found in several layers (or runs of layers) is kept where it is most
        # complete: inked columns, glyph height, and the contrast of its strongest ink (a run
        # holding a stroke's core and its anti-aliased edge is as strong as the core alone)
        coverage = float(np.count_nonzero(own.any(axis=0))) / max(line_h, 1)
        core = _quantile_u8(crop[own], 0.8 if text_level > bg_level else 0.2)
        score = coverage * med * (abs(core - bg_level) / 255.0) ** 2
        comps = [(int(c.x0[i]), int(c.y0[i]), int(c.x1[i]), int(c.y1[i])) for i in sorted(members)]
        seed_box = (int(c.x0[g].min()), int(c.y0[g].min()), int(c.x1[g].max()),
                    int(c.y1[g].max()))
        lines.append(TextLine(box, layer, own, float(line_h), text_level, bg_level, score, comps,
                              seed_box))
    return lines


def _join_shared(c: _Comps, rows: list[tuple[np.ndarray, set[int], float]]
                 ) -> list[tuple[np.ndarray, set[int], float]]:
    """Groups of one row that took in the same component (a dense glyph or a mark between
    them, reached from both sides) are one line: joined, not kept as two overlapping copies.
    Groups of two rows, or a line and a taller picture, sharing a component stay apart."""
    out: list[tuple[np.ndarray, set[int], float]] = []
    for g, members, med in rows:
        ay0, ay1 = int(c.y0[g].min()), int(c.y1[g].max())
        for k, (og, om, omed) in enumerate(out):
            by0, by1 = int(c.y0[og].min()), int(c.y1[og].max())
            band = min(ay1, by1) - max(ay0, by0)
            if members & om and band >= 0.6 * max(ay1 - ay0, by1 - by0):
                out[k] = (np.union1d(og, g), om | members, max(omed, med))
                break
        else:
            out.append((g, members, med))
    if len(out) < len(rows):
        return _join_shared(c, out)
    return out


def _covered(x0: np.ndarray, x1: np.ndarray, lo: int, hi: int) -> int:
    """How much of [lo, hi) the intervals [x0, x1) cover."""
    if len(x0) == 0:
        return 0
    cover = np.zeros(max(hi - lo, 0), dtype=bool)
    for a, b in zip(x0, x1, strict=True):
        cover[max(int(a) - lo, 0):max(int(b) - lo, 0)] = True
    return int(cover.sum())


def _column_heights(c: _Comps, g: np.ndarray) -> np.ndarray:
    """Heights of the glyphs a group of seeds makes, counting seeds stacked one above the other
    (the top and bottom of 要, 思, 只) as one glyph."""
    order = g[np.argsort(c.x0[g], kind="stable")]
    heights: list[int] = []
    x0 = x1 = y0 = y1 = -1
    for i in order:
        a, b = int(c.x0[i]), int(c.x1[i])
        if heights and min(b, x1) - max(a, x0) >= 0.5 * min(b - a, x1 - x0):
            y0, y1 = min(y0, int(c.y0[i])), max(y1, int(c.y1[i]))
            x0, x1 = min(x0, a), max(x1, b)
            heights[-1] = y1 - y0
        else:
            x0, x1, y0, y1 = a, b, int(c.y0[i]), int(c.y1[i])
            heights.append(y1 - y0)
    return np.asarray(heights)


def _refine(crop: np.ndarray, own: np.ndarray, text_level: float, bg_level: float
            ) -> np.ndarray:
    """The line's ink with the thin strokes the layer boundary cut off (the hairlines of a Ming
    face, a blurred stroke): pixels nearer the ink level than the ground level, in pieces that
    touch the line's own ink. Kept only when it adds less than the ink itself."""
    from scipy import ndimage

    mid = (text_level + bg_level) / 2.0
    near = crop < mid if text_level < bg_level else crop > mid
    labels, n = ndimage.label(near | own, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return own
    touching = np.zeros(n + 1, dtype=bool)
    touching[np.unique(labels[own])] = True
    touching[0] = False
    refined = touching[labels]
    return refined if refined.sum() <= 2 * own.sum() else own


def _why(layer: int, g: np.ndarray, c: _Comps, reason: str) -> None:
    """Say at debug level why a candidate line was dropped (`logging.getLogger("jiema.ocr")`)."""
    if log.isEnabledFor(logging.DEBUG):
        box = (int(c.x0[g].min()), int(c.y0[g].min()), int(c.x1[g].max()), int(c.y1[g].max()))
        log.debug("layer %d: candidate line %s (%d seeds) dropped: %s", layer, box, len(g),
                  reason)


def _trim_edge_slivers(c: _Comps, g: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Drop a thin solid bar standing apart at either end of a line: the anti-aliased edge of
    a picture beside the text, not a glyph (a `1` or `l` sits close to its neighbours)."""
    g = g[np.argsort(c.x0[g], kind="stable")]
    line_h = float(c.y1[g].max() - c.y0[g].min())
    while len(g) > 2:
        changed = False
        for end, other in ((0, 1), (-1, -2)):
            i, j = g[end], g[other]
            gap = c.x0[j] - c.x1[i] if end == 0 else c.x0[i] - c.x1[j]
            if c.w[i] < 0.25 * line_h and fill[i] > 0.7 and gap > 0.5 * line_h:
                g = g[1:] if end == 0 else g[:-1]
                changed = True
                break
        if not changed:
            break
    return g


def _thickness(mask: np.ndarray, labels: np.ndarray, c: _Comps) -> np.ndarray:
    """Per component: ink area / boundary length (about half the stroke width; a disc of
    diameter d gives d / 4)."""
    m = np.pad(mask, 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    boundary = np.bincount(labels[mask & ~inner], minlength=len(c.area) + 1)[1:]
    return c.area / np.maximum(boundary, 1)


def _stroke_width(mask: np.ndarray) -> float:
    """Half the typical stroke width, as ink area / boundary length (a stroke of width s and
    length L: s L / 2 L = s / 2; a disc of radius r: r / 2)."""
    m = np.pad(mask, 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    area = int(mask.sum())
    boundary = area - int(inner.sum())
    return area / max(boundary, 1) if area else 0.0


def _quantile(values: np.ndarray, q: float) -> float:
    """A quantile of a small array (nearest rank; np.percentile costs more than the sort)."""
    v = np.sort(values)
    return float(v[int(round(q * (len(v) - 1)))])


def _median_u8(values: np.ndarray) -> float:
    return _quantile_u8(values, 0.5)


def _quantile_u8(values: np.ndarray, q: float) -> float:
    """A quantile of uint8 values by their histogram (no sort)."""
    counts = np.cumsum(np.bincount(values.ravel(), minlength=256))
    return float(np.searchsorted(counts, q * counts[-1]))


def _lone_glyph_ok(h: int, w: int, fill: float, H: int, W: int) -> bool:
    """A line of one glyph (h x w, ink fill) passes only when it is most of the image (a
    one-glyph crop) and looks like a glyph; a lone blob in a larger image is a picture."""
    if h < 0.4 * H or w < 0.4 * W:
        return False
    return 0.25 <= w / max(h, 1) <= 2.5 and 0.1 <= fill <= 0.6


def _attachments(c: _Comps, box: Box, line_h: int, members: np.ndarray, blob: np.ndarray,
                 opts: RegionOptions) -> set[int]:
    """Small components in the line's band: punctuation, dots, the bar of 一; the parts of a
    glyph stacked above or below a member (the 日 of 是, the 覀 of 要), whatever their ink area,
    since the seeds beside them are too tall to link to them; and any glyph-sized component
    between the line's seeds."""
    x0, y0, x1, y1 = box
    cy = (c.y0 + c.y1) / 2
    small = (c.h < opts.min_height) | (c.h <= 0.6 * line_h)
    in_band = (
        (c.area >= opts.min_attach_area)
        & small
        & (cy >= y0) & (cy <= y1)
        & (c.y0 >= y0 - 0.1 * line_h) & (c.y1 <= y1 + 0.15 * line_h)
        & (c.w <= 1.1 * line_h)
    )
    marks = in_band & (c.area <= 0.15 * line_h * line_h)
    near = marks & (c.x1 >= x0 - 1.1 * line_h) & (c.x0 <= x1 + 1.1 * line_h)
    # further past the right end, only marks that end the text: no glyph follows them in the
    # line's rows (a picture's bits before more text do not join)
    reach = x1 + opts.trailing_mark_reach * line_h
    far = marks & (c.x0 > x1 + 1.1 * line_h) & (c.x0 <= reach)
    if far.any():
        glyphs = ((c.y1 > y0) & (c.y0 < y1) & (c.x0 > x1) & (c.x0 <= reach + 1.1 * line_h)
                  & ((c.h > 0.6 * line_h) | (c.area > 0.15 * line_h * line_h)
                     | ((c.h >= 0.45 * line_h) & (c.w >= 0.45 * line_h))) & ~far)
        if not glyphs.any():
            near |= far
    # a glyph between the line's seeds that failed the blob test (blurred bold 建): inside the
    # line nothing but text stands
    glyph_sized = ((c.area >= opts.min_attach_area) & (cy >= y0) & (cy <= y1)
                   & (c.y0 >= y0 - 0.1 * line_h) & (c.y1 <= y1 + 0.15 * line_h)
                   & (c.w <= 1.3 * line_h))
    near |= glyph_sized & (c.x0 >= x0) & (c.x1 <= x1)
    # ... or right at either end, as tall as the line
    near |= (glyph_sized & (c.h >= 0.75 * line_h)
             & (((c.x0 >= x1) & (c.x0 <= x1 + 0.6 * line_h))
                | ((c.x1 <= x0) & (c.x1 >= x0 - 0.6 * line_h))))
    # a dash of two or three em (——, drawn as one solid bar) at mid-height, inside the line or
    # starting right at either end; solid allows one row of anti-aliasing (a 1 px bar with a
    # half-inked row beside it filled half its box and was lost)
    mid = (cy >= y0 + 0.3 * (y1 - y0)) & (cy <= y0 + 0.7 * (y1 - y0))
    near |= ((c.area >= opts.min_attach_area) & mid & (c.h <= 0.2 * line_h)
             & (c.w > 1.1 * line_h) & (c.w <= 4.5 * line_h)
             & (c.area >= 0.7 * c.w * np.maximum(c.h - 1, 1))
             & (c.x0 <= x1 + 0.6 * line_h) & (c.x1 >= x0 - 0.6 * line_h))
    cand = np.flatnonzero(in_band & ~near & ~blob & (c.x1 > x0 - line_h) & (c.x0 < x1 + line_h))
    if len(cand) and len(members):
        mx0, mx1 = c.x0[members], c.x1[members]
        shared = (np.minimum(c.x1[cand][:, None], mx1[None, :])
                  - np.maximum(c.x0[cand][:, None], mx0[None, :]))
        stacked = (shared >= 0.5 * c.w[cand][:, None]).any(axis=1)
        near[cand[stacked]] = True
    return set(int(i) for i in np.flatnonzero(near))


def _reaches(c: _Comps, i: int, line_h: int, y0: int, y1: int) -> bool:
    """Whether an attached component at a line's end carries the line on to the next mark
    beyond it: a dash, a quote, a colon's dot or a whole glyph does; a speck of noise is too
    small, and a part of a glyph (another sizeable part shares its columns in the line's band)
    waits until the rest of its glyph is taken in."""
    if not (c.area[i] >= 0.02 * line_h * line_h and max(c.h[i], c.w[i]) >= 0.15 * line_h):
        return False
    shared = np.minimum(c.x1, c.x1[i]) - np.maximum(c.x0, c.x0[i])
    over = (shared >= 0.5 * c.w[i]) & (c.y1 > y0) & (c.y0 < y1) & (c.h >= 0.3 * line_h)
    over[i] = False
    return not bool(over.any())


def box_area(b: Box) -> int:
    """Pixels of a box (0 for an empty one)."""
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def box_overlap(a: Box, b: Box) -> int:
    """Pixels two boxes share."""
    return box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _dedupe(lines: list[TextLine], opts: RegionOptions) -> list[TextLine]:
    """The best-scoring copy of each line. A row of text that overlaps a better "line" only
    where that one took in things beyond its seeds (a picture reaching into the text beside
    it) is kept, and the picture is cut back to its own side."""
    kept: list[TextLine] = []
    for line in sorted(lines, key=lambda ln: -ln.score):
        limit = opts.dedupe_overlap
        clash = [k for k in kept if box_overlap(line.box, k.box)
                 > limit * min(box_area(line.box), box_area(k.box))]
        cuts = [(k, side) for k in clash if (side := _side_beyond_core(k, line, limit))]
        if len(cuts) == len(clash):
            for k, side in cuts:
                _cut_back(k, line.box, side)
            kept.append(line)
    return kept


def _side_beyond_core(big: TextLine, line: TextLine, limit: float) -> str | None:
    """The end of `big`'s seeds ("right" or "left") that `line` stands wholly past, barely
    touching them, where `big` is one tall shape (a picture: its seeds no wider than two of
    its heights) and `line` a row of smaller text; None otherwise."""
    core = big.core
    if core is None or (box_overlap(line.box, core)
                        > limit * min(box_area(line.box), box_area(core))):
        return None
    core_h = core[3] - core[1]
    if core[2] - core[0] > 2 * core_h or line.box[3] - line.box[1] > 0.6 * core_h:
        return None
    if line.box[0] >= core[2] - 0.25 * big.height:
        return "right"
    if line.box[2] <= core[0] + 0.25 * big.height:
        return "left"
    return None


def _cut_back(big: TextLine, box: Box, side: str) -> None:
    """Cut `big` back to the columns on its seeds' side of `box`."""
    x0, y0, x1, y1 = big.box
    core = big.core or big.box
    if side == "right":
        cut = min(x1, max(core[2], box[0]))
        big.mask = big.mask[:, :cut - x0]
        big.box = (x0, y0, cut, y1)
        big.components = [b for b in big.components if b[0] < cut]
    else:
        cut = max(x0, min(core[0], box[2]))
        big.mask = big.mask[:, cut - x0:]
        big.box = (cut, y0, x1, y1)
        big.components = [b for b in big.components if b[2] > cut]


def order_lines(lines: list[TextLine]) -> list[TextLine]:
    """Top-to-bottom; lines sharing a row (vertical overlap over half the lower one) left to
    right."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        for row in rows:
            ref = row[0].box
            overlap = min(ref[3], line.box[3]) - max(ref[1], line.box[1])
            if overlap > 0.5 * min(ref[3] - ref[1], line.box[3] - line.box[1]):
                row.append(line)
                break
        else:
            rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.box[0])]
