"""Training lines that look like what users feed an OCR reader: (image, text) pairs.

Each line is drawn in one of six styles, all from one seeded generator (same seed, same image):
  screen    12-20 px UI text as screens draw it: hinted, grayscale or subpixel-like (colour
            fringed) antialiasing, sometimes none; UI colour pairs, light and dark themes;
            sometimes rescaled (a screenshot at another display scale) or JPEG'd (sent on).
  button    white (or dark) text on a coloured rounded button, page ground around it.
  document  printed-style text, 16-48 px, random contrasting colours, gradients, noise, blur.
  photo     a document line photographed: perspective, rotation, uneven light, blur or motion
            blur, noise, JPEG.
  picture   text over a picture (shapes, gradients, texture), with an outline, a shadow or a
            colour chosen to stand out there.
  title     large decorative titles: bold, outlined, shadowed, on flat, gradient or picture
            grounds.
Both polarities occur in every style. The label is the text with whitespace removed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from jiema.errors import InvalidValueError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .synth import Font, _draw_picture, _gradient, _luma, _text_color_for, contrasting_colors

STYLES = ("screen", "button", "document", "photo", "picture", "title")
Color = tuple[int, int, int]

# UI colour pairs (ground, text), as common apps and web pages draw them.
LIGHT_GROUNDS: tuple[Color, ...] = ((255, 255, 255), (245, 245, 245), (250, 250, 250),
                                    (240, 242, 245), (255, 251, 230), (230, 244, 255),
                                    (246, 255, 237), (237, 237, 237))
TEXT_ON_LIGHT: tuple[Color, ...] = ((0, 0, 0), (51, 51, 51), (34, 34, 34), (102, 102, 102),
                                    (128, 128, 128), (22, 119, 255), (26, 115, 232),
                                    (228, 57, 60), (250, 81, 81), (250, 140, 22), (7, 193, 96),
                                    (114, 46, 209))
DARK_GROUNDS: tuple[Color, ...] = ((0, 0, 0), (30, 30, 30), (18, 18, 18), (43, 43, 43),
                                   (31, 41, 55), (17, 24, 39), (40, 44, 52))
TEXT_ON_DARK: tuple[Color, ...] = ((255, 255, 255), (221, 221, 221), (170, 170, 170),
                                   (78, 161, 255), (255, 196, 0), (149, 236, 105))
BUTTON_COLORS: tuple[Color, ...] = ((22, 119, 255), (7, 193, 96), (250, 81, 81),
                                    (255, 106, 0), (114, 46, 209), (19, 194, 194),
                                    (245, 34, 45), (47, 84, 235), (250, 173, 20), (0, 0, 0),
                                    (64, 64, 64), (235, 47, 150))

# Geometry and effect strengths, as fractions of the font size unless stated. Chosen by eye so
# the contact sheet (`python -m jiema_ocr.synth_sheet`) looks like real crops of a line finder.
PAD = (0.05, 0.6)  # the crop's margin around the text (uniform range)
SUBPIXEL_SHARE = 0.4  # screen text with colour-fringed (subpixel-like) antialiasing
ALIASED_SHARE = 0.12  # screen text drawn without antialiasing (old bitmap-like UI); 0.08 until
# session 25, when bitmap digits were still misread by both readers
RESCALE_SHARE = 0.25  # a screenshot taken at another display scale, resized
RESCALE = (0.75, 1.5)
SCREEN_JPEG_SHARE = 0.3  # screenshots sent on through chats get JPEG'd
JPEG_QUALITY = (25, 90)
BUTTON_PAD = ((0.5, 1.5), (0.25, 0.7))  # button padding: horizontal, vertical
BUTTON_RADIUS = (0.0, 0.6)  # corner radius, x the button's height
MAX_ROTATION = 5.0  # degrees, photos
MAX_PERSPECTIVE = 0.08  # corner shift, x the line's height
LIGHT_FIELD = (0.65, 1.15)  # uneven light: ground multiplied by a smooth field in this range
PHOTO_BLUR = (0.3, 1.3)  # Gaussian radius, pixels at the rendered size
PHOTO_NOISE = (2.0, 10.0)
DOC_NOISE = (0.0, 10.0)
OUTLINE = (0.06, 0.14)  # title outline width
SHADOW = (0.04, 0.12)  # title shadow offset
TEXT_TRIES = 50  # texts drawn before giving up on finding a font that has all their glyphs
MIN_CONTRAST = 80.0  # luma between text and ground where a colour is drawn at random
PHOTO_CONTRAST = 110.0  # a photographed line starts with more: light and blur take some away


class LineStyleOptions(BaseModel):
    """How often each style is drawn and the size ranges; the defaults are the training mix."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] = Field(
        default_factory=lambda: {"screen": 0.3, "button": 0.08, "document": 0.2, "photo": 0.2,
                                 "picture": 0.12, "title": 0.1},
        description="relative frequency of each style (names from STYLES)")
    screen_sizes: tuple[int, int] = (12, 20)
    print_sizes: tuple[int, int] = (16, 48)
    title_sizes: tuple[int, int] = (28, 64)

    @model_validator(mode="after")
    def _check(self) -> LineStyleOptions:
        unknown = sorted(set(self.weights) - set(STYLES))
        if unknown:
            raise ValueError(f"unknown style(s) {unknown}; choose from {list(STYLES)}")
        if any(not math.isfinite(w) or w < 0 for w in self.weights.values()) or not sum(
                self.weights.values()) > 0:
            raise ValueError("style weights must be finite, >= 0 and not all 0")
        for name in ("screen_sizes", "print_sizes", "title_sizes"):
            lo, hi = getattr(self, name)
            if not 6 <= lo <= hi:
                raise ValueError(f"{name} must satisfy 6 <= min <= max, got {lo}..{hi}")
        return self


