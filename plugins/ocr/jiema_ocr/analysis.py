"""The image stages of the reader: read, straighten a skewed photo, preprocess, layer, find the
text lines; with a second pass on the flattened ground when a gradient may hide lines or part
of one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from jiema.images import ImageSource, read_rgb

from .cutting import CutGraph, CutOptions, cut_graph
from .deskew import box_to_input, rotate_filled, skew_angle
from .layering import LayerOptions, Layers, find_layers
from .options import OcrOptions
from .preprocess import PreprocessOptions, preprocess, to_gray
from .regions import RegionOptions, TextLine, find_lines
from .results import Box, OcrResult, moved

# The second, flattened pass (see `analyse`). Set by hand on rendered banners and the dev
# images; no per-value error counts were recorded.
ROOM_IN_LINE_HEIGHTS = 2.5  # free height (or width) for more lines (glyphs), x line height
#: With this many lines found the image is a page on a flat ground (a document, a chat, a web
#: page), not a banner or photo whose gradient hid some lines: no second pass looks for more.
#: The pass cost the news screenshot (21 lines) most of its line-finding time and found nothing.
PAGE_LINES = 6
EDGE_SLACK_PX = 2  # a line covers another whose ends it misses by at most this, px
SPECK_HEIGHT = 0.5  # lines under this x the tallest are specks, not lines to cover
SAME_ROW_OVERLAP = 0.5  # boxes sharing over this x the lower one's height share a row
# lines lower than this (px, after the upscale) do not settle whether to try the flattened
# image: an unflattened page of 12 px text yields 10-11 px pieces of its lines
SURE_LINE_HEIGHT = 12
#: The small-text pass (`OcrOptions.small_text_height`) is skipped where the upscaled image
#: would be larger than this: it costs about 0.22 s a megapixel on one core (the news
#: screenshot tiled 2 x 2, 7.8 MP upscaled: 1.7 s more), so at most about 2.6 s an image.
SMALL_TEXT_MAX_PIXELS = 12_000_000


@dataclass
class Analysis:
    """What the image stages found (for debug pictures and for evaluating the stages)."""

    rgb: np.ndarray  # the image read, straightened when `rotation` is not 0
    gray: np.ndarray  # preprocessed, uint8
    scale: int
    layers: Layers
    lines: list[TextLine]
    #: degrees the input was turned by (`deskew.rotate_filled`) before the stages ran
    rotation: float = 0.0
    #: (height, width) of the input image as read
    input_shape: tuple[int, int] | None = None

    def in_input(self, result: OcrResult) -> OcrResult:
        """`result`, whose boxes are `rgb` pixels, with boxes in the input image's pixels (a
        reader's `read_analysis` returns this)."""
        if not self.rotation or self.input_shape is None:
            return result
        turned, shape, degrees = self.rgb.shape[:2], self.input_shape, self.rotation
        return moved(result, lambda box: box_to_input(box, degrees, turned, shape))


@dataclass(frozen=True)
class Preprocess:
    """The `ocr.power_gray.v1` stage: RGB -> (gray, upscale factor) by `preprocess.preprocess`."""

    options: PreprocessOptions = PreprocessOptions()

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, int]:
        return preprocess(rgb, self.options)

    def flattened(self) -> Preprocess | None:
        """The same stage with the ground flattened, for the second pass (None: it already is)."""
        if self.options.flatten:
            return None
        return Preprocess(self.options.model_copy(update={"flatten": True}))


@dataclass(frozen=True)
class FindLayers:
    """The `ocr.kde_layers.v1` stage: gray -> `Layers` by `layering.find_layers`."""

    options: LayerOptions = LayerOptions()

    def __call__(self, gray: np.ndarray) -> Layers:
        return find_layers(gray, self.options)


@dataclass(frozen=True)
class FindLines:
    """The `ocr.components.v1` stage: (gray, layers) -> text lines by `regions.find_lines`."""

    options: RegionOptions = RegionOptions()

    def __call__(self, gray: np.ndarray, layers: Layers) -> list[TextLine]:
        return find_lines(gray, layers, self.options)


@dataclass(frozen=True)
class CutGlyphs:
    """The `ocr.projection_cut.v1` stage: a line's mask -> its `CutGraph` by `cutting.cut_graph`."""

    options: CutOptions = CutOptions()

    def __call__(self, mask: np.ndarray) -> CutGraph:
        return cut_graph(mask, self.options)


