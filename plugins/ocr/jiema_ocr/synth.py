"""Synthetic text images with ground truth: lines and e-commerce-style banners.

Rendered from the Debian CJK fonts with Pillow, one character at a time so every character's box
is known exactly. Used by the tests, by the benchmark's evaluation set and by training code.
Lines: 24-48 px text, flat or gradient backgrounds, both polarities, Gaussian noise and blur.
Banners: a gradient background, a "product picture" of drawn shapes on one side and one to three
text lines (possibly different colours and sizes) on the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), pixels

# What the renders look like (sizes x the font size unless stated). Chosen by hand to resemble
# product banners and subtitles; the dev and test renders (fixed seeds) depend on every one.
MIN_CONTRAST = 90.0  # luma between text and ground (a gradient's far end too)
LINE_PAD = 0.3  # a line's blank margin
INK_LEVEL = 64  # alpha at least this counts as a glyph's ink (its ink box)
BANNER_TITLE_SCALE = 1.25  # the first of several banner lines is this much larger
BANNER_LINE_GAP = (0.35, 0.7)  # gap between banner lines (uniform range)
BANNER_PICTURE_SIZE = (1.1, 3)  # the picture: this x the text height, at least this x the size
BANNER_MARGIN = 0.8  # around and between the text and the picture
PICTURE_SHAPES = (2, 5)  # a picture draws this many shapes (integers range, end exclusive)
PICTURE_CENTRE = (0.25, 0.75)  # a shape's centre, x the picture's side (uniform range)
PICTURE_RADIUS = (0.2, 0.45)  # a shape's radius, x the picture's shorter side (uniform range)
PICTURE_OUTLINE = 6  # an outlined ring is 1/this of its radius thick (2 px at least)
COLOR_TRIES = 200  # text colours drawn for a banner before falling back to black or white

#: The four Debian CJK families (package, file, face index of the simplified-Chinese face).
DEBIAN_FONTS: tuple[tuple[str, str, int], ...] = (
    ("fonts-wqy-microhei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("fonts-wqy-zenhei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("fonts-arphic-uming", "/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("fonts-arphic-ukai", "/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
)
#: Their Debian packages, whose versions a trained model's card records.
FONT_PACKAGES: tuple[str, ...] = tuple(pkg for pkg, _, _ in DEBIAN_FONTS)


@dataclass(frozen=True)
class Font:
    name: str
    path: str
    index: int = 0


def find_fonts() -> list[Font]:
    """The installed Debian CJK fonts (empty when none is: callers skip or fail clearly)."""
    return [Font(pkg.removeprefix("fonts-"), path, index)
            for pkg, path, index in DEBIAN_FONTS if Path(path).is_file()]


@lru_cache(maxsize=64)
def _pil_font(path: str, index: int, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=index)


@lru_cache(maxsize=8)
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    cmap = frozenset(font.getBestCmap() or {})
    font.close()
    return cmap


def font_covers(font: Font, text: str) -> bool:
    """Whether the font has a glyph for every non-space character of `text`."""
    cmap = _cmap(font.path, font.index)
    return all(ord(ch) in cmap for ch in text if not ch.isspace())


@dataclass
class SynthLine:
    text: str  # ground truth, spaces kept
    boxes: list[Box]  # one per non-space character, in reading order
    box: Box  # the line's ink box


@dataclass
class SynthImage:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    lines: list[SynthLine] = field(default_factory=list)
    kind: str = "line"
    font: str = ""
    size: int = 0
    picture: Box | None = None  # where a banner's drawn picture is

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _luma(color: Sequence[float] | np.ndarray) -> float:
    return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]


def contrasting_colors(rng: np.random.Generator, dark_text: bool, min_contrast: float = MIN_CONTRAST
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(text colour, background colour) with at least `min_contrast` luma between them."""
    while True:
        text = rng.integers(0, 256, 3).astype(np.float64)
        bg = rng.integers(0, 256, 3).astype(np.float64)
        diff = _luma(bg) - _luma(text)
        if (diff if dark_text else -diff) >= min_contrast:
            return text, bg