@dataclass
class TrainingLine:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    text: str  # as drawn, spaces kept
    style: str
    dark_text: bool  # the text is darker than its ground (the polarity normalize_line needs)
    font: str
    size: int

    @property
    def label(self) -> str:
        return "".join(self.text.split())

    @property
    def gray(self) -> np.ndarray:
        return (self.image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
                ).astype(np.uint8)


@lru_cache(maxsize=2048)
def _pil_font(path: str, index: int, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=index)


def covers(font: Font, text: str) -> bool:
    """Whether `font` has a glyph for every non-space character of `text`."""
    from .glyphs import load_face

    cmap = load_face(font.path, font.index).codepoints
    return all(ord(ch) in cmap for ch in text if not ch.isspace())


def _mask(text: str, pil_font: Any, width: int, height: int, x: float, baseline: float,
          stroke: int = 0, aliased: bool = False) -> np.ndarray:
    """Coverage (0..1 float32) of `text` drawn at (x, baseline), optionally thickened by a
    `stroke` px outline; `aliased` draws without antialiasing."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    if aliased:
        draw.fontmode = "1"
    draw.text((round(x), round(baseline)), text, fill=255, font=pil_font, anchor="ls",
              stroke_width=stroke, stroke_fill=255)
    return np.asarray(img, dtype=np.float32) / 255.0


def _layout(text: str, pil_font: Any, size: int, rng: np.random.Generator, extra: int = 0
            ) -> tuple[int, int, float, float]:
    """Canvas width and height and the text's x and baseline, with a random margin."""
    ascent, descent = pil_font.getmetrics()
    px = int(size * rng.uniform(*PAD)) + extra
    py = int(size * rng.uniform(*PAD) * 0.6) + extra
    width = int(math.ceil(pil_font.getlength(text))) + 2 * px
    return max(width, 1), ascent + descent + 2 * py, px, py + ascent


def _blend(ground: np.ndarray, color: Sequence[float] | np.ndarray, cover: np.ndarray
           ) -> np.ndarray:
    """`ground` (H, W, 3) with `color` laid over it by `cover` (H, W) or (H, W, 3)."""
    a = cover if cover.ndim == 3 else cover[..., None]
    g = np.asarray(ground, dtype=np.float32)
    return g + (np.asarray(color, np.float32)[None, None, :] - g) * a


