"""Glyph crops: the classifier's view of one glyph, cut from the preprocessed line."""

from __future__ import annotations

import numpy as np

from .regions import TextLine
from .results import Box


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
        near_ink = dilate(line.mask)
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


def dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation by shifts (cheaper than a scipy call for one small mask)."""
    m = np.pad(mask, 1)
    out = m.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                out[1:-1, 1:-1] |= m[1 + dy:m.shape[0] - 1 + dy, 1 + dx:m.shape[1] - 1 + dx]
    return out[1:-1, 1:-1]
