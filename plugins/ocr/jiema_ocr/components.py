"""Connected components of a layer's ink and the measures the line finder takes of them
(boxes, stroke width, quantiles, coverage), plus the band tolerance shared by its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

# How far ink may reach past a line's band and still sit in it, x line height: marks and parts
# of a glyph rise a little above the seeds' tops and drop a little further below their bottoms
# (commas, the tails of descenders). Set by hand with the line finder; no measurement recorded.
BAND_SLACK_ABOVE = 0.1
BAND_SLACK_BELOW = 0.15


def within_band(top: Any, bottom: Any, band_top: Any, band_bottom: Any, height: Any) -> Any:
    """Whether ink from `top` to `bottom` lies in the band `band_top`..`band_bottom` of a line
    `height` high, with the `BAND_SLACK_ABOVE` / `BAND_SLACK_BELOW` tolerance (numbers or
    broadcasting arrays)."""
    return ((top >= band_top - BAND_SLACK_ABOVE * height)
            & (bottom <= band_bottom + BAND_SLACK_BELOW * height))

# seeds sharing this x the narrower one's columns stand in one glyph column (set by hand)
COLUMN_SHARE = 0.5


@dataclass
class Comps:
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


def label_components(mask: np.ndarray) -> tuple[np.ndarray, Comps]:
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    slices = ndimage.find_objects(labels)
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    y0 = np.array([s[0].start for s in slices], dtype=np.int64)
    y1 = np.array([s[0].stop for s in slices], dtype=np.int64)
    x0 = np.array([s[1].start for s in slices], dtype=np.int64)
    x1 = np.array([s[1].stop for s in slices], dtype=np.int64)
    return labels, Comps(x0, y0, x1, y1, area)


def covered(x0: np.ndarray, x1: np.ndarray, lo: int, hi: int) -> int:
    """How much of [lo, hi) the intervals [x0, x1) cover."""
    if len(x0) == 0:
        return 0
    cover = np.zeros(max(hi - lo, 0), dtype=bool)
    for a, b in zip(x0, x1, strict=True):
        cover[max(int(a) - lo, 0):max(int(b) - lo, 0)] = True
    return int(cover.sum())


def column_heights(c: Comps, g: np.ndarray) -> np.ndarray:
    """Heights of the glyphs a group of seeds makes, counting seeds stacked one above the other
    (the top and bottom of 要, 思, 只) as one glyph."""
    order = g[np.argsort(c.x0[g], kind="stable")]
    heights: list[int] = []
    x0 = x1 = y0 = y1 = -1
    for i in order:
        a, b = int(c.x0[i]), int(c.x1[i])
        if heights and min(b, x1) - max(a, x0) >= COLUMN_SHARE * min(b - a, x1 - x0):
            y0, y1 = min(y0, int(c.y0[i])), max(y1, int(c.y1[i]))
            x0, x1 = min(x0, a), max(x1, b)
            heights[-1] = y1 - y0
        else:
            x0, x1, y0, y1 = a, b, int(c.y0[i]), int(c.y1[i])
            heights.append(y1 - y0)
    return np.asarray(heights)


def thickness(mask: np.ndarray, labels: np.ndarray, c: Comps) -> np.ndarray:
    """Per component: ink area / boundary length (about half the stroke width; a disc of
    diameter d gives d / 4)."""
    m = np.pad(mask, 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    boundary = np.bincount(labels[mask & ~inner], minlength=len(c.area) + 1)[1:]
    return c.area / np.maximum(boundary, 1)


def stroke_width(mask: np.ndarray) -> float:
    """Half the typical stroke width, as ink area / boundary length (a stroke of width s and
    length L: s L / 2 L = s / 2; a disc of radius r: r / 2)."""
    m = np.pad(mask, 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    area = int(mask.sum())
    boundary = area - int(inner.sum())
    return area / max(boundary, 1) if area else 0.0


def quantile(values: np.ndarray, q: float) -> float:
    """A quantile of a small array (nearest rank; np.percentile costs more than the sort)."""
    v = np.sort(values)
    return float(v[int(round(q * (len(v) - 1)))])


def median_u8(values: np.ndarray) -> float:
    return quantile_u8(values, 0.5)


def quantile_u8(values: np.ndarray, q: float) -> float:
    """A quantile of uint8 values by their histogram (no sort)."""
    counts = np.cumsum(np.bincount(values.ravel(), minlength=256))
    return float(np.searchsorted(counts, q * counts[-1]))


def box_area(b: Box) -> int:
    """Pixels of a box (0 for an empty one)."""
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def box_overlap(a: Box, b: Box) -> int:
    """Pixels two boxes share."""
    return box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
