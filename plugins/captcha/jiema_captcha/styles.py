"""Captchas in many drawn styles, for a general reader of styles it never saw.

One generator of shapes rather than many packages: each image draws its own style (fonts,
colours, per-character rotation and overlap, warps, lines, arcs, dots, noise, blur, JPEG), so a
model trained on a stream of them learns the characters, not one site's look. Image `i` of
seed `s` is the same on every run (`generator.image_rng`). Labels are lowercase letters and
digits (both cases are drawn).

Fonts are the system's Latin-capable fonts minus `EXCLUDED_FONT_PARTS`: the typefaces withheld
from training (DEVELOPERS.md) and those the held-out benchmark styles use
(benchmarks/captcha_general.py), so that benchmark measures unseen fonts too.
"""

from __future__ import annotations

import io
import math
import random
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .generator import DIGITS, LOWER, UPPER, image_rng

#: The labels' alphabet (case-insensitive: upper case is drawn, read as lower case).
ALPHABET = LOWER + DIGITS
#: Label lengths and their weights: most sites use 4-6 characters.
LENGTHS = (3, 4, 5, 6, 7, 8)
LENGTH_WEIGHTS = (1, 4, 4, 3, 1, 1)
#: Font file name parts never drawn with (lowercase): the withheld typefaces (any packaging),
#: the held-out benchmark's fonts (DejaVu, Roboto, Arial, Calibri) and their metric clones
#: (Liberation Sans and Arimo for Arial, Carlito for Calibri), symbol or math fonts without
#: letters, and calligraphic scripts (Z003, TeX Gyre Chorus) no captcha site uses.
EXCLUDED_FONT_PARTS = (
    "wenkai", "sungti", "kaitim", "droid", "dejavu", "roboto", "arial", "calibri", "liberation",
    "arimo", "carlito", "math", "symbol", "dingbat", "d050000l", "emoji", "music", "braille",
    "z003", "chorus",
)
#: Font suffixes FreeType reads here.
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
#: Share of images drawn by the captcha package's ImageCaptcha (with a pool font) instead.
IMAGECAPTCHA_SHARE = 0.15
#: Image height range in pixels; widths follow the text.
HEIGHT_RANGE = (36, 90)
#: Glyph size as a share of the image height.
GLYPH_SCALE = (0.55, 0.85)
#: Per-character rotation in degrees (most sites stay within this).
MAX_CHAR_ROTATION = 35.0
#: Character advance as a share of the glyph width: below 1 the glyphs touch or overlap.
ADVANCE = (0.7, 1.15)
#: Share of images drawing each character in its own font (else one font for all).
PER_CHAR_FONT_SHARE = 0.2
#: Blank margin before the first and after the last character, x the image height.
MARGIN = (0.1, 0.4)
#: Each character's advance is also jittered by this factor (uneven spacing).
ADVANCE_JITTER = (0.85, 1.0)
#: Channel ranges of dark and of light colours (inks and grounds are drawn from opposite ones).
DARK_COLOURS = (0, 110)
LIGHT_COLOURS = (150, 255)
#: Background kinds by share: a gradient, then speckle (gray-level sigma), else plain.
GRADIENT_SHARE = 0.3
SPECKLE_SHARE = 0.2
SPECKLE_SIGMA = 25.0
#: Share of images whose clutter also takes a colour not among the characters'.
STRAY_COLOUR_SHARE = 0.5
#: Share of images with a colour per character (else one text colour).
MULTICOLOUR_SHARE = 0.35
#: Share of images with outlined (hollow) characters.
HOLLOW_SHARE = 0.08
#: Share of images drawn light on dark.
DARK_BACKGROUND_SHARE = 0.2
#: Lines/curves crossing the text, and dots, per image (uniform ranges).
LINES = (0, 6)
DOTS = (0, 250)
#: Share of images with a sine warp, with its amplitude as a share of the height.
WARP_SHARE = 0.5
WARP_AMPLITUDE = (0.02, 0.12)
#: Pixel noise level range (0..1 of full scale) and the share of images blurred.
NOISE = (0.0, 0.12)
BLUR_SHARE = 0.3
#: Share of images JPEG-compressed, at this quality range.
JPEG_SHARE = 0.3
JPEG_QUALITY = (30, 85)
#: Least luminance gap between text and background (0..255).
MIN_CONTRAST = 70


