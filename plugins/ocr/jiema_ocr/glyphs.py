"""Training glyphs rendered on the fly from the Debian CJK fonts, and the glyph normaliser.

Why on the fly: 6.9k classes x fonts x sizes x distortions is too much to store, and rendering
one glyph with Pillow costs well under a millisecond. `normalize_glyph` is the one place where a
crop of any size and polarity becomes the classifier's fixed input, used both for training
samples and at inference time, so the two cannot drift apart.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .charset import Charset, default_charset

Polarity = Literal["dark", "light", "auto"]
INPUT_SIZE = 40  # classifier input side, pixels
MIN_INK_CONTRAST = 16  # gray levels: a crop whose ink and ground differ less holds no glyph
INK_THRESHOLD = 0.5  # ink-map values above this count as ink (the crop's extent)
INK_MARGIN_PX = 4  # blank pixels around the scaled ink, both sides together
# the ink's far end: this percentile of the crop's gray levels (dark ink; 100 - it for light
# ink), not the extreme, so that one stray pixel does not set the ink map's scale
INK_LEVEL_PERCENTILE = 1
FONT_DIRS = ("/usr/share/fonts",)
# (file name, face index in the collection): the four Debian CJK families, simplified faces.
DEFAULT_FONT_FILES: tuple[tuple[str, int], ...] = (
    ("wqy-microhei.ttc", 0),
    ("wqy-zenhei.ttc", 0),
    ("uming.ttc", 0),  # AR PL UMing CN
    ("ukai.ttc", 0),  # AR PL UKai CN
)


@dataclass(frozen=True)
class FontFace:
    """One face of a font file, with the set of code points it has glyphs for."""

    path: str
    index: int
    name: str
    codepoints: frozenset[int]

    def covers(self, ch: str) -> bool:
        return ord(ch) in self.codepoints


def _find_file(name: str, dirs: Sequence[str]) -> Path | None:
    for d in dirs:
        root = Path(d)
        if root.is_dir():
            for hit in sorted(root.rglob(name)):
                return hit
    return None


@cache
def load_face(path: str, index: int = 0) -> FontFace:
    """Read a face's name and character map (fontTools; no glyph is rendered)."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    name = str(font["name"].getDebugName(4) or Path(path).stem)
    cmap = frozenset(font.getBestCmap() or {})
    font.close()
    return FontFace(path=path, index=index, name=name, codepoints=cmap)


def default_fonts(dirs: Sequence[str] = FONT_DIRS) -> list[FontFace]:
    """The Debian CJK faces that are installed (an empty list when none is); the environment
    variable JIEMA_OCR_FONTS (font files separated by the path separator) overrides them."""
    listed = os.environ.get("JIEMA_OCR_FONTS")
    if listed:
        return [load_face(p, 0) for p in listed.split(os.pathsep) if p]
    out = []
    for name, index in DEFAULT_FONT_FILES:
        path = _find_file(name, dirs)
        if path is not None:
            out.append(load_face(str(path), index))
    return out


# How `render_glyph` distorts a training glyph beyond its `RenderOptions`: chosen by hand to
# look like the crops the cutter delivers from rendered lines (no per-value error counts kept).
BOLD_MIN_SIZE = 22  # px: a 1 px outline stroke only from this size up (smaller glyphs clog)
THIN_MIN_SIZE = 30  # px: thinning only from this size up (smaller glyphs lose strokes)
THIN_FILTER_PX = 3  # max-filter side: one pixel off each side of a stroke
RENDER_PAD_PX = 4  # canvas beyond the widest margin, so that rotation never cuts ink
GROUND_HEADROOM = 20  # gray levels: the ground is at least min_contrast + this
CLIP_MIN_INK_PX = 4  # a side is shaved off only ink taller (wider) than this
GRADIENT_OF_CONTRAST = 0.3  # the background ramp stays under this x the ink contrast
LOWRES_MIN_SIZE = 24  # px: down-sampling only from this font size ...
LOWRES_MIN_PX = 8  # ... and this crop side up
LOWRES_SCALE = (0.5, 0.85)  # the down-sampling factor's range
MIN_BLUR = 0.2  # px: the least blur radius drawn
BLUR_FULL_SIZE = 32  # px: smaller glyphs get a proportionally smaller blur radius
NOISE_OF_CONTRAST = 0.15  # the noise sigma stays under this x the ink contrast


