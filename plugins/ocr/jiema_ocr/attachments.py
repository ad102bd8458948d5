"""Attachments: the small components a text line takes in beside its seeds (punctuation, dots,
the bar of 一, the stacked parts of a glyph, a dash of two em).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .components import BAND_SLACK_ABOVE, Box, Comps, within_band

if TYPE_CHECKING:
    from .regions import RegionOptions

# Sizes and distances x the line's height (areas x its square). Set while developing the line
# finder on rendered lines and banners; no per-value measurement was recorded unless stated.
MARK_MAX_HEIGHT = 0.6  # a mark (punctuation, a dot, 一) is lower than a glyph
MARK_MAX_WIDTH = 1.1  # ... and no wider than an em and a bit; wider and flat is a dash
MARK_MAX_AREA = 0.15  # ... with less ink than a glyph
# marks this far past either end join the line (the reach of all marks; the trailing ones
# reach `RegionOptions.trailing_mark_reach`, measured on renders, see there)
MARK_REACH = 1.1
FOLLOWING_GLYPH_LOOKAHEAD = 1.1  # how far past a far mark a glyph would show more text follows
GLYPH_MIN_SIDE = 0.45  # a component this tall and wide is a glyph, whatever its ink
GLYPH_MAX_WIDTH = 1.3  # a glyph-sized component inside the line is at most this wide
FULL_HEIGHT = 0.75  # a glyph at an end of the line this tall is as tall as the line
END_REACH = 0.6  # "right at an end of the line": within this of it
END_OVERLAP = 0.75  # a glyph beside the end member sharing this x the lower one's rows is in line
END_GLYPH_MAX_HEIGHT = 1.25  # ... when no taller than the line and its band's slack (0.1 + 0.15)
DASH_BAND = (0.3, 0.7)  # a dash's centre sits in this middle part of the line's height
DASH_MAX_THICKNESS = 0.2  # a dash is a thin bar
DASH_MAX_LENGTH = 4.5  # ... of two or three em (—— or ———), not a rule under the text
DASH_MIN_FILL = 0.7  # ... solid: ink over its box less one anti-aliased row
STACKED_SHARE = 0.5  # a part stacked over another shares at least this much of its width
SPECK_MAX_AREA = 0.02  # a component with less ink (area x line height^2) ...
SPECK_MAX_SIDE = 0.15  # ... or smaller on its longer side is a speck, reaching no further
CAP_MAX_RISE = 0.45  # a glyph's detached top rises at most this far above the band ...
CAP_MAX_GAP = 0.2  # ... and ends at most this far from its top edge, on a label of at most
CAP_MAX_MEMBERS = 4  # this many parts (on any line, the marks of the line above came too)
PART_MIN_HEIGHT = 0.3  # a sizeable part of a glyph sharing the columns of an attached piece


def attachments(c: Comps, box: Box, line_h: int, members: np.ndarray, blob: np.ndarray,
                 opts: RegionOptions) -> set[int]:
    """Small components in the line's band: punctuation, dots, the bar of 一; the parts of a
    glyph stacked above or below a member (the 日 of 是, the 覀 of 要), whatever their ink area,
    since the seeds beside them are too tall to link to them; and any glyph-sized component
    between the line's seeds."""
    x0, y0, x1, y1 = box
    cy = (c.y0 + c.y1) / 2
    small = (c.h < opts.min_height) | (c.h <= MARK_MAX_HEIGHT * line_h)
    in_band = (
        (c.area >= opts.min_attach_area)
        & small
        & (cy >= y0) & (cy <= y1)
        & within_band(c.y0, c.y1, y0, y1, line_h)
        & (c.w <= MARK_MAX_WIDTH * line_h)
    )
    marks = in_band & (c.area <= MARK_MAX_AREA * line_h * line_h)
    near = marks & (c.x1 >= x0 - MARK_REACH * line_h) & (c.x0 <= x1 + MARK_REACH * line_h)
    # further past the right end, only marks that end the text: no glyph follows them in the
    # line's rows (a picture's bits before more text do not join)
    reach = x1 + opts.trailing_mark_reach * line_h
    far = marks & (c.x0 > x1 + MARK_REACH * line_h) & (c.x0 <= reach)
    if far.any():
        glyphs = ((c.y1 > y0) & (c.y0 < y1) & (c.x0 > x1)
                  & (c.x0 <= reach + FOLLOWING_GLYPH_LOOKAHEAD * line_h)
                  & ((c.h > MARK_MAX_HEIGHT * line_h)
                     | (c.area > MARK_MAX_AREA * line_h * line_h)
                     | ((c.h >= GLYPH_MIN_SIDE * line_h) & (c.w >= GLYPH_MIN_SIDE * line_h)))
                  & ~far)
        if not glyphs.any():
            near |= far
    # a glyph between the line's seeds that failed the blob test (blurred bold 建): inside the
    # line nothing but text stands
    glyph_sized = ((c.area >= opts.min_attach_area) & (cy >= y0) & (cy <= y1)
                   & within_band(c.y0, c.y1, y0, y1, line_h)
                   & (c.w <= GLYPH_MAX_WIDTH * line_h))
    near |= glyph_sized & (c.x0 >= x0) & (c.x1 <= x1)
    # ... or right at either end, as tall as the line
    at_right = (c.x0 >= x1) & (c.x0 <= x1 + END_REACH * line_h)
    at_left = (c.x1 <= x0) & (c.x1 >= x0 - END_REACH * line_h)
    near |= glyph_sized & (c.h >= FULL_HEIGHT * line_h) & (at_right | at_left)
    # ... or there on a tilted line, beside the end member (a photo's line climbs: its first
    # glyph stands higher than the line's band allows, blurred 数 left out of 数2686人)
    if len(members):
        tall = ((c.area >= opts.min_attach_area) & (c.w <= GLYPH_MAX_WIDTH * line_h)
                & (c.h >= FULL_HEIGHT * line_h) & (c.h <= END_GLYPH_MAX_HEIGHT * line_h)
                & (cy >= y0) & (cy <= y1))
        for side, end in ((at_left, members[np.argmin(c.x0[members])]),
                          (at_right, members[np.argmax(c.x1[members])])):
            overlap = np.minimum(c.y1, c.y1[end]) - np.maximum(c.y0, c.y0[end])
            near |= tall & side & (overlap >= END_OVERLAP * np.minimum(c.h, c.h[end]))
    # a dash of two or three em (——, drawn as one solid bar) at mid-height, inside the line or
    # starting right at either end; solid allows one row of anti-aliasing (a 1 px bar with a
    # half-inked row beside it filled half its box and was lost)
    mid = (cy >= y0 + DASH_BAND[0] * (y1 - y0)) & (cy <= y0 + DASH_BAND[1] * (y1 - y0))
    near |= ((c.area >= opts.min_attach_area) & mid & (c.h <= DASH_MAX_THICKNESS * line_h)
             & (c.w > MARK_MAX_WIDTH * line_h) & (c.w <= DASH_MAX_LENGTH * line_h)
             & (c.area >= DASH_MIN_FILL * c.w * np.maximum(c.h - 1, 1))
             & (c.x0 <= x1 + END_REACH * line_h) & (c.x1 >= x0 - END_REACH * line_h))
    # the detached top of glyphs whose bodies set the band (丷 of 关, the dot of 闭 in a two-glyph
    # label: 关闭 read 天): just above the band, over a member's columns
    above = ((c.area >= opts.min_attach_area) & (c.y0 < y0 - BAND_SLACK_ABOVE * line_h)
             & (c.y0 >= y0 - CAP_MAX_RISE * line_h) & (c.y1 <= y0 + CAP_MAX_GAP * line_h)
             & (c.y1 >= y0 - CAP_MAX_GAP * line_h) & (c.h <= MARK_MAX_HEIGHT * line_h)
             & (c.x0 >= x0) & (c.x1 <= x1) & (len(members) <= CAP_MAX_MEMBERS))
    cand = np.flatnonzero((in_band | above) & ~near & ~blob & (c.x1 > x0 - line_h)
                          & (c.x0 < x1 + line_h))
    if len(cand) and len(members):
        mx0, mx1 = c.x0[members], c.x1[members]
        shared = (np.minimum(c.x1[cand][:, None], mx1[None, :])
                  - np.maximum(c.x0[cand][:, None], mx0[None, :]))
        stacked = (shared >= STACKED_SHARE * c.w[cand][:, None]).any(axis=1)
        near[cand[stacked]] = True
    return set(int(i) for i in np.flatnonzero(near))


def reaches(c: Comps, i: int, line_h: int, y0: int, y1: int) -> bool:
    """Whether an attached component at a line's end carries the line on to the next mark
    beyond it: a dash, a quote, a colon's dot or a whole glyph does; a speck of noise is too
    small, and a part of a glyph (another sizeable part shares its columns in the line's band)
    waits until the rest of its glyph is taken in."""
    if not (c.area[i] >= SPECK_MAX_AREA * line_h * line_h
            and max(c.h[i], c.w[i]) >= SPECK_MAX_SIDE * line_h):
        return False
    shared = np.minimum(c.x1, c.x1[i]) - np.maximum(c.x0, c.x0[i])
    over = ((shared >= STACKED_SHARE * c.w[i]) & (c.y1 > y0) & (c.y0 < y1)
            & (c.h >= PART_MIN_HEIGHT * line_h))
    over[i] = False
    return not bool(over.any())