def _draw_text_alpha(alpha: Any, text: str, font: Any, x: float, baseline: float
                     ) -> tuple[list[Box], float]:
    """Draw `text` into an 'L' image one character at a time; the boxes of the non-space
    characters and the x after the last one."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(alpha)
    boxes: list[Box] = []
    for ch in text:
        if not ch.isspace():
            draw.text((x, baseline), ch, fill=255, font=font, anchor="ls")
            boxes.append(_ink_box_of(ch, font, x, baseline))
        x += font.getlength(ch)
    return boxes, x


def _ink_box_of(ch: str, font: Any, x: float, baseline: float) -> Box:
    """The box of the pixels a character really inks (its layout box may be wider)."""
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = (int(v) for v in ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (x, baseline), ch, font=font, anchor="ls"))
    patch = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
    ImageDraw.Draw(patch).text((x - x0 + 2, baseline - y0 + 2), ch, fill=255, font=font,
                               anchor="ls")
    ink = patch.point(lambda v: 255 if v >= INK_LEVEL else 0).getbbox()
    if ink is None:
        return (x0, y0, x0, y0)
    return (ink[0] + x0 - 2, ink[1] + y0 - 2, ink[2] + x0 - 2, ink[3] + y0 - 2)


def _gradient(height: int, width: int, c0: np.ndarray, c1: np.ndarray, vertical: bool
              ) -> np.ndarray:
    n = height if vertical else width
    t = np.linspace(0.0, 1.0, n)[:, None]
    ramp = c0[None, :] * (1 - t) + c1[None, :] * t
    if vertical:
        return np.broadcast_to(ramp[:, None, :], (height, width, 3)).astype(np.float64)
    return np.broadcast_to(ramp[None, :, :], (height, width, 3)).astype(np.float64)


def _finish(canvas: np.ndarray, rng: np.random.Generator, noise: float, blur: float
            ) -> np.ndarray:
    from PIL import Image, ImageFilter

    out = canvas
    if blur > 0:
        img = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))
        out = np.asarray(img.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float64)
    if noise > 0:
        out = out + rng.normal(0.0, noise, out.shape)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _ink_box(boxes: Sequence[Box]) -> Box:
    if not boxes:
        return (0, 0, 0, 0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def render_line(
    text: str,
    font: Font,
    size: int = 32,
    *,
    dark_text: bool = True,
    noise: float = 0.0,
    blur: float = 0.0,
    gradient: bool = False,
    pad: int | None = None,
    seed: int | np.random.Generator | None = 0,
    colors: tuple[Sequence[float], Sequence[float]] | None = None,
) -> SynthImage:
    """One text line: `text` in `font` at `size` px on a flat (or gradient) background."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pil_font = _pil_font(font.path, font.index, size)
    pad = int(round(size * LINE_PAD)) if pad is None else pad
    width = int(np.ceil(pil_font.getlength(text))) + 2 * pad
    ascent, descent = pil_font.getmetrics()
    height = ascent + descent + 2 * pad
    alpha = Image.new("L", (max(width, 1), max(height, 1)), 0)
    boxes, _ = _draw_text_alpha(alpha, text, pil_font, pad, pad + ascent)
    if colors is not None:
        fg, bg = np.asarray(colors[0], float), np.asarray(colors[1], float)
    else:
        fg, bg = contrasting_colors(rng, dark_text)
    if gradient:
        _, bg2 = contrasting_colors(rng, dark_text)
        if abs(_luma(bg2) - _luma(fg)) < MIN_CONTRAST:
            bg2 = bg
        ground = _gradient(height, width, bg, bg2, vertical=bool(rng.integers(2)))
    else:
        ground = np.broadcast_to(bg, (height, width, 3)).astype(np.float64)
    a = np.asarray(alpha, dtype=np.float64)[..., None] / 255.0
    canvas = ground * (1 - a) + fg[None, None, :] * a
    image = _finish(canvas, rng, noise, blur)
    line = SynthLine(text, boxes, _ink_box(boxes))
    return SynthImage(image, [line], kind="line", font=font.name, size=size)