class RenderOptions(BaseModel):
    """How widely training glyphs vary; the defaults cover printed text at 16-56 px."""

    model_config = ConfigDict(extra="forbid")

    min_size: int = Field(16, ge=6, description="font size range, pixels")
    max_size: int = Field(56, ge=6)
    bold_prob: float = Field(0.2, ge=0, le=1, description="draw with a 1 px stroke (heavier)")
    thin_prob: float = Field(0.1, ge=0, le=1, description="erode large glyphs (lighter)")
    max_rotation: float = Field(3.0, ge=0, description="degrees, either way")
    max_shear: float = Field(0.08, ge=0)
    max_pad: float = Field(0.3, ge=0, description="crop margin, fraction of the size, each side")
    blur_prob: float = Field(0.5, ge=0, le=1)
    max_blur: float = Field(1.2, ge=0, description="Gaussian radius, pixels")
    lowres_prob: float = Field(0.3, ge=0, le=1, description="down- and up-sample (soft pixels)")
    max_noise: float = Field(14.0, ge=0, description="Gaussian noise sigma, gray levels")
    min_contrast: int = Field(60, ge=10, le=255)
    max_gradient: float = Field(40.0, ge=0, description="background ramp, gray levels")
    invert_prob: float = Field(0.5, ge=0, le=1, description="light text on a dark background")
    clip_prob: float = Field(0.1, ge=0, le=1, description="cut a pixel row/column off an edge")
    variant_prob: float = Field(0.5, ge=0, le=1, description="draw a look-alike code point of "
                                "the class instead (full-width ／ for /, ASCII , for ，)")


@lru_cache(maxsize=512)
def _pil_font(path: str, index: int, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=index)


def render_clean(ch: str, face: FontFace, size: int, *, stroke: int = 0) -> np.ndarray:
    """`ch` drawn black on white at `size` px, cropped to its ink box (uint8; may be all white)."""
    from PIL import Image, ImageDraw

    font = _pil_font(face.path, face.index, size)
    side = size * 2 + 8
    img = Image.new("L", (side, side), 255)
    ImageDraw.Draw(img).text((side // 2, side // 2), ch, fill=0, font=font, anchor="mm",
                             stroke_width=stroke, stroke_fill=0)
    arr = np.asarray(img)
    ys, xs = np.nonzero(arr < 128)
    if ys.size == 0:
        return arr[:1, :1].copy()
    return arr[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].copy()


def render_glyph(
    ch: str, face: FontFace, rng: np.random.Generator, options: RenderOptions | None = None,
    *, invert: bool | None = None,
) -> np.ndarray:
    """One distorted crop of `ch` as a cutter might deliver it: uint8 gray, any size, with a
    margin, noise, blur, small rotation/shear and a background ramp; light text on a dark
    background when `invert` (None: with probability `options.invert_prob`)."""
    from PIL import Image, ImageFilter

    o = options or RenderOptions()
    size = int(rng.integers(o.min_size, o.max_size + 1))
    stroke = 1 if size >= BOLD_MIN_SIZE and rng.random() < o.bold_prob else 0
    font = _pil_font(face.path, face.index, size)
    pad = int(math.ceil(size * (0.5 + o.max_pad))) + RENDER_PAD_PX
    side = size + 2 * pad
    bg = int(rng.integers(o.min_contrast + GROUND_HEADROOM, 256))
    fg = int(rng.integers(0, max(1, bg - o.min_contrast + 1)))
    img = Image.new("L", (side, side), 255)
    from PIL import ImageDraw

    ImageDraw.Draw(img).text((side / 2, side / 2), ch, fill=0, font=font, anchor="mm",
                             stroke_width=stroke, stroke_fill=0)
    if stroke == 0 and size >= THIN_MIN_SIZE and rng.random() < o.thin_prob:
        img = img.filter(ImageFilter.MaxFilter(THIN_FILTER_PX))  # white grows: strokes get thinner
    angle = math.radians(float(rng.uniform(-o.max_rotation, o.max_rotation)))
    shear = float(rng.uniform(-o.max_shear, o.max_shear))
    c, s_ = math.cos(angle), math.sin(angle)
    a, b, d, e = c, -s_ + shear, s_, c  # output -> input: rotation, then a horizontal shear
    half = side / 2
    img = img.transform(img.size, Image.Transform.AFFINE,
                        (a, b, half - a * half - b * half, d, e, half - d * half - e * half),
                        resample=Image.Resampling.BILINEAR, fillcolor=255)
    ink = 1.0 - np.asarray(img, dtype=np.float32) / 255.0  # 1 = ink
    ys, xs = np.nonzero(ink > 0.5)
    if ys.size == 0:  # a space-like glyph: a blank crop
        y0, y1, x0, x1 = pad, pad + size, pad, pad + size // 2
    else:
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    margin = lambda: int(rng.integers(0, int(o.max_pad * size) + 2))  # noqa: E731
    if rng.random() < o.clip_prob:  # a cutter that shaves an edge
        edge = int(rng.integers(4))
        if edge == 0 and y1 - y0 > CLIP_MIN_INK_PX:
            y0 += 1
        elif edge == 1 and y1 - y0 > CLIP_MIN_INK_PX:
            y1 -= 1
        elif edge == 2 and x1 - x0 > CLIP_MIN_INK_PX:
            x0 += 1
        elif x1 - x0 > CLIP_MIN_INK_PX:
            x1 -= 1
        top, bottom, left, right = 0, 0, 0, 0
    else:
        top, bottom, left, right = margin(), margin(), margin(), margin()
    ink = ink[max(0, y0 - top): y1 + bottom, max(0, x0 - left): x1 + right]
    h, w = ink.shape
    gray = bg + (fg - bg) * ink
    if o.max_gradient > 0:
        top_amp = min(o.max_gradient, GRADIENT_OF_CONTRAST * (bg - fg))
        amp = float(rng.uniform(-top_amp, top_amp))
        theta = float(rng.uniform(0, 2 * math.pi))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (math.cos(theta) * xx / max(w, 1) + math.sin(theta) * yy / max(h, 1))
        gray = gray + amp * ramp * (1.0 - ink)  # the ramp is in the background only
    out = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8))
    if rng.random() < o.lowres_prob and size >= LOWRES_MIN_SIZE and min(h, w) >= LOWRES_MIN_PX:
        f = float(rng.uniform(*LOWRES_SCALE))
        small = (max(2, round(w * f)), max(2, round(h * f)))
        out = out.resize(small, Image.Resampling.BILINEAR).resize(
            (w, h), Image.Resampling.BILINEAR)
    if rng.random() < o.blur_prob:
        radius = float(rng.uniform(MIN_BLUR, o.max_blur)) * min(1.0, size / BLUR_FULL_SIZE)
        out = out.filter(ImageFilter.GaussianBlur(radius))
    arr = np.asarray(out, dtype=np.float32)
    if o.max_noise > 0:
        sigma = float(rng.uniform(0, min(o.max_noise, NOISE_OF_CONTRAST * (bg - fg))))
        arr = (arr + rng.normal(0.0, sigma, arr.shape)).astype(np.float32)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    if invert if invert is not None else rng.random() < o.invert_prob:
        arr = 255 - arr
    return arr