def _subpixel(cover: np.ndarray) -> np.ndarray:
    """Per-channel coverage as a horizontal-RGB LCD filter makes it: red sampled a third of a
    pixel left, blue a third right (colour fringes on the glyph edges)."""
    left = np.concatenate([cover[:, :1], cover[:, :-1]], axis=1)
    right = np.concatenate([cover[:, 1:], cover[:, -1:]], axis=1)
    return np.stack([cover * 2 / 3 + left / 3, cover, cover * 2 / 3 + right / 3], axis=2)


def _to_uint8(canvas: np.ndarray) -> np.ndarray:
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))


def _blur(canvas: np.ndarray, radius: float) -> np.ndarray:
    from PIL import Image, ImageFilter

    img = Image.fromarray(_to_uint8(canvas)).filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(img, dtype=np.float64)


def _texture(height: int, width: int, rng: np.random.Generator, cells: int = 6) -> np.ndarray:
    """A smooth random field in 0..1 (H, W): low-resolution noise scaled up."""
    from PIL import Image

    small = rng.random((max(2, cells * height // max(width, 1) + 2), cells + 2))
    img = Image.fromarray((small * 255).astype(np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float64) / 255.0


def _picture_ground(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A busy 'photo' ground: a gradient, a colour texture and a few drawn shapes."""
    c0, c1 = rng.integers(0, 256, 3).astype(np.float64), rng.integers(0, 256, 3).astype(float)
    ground = _gradient(height, width, c0, c1, vertical=bool(rng.integers(2))).copy()
    tint = rng.integers(0, 256, 3).astype(np.float64)
    ground = _blend(ground, tint, 0.5 * _texture(height, width, rng))
    for _ in range(int(rng.integers(1, 4))):
        side = int(min(height, width) * rng.uniform(0.6, 1.6))
        x0 = int(rng.integers(-side // 2, max(1, width - side // 2)))
        y0 = int(rng.integers(-side // 2, max(1, height - side // 2)))
        box = (max(0, x0), max(0, y0), min(width, x0 + side), min(height, y0 + side))
        if box[2] - box[0] > 2 and box[3] - box[1] > 2:
            _draw_picture(ground, box, rng)
    return ground


def _pick(rng: np.random.Generator, colors: Sequence[Color]) -> np.ndarray:
    return np.asarray(colors[int(rng.integers(len(colors)))], dtype=np.float64)


def _screen(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions
            ) -> TrainingLine:
    size = int(rng.integers(o.screen_sizes[0], o.screen_sizes[1] + 1))
    pil_font = _pil_font(font.path, font.index, size)
    width, height, x, baseline = _layout(text, pil_font, size, rng)
    dark_theme = rng.random() < 0.3
    ground = _pick(rng, DARK_GROUNDS if dark_theme else LIGHT_GROUNDS)
    fg = _pick(rng, TEXT_ON_DARK if dark_theme else TEXT_ON_LIGHT)
    aliased = rng.random() < ALIASED_SHARE
    cover = _mask(text, pil_font, width, height, x, baseline, aliased=aliased)
    if not aliased and rng.random() < SUBPIXEL_SHARE:
        cover = _subpixel(cover)
    canvas = _blend(np.broadcast_to(ground, (height, width, 3)).astype(np.float64), fg, cover)
    image = _to_uint8(canvas)
    if rng.random() < RESCALE_SHARE:
        image = _resize(image, float(rng.uniform(*RESCALE)))
    if rng.random() < SCREEN_JPEG_SHARE:
        image = _jpeg(image, int(rng.integers(*JPEG_QUALITY)))
    return TrainingLine(image, text, "screen", _luma(fg) < _luma(ground), font.name, size)


def _button(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions
            ) -> TrainingLine:
    from PIL import Image, ImageDraw

    size = int(rng.integers(o.screen_sizes[0], o.title_sizes[0] + 1))
    pil_font = _pil_font(font.path, font.index, size)
    ascent, descent = pil_font.getmetrics()
    bx = int(size * rng.uniform(*BUTTON_PAD[0]))
    by = int(size * rng.uniform(*BUTTON_PAD[1]))
    text_w = int(math.ceil(pil_font.getlength(text)))
    margin = int(size * rng.uniform(0.0, 0.5))
    bw, bh = text_w + 2 * bx, ascent + descent + 2 * by
    width, height = bw + 2 * margin, bh + 2 * margin
    color = _pick(rng, BUTTON_COLORS)
    page = _pick(rng, LIGHT_GROUNDS if rng.random() < 0.7 else DARK_GROUNDS)
    light_text = _luma(color) < 160 or rng.random() < 0.2
    fg = np.full(3, 255.0) if light_text else _pick(rng, TEXT_ON_LIGHT[:4])
    if abs(_luma(fg) - _luma(color)) < MIN_CONTRAST:  # a pale button keeps dark text
        fg = np.zeros(3) if _luma(color) >= 128 else np.full(3, 255.0)
    shape = Image.new("L", (width, height), 0)
    radius = int(bh * rng.uniform(*BUTTON_RADIUS))
    ImageDraw.Draw(shape).rounded_rectangle((margin, margin, margin + bw - 1, margin + bh - 1),
                                            radius=radius, fill=255)
    canvas = _blend(np.broadcast_to(page, (height, width, 3)).astype(np.float64), color,
                    np.asarray(shape, np.float64) / 255.0)
    cover = _mask(text, pil_font, width, height, margin + bx, margin + by + ascent)
    canvas = _blend(canvas, fg, cover)
    image = _to_uint8(canvas)
    if rng.random() < SCREEN_JPEG_SHARE:
        image = _jpeg(image, int(rng.integers(*JPEG_QUALITY)))
    return TrainingLine(image, text, "button", _luma(fg) < _luma(color), font.name, size)


def _document_canvas(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions,
                     extra: int = 0, contrast: float = MIN_CONTRAST
                     ) -> tuple[np.ndarray, bool, int]:
    size = int(rng.integers(o.print_sizes[0], o.print_sizes[1] + 1))
    pil_font = _pil_font(font.path, font.index, size)
    width, height, x, baseline = _layout(text, pil_font, size, rng, extra)
    dark = bool(rng.random() < 0.7)
    fg, bg = contrasting_colors(rng, dark, contrast)
    if rng.random() < 0.3:
        bg2 = bg + rng.uniform(-1, 1, 3) * 0.3 * abs(_luma(bg) - _luma(fg))
        ground = _gradient(height, width, bg, bg2, vertical=bool(rng.integers(2)))
    else:
        ground = np.broadcast_to(bg, (height, width, 3))
    stroke = 1 if size >= 28 and rng.random() < 0.15 else 0
    cover = _mask(text, pil_font, width, height, x, baseline, stroke=stroke)
    return _blend(ground.astype(np.float64), fg, cover), dark, size


def _document(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions
              ) -> TrainingLine:
    canvas, dark, size = _document_canvas(text, font, rng, o)
    if rng.random() < 0.4:
        canvas = _blur(canvas, float(rng.uniform(0.3, 1.0)))
    canvas = canvas + rng.normal(0.0, rng.uniform(*DOC_NOISE), canvas.shape)
    return TrainingLine(_to_uint8(canvas), text, "document", dark, font.name, size)


def _perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> list[float]:
    """PIL's PERSPECTIVE coefficients mapping output points `dst` to input points `src`."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return np.linalg.solve(np.asarray(rows, float), src.reshape(-1)).tolist()


def _photograph(canvas: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Perspective and rotation, uneven light, blur, noise and JPEG, as a phone photo has."""
    from PIL import Image, ImageFilter

    h, w = canvas.shape[:2]
    border = canvas[[0, -1]].reshape(-1, 3).mean(axis=0)
    img = Image.fromarray(_to_uint8(canvas))
    shift = MAX_PERSPECTIVE * h
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=float)
    moved = corners + rng.uniform(-shift, shift, corners.shape)
    angle = math.radians(float(rng.uniform(-MAX_ROTATION, MAX_ROTATION)))
    c, s = math.cos(angle), math.sin(angle)
    centre = np.array([w / 2, h / 2])
    moved = (moved - centre) @ np.array([[c, s], [-s, c]]) + centre
    lo = moved.min(axis=0)
    moved -= lo
    out_w, out_h = (int(math.ceil(v)) for v in moved.max(axis=0))
    img = img.transform((max(out_w, 1), max(out_h, 1)), Image.Transform.PERSPECTIVE,
                        _perspective_coeffs(corners, moved), resample=Image.Resampling.BILINEAR,
                        fillcolor=tuple(int(v) for v in border))
    arr = np.asarray(img, dtype=np.float64)
    oh, ow = arr.shape[:2]
    light = LIGHT_FIELD[0] + (LIGHT_FIELD[1] - LIGHT_FIELD[0]) * _texture(oh, ow, rng, 3)
    arr = arr * light[..., None]
    if rng.random() < 0.3:  # a glare spot
        yy, xx = np.mgrid[0:oh, 0:ow]
        cx, cy, r = rng.uniform(0, ow), rng.uniform(0, oh), rng.uniform(0.5, 2) * oh
        arr = arr + rng.uniform(20, 80) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2
                                                 )[..., None]
    img = Image.fromarray(_to_uint8(arr))
    if rng.random() < 0.25:  # hand shake: a short horizontal smear
        img = img.filter(ImageFilter.Kernel((5, 5), [0] * 10 + [1] * 5 + [0] * 10, 5))
    else:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(*PHOTO_BLUR)) * min(
            1.0, size / 24)))
    arr = np.asarray(img, dtype=np.float64)
    arr = arr + rng.normal(0.0, rng.uniform(*PHOTO_NOISE), arr.shape)
    return _jpeg(_to_uint8(arr), int(rng.integers(*JPEG_QUALITY)))


def _photo(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions
           ) -> TrainingLine:
    canvas, dark, size = _document_canvas(text, font, rng, o, extra=2, contrast=PHOTO_CONTRAST)
    return TrainingLine(_photograph(canvas, rng, size), text, "photo", dark, font.name, size)


def _decorated(text: str, pil_font: Any, size: int, ground: np.ndarray, x: float,
               baseline: float, rng: np.random.Generator, heavy: bool) -> tuple[np.ndarray, bool]:
    """Text over `ground`: outlined, shadowed or plain (bold with `heavy`) in a colour that
    stands out there; returns the canvas and whether the text is the darker."""
    height, width = ground.shape[:2]
    stroke = max(1, round(size * 0.03)) if heavy and rng.random() < 0.5 else 0
    fill = _mask(text, pil_font, width, height, x, baseline, stroke=stroke)
    under = ground[fill > 0.5] if (fill > 0.5).any() else ground.reshape(-1, 3)
    ref = float(np.median(under @ np.array([0.299, 0.587, 0.114])))  # the luma around the text
    effect = int(rng.integers(3))  # 0 outline, 1 shadow, 2 plain
    # an outline makes its own contrast; otherwise the text goes the way the ground has room
    dark = bool(rng.random() < 0.5) if effect == 0 else ref > 127
    canvas = ground.copy()
    if effect == 0:
        width_px = max(1, round(size * rng.uniform(*OUTLINE)))
        outline = _mask(text, pil_font, width, height, x, baseline, stroke=stroke + width_px)
        edge = np.zeros(3) if not dark else np.full(3, 255.0)
        canvas = _blend(canvas, edge, outline)
        fg = _text_color_for(edge[None, :], dark, rng, MIN_CONTRAST)
        ref = _luma(edge)
    else:
        fg = _text_color_for(under.reshape(-1, 3), dark, rng, MIN_CONTRAST)
        if effect == 1:
            off = max(1, round(size * rng.uniform(*SHADOW)))
            shadow = _mask(text, pil_font, width, height, x + off, baseline + off,
                           stroke=stroke)
            tone = np.zeros(3) if _luma(fg) > 127 else np.full(3, 255.0)
            from PIL import Image, ImageFilter

            soft = np.asarray(Image.fromarray((shadow * 255).astype(np.uint8)).filter(
                ImageFilter.GaussianBlur(off / 2)), np.float64) / 255.0
            canvas = _blend(canvas, tone, 0.8 * soft)
    return _blend(canvas, fg, fill), _luma(fg) < ref


def _picture(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions
             ) -> TrainingLine:
    size = int(rng.integers(o.print_sizes[0], o.print_sizes[1] + 1))
    pil_font = _pil_font(font.path, font.index, size)
    width, height, x, baseline = _layout(text, pil_font, size, rng, extra=2)
    ground = _picture_ground(height, width, rng)
    canvas, dark = _decorated(text, pil_font, size, ground, x, baseline, rng, heavy=False)
    if rng.random() < 0.3:
        canvas = canvas + rng.normal(0.0, rng.uniform(*DOC_NOISE), canvas.shape)
    return TrainingLine(_to_uint8(canvas), text, "picture", dark, font.name, size)


def _title(text: str, font: Font, rng: np.random.Generator, o: LineStyleOptions
           ) -> TrainingLine:
    size = int(rng.integers(o.title_sizes[0], o.title_sizes[1] + 1))
    pil_font = _pil_font(font.path, font.index, size)
    width, height, x, baseline = _layout(text, pil_font, size, rng, extra=size // 6)
    kind = int(rng.integers(3))
    if kind == 0:
        ground = _picture_ground(height, width, rng)
    else:
        c0, c1 = rng.integers(0, 256, 3).astype(float), rng.integers(0, 256, 3).astype(float)
        ground = _gradient(height, width, c0, c0 if kind == 1 else c1,
                           vertical=bool(rng.integers(2))).copy()
    canvas, dark = _decorated(text, pil_font, size, ground, x, baseline, rng, heavy=True)
    image = _to_uint8(canvas)
    if rng.random() < 0.3:
        image = _jpeg(image, int(rng.integers(*JPEG_QUALITY)))
    return TrainingLine(image, text, "title", dark, font.name, size)


THIN_STYLES = ("Thin", "ExtraLight")  # hairline weights: titles and print, never small UI text


def suits(font: Font, style: str) -> bool:
    """Whether `style` may draw with `font`: screens and buttons do not use hairline weights."""
    return style not in ("screen", "button") or not any(w in font.name for w in THIN_STYLES)


_RENDERERS = {"screen": _screen, "button": _button, "document": _document, "photo": _photo,
              "picture": _picture, "title": _title}


def pick_style(rng: np.random.Generator, options: LineStyleOptions | None = None) -> str:
    o = options or LineStyleOptions()
    names = [s for s in STYLES if o.weights.get(s, 0) > 0]
    w = np.asarray([o.weights[s] for s in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def render_training_line(text: str, font: Font, rng: np.random.Generator | int,
                         style: str | None = None,
                         options: LineStyleOptions | None = None) -> TrainingLine:
    """`text` drawn in `font` in `style` (None: drawn by `options.weights`), every random choice
    from `rng` (a generator or a seed): the same seed gives the same image."""
    if style is not None and style not in STYLES:
        raise InvalidValueError(f"style must be one of {list(STYLES)}, got {style!r}")
    if not text.strip():
        raise InvalidValueError("a training line needs some text, got only whitespace")
    if not covers(font, text):
        missing = sorted({ch for ch in text if not ch.isspace() and not covers(font, ch)})
        raise InvalidValueError(f"{font.name} has no glyph for {''.join(missing[:10])!r}")
    gen = np.random.default_rng(rng)
    o = options or LineStyleOptions()
    return _RENDERERS[style or pick_style(gen, o)](text, font, gen, o)


def draw_line(maker: Any, fonts: Sequence[Font], rng: np.random.Generator,
              style: str | None = None, options: LineStyleOptions | None = None
              ) -> TrainingLine:
    """One training line: a text from `maker` (a `synth_text.TextMaker`), a style, and one of
    `fonts` that has every glyph and suits the style, all drawn from `rng`."""
    o = options or LineStyleOptions()
    chosen = style or pick_style(rng, o)
    for _ in range(TEXT_TRIES):
        text = maker.line(rng)
        usable = [f for f in fonts if suits(f, chosen) and covers(f, text)]
        if usable:
            return render_training_line(text, usable[int(rng.integers(len(usable)))], rng,
                                        chosen, o)
    raise InvalidValueError(f"no font has every glyph of {TEXT_TRIES} texts in a row "
                            f"(style {chosen})")