def _draw_picture(canvas: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """A 'product picture': a few filled and outlined shapes, overlapping, inside `box`."""
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(int(rng.integers(*PICTURE_SHAPES))):
        color = tuple(int(c) for c in rng.integers(0, 256, 3)) + (255,)
        cx, cy = rng.uniform(*PICTURE_CENTRE) * w, rng.uniform(*PICTURE_CENTRE) * h
        r = rng.uniform(*PICTURE_RADIUS) * min(w, h)
        shape = int(rng.integers(4))
        bbox = [cx - r, cy - r, cx + r, cy + r]
        if shape == 0:
            draw.ellipse(bbox, fill=color)
        elif shape == 1:
            draw.rectangle(bbox, fill=color)
        elif shape == 2:
            draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=color)
        else:
            draw.ellipse(bbox, outline=color, width=max(2, int(r / PICTURE_OUTLINE)))
    arr = np.asarray(layer, dtype=np.float64)
    a = arr[..., 3:4] / 255.0
    region = canvas[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1] = region * (1 - a) + arr[..., :3] * a


def render_banner(
    lines: Sequence[str],
    font: Font,
    size: int = 36,
    *,
    noise: float = 0.0,
    blur: float = 0.0,
    seed: int | np.random.Generator | None = 0,
    picture: bool = True,
) -> SynthImage:
    """A banner: gradient background, a drawn picture on one side, the text lines on the other
    (each line its own colour, the first one larger)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    dark_text = bool(rng.integers(2))
    sizes = [int(round(size * (BANNER_TITLE_SCALE if i == 0 and len(lines) > 1 else 1.0)))
             for i in range(len(lines))]
    fonts = [_pil_font(font.path, font.index, s) for s in sizes]
    text_w = max(int(np.ceil(f.getlength(t))) for f, t in zip(fonts, lines, strict=True))
    gaps = [int(s * rng.uniform(*BANNER_LINE_GAP)) for s in sizes]
    text_h = sum(f.getmetrics()[0] + f.getmetrics()[1] for f in fonts) + sum(gaps[1:])
    pic = (int(max(text_h * BANNER_PICTURE_SIZE[0], size * BANNER_PICTURE_SIZE[1])) if picture
           else 0)
    margin = int(size * BANNER_MARGIN)
    height = max(text_h, pic) + 2 * margin
    width = text_w + pic + 3 * margin
    _, c0 = contrasting_colors(rng, dark_text)
    _, c1 = contrasting_colors(rng, dark_text)
    ground = _gradient(height, width, c0, c1, vertical=bool(rng.integers(2)))
    canvas = ground.copy()
    pic_left = bool(rng.integers(2))
    pic_box: Box | None = None
    if picture:
        px = margin if pic_left else margin * 2 + text_w
        py = (height - pic) // 2
        pic_box = (px, py, px + pic, py + pic)
        _draw_picture(canvas, pic_box, rng)
    tx = (margin * 2 + pic) if (picture and pic_left) else margin
    y = (height - text_h) // 2
    out_lines: list[SynthLine] = []
    for i, (text, pil_font) in enumerate(zip(lines, fonts, strict=True)):
        if i:
            y += gaps[i]
        ascent, descent = pil_font.getmetrics()
        alpha = Image.new("L", (width, height), 0)
        boxes, _ = _draw_text_alpha(alpha, text, pil_font, tx, y + ascent)
        # the text colour must stand out from the background under this line
        band = ground[max(y, 0):y + ascent + descent, tx:tx + text_w]
        fg = _text_color_for(band.reshape(-1, 3), dark_text, rng)
        a = np.asarray(alpha, dtype=np.float64)[..., None] / 255.0
        canvas = canvas * (1 - a) + fg[None, None, :] * a
        out_lines.append(SynthLine(text, boxes, _ink_box(boxes)))
        y += ascent + descent
    image = _finish(canvas, rng, noise, blur)
    return SynthImage(image, out_lines, kind="banner", font=font.name, size=size,
                      picture=pic_box)


def _text_color_for(ground: np.ndarray, dark_text: bool, rng: np.random.Generator,
                    min_contrast: float = MIN_CONTRAST) -> np.ndarray:
    lumas = ground @ np.array([0.299, 0.587, 0.114])
    limit = float(lumas.min()) if dark_text else float(lumas.max())
    for _ in range(COLOR_TRIES):
        color = rng.integers(0, 256, 3).astype(np.float64)
        lum = _luma(color)
        if dark_text and limit - lum >= min_contrast:
            return color
        if not dark_text and lum - limit >= min_contrast:
            return color
    return np.zeros(3) if dark_text else np.full(3, 255.0)