def normalize_glyph(crop: np.ndarray, size: int = INPUT_SIZE,
                    polarity: Polarity = "dark") -> np.ndarray:
    """A gray crop (any size) as a `(size, size)` float32 ink map in [0, 1]: contrast stretched,
    cropped to the ink box and scaled, aspect kept, into the centre. A blank crop gives zeros.

    `polarity` says which way the ink goes: "dark" (dark text on a light background, what a
    text layer gives), "light", or "auto" (ink = the minority of Otsu's two classes; wrong for
    very heavy glyphs, so the pipeline should pass what its layer knows)."""
    from .ink_map_kernel import POLARITY_CODES, ink_map_uint8, resize_bilinear

    if polarity not in ("dark", "light", "auto"):
        raise ValueError(f"polarity must be 'dark', 'light' or 'auto', got {polarity!r}")
    g = np.asarray(crop)
    if g.ndim == 3:
        g = g[..., :3].mean(axis=2) if g.shape[2] >= 3 else g[..., 0]
    if g.dtype == np.uint8 and g.ndim == 2:  # the usual case: the jitted kernel, same map
        return ink_map_uint8(g, size, POLARITY_CODES[polarity], INK_LEVEL_PERCENTILE / 100,
                             MIN_INK_CONTRAST, INK_THRESHOLD, INK_MARGIN_PX)
    out = np.zeros((size, size), dtype=np.float32)
    if g.size == 0:
        return out
    g = g.astype(np.float32)
    hist = np.bincount(np.clip(g, 0, 255).astype(np.int64).ravel(), minlength=256)
    lo = float(np.percentile(g, INK_LEVEL_PERCENTILE))
    hi = float(np.percentile(g, 100 - INK_LEVEL_PERCENTILE))
    if hi - lo < MIN_INK_CONTRAST:
        return out
    threshold = _otsu_hist(hist)
    dark = g <= threshold
    if polarity == "auto":  # ink is the minority class of Otsu's split
        ink_dark = bool(dark.mean() <= 0.5)
    else:
        ink_dark = polarity == "dark"
    # the ground is the median of the other Otsu class (the one above the threshold for dark ink)
    side = ~dark if ink_dark else dark
    ground = float(np.median(g[side])) if side.any() else None
    if ink_dark:
        bg = hi if ground is None else ground
        contrast = bg - lo
        ink = (bg - g) / max(contrast, 1e-6)
    else:
        bg = lo if ground is None else ground
        contrast = hi - bg
        ink = (g - bg) / max(contrast, 1e-6)
    if contrast < MIN_INK_CONTRAST:
        return out
    ink = np.clip(ink, 0.0, 1.0)
    ys, xs = np.nonzero(ink > INK_THRESHOLD)
    if ys.size == 0:
        return out
    ink = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = ink.shape
    inner = size - INK_MARGIN_PX
    scale = inner / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = resize_bilinear((ink * 255).astype(np.uint8), nh, nw)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0: y0 + nh, x0: x0 + nw] = img.astype(np.float32) / 255.0
    return out


