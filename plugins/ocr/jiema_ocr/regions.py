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

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .layering import Layers

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


class RegionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_height: int = Field(6, ge=1, description="smallest seed height, px")
    max_height_fraction: float = Field(0.97, gt=0, le=1)
    max_seed_fill: float = Field(0.9, gt=0, le=1, description="solid blocks are not strokes")
    max_line_fill: float = Field(0.72, gt=0, le=1, description="median seed fill of a line")
    min_line_fill: float = Field(0.08, ge=0)
    link_gap: float = Field(1.2, gt=0, description="max gap between seeds, x their height")
    link_overlap: float = Field(0.7, gt=0, le=1, description="vertical overlap, x smaller h")
    height_ratio: float = Field(0.5, gt=0, le=1, description="min h_small / h_large to link")
    min_attach_area: int = Field(3, ge=1)
    max_height_spread: float = Field(1.6, gt=1, description="tallest seed / median seed")
    dedupe_overlap: float = Field(0.3, ge=0, le=1)
    max_stroke: float = Field(0.14, gt=0, description="stroke half-width limit, x line height")


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


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _link_seeds(c: _Comps, seeds: np.ndarray, bridges: np.ndarray, opts: RegionOptions
                ) -> list[list[int]]:
    """Union-find over seeds standing side by side at a similar height; groups of seeds."""
    idx = seeds[np.argsort(c.x0[seeds], kind="stable")]
    plist = list(range(len(c.area)))
    h = c.h
    for a_pos, a in enumerate(idx):
        reach = c.x1[a] + opts.link_gap * h[a]
        for b in idx[a_pos + 1:]:
            if c.x0[b] > reach + opts.link_gap * h[b]:
                break
            ha, hb = h[a], h[b]
            small, large = min(ha, hb), max(ha, hb)
            if small < opts.height_ratio * large:
                continue
            overlap = min(c.y1[a], c.y1[b]) - max(c.y0[a], c.y0[b])
            if overlap < opts.link_overlap * small:
                continue
            gap = c.x0[b] - c.x1[a]
            if gap > opts.link_gap * large:
                continue
            ra, rb = _find(plist, int(a)), _find(plist, int(b))
            if ra != rb:
                plist[max(ra, rb)] = min(ra, rb)
    # small components (punctuation, 一) bridge the seeds on either side of them
    if len(bridges):
        sy0, sy1, sx0, sx1, sh = c.y0[idx], c.y1[idx], c.x0[idx], c.x1[idx], h[idx]
        for b in bridges:
            gap = np.maximum(sx0 - c.x1[b], c.x0[b] - sx1)
            near = idx[
                (c.y0[b] >= sy0 - 0.1 * sh) & (c.y1[b] <= sy1 + 0.15 * sh)
                & (gap <= opts.link_gap * sh) & (h[b] <= 0.6 * sh)
            ]
            if len(near) < 2:
                continue
            # only seeds of one row: each must overlap the tallest of them vertically
            anchor = near[np.argmax(h[near])]
            overlap = np.minimum(c.y1[near], c.y1[anchor]) - np.maximum(c.y0[near],
                                                                        c.y0[anchor])
            row = near[(overlap >= opts.link_overlap * h[near])
                       & (h[near] >= opts.height_ratio * h[anchor])]
            for s in row:
                ra, rb = _find(plist, int(anchor)), _find(plist, int(s))
                if ra != rb:
                    plist[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in idx:
        groups.setdefault(_find(plist, int(i)), []).append(int(i))
    return list(groups.values())


def find_lines(gray: np.ndarray, layers: Layers, options: RegionOptions | None = None
               ) -> list[TextLine]:
    """Text lines of a uint8 gray image over all its layers, in reading order."""
    opts = options or RegionOptions()
    layer_of = layers.label(gray)
    candidates: list[TextLine] = []
    if layers.count < 2:
        return []
    for k in range(layers.count):
        mask = layer_of == k
        candidates.extend(_lines_in_layer(gray, mask, k, opts))
    kept = _dedupe(candidates, opts)
    return order_lines(kept)


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
    seeds = np.flatnonzero(
        (h >= opts.min_height)
        & (h < opts.max_height_fraction * H)
        & ~big_background
        & (fill <= opts.max_seed_fill)
        & (w <= 4 * h + 2)
    )
    if len(seeds) == 0 or len(seeds) > 5000:
        return []
    lines = []
    bridges = np.flatnonzero((h <= 0.6 * h[seeds].max()) & (c.area >= max(opts.min_attach_area, 4))
                             & (fill > 0.05))
    if len(bridges) > 20 * len(seeds) + 50:
        bridges = bridges[:0]  # a noise field: bridging would chain everything together
    for group in _link_seeds(c, seeds, bridges, opts):
        g = np.array(group)
        gh = h[g]
        med = float(np.median(gh))
        keep = g[gh <= opts.max_height_spread * med]  # a picture part beside the text
        if len(keep) == 0:
            continue
        g = keep
        gfill = float(np.median(fill[g]))
        if not (opts.min_line_fill <= gfill <= opts.max_line_fill):
            continue
        if len(g) == 1 and not _lone_glyph_ok(c, int(g[0]), fill, H, W):
            continue  # the isolated-region test
        x0, y0 = int(c.x0[g].min()), int(c.y0[g].min())
        x1, y1 = int(c.x1[g].max()), int(c.y1[g].max())
        line_h = y1 - y0
        if line_h < opts.min_height:
            continue
        members = set(int(i) for i in g)
        members |= _attachments(c, (x0, y0, x1, y1), line_h, seeds, opts)
        mx0 = min(int(c.x0[i]) for i in members)
        mx1 = max(int(c.x1[i]) for i in members)
        my0 = min(int(c.y0[i]) for i in members)
        my1 = max(int(c.y1[i]) for i in members)
        box = (mx0, my0, mx1, my1)
        sub = labels[my0:my1, mx0:mx1]
        lut = np.zeros(len(c.area) + 1, dtype=bool)
        lut[np.fromiter(members, dtype=np.int64) + 1] = True
        own = lut[sub]
        if _stroke_width(own) > opts.max_stroke * line_h:
            continue  # blobs (a picture's shapes), not pen strokes
        crop = gray[my0:my1, mx0:mx1]
        text_level = float(crop[own].mean())
        others = crop[~mask[my0:my1, mx0:mx1]]
        bg_level = float(np.median(others)) if others.size else 255.0 - text_level
        coverage = float(np.sum(w[g])) / max(line_h, 1)
        score = coverage * med * (1.0 + abs(text_level - bg_level) / 255.0)
        comps = [(int(c.x0[i]), int(c.y0[i]), int(c.x1[i]), int(c.y1[i])) for i in sorted(members)]
        lines.append(TextLine(box, layer, own, float(line_h), text_level, bg_level, score, comps))
    return lines


def _stroke_width(mask: np.ndarray) -> float:
    """Half the typical stroke width: the 90th percentile of the distance to the nearest
    non-ink pixel, over the ink."""
    from scipy.ndimage import distance_transform_edt

    dist = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    values = dist[mask]
    return float(np.percentile(values, 90)) if values.size else 0.0


def _lone_glyph_ok(c: _Comps, i: int, fill: np.ndarray, H: int, W: int) -> bool:
    """A line of one component passes only when it is most of the image (a one-glyph crop)
    and looks like a glyph; a lone blob in a larger image is a picture, not text."""
    h, w = int(c.h[i]), int(c.w[i])
    if h < 0.4 * H or w < 0.25 * W:
        return False
    return 0.25 <= w / max(h, 1) <= 2.5 and 0.1 <= fill[i] <= 0.6


def _attachments(c: _Comps, box: Box, line_h: int, seeds: np.ndarray, opts: RegionOptions
                 ) -> set[int]:
    """Small components in the line's band: punctuation, dots, the bar of 一."""
    x0, y0, x1, y1 = box
    cy = (c.y0 + c.y1) / 2
    small = (c.h < opts.min_height) | (c.h <= 0.6 * line_h)
    near = (
        (c.area >= opts.min_attach_area)
        & small
        & (cy >= y0) & (cy <= y1)
        & (c.y0 >= y0 - 0.1 * line_h) & (c.y1 <= y1 + 0.15 * line_h)
        & (c.x1 >= x0 - 0.7 * line_h) & (c.x0 <= x1 + 0.7 * line_h)
        & (c.w <= 1.1 * line_h) & (c.area <= 0.15 * line_h * line_h)
    )
    return set(int(i) for i in np.flatnonzero(near))


def _area(b: Box) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _overlap(a: Box, b: Box) -> int:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _dedupe(lines: list[TextLine], opts: RegionOptions) -> list[TextLine]:
    kept: list[TextLine] = []
    for line in sorted(lines, key=lambda ln: -ln.score):
        if all(_overlap(line.box, k.box) <= opts.dedupe_overlap * min(_area(line.box),
                                                                      _area(k.box))
               for k in kept):
            kept.append(line)
    return kept


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
