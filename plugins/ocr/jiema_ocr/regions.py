"""Text regions: connected components of each layer, filtered and grouped into text lines.

Per layer (see `layering`), `scipy.ndimage.label` finds the components. Components of a
plausible glyph-part size are *seeds*; seeds that sit side by side at a similar height are
linked into lines (`line_linking`). A line is kept when it looks like text: a few seeds of similar
height, a stroke-like fill, not one isolated blob — which rejects backgrounds, the holes inside
characters and the drawn picture of a banner. Small components (punctuation, the dot of an `i`,
一) are then attached to the line whose band they fall in (`attachments`). The same line found
in two layers (anti-aliased edges) is kept once, and the lines are ordered top-to-bottom,
left-to-right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .attachments import MARK_MAX_AREA, MARK_MAX_HEIGHT, MARK_MAX_WIDTH, attachments, reaches
from .components import (
    Box,
    Comps,
    box_area,
    box_overlap,
    column_heights,
    label_components,
    median_u8,
    quantile,
    quantile_u8,
    stroke_width,
    thickness,
    within_band,
)
from .layering import Layers
from .line_linking import join_shared, link_seeds

log = logging.getLogger("jiema.ocr")

# The line finder's tests, sizes x a line's (or seed's) height unless stated. Set by hand while
# developing on rendered lines and banners and the dev images; no per-value error counts were
# recorded (the measured ones are `RegionOptions` fields, with their numbers).
FRAGMENT_MAX_HEIGHT = 0.5  # a 'line' lower than this x a larger one beside it may be a piece
FRAGMENT_MAX_PIECES = 3  # ... of it (a mark broken by noise) when of at most this many parts
GROUND_MIN_WIDTH = 0.5  # x the image's width: a nearly full-height component this wide is ground
# ... and one across most of the image that runs into two of its edges is ground too: the lit
# part of a photographed page under uneven light, which left the text in the other layer
GROUND_SPAN = (0.9, 0.75)  # x the image's width, x its height
SEED_MAX_ASPECT = 4  # a seed is at most this many times as wide as it is high ...
SEED_ASPECT_SLACK_PX = 2  # ... plus this many px
# ... unless it has the ink of touching glyphs (screen text set tight: 已经进入推进 one component
# of 111 x 16 px, fill 0.32, in the shared news screenshot): a rule is nearly solid, a frame
# nearly empty. Set from that fill and the fills of rendered glyph runs (0.25-0.5).
TOUCHING_GLYPHS_FILL = (0.2, 0.6)
MAX_SEEDS = 1500  # more seeds in one layer are noise or texture, not text
ROW_MARK_MAX_HEIGHT = 0.6  # x the tallest seed: components this low are marks in a row
ROW_MARK_MIN_AREA = 4  # px of ink at least (with `min_attach_area`)
ROW_MARK_MIN_FILL = 0.05  # ink over the box at least (no hairline frame)
NOISE_MARKS_PER_SEED = 20  # more marks than this per seed (plus NOISE_MARKS_SLACK) ...
NOISE_MARKS_SLACK = 50  # ... is a noise field: no marks bridge its seeds
GLYPH_HEIGHT_QUANTILE = 0.8  # a line's glyph height: this quantile of its glyph columns
TEXTURE_MAX_HEIGHT = 0.5  # glyphs lower than this x the group's height: texture or noise
DOMINANT_AREA = 0.8  # one component's box covering this much of its group's box dominates it
# A seed whose box holds this many components or more (of `min_attach_area` and `min_height`),
# each under ENCLOSED_MAX_HEIGHT x its height, or ENCLOSING_MIN_PARTS of any height, is a
# picture's region with text set inside it (a poster's dark ground around a light panel of body
# text; the panel itself, holding its text's counters: 40-80 parts, few of them 6 px high), not a
# glyph: 回 or 圆 hold one to five parts, a photographed sign's glyph a dozen specks of texture
# (1-8 px high). As a seed it made a "line" of the whole poster that crowded out its text rows.
ENCLOSING_MIN_SEEDS = 8
ENCLOSING_MIN_PARTS = 30
ENCLOSED_MAX_HEIGHT = 0.5
ENCLOSING_BLOCK = 1 << 22  # candidate-part pairs tested at once (a noise layer has many parts)
# The text in such a panel is cut from its holes midway between the panel's level and this
# quantile of the holes' levels (towards the ink): the strokes' cores, not their edges.
ENCLOSED_INK_QUANTILE = 0.1
# Any component of a layer (a seed or not: a card is too wide and too solid to be one) this many
# x the layer's median seed height wide is tried as a panel; narrower ones cannot hold a row.
PANEL_MIN_WIDTH = 4
# A line whose ink encloses holes of this much of its area is hollow (outlined glyphs): its fill
# is read too. Solid text's counters are 0.01-0.2 of its ink (posters, the real images); an
# outline around its fill about 1.
HOLLOW_MIN_HOLES = 0.6
ATTACH_ROUNDS = 8  # marks in a row at an end of a line are taken in over at most this many rounds
CORE_INK_QUANTILES = (0.8, 0.2)  # a line's strongest ink: this quantile for light / dark ink
REFINE_MAX_GROWTH = 2  # refining keeps at most this x the line's own ink
SLIVER_MAX_WIDTH = 0.25  # a bar at a line's end this narrow ...
SLIVER_MIN_FILL = 0.7  # ... this solid ...
SLIVER_MIN_GAP = 0.5  # ... and this far from the rest is a picture's edge
LONE_GLYPH_MIN_SHARE = 0.4  # a lone glyph fills at least this much of the image's height and width
LONE_GLYPH_ASPECT = (0.25, 2.5)  # ... is this wide for its height ...
LONE_GLYPH_FILL = (0.1, 0.6)  # ... and this solid
PICTURE_MAX_ASPECT = 2  # seeds no wider than this x their height: one tall shape (a picture)
TEXT_BESIDE_MAX_HEIGHT = 0.6  # text beside a picture is lower than this x the picture's seeds
CORE_TOUCH = 0.25  # x the picture's height: text this near its seeds only touches them
ROW_OVERLAP = 0.5  # lines sharing more than this x the lower one's height share a row
# midpoint_ink: where between the ground's level (0) and the ink layer's (1) the extra masks
# split. Dev renders (screen, pages, photo; seeds 103, 211, 307, 60 images a set), errors with
# no extra pass -> 0.5 alone -> 0.5 and 0.3: pages 438/389/547 -> 103/224/248 -> 117/215/215,
# screen 68/37/50 -> 36/32/36 -> 33/27/33; 0.5 alone lost a third of a 13 or 19 px ukai line.
MIDPOINT_FRACTIONS = (0.5, 0.3)
PANEL_FRACTIONS = (0.3,)  # ground-coloured text on a panel (`panel_ink`): split this far from
# the panel's level towards the ground's. The midpoint pass's nearer split, taken over untuned:
# it found all eight white words of an AR PL UKai nav bar (five before); dev renders unchanged
# gray levels: a layer boundary this near a split point splits there already (pages, seed 103:
# 102 errors at 4, 103 at 16, 169 at 32)
MIDPOINT_MIN_GAP = 4
# a flat ground: its layer holds at least this share of its pixels within FLAT_GROUND_LEVELS of
# its peak. Without the test the 0.3 split cost photographed lines 29/30/70 -> 25/36/79 errors
# (seeds as above); at 0.5 photos keep theirs and pages lose none of the gain; 0.8 lost most
# of the JPEG'd pages' gain (547 -> 435 instead of 215)
FLAT_GROUND_SHARE = 0.5
FLAT_GROUND_LEVELS = 3
# a row of this many seeds, no taller than this x the image, is text even at a lower contrast
# (`min_contrast_long`): small anti-aliased light text on a dark page has a wide spread of ink
# levels and failed the 1.35 test a line at a time. Dev renders (seeds 103, 211, 307, 401, 509;
# 60 a set) pages 97/136/126/135/327 -> 97/65/124/106/108 errors, no other set moved, for any
# seeds minimum 4-16 and floor 0.7-1.2; a ground region that passes at 1.2 is image-tall (a
# photographed card's gradient ground, 168 of 180 px) and takes the real line's place.
LONG_LINE_SEEDS = 8
LONG_LINE_MAX_HEIGHT = 0.5


class RegionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_height: int = Field(6, ge=1, description="smallest seed height, px")
    max_layer_fraction: float = Field(0.6, gt=0, le=1, description="layers holding more of the "
                                                                  "pixels are ground")
    min_line_height: int = Field(
        8, ge=1, description="smallest line height, px (after the upscale of small images). "
                             "8, not 10: a chat's 12 px time beside 16 px messages stands 9 px "
                             "high in an image not upscaled; dev renders unchanged")
    max_height_fraction: float = Field(0.97, gt=0, le=1)
    min_blob_thickness: float = Field(3.5, ge=0, description="px; thinner is never a blob")
    min_contrast: float = Field(
        1.35, ge=0, description="|ink - ground| (medians) / (their standard deviations summed)")
    min_contrast_long: float = Field(
        1.0, ge=0, description="min_contrast for a row of many seeds no taller than half the "
                               "image (small anti-aliased text on a dark page)")
    refine: bool = Field(True, description="add back thin strokes nearer the ink level than "
                                           "the ground that touch the line's ink")
    recover_marks: bool = Field(True, description="add back mark-sized pieces nearer the ink "
                                                  "level than the ground inside the line's box "
                                                  "that its layer left out (a faint 。 or ，)")
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
    # a decimal point or a comma at 13 px is 2 px of faint ink (1141.6 read 11416). Dev renders
    # (seeds 103, 211, 307 / 401, 509; 60 a set) at 3 / 2 / 1 px: 374 / 315 / 323 and 318 /
    # 295 / - errors (at 2: pages 77 -> 65, 61 -> 47, 121 -> 88, 108 -> 94, 109 -> 100; lines
    # +2 in all; at 1 specks joined lines 9 and photos 22); `ocr_real_dev` the same
    min_recovered_mark_area: int = Field(
        2, ge=1, description="smallest mark, px, that `recover_marks` adds back to a line")
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
    ground_lines: bool = Field(
        True, description="also look for lines in the ground layers, among the islands of the "
                          "ground's colour that panels hold (white text on a blue button on a "
                          "white page, purple text on a white box on a purple page)")
    midpoint_pass: bool = Field(
        True, description="with one flat ground and one ink layer, also look for lines in the "
                          "pixels past points between the two levels (small light text on a "
                          "dark screen: its layer alone holds only the strokes' cores)")
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
    # the same line found in the other polarity, scoring nearly as well: an outlined title's
    # fill and outline, the one dark on light, the other light on dark (`_dedupe`)
    rival: TextLine | None = None
    # a hollow line's fill (`hollow_fill`): the holes of its ink, read as the ink
    fill: TextLine | None = None

    def copies(self) -> list[TextLine]:
        """The line, and its rival and fill where it has them: a reader reads each and keeps
        the reading it is surer of (`results.surest`)."""
        return [self] + [c for c in (self.rival, self.fill) if c is not None]

    @property
    def light_text(self) -> bool:
        return self.text_level > self.background_level



def find_lines(gray: np.ndarray, layers: Layers, options: RegionOptions | None = None
               ) -> list[TextLine]:
    """Text lines of a uint8 gray image over all its layers, in reading order."""
    opts = options or RegionOptions()
    layer_of = layers.label(gray)
    candidates: list[TextLine] = []
    if layers.count < 2:
        return []
    fractions = layers.fractions()
    panels: list[tuple[Box, np.ndarray]] = []
    for k in range(layers.count):
        if fractions[k] > opts.max_layer_fraction and not opts.ground_lines:
            continue  # text never covers most of an image, but it may share the ground's colour
        candidates.extend(_lines_in_layer(gray, layer_of == k, k, opts, panels))
    if opts.layer_runs:
        for lo, hi in layer_runs(fractions, opts.max_layer_fraction):
            mask = (layer_of >= lo) & (layer_of <= hi)
            candidates.extend(_lines_in_layer(gray, mask, lo if hi == layers.count - 1 else hi,
                                              opts))
    if opts.midpoint_pass:
        passes = midpoint_ink(gray, layers, fractions)
        if opts.ground_lines:
            passes += panel_ink(gray, layers, fractions)
        for mask, ink in passes:
            candidates.extend(_lines_in_layer(gray, mask, ink, opts))
    for mask, ink in enclosed_ink(gray, layers, panels):
        candidates.extend(_lines_in_layer(gray, mask, ink, opts))
    kept = _absorb_fragments(_dedupe(candidates, opts))
    for line in kept:
        line.fill = hollow_fill(gray, line)
    return order_lines(kept)


def hollow_fill(gray: np.ndarray, line: TextLine) -> TextLine | None:
    """The fill of a hollow line (holes of at least `HOLLOW_MIN_HOLES` x its ink) as a copy of
    it: an outlined title whose fill is the colour of the picture behind it is found by its
    outline alone, and glyphs read as outlines read as garbage (各显其能 nothing, read from its
    fill 各显其能 at 0.97-1.0). None for a line of solid strokes."""
    holes = _holes(line.mask)
    count = int(holes.sum())
    if count == 0 or count < HOLLOW_MIN_HOLES * int(line.mask.sum()):
        return None
    x0, y0, x1, y1 = line.box
    level = float(gray[y0:y1, x0:x1][holes].mean())
    return TextLine(line.box, line.layer, holes, line.height, level, line.text_level, line.score,
                    list(line.components), line.core)


def enclosed_ink(gray: np.ndarray, layers: Layers, panels: list[tuple[Box, np.ndarray]]
                 ) -> list[tuple[np.ndarray, int]]:
    """Per panel (a layer's component enclosing text, see `enclosing`: a poster's light card of
    body text, a coloured button), the text set in it as one mask, with the index of the layer
    nearest its ink's level: the holes of the panel, past the level midway between the panel's
    and the holes' darkest (or lightest). Over a picture the ground's colours split a card's
    small text into several layers, each holding broken strokes; the card itself holds them
    whole as its holes."""
    out = []
    for (x0, y0, x1, y1), own in panels:
        holes = _holes(own)
        if not holes.any():
            continue
        crop = gray[y0:y1, x0:x1]
        level = median_u8(crop[own])
        values = crop[holes]
        dark = median_u8(values) < level
        far = quantile_u8(values, ENCLOSED_INK_QUANTILE if dark else 1 - ENCLOSED_INK_QUANTILE)
        cut = (level + far) / 2
        mask = np.zeros(gray.shape, dtype=bool)
        mask[y0:y1, x0:x1] = holes & ((crop < cut) if dark else (crop > cut))
        if mask.any():
            out.append((mask, int(np.argmin(np.abs(layers.maxima.astype(np.float64) - far)))))
    return out


def _holes(mask: np.ndarray) -> np.ndarray:
    """The pixels a mask encloses without covering them (counters, a panel's text)."""
    from scipy import ndimage

    return ndimage.binary_fill_holes(mask) & ~mask


def midpoint_ink(gray: np.ndarray, layers: Layers, fractions: np.ndarray
                 ) -> list[tuple[np.ndarray, int]]:
    """With one flat ground and one other layer: masks of the pixels past points between the
    ground's level and the other layer's (`MIDPOINT_FRACTIONS`), each with that layer's index;
    none otherwise. Small light text on a dark screen is mostly anti-aliased edge pixels spread
    evenly between the two levels, and the density minimum the layering splits at falls next
    to the ink's own level: the layer holds the strokes' cores alone, too broken to be read as
    glyphs. A ground that is not flat (a photo's uneven light, noise) is left to the layers."""
    ground = _flat_two_layer_ground(layers, fractions)
    if ground is None:
        return []
    ink = 1 - ground
    return [(mask, ink) for mask in _split_masks(gray, layers, ground, ink, MIDPOINT_FRACTIONS)]


def panel_ink(gray: np.ndarray, layers: Layers, fractions: np.ndarray
              ) -> list[tuple[np.ndarray, int]]:
    """With one flat ground and one other layer: masks of the pixels past points between the
    other layer's level and the ground's (`PANEL_FRACTIONS`), each with the ground's index.
    The other layer is then often a panel (a dark bar on a white page) whose text has the
    ground's colour: split where the two levels meet, a white 18 px 登录 on a navy bar broke
    into thin pieces; split nearer the panel's level its strokes stay whole."""
    ground = _flat_two_layer_ground(layers, fractions)
    if ground is None:
        return []
    return [(mask, ground) for mask in _split_masks(gray, layers, 1 - ground, ground,
                                                    PANEL_FRACTIONS)]


def _split_masks(gray: np.ndarray, layers: Layers, start: int, end: int,
                 fractions: tuple[float, ...]) -> list[np.ndarray]:
    """Masks of the pixels past points `fractions` of the way from layer `start`'s level to
    layer `end`'s, on `end`'s side; a point within `MIDPOINT_MIN_GAP` of the layering's own
    split is skipped (the layers split there already)."""
    s_level, e_level = float(layers.maxima[start]), float(layers.maxima[end])
    out = []
    for fraction in fractions:
        level = s_level + fraction * (e_level - s_level)
        if abs(float(layers.minima[0]) - level) > MIDPOINT_MIN_GAP:
            out.append((gray > level) if e_level > s_level else (gray < level))
    return out


def _flat_two_layer_ground(layers: Layers, fractions: np.ndarray) -> int | None:
    """The ground layer of a two-layer image when it is flat (`FLAT_GROUND_SHARE` of it within
    `FLAT_GROUND_LEVELS` of its peak); None otherwise."""
    if layers.count != 2:
        return None
    ground = int(np.argmax(fractions))
    peak = int(layers.maxima[ground])
    near_peak = float(layers.histogram[max(0, peak - FLAT_GROUND_LEVELS):
                                       peak + FLAT_GROUND_LEVELS + 1].sum())
    if near_peak < FLAT_GROUND_SHARE * fractions[ground] * float(layers.histogram.sum()):
        return None
    return ground


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
            inside = within_band(s[1], s[3], b[1], b[3], big.height)
            if (big.layer == line.layer and line.height < FRAGMENT_MAX_HEIGHT * big.height and near
                    and inside and len(line.components) <= FRAGMENT_MAX_PIECES):
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


def grounds(c: Comps, H: int, W: int, max_height_fraction: float) -> np.ndarray:
    """Which components of an `H` x `W` layer are ground, never glyphs: nearly full-height and
    `GROUND_MIN_WIDTH` wide, or across `GROUND_SPAN` of the image and running into two of its
    edges. The lit part of a photographed line's ground under uneven light was read as one
    light glyph with the text in its holes: dev renders (seeds 103, 211, 307, 60 a set, all five
    sets) 281 -> 273 errors, that one photo 8 -> 0; photo, banners and lines of seeds 401, 509,
    1201, 1303 and `ocr_real_dev` unchanged."""
    h, w = c.h, c.w
    edges = (c.x0 <= 0).astype(int) + (c.y0 <= 0) + (c.x1 >= W) + (c.y1 >= H)
    return (((h >= max_height_fraction * H) & (w >= GROUND_MIN_WIDTH * W))
            | ((w >= GROUND_SPAN[0] * W) & (h >= GROUND_SPAN[1] * H) & (edges >= 2)))


def enclosing(c: Comps, candidates: np.ndarray, parts: np.ndarray, min_height: int
              ) -> np.ndarray:
    """Which `candidates` enclose much lower components of `parts` in their box (see
    `ENCLOSING_MIN_SEEDS`): that many of at least `min_height`, or `ENCLOSING_MIN_PARTS` of any
    height. Only candidates at least twice the lowest part's height can; they are few."""
    out = np.zeros(len(candidates), dtype=bool)
    h, ph = c.h[candidates], c.h[parts]
    if len(parts) < ENCLOSING_MIN_SEEDS or len(candidates) == 0:
        return out
    tall = np.flatnonzero(h * ENCLOSED_MAX_HEIGHT > ph.min())
    if len(tall) == 0:
        return out
    px0, py0, px1, py1 = (a[parts][None, :] for a in (c.x0, c.y0, c.x1, c.y1))
    high = (ph >= min_height)[None, :]
    step = max(1, ENCLOSING_BLOCK // len(parts))  # candidates at a time: bounded memory
    for s in range(0, len(tall), step):
        t = candidates[tall[s:s + step]][:, None]
        inside = ((px0 >= c.x0[t]) & (px1 <= c.x1[t]) & (py0 >= c.y0[t]) & (py1 <= c.y1[t])
                  & (ph[None, :] < ENCLOSED_MAX_HEIGHT * c.h[t]))
        out[tall[s:s + step]] = (((inside & high).sum(axis=1) >= ENCLOSING_MIN_SEEDS)
                                 | (inside.sum(axis=1) >= ENCLOSING_MIN_PARTS))
    return out


def _lines_in_layer(gray: np.ndarray, mask: np.ndarray, layer: int, opts: RegionOptions,
                    panels: list[tuple[Box, np.ndarray]] | None = None) -> list[TextLine]:
    """The text lines of one layer's (or pass's) mask; `panels`, when given, gets the box and
    own pixels of each wide component found enclosing text (`enclosing`, `PANEL_MIN_WIDTH`)."""
    H, W = gray.shape
    if not mask.any():
        return []
    labels, c = label_components(mask)
    if len(c.area) == 0:
        return []
    h, w = c.h, c.w
    fill = c.area / np.maximum(h * w, 1)
    big_background = grounds(c, H, W, opts.max_height_fraction)
    thick = thickness(mask, labels, c)
    blob = (thick > opts.max_blob * np.maximum(h, w)) & (thick > opts.min_blob_thickness)
    seeds = np.flatnonzero(
        (h >= opts.min_height)
        & (h < opts.max_height_fraction * H)
        & ~big_background
        & ~blob
        & ((w <= SEED_MAX_ASPECT * h + SEED_ASPECT_SLACK_PX)
           | ((fill >= TOUCHING_GLYPHS_FILL[0]) & (fill <= TOUCHING_GLYPHS_FILL[1])))
    )
    if len(seeds) == 0 or len(seeds) > MAX_SEEDS:
        return []
    parts = np.flatnonzero(c.area >= opts.min_attach_area)
    seeds = seeds[~enclosing(c, seeds, parts, opts.min_height)]
    if panels is not None and len(seeds):
        wide = np.flatnonzero(~big_background & (h >= opts.min_height)
                              & (w >= PANEL_MIN_WIDTH * float(np.median(h[seeds]))))
        for i in wide[enclosing(c, wide, parts, opts.min_height)]:
            bx0, by0, bx1, by1 = int(c.x0[i]), int(c.y0[i]), int(c.x1[i]), int(c.y1[i])
            panels.append(((bx0, by0, bx1, by1), labels[by0:by1, bx0:bx1] == i + 1))
    if len(seeds) == 0:
        return []
    lines = []
    # small components: marks (a solid dot or quote too) narrow the gap between two groups of a
    # row; bridges, the ones that are not blobs, also link the seeds on either side of them
    marks = np.flatnonzero((h <= ROW_MARK_MAX_HEIGHT * h[seeds].max())
                           & (c.area >= max(opts.min_attach_area, ROW_MARK_MIN_AREA))
                           & (fill > ROW_MARK_MIN_FILL))
    if len(marks) > NOISE_MARKS_PER_SEED * len(seeds) + NOISE_MARKS_SLACK:
        marks = marks[:0]  # a noise field: bridging would chain everything together
    bridges = marks[~blob[marks]]
    rows: list[tuple[np.ndarray, set[int], float]] = []
    for group in link_seeds(c, seeds, bridges, marks, opts):
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
        # seeds stacked in a column: one glyph
        med = quantile(column_heights(c, g), GLYPH_HEIGHT_QUANTILE)
        keep = g[gh <= opts.max_height_spread * med]  # a picture part beside the text
        if len(keep) == 0:
            continue
        g = keep
        g = _trim_edge_slivers(c, g, fill)
        if med < TEXTURE_MAX_HEIGHT * float(c.y1[g].max() - c.y0[g].min()):
            _why(layer, g, c, "texture: small bits over a tall area")
            continue  # small bits chained over a tall area: texture or noise, not a line
        gfill = quantile(fill[g], 0.5)
        if not (opts.min_line_fill <= gfill <= opts.max_line_fill):
            _why(layer, g, c, f"median fill {gfill:.2f}")
            continue
        big = int(g[np.argmax(c.area[g] / np.maximum(fill[g], 1e-6))])  # the largest box
        gx0, gy0, gx1, gy1 = c.x0[g].min(), c.y0[g].min(), c.x1[g].max(), c.y1[g].max()
        dominant = h[big] * w[big] >= DOMINANT_AREA * (gx1 - gx0) * (gy1 - gy0)
        if (len(g) == 1 or dominant) and not _lone_glyph_ok(int(h[big]), int(w[big]),
                                                             float(fill[big]), H, W):
            _why(layer, g, c, "a lone component")
            continue  # the isolated-region test
        if len(column_heights(c, g)) == 1 and not _lone_glyph_ok(
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
        # marks in a row at either end (———, ”。, a leading ，“) reach on
        for _ in range(ATTACH_ROUNDS):
            attached = attachments(c, (start, y0, reach, y1), line_h,
                                    np.fromiter(members, dtype=np.int64), blob, opts)
            grown = not attached <= members  # the rest of a glyph under a part just taken
            members |= attached
            ends = [i for i in attached if (c.x0[i] < start or c.x1[i] > reach)
                    and reaches(c, i, line_h, y0, y1)]
            new_start = min((int(c.x0[i]) for i in ends), default=start)
            new_reach = max((int(c.x1[i]) for i in ends), default=reach)
            if new_start >= start and new_reach <= reach and not grown:
                break
            start, reach = min(start, new_start), max(reach, new_reach)
        rows.append((g, members, med))
    for g, members, med in join_shared(c, rows):
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
        if stroke_width(own) > opts.max_stroke * line_h:
            _why(layer, g, c, "blobs")
            continue  # blobs (a picture's shapes), not pen strokes
        crop = gray[my0:my1, mx0:mx1]
        ink = crop[own]
        text_level = float(ink.mean())
        others = crop[~mask[my0:my1, mx0:mx1]]
        bg_level = median_u8(others) if others.size else 255.0 - text_level
        if others.size:
            spread = float(ink.std()) + float(others.std()) + 1e-6
            floor = (opts.min_contrast_long if len(g) >= LONG_LINE_SEEDS
                     and line_h <= LONG_LINE_MAX_HEIGHT * H else opts.min_contrast)
            if abs(median_u8(ink) - bg_level) < floor * spread:
                _why(layer, g, c, f"contrast {abs(median_u8(ink) - bg_level) / spread:.2f}")
                continue  # ink and ground differ no more than each varies: noise, texture
        if opts.refine:
            own = _refine(crop, own, text_level, bg_level)
        # the same line found in several layers (or runs of layers) is kept where it is most
        # complete: inked columns, glyph height, and the contrast of its strongest ink (a run
        # holding a stroke's core and its anti-aliased edge is as strong as the core alone)
        coverage = float(np.count_nonzero(own.any(axis=0))) / max(line_h, 1)
        core = quantile_u8(crop[own], CORE_INK_QUANTILES[0] if text_level > bg_level
                           else CORE_INK_QUANTILES[1])
        score = coverage * med * (abs(core - bg_level) / 255.0) ** 2
        if opts.recover_marks:  # after the score: which copy of a line is kept stays as it was
            own = _recover_marks(gray, box, own, text_level, bg_level, med,
                                 opts.min_recovered_mark_area)
        comps = [(int(c.x0[i]), int(c.y0[i]), int(c.x1[i]), int(c.y1[i])) for i in sorted(members)]
        seed_box = (int(c.x0[g].min()), int(c.y0[g].min()), int(c.x1[g].max()),
                    int(c.y1[g].max()))
        lines.append(TextLine(box, layer, own, float(line_h), text_level, bg_level, score, comps,
                              seed_box))
    return lines


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
    return refined if refined.sum() <= REFINE_MAX_GROWTH * own.sum() else own


#: How far a recovered mark may reach past the line's box, x line height: a comma's tail and its
#: anti-aliased row (2 px below a 13 px line's band on the dev pages).
MARK_OVERHANG = 0.25
#: A recovered mark's pixels are at least this far from the ground's level to the ink's (a
#: JPEG'd hollow 。 of a thin face peaks at half the ink's contrast). Dev renders (seeds 103, 211,
#: 307; 60 a set), errors pages / screen / photo / lines / banners: 0.5: 492 / 73 / 121 / 5 / 27;
#: 0.42: 431 / 74 / 124 / 6 / 28; 0.35: 409 / 74 / 124 / 8 / 27 (halos around clean glyphs
#: become marks); none recovered: 518 / 89 / 121 / 5 / 28.
MARK_INK_FRACTION = 0.42
#: A piece taller than a mark is recovered too when it is a lone thin stroke no taller than this
#: x the glyph height (and `STROKE_MAX_WIDTH` wide, with a mark's ink at most, no ink of the
#: line inside its box): the thin ／ of a blurred photo (12℃／22℃) is lighter than the strokes
#: its layer holds. A circle round a digit (②) holds the digit, so it stays out. Dev renders
#: (seeds 1201 / 1303 / 103 / 211 / 307, all sets and `ocr_real_dev`): 347 -> 346 errors (photo
#: -1); without the inside test 347 (the ring of ② read as 》).
STROKE_MAX_HEIGHT = 1.15
STROKE_MAX_WIDTH = 1.25


def _recover_marks(gray: np.ndarray, box: Box, own: np.ndarray, text_level: float,
                   bg_level: float, line_h: float, min_area: int) -> np.ndarray:
    """The line's ink (`own`, over `box` of `gray`) with the marks its layer left out: pieces
    nearer the ink level than the ground, apart from the line's ink, no bigger than a mark
    (`attachments`' limits), lying in the box give or take `MARK_OVERHANG` (a comma hangs a
    pixel or two below the band; what runs on further, such as the next line's glyphs under a
    box that reaches into them, is not a mark). At 13-18 px a comma or a hollow 。 is mostly
    anti-aliased edge: its pixels fall in lighter layers than the text's strokes, or past the
    band, and the glyph crops whiten whatever is not near the line's ink, so both readers
    lost it. A lone thin stroke (`STROKE_MAX_HEIGHT`) comes back the same way. `line_h`: the
    glyphs' height (a picture in the line makes its box taller)."""
    from scipy import ndimage

    from .crops import dilate  # crops imports this module

    x0, y0, x1, y1 = box
    pad = max(1, int(np.ceil(MARK_OVERHANG * line_h)))
    top, bottom = max(0, y0 - pad), min(gray.shape[0], y1 + pad)
    left, right = max(0, x0 - pad), min(gray.shape[1], x1 + pad)
    crop = gray[top:bottom, left:right]
    level = bg_level + MARK_INK_FRACTION * (text_level - bg_level)
    near = crop < level if text_level < bg_level else crop > level
    line_ink = np.zeros(crop.shape, dtype=bool)
    line_ink[y0 - top:y1 - top, x0 - left:x1 - left] = own
    labels, n = ndimage.label(near & ~dilate(line_ink), structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return own
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    keep = np.zeros(n + 1, dtype=bool)
    h_pad, w_pad = crop.shape
    more_above, more_below = top > 0, bottom < gray.shape[0]  # image beyond the padded crop
    more_left, more_right = left > 0, right < gray.shape[1]
    for k, (rows, cols) in enumerate(ndimage.find_objects(labels)):
        h, w = rows.stop - rows.start, cols.stop - cols.start
        runs_on = ((more_above and rows.start == 0) or (more_below and rows.stop == h_pad)
                   or (more_left and cols.start == 0) or (more_right and cols.stop == w_pad))
        if runs_on or not min_area <= area[k] <= MARK_MAX_AREA * line_h * line_h:
            continue
        mark = h <= MARK_MAX_HEIGHT * line_h and w <= MARK_MAX_WIDTH * line_h
        stroke = (h <= STROKE_MAX_HEIGHT * line_h and w <= STROKE_MAX_WIDTH * line_h
                  and not line_ink[rows, cols].any())
        keep[k + 1] = mark or stroke
    found = keep[labels][y0 - top:y1 - top, x0 - left:x1 - left]
    return own | found


def _why(layer: int, g: np.ndarray, c: Comps, reason: str) -> None:
    """Say at debug level why a candidate line was dropped (`logging.getLogger("jiema.ocr")`)."""
    if log.isEnabledFor(logging.DEBUG):
        box = (int(c.x0[g].min()), int(c.y0[g].min()), int(c.x1[g].max()), int(c.y1[g].max()))
        log.debug("layer %d: candidate line %s (%d seeds) dropped: %s", layer, box, len(g),
                  reason)


def _trim_edge_slivers(c: Comps, g: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Drop a thin solid bar standing apart at either end of a line: the anti-aliased edge of
    a picture beside the text, not a glyph (a `1` or `l` sits close to its neighbours)."""
    g = g[np.argsort(c.x0[g], kind="stable")]
    line_h = float(c.y1[g].max() - c.y0[g].min())
    while len(g) > 2:
        changed = False
        for end, other in ((0, 1), (-1, -2)):
            i, j = g[end], g[other]
            gap = c.x0[j] - c.x1[i] if end == 0 else c.x0[i] - c.x1[j]
            if (c.w[i] < SLIVER_MAX_WIDTH * line_h and fill[i] > SLIVER_MIN_FILL
                    and gap > SLIVER_MIN_GAP * line_h):
                g = g[1:] if end == 0 else g[:-1]
                changed = True
                break
        if not changed:
            break
    return g



def _lone_glyph_ok(h: int, w: int, fill: float, H: int, W: int) -> bool:
    """A line of one glyph (h x w, ink fill) passes only when it is most of the image (a
    one-glyph crop) and looks like a glyph; a lone blob in a larger image is a picture."""
    if h < LONE_GLYPH_MIN_SHARE * H or w < LONE_GLYPH_MIN_SHARE * W:
        return False
    return (LONE_GLYPH_ASPECT[0] <= w / max(h, 1) <= LONE_GLYPH_ASPECT[1]
            and LONE_GLYPH_FILL[0] <= fill <= LONE_GLYPH_FILL[1])



RIVAL_OVERLAP = 0.6  # a copy of the other polarity sharing this x the smaller box ...
RIVAL_SCORE = 0.5  # ... scoring at least this x the kept copy is its rival: outlined titles
# (`synth_lines` title style, 30 lines on each of two seeds) 39.3 -> 24.8% and 37.4 -> 24.0%
# CER; dev renders and `ocr_real_dev` unchanged


def _dedupe(lines: list[TextLine], opts: RegionOptions) -> list[TextLine]:
    """The best-scoring copy of each line. A row of text that overlaps a better "line" only
    where that one took in things beyond its seeds (a picture reaching into the text beside
    it) is kept, and the picture is cut back to its own side. Each kept line takes the
    best-scoring copy of the other polarity as its `rival`: an outlined title's outline
    (light on the dark fill) scores above its fill, and which reads as text only reading
    tells."""
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
    for line in kept:
        rivals = [r for r in lines if r.light_text != line.light_text
                  and r.score >= RIVAL_SCORE * line.score
                  and box_overlap(r.box, line.box)
                  > RIVAL_OVERLAP * min(box_area(r.box), box_area(line.box))]
        line.rival = max(rivals, key=lambda r: r.score) if rivals else None
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
    if (core[2] - core[0] > PICTURE_MAX_ASPECT * core_h
            or line.box[3] - line.box[1] > TEXT_BESIDE_MAX_HEIGHT * core_h):
        return None
    if line.box[0] >= core[2] - CORE_TOUCH * big.height:
        return "right"
    if line.box[2] <= core[0] + CORE_TOUCH * big.height:
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
            if overlap > ROW_OVERLAP * min(ref[3] - ref[1], line.box[3] - line.box[1]):
                row.append(line)
                break
        else:
            rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.box[0])]