#: The `OcrOptions` field that holds each built-in image stage's options.
_OPTIONS_FIELD = {Preprocess: "preprocess", FindLayers: "layers", FindLines: "regions",
                  CutGlyphs: "cutting"}


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
        return cls.of(Preprocess(opts.preprocess), FindLayers(opts.layers),
                      FindLines(opts.regions), CutGlyphs(opts.cutting),
                      flatten_retry=opts.flatten_retry)

    @classmethod
    def of(cls, preprocess: Callable[[np.ndarray], tuple[np.ndarray, int]],
           layers: Callable[[np.ndarray], Layers],
           lines: Callable[[np.ndarray, Layers], list[TextLine]],
           cut: Callable[[np.ndarray], CutGraph], *, flatten_retry: bool = True) -> Stages:
        """The stages, with the retry on the flattened ground where `flatten_retry` asks for it
        and the preprocessing stage has a `flattened()` variant (the built-in one does)."""
        flattened = getattr(preprocess, "flattened", None)
        retry = flattened() if flatten_retry and callable(flattened) else None
        return cls(preprocess, layers, lines, cut, retry)

    def options(self) -> dict[str, Any]:
        """The options of the built-in stages among these, by their `OcrOptions` field (the
        reader reads some, e.g. the em size; another plugin's stage leaves the default)."""
        stages: tuple[Any, ...] = (self.preprocess, self.layers, self.lines, self.cut)
        return {field: stage.options for stage in stages
                if (field := _OPTIONS_FIELD.get(type(stage))) is not None}


def analyse(source: ImageSource, options: OcrOptions | None = None,
            timings: dict[str, float] | None = None, stages: Stages | None = None) -> Analysis:
    """Read, preprocess, layer and find the text lines of an image."""
    opts = options or OcrOptions()
    st = stages or Stages.from_options(opts)
    t0 = time.perf_counter()
    rgb = read_rgb(source, max_pixels=opts.max_pixels)
    input_shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    rotation = skew_angle(to_gray(rgb)) if opts.deskew else 0.0
    if rotation:
        rgb = rotate_filled(rgb, rotation)
    chosen = st.preprocess  # the preprocessing whose lines are kept
    gray, scale = chosen(rgb)
    t1 = time.perf_counter()
    layers = st.layers(gray)
    t2 = time.perf_counter()
    lines = st.lines(gray, layers)
    sure = _sure_lines(lines)
    # a gradient ground can hide all the text, the lines in part of the image, or part of a
    # line (the glyphs at one end sit in another layer than the rest)
    more = bool(sure) and opts.flatten_more and _room_for_more(sure, gray.shape[0])
    # checked even where there is room for more lines: a photographed line under uneven light
    # is found in part, in an image taller than one line
    wider = bool(sure) and opts.flatten_more and _room_beside(sure, gray.shape[1])
    if st.retry is not None and (not sure or more or wider):
        flat_gray, flat_scale, flat_layers, flat_lines = _search(st, st.retry, rgb)
        flat_sure = _sure_lines(flat_lines)
        if flat_sure and (not sure or (more and _finds_more(flat_sure, sure))
                          or (wider and _finds_wider(flat_sure, sure))):
            gray, scale, layers, lines = flat_gray, flat_scale, flat_layers, flat_lines
            chosen = st.retry
    if scale == 1 and _small_text(lines, opts.small_text_height, rgb.shape[:2],
                                  opts.small_text_upscale):
        factor = opts.small_text_upscale
        big_gray, big_scale, big_layers, big_lines = _search(st, chosen, upscaled(rgb, factor))
        if _finds_each(big_lines, lines, factor):
            gray, scale, layers, lines = big_gray, big_scale * factor, big_layers, big_lines
    t3 = time.perf_counter()
    if timings is not None:
        timings["read"] = timings.get("read", 0.0) + t1 - t0
        timings["layers"] = timings.get("layers", 0.0) + t2 - t1
        timings["regions"] = timings.get("regions", 0.0) + t3 - t2
    return Analysis(rgb, gray, scale, layers, lines, rotation, input_shape)


def _search(st: Stages, preprocess: Callable[[np.ndarray], tuple[np.ndarray, int]],
            rgb: np.ndarray) -> tuple[np.ndarray, int, Layers, list[TextLine]]:
    """(gray, scale, layers, lines) of `rgb` through `preprocess` and the other stages; lines
    of one component are dropped where `preprocess` is the flattened retry (flattening hollows
    a filled shape into its rim, which could pass for one glyph)."""
    gray, scale = preprocess(rgb)
    layers = st.layers(gray)
    lines = st.lines(gray, layers)
    if preprocess is st.retry:
        lines = [ln for ln in lines if len(ln.components) > 1]
    return gray, scale, layers, lines