@lru_cache(maxsize=1)
def training_fonts() -> tuple[str, ...]:
    """The font files drawn with (fontconfig's Latin-capable fonts, minus the excluded)."""
    try:
        out = subprocess.run(["fc-list", ":lang=en", "file"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ()
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    return tuple(f for f in files if _allowed(f))


def _allowed(path: str) -> bool:
    name = Path(path).name.lower()
    return name.endswith(FONT_SUFFIXES) and not any(p in name for p in EXCLUDED_FONT_PARTS)


def _text(rng: random.Random) -> str:
    n = rng.choices(LENGTHS, LENGTH_WEIGHTS)[0]
    drawn = ALPHABET + UPPER
    return "".join(rng.choice(drawn) for _ in range(n))


def _colour(rng: random.Random, dark: bool) -> tuple[int, int, int]:
    lo, hi = DARK_COLOURS if dark else LIGHT_COLOURS
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def _luma(c: Sequence[int]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _ink(rng: random.Random, background: tuple[int, int, int]) -> tuple[int, int, int]:
    """A colour at least MIN_CONTRAST from the background's luminance."""
    dark_text = _luma(background) > 127
    for _ in range(20):
        c = _colour(rng, dark=dark_text)
        if abs(_luma(c) - _luma(background)) >= MIN_CONTRAST:
            return c
    return (0, 0, 0) if dark_text else (255, 255, 255)


def _background(rng: random.Random, base: tuple[int, int, int], size: tuple[int, int]) -> Any:
    """A plain, gradient or speckled background around colour `base`."""
    from PIL import Image

    dark = _luma(base) < 127
    w, h = size
    kind = rng.random()
    arr = np.empty((h, w, 3), np.float64)
    arr[:] = base
    if kind < GRADIENT_SHARE:  # a gradient to a second colour of the same brightness class
        other = np.array(_colour(rng, dark=dark), np.float64)
        t = np.linspace(0.0, 1.0, w)[None, :, None]
        arr = arr * (1 - t) + other * t
    elif kind < GRADIENT_SHARE + SPECKLE_SHARE:  # speckle texture
        nrng = np.random.default_rng(rng.getrandbits(32))
        arr += nrng.normal(0.0, SPECKLE_SIGMA, (h, w, 1))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _glyph(rng: random.Random, char: str, font: Any, colour: tuple[int, int, int],
           hollow: bool) -> Any:
    """One character on a transparent tile, rotated."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(char)
    pad = 4
    tile = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    if hollow:
        draw.text((pad - left, pad - top), char, font=font, fill=(0, 0, 0, 0),
                  stroke_width=max(1, font.size // 18), stroke_fill=colour + (255,))
    else:
        draw.text((pad - left, pad - top), char, font=font, fill=colour + (255,))
    angle = rng.uniform(-MAX_CHAR_ROTATION, MAX_CHAR_ROTATION)
    return tile.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def _clutter(rng: random.Random, image: Any, colours: list[tuple[int, int, int]],
             line_width: int) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    w, h = image.size
    for _ in range(rng.randint(*LINES)):
        colour = rng.choice(colours)
        kind = rng.random()
        if kind < 0.4:
            draw.line([(rng.randint(0, w), rng.randint(0, h)) for _ in range(2)], fill=colour,
                      width=rng.randint(1, line_width))
        elif kind < 0.8:  # a sine-like curve across most of the width
            x0, x1 = sorted(rng.sample(range(w + 1), 2))
            amp, phase, freq = rng.uniform(2, h / 3), rng.uniform(0, 6.3), rng.uniform(0.5, 3)
            y0 = rng.uniform(h * 0.2, h * 0.8)
            xs = np.linspace(x0, x1, 30)
            ys = y0 + amp * np.sin(phase + freq * math.pi * (xs - x0) / max(x1 - x0, 1))
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=colour,
                      width=rng.randint(1, line_width))
        else:
            cx, cy = rng.randint(0, w), rng.randint(0, h)
            rx, ry = rng.randint(3, max(4, w // 4)), rng.randint(3, max(4, h // 2))
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=colour,
                         width=rng.randint(1, line_width))
    for _ in range(rng.randint(*DOTS)):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.choice((0, 0, 0, 1, 1, 2))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(colours))


def _warp(rng: random.Random, arr: np.ndarray) -> np.ndarray:
    """Shift each column vertically along a sine (the rows wave)."""
    h, w = arr.shape[:2]
    amp = rng.uniform(*WARP_AMPLITUDE) * h
    period = rng.uniform(0.5, 2.0) * w
    phase = rng.uniform(0, 2 * math.pi)
    shift = np.round(amp * np.sin(phase + 2 * math.pi * np.arange(w) / period)).astype(int)
    rows = (np.arange(h)[:, None] - shift[None, :]) % h
    return arr[rows, np.arange(w)[None, :]]


def _finish(rng: random.Random, image: Any) -> Any:
    """Warp, pixel noise, blur and JPEG, each by its share."""
    from PIL import Image, ImageFilter

    arr = np.asarray(image, np.float64)
    if rng.random() < WARP_SHARE:
        arr = _warp(rng, arr)
    level = rng.uniform(*NOISE)
    if level > 0:
        nrng = np.random.default_rng(rng.getrandbits(32))
        arr = arr + nrng.normal(0.0, 255.0 * level, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if rng.random() < BLUR_SHARE:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
    if rng.random() < JPEG_SHARE:
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=rng.randint(*JPEG_QUALITY))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def _drawn(rng: random.Random, shown: str, fonts: Sequence[str]) -> Any:
    from PIL import ImageFont

    h = rng.randint(*HEIGHT_RANGE)
    size = max(10, int(h * rng.uniform(*GLYPH_SCALE)))
    per_char_font = rng.random() < PER_CHAR_FONT_SHARE
    faces = [ImageFont.truetype(rng.choice(fonts), size) for _ in
             range(len(shown) if per_char_font else 1)]
    advance = rng.uniform(*ADVANCE)
    multicolour = rng.random() < MULTICOLOUR_SHARE
    hollow = rng.random() < HOLLOW_SHARE
    background_rng = random.Random(rng.getrandbits(32))
    base = _colour(background_rng, dark=background_rng.random() < DARK_BACKGROUND_SHARE)
    ink = _ink(rng, base)
    colours, tiles, xs = [], [], []
    x = rng.uniform(*MARGIN) * h
    for k, char in enumerate(shown):
        colour = _ink(rng, base) if multicolour else ink
        tile = _glyph(rng, char, faces[k % len(faces)], colour, hollow)
        colours.append(colour)
        tiles.append(tile)
        xs.append(int(x))
        x += tile.width * advance * rng.uniform(*ADVANCE_JITTER)
    width = int(max(x, xs[-1] + tiles[-1].width) + rng.uniform(*MARGIN) * h)
    image = _background(background_rng, base, (width, h))
    for tile, x0 in zip(tiles, xs, strict=True):
        room = h - tile.height  # negative: the tile is taller than the image, centre it
        y = room // 2 if room <= 0 else int(rng.uniform(0.0, room))
        image.paste(tile, (x0, y), tile)
    stray = rng.random() < STRAY_COLOUR_SHARE
    clutter = colours + ([_colour(rng, dark=rng.random() < 0.5)] if stray else [])
    _clutter(rng, image, clutter, max(1, h // 20))
    return _finish(rng, image)


def _imagecaptcha(rng: random.Random, shown: str, fonts: Sequence[str]) -> Any:
    """The captcha package's ImageCaptcha with pool fonts (another family of distortions)."""
    from captcha.image import ImageCaptcha

    from .generator import _seeded_captcha_module

    h = rng.randint(*HEIGHT_RANGE)
    w = int(h * rng.uniform(0.5, 0.8) * len(shown) + h * 0.5)
    drawer = ImageCaptcha(width=w, height=h, fonts=[rng.choice(fonts)])
    with _seeded_captcha_module(rng):
        return drawer.generate_image(shown)


def sample(seed: int, index: int, fonts: Sequence[str] | None = None) -> tuple[Any, str]:
    """`(PIL RGB image, lowercase label)` of image `index` of stream `seed`."""
    fonts = training_fonts() if fonts is None else fonts
    if not fonts:
        from jiema.errors import InvalidInputError

        raise InvalidInputError("no Latin fonts found by fc-list for the style captchas "
                                "(apt-get install fonts-freefont-ttf fonts-lato ...)")
    rng = image_rng(seed, index)
    shown = _text(rng)
    if rng.random() < IMAGECAPTCHA_SHARE:
        image = _imagecaptcha(rng, shown, fonts)
    else:
        image = _drawn(rng, shown, fonts)
    return image.convert("RGB"), shown.lower()



def _write_one(args: tuple[str, int, int]) -> None:
    out, seed, index = args
    image, label = sample(seed, index)
    final = Path(out) / f"{label}_{index}.png"
    partial = final.with_name(f".{final.name}.part")
    image.save(partial, format="PNG")
    partial.replace(final)  # a killed run leaves no half-written image under a real name


def _done_indices(out: Path) -> set[int]:
    done = set()
    for p in out.glob("*_*.png"):
        tail = p.stem.rsplit("_", 1)[1]
        if tail.isdigit():
            done.add(int(tail))
    return done


def write_folder(out: str | Path, n: int, seed: int = 0, workers: int = 1) -> int:
    """Write images 0..n-1 of stream `seed` into `out` as `label_i.png` (the folder format of
    `jiema train captcha --data`); images already there are kept, so a killed run resumes.
    Returns how many were written now."""
    from tqdm import tqdm

    out = Path(out)
    if out.exists() and not out.is_dir():
        from jiema.errors import InvalidInputError

        raise InvalidInputError(f"{out} is a file, not a folder to write captchas into")
    out.mkdir(parents=True, exist_ok=True)
    done = _done_indices(out)
    todo = [(str(out), seed, i) for i in range(n) if i not in done]
    bar = tqdm(total=len(todo), desc="style captchas", unit="img")
    if workers <= 1:
        for job in todo:
            _write_one(job)
            bar.update()
    else:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_write_one, todo, chunksize=64):
                bar.update()
    bar.close()
    return len(todo)


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m jiema_captcha.styles OUT --n N [--seed S] [--workers W]`."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m jiema_captcha.styles",
                                 description="Write a folder of many-style captchas "
                                 "(training data for a general reader).")
    ap.add_argument("out", type=Path, help="folder to fill (created; kept images are skipped)")
    ap.add_argument("--n", type=int, required=True, help="images 0..N-1 of the stream")
    ap.add_argument("--seed", type=int, default=0, help="the stream (default 0)")
    ap.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    args = ap.parse_args(argv)
    if args.n < 1 or args.workers < 1:
        ap.error("--n and --workers must be at least 1")
    from jiema.errors import JiemaError

    try:
        wrote = write_folder(args.out, args.n, args.seed, args.workers)
    except (JiemaError, OSError) as exc:
        ap.exit(1, f"{ap.prog}: {exc}\n")
    print(f"{wrote} images written to {args.out} ({args.n} in all)")


if __name__ == "__main__":
    main()