def _otsu(g: np.ndarray) -> float:
    """Otsu's threshold of a gray image (on its 256-bin histogram)."""
    return _otsu_hist(np.bincount(np.clip(g, 0, 255).astype(np.int64).ravel(), minlength=256))


def _otsu_hist(hist: np.ndarray) -> float:
    """Otsu's threshold of a 256-bin histogram: the glyph kernel's, so the two paths agree."""
    from .ink_map_kernel import otsu_level

    return float(otsu_level(hist))


def class_variants(charset: Charset) -> dict[int, list[str]]:
    """For each class, the other code points that fold into it (`normalize_char`): full-width
    and ASCII forms print differently in a CJK font (／ is wide, / narrow), and text uses both."""
    from .charset import normalize_char

    out: dict[int, list[str]] = {}
    for cp in [*range(0x21, 0x7F), *range(0xFF01, 0xFF5F), 0xA5, 0xFFE5]:
        ch = chr(cp)
        i = charset.id(ch)
        if i is not None and normalize_char(ch) != ch:
            out.setdefault(i, []).append(ch)
    return out


class GlyphSampler:
    """Random `(inputs, labels)` batches: a class (uniform, or in proportion to `weights`, one
    per class), then a font that has the glyph (and now and then a look-alike code point of the
    class, see `class_variants`)."""

    def __init__(
        self,
        charset: Charset | None = None,
        fonts: Sequence[FontFace] | None = None,
        options: RenderOptions | None = None,
        size: int = INPUT_SIZE,
        classes: Sequence[int] | None = None,
        weights: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        self.charset = charset or default_charset()
        self.fonts = list(fonts) if fonts is not None else default_fonts()
        if not self.fonts:
            raise FileNotFoundError(
                "no CJK font found: install fonts-wqy-microhei, fonts-wqy-zenhei, "
                "fonts-arphic-uming or fonts-arphic-ukai (Debian), or pass fonts"
            )
        self.options = options or RenderOptions()
        self.size = size
        ids = list(classes) if classes is not None else list(range(len(self.charset)))
        self.covering: dict[int, list[FontFace]] = {}
        for i in ids:
            ch = self.charset.label(i)
            have = [f for f in self.fonts if f.covers(ch)]
            if have:
                self.covering[i] = have
        self.classes = np.asarray(sorted(self.covering), dtype=np.int64)
        if self.classes.size == 0:
            raise ValueError("none of the requested characters is in the given fonts")
        self.probs: np.ndarray | None = None
        if weights is not None:
            if len(weights) != len(ids):
                raise ValueError(f"{len(weights)} weights for {len(ids)} classes")
            by_class = dict(zip(ids, weights, strict=True))
            w = np.asarray([by_class[int(i)] for i in self.classes], dtype=np.float64)
            if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
                raise ValueError("class weights must be finite, >= 0 and not all 0")
            self.probs = w / w.sum()
        self.variants = {i: v for i, v in class_variants(self.charset).items()
                         if i in self.covering}

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.choice(self.classes, size=n, p=self.probs)
        x = np.empty((n, 1, self.size, self.size), dtype=np.float32)
        for k, lab in enumerate(labels):
            fonts = self.covering[int(lab)]
            face = fonts[int(rng.integers(len(fonts)))]
            invert = bool(rng.random() < self.options.invert_prob)
            ch = self.charset.label(int(lab))
            others = self.variants.get(int(lab))
            if others and rng.random() < self.options.variant_prob:
                drawable = [v for v in others if face.covers(v)]
                if drawable:
                    ch = drawable[int(rng.integers(len(drawable)))]
            crop = render_glyph(ch, face, rng, self.options, invert=invert)
            x[k, 0] = normalize_glyph(crop, self.size, "light" if invert else "dark")
        return x, labels.astype(np.int64)