def _small_text(lines: list[TextLine], height: int, shape: tuple[int, ...], factor: int
                ) -> bool:
    """Whether the lines found are mostly (by the median) lower than `height` px, and the
    image `factor` x larger stays under `SMALL_TEXT_MAX_PIXELS`."""
    if not lines or height <= 0:
        return False
    if shape[0] * shape[1] * factor * factor > SMALL_TEXT_MAX_PIXELS:
        return False
    return float(np.median([ln.box[3] - ln.box[1] for ln in lines])) < height


def upscaled(rgb: np.ndarray, factor: int) -> np.ndarray:
    """The image `factor` x larger, bicubic (an RGB or gray uint8 array)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgb))
    size = (rgb.shape[1] * factor, rgb.shape[0] * factor)
    return np.asarray(img.resize(size, Image.Resampling.BICUBIC))


def _sure_lines(lines: list[TextLine]) -> list[TextLine]:
    """The lines at least `SURE_LINE_HEIGHT` high."""
    return [ln for ln in lines if ln.box[3] - ln.box[1] >= SURE_LINE_HEIGHT]


def _room_for_more(lines: list[TextLine], height: int) -> bool:
    """Whether the image is tall enough for more lines than the ones found (a banner, not a
    single line), and not already a page of them."""
    if len(lines) >= PAGE_LINES:
        return False
    return height >= ROOM_IN_LINE_HEIGHTS * max(ln.box[3] - ln.box[1] for ln in lines)


def _room_beside(lines: list[TextLine], width: int) -> bool:
    """Whether the image leaves room for glyphs beside its lines: at least 2.5 line heights of
    its width outside every found line."""
    covered = np.zeros(width, dtype=bool)
    for ln in lines:
        covered[ln.box[0]:ln.box[2]] = True
    height = max(ln.box[3] - ln.box[1] for ln in lines)
    return int(width - covered.sum()) >= ROOM_IN_LINE_HEIGHTS * height


def _finds_wider(found: list[TextLine], before: list[TextLine]) -> bool:
    """One line, in the row of each of `before` (but specks under half the tallest's height)
    and covering it, and at least a line height wider than all of them together."""
    if len(found) != 1:
        return False
    a = found[0].box

    def covered(b: Box) -> bool:
        return _same_row(a, b) and a[0] <= b[0] + EDGE_SLACK_PX and a[2] >= b[2] - EDGE_SLACK_PX

    height = max(ln.box[3] - ln.box[1] for ln in before)
    spans = [ln.box for ln in before if ln.box[3] - ln.box[1] >= SPECK_HEIGHT * height]
    width = max(b[2] for b in spans) - min(b[0] for b in spans)
    return all(covered(b) for b in spans) and (a[2] - a[0]) - width >= height


def _finds_more(found: list[TextLine], before: list[TextLine]) -> bool:
    """More lines than `before`, and one overlapping each of `before` (the other pass lost none
    of them)."""
    return len(found) > len(before) and all(any(_overlap(f.box, b.box) for f in found)
                                            for b in before)


def _finds_each(found: list[TextLine], before: list[TextLine], factor: int) -> bool:
    """Whether lines found in the image `factor` x larger overlap each sure line of `before`
    (in a banner whose lines were mostly small the larger image's layers held only its
    picture), none of them spanning two rows of those (two lines of a page found as one)."""
    boxes: list[Box] = [(x0 // factor, y0 // factor, x1 // factor, y1 // factor)
                        for x0, y0, x1, y1 in (ln.box for ln in found)]
    sure = [ln.box for ln in _sure_lines(before)]
    for a in boxes:
        rows = [b for b in sure if _overlap(a, b)]
        if any(not _same_row(b, c) for b in rows for c in rows):
            return False
    return bool(found) and all(any(_overlap(a, b) for a in boxes) for b in sure)


def _overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share a row (`_same_row`) and some columns."""
    return _same_row(a, b) and min(a[2], b[2]) > max(a[0], b[0])


def _same_row(a: Box, b: Box) -> bool:
    """Whether two boxes share over half the height of the lower one."""
    return min(a[3], b[3]) - max(a[1], b[1]) > SAME_ROW_OVERLAP * min(a[3] - a[1], b[3] - b[1])
