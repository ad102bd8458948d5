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
    from .glyph_crop_kernel import glyph_crop_uint8

    if near_ink is None:
        near_ink = dilate(line.mask)
    text, bg = line.text_level, line.background_level
    if abs(bg - text) < 1:
        bg = text + 1
    x0, y0, x1, y1 = box
    # kept: the glyph's box (a column wider to the left) where the line's ink is or touches;
    # strokes of the neighbours reaching into the margin are not this glyph's, and the line's
    # own ink is ink however faint (a dim dot must not fade out of the glyph)
    return glyph_crop_uint8(gray, line.mask, near_ink, line.box[0], line.box[1], x0, y0, x1, y1,
                            margin, text, bg, INK_CEILING)


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
