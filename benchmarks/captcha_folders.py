"""Folders of labelled captchas in styles other than ImageCaptcha's defaults, and the benchmark
of `jiema train captcha --data` (defaults) on them beside ddddocr.

    python benchmarks/captcha_folders.py make OUT [--styles a,b] [--n 1000] [--seed 7]
    python benchmarks/captcha_folders.py run OUT [--styles a,b] [--runs RUNS] [--no-ddddocr]
        [--max-minutes M]

`make` writes OUT/<style>/train (90%) and OUT/<style>/test (10%), images named `label_i.png`.
`run` trains on each style's train folder with `jiema train captcha --data DIR --out RUN` and
no other option (the trainer holds out its own validation split), scores the model on the test
folder with `jiema eval captcha --labels`, reads the same test images with ddddocr (without
training), and prints one table: style, images, whole-captcha accuracy, ddddocr, training wall
time and CPU time (on a shared machine the CPU time / 2 is what a free 2-core machine would
take), load average. ddddocr is in the `bench` extra; wheezy.captcha and claptcha (MIT) are
installed by `make` when missing (pinned below). Fonts are the system's DejaVu and WenQuanYi
Micro Hei (never the withheld ones of shared/data/README.md).

Styles (each seeded, image i the same on every run):
- wheezy5: wheezy.captcha's pipeline (warp, rotate, offset, curve, noise), 5 upper+digits
- claptcha5: claptcha's morphed letters, a line and white noise, 5 upper+digits, DejaVu fonts
- dejavu4-8: the captcha package's ImageCaptcha with DejaVu fonts, 4-8 lowercase+digits
- lines5: a PIL drawer: coloured mixed-case letters and digits (case-sensitive), 5 characters,
  crossing lines and dots on a tinted background
- digits4: a PIL drawer: 4 digits, serif font, grid lines, small 100x32 images
- wqy6: a PIL drawer: 6 upper+digits in WenQuanYi Micro Hei, squeezed, arcs, blur
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This folder holds captcha.py, named like the captcha package: keep it off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

WHEEZY = "wheezy.captcha==3.2.2"  # MIT licence
CLAPTCHA = "claptcha==0.3.3"  # MIT licence
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/wqy")
DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = UPPER.lower()
TEST_SHARE = 0.1


def font(name: str) -> str:
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.is_file():
            return str(p)
    raise SystemExit(f"font {name} not found in {FONT_DIRS} (apt-get install fonts-dejavu "
                     "fonts-wqy-microhei)")


def text(rng: random.Random, alphabet: str, lo: int, hi: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def wheezy5(rng: random.Random) -> tuple[Any, str]:
    try:
        from wheezy.captcha import image as w
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", WHEEZY], check=True)
        from wheezy.captcha import image as w
    label = text(rng, UPPER + DIGITS, 5, 5)
    random.seed(rng.random())  # wheezy draws from the random module
    fonts = [font("DejaVuSans-Bold.ttf"), font("DejaVuSerif.ttf")]
    draw = w.captcha(drawings=[
        w.background(), w.text(fonts=fonts, font_sizes=(40, 44), drawings=[
            w.warp(), w.rotate(), w.offset()]),
        w.curve(), w.noise(), w.smooth()], width=160, height=60)
    return draw(label), label


def claptcha_class() -> Any:
    """claptcha's `Claptcha` (installed when missing), with the `getsize` it calls, which
    Pillow 10 removed."""
    from PIL import ImageFont

    if not hasattr(ImageFont.FreeTypeFont, "getsize"):  # Pillow 10 removed what claptcha uses
        ImageFont.FreeTypeFont.getsize = lambda self, t: tuple(self.getbbox(t)[2:])
    try:
        from claptcha import Claptcha
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", CLAPTCHA], check=True)
        from claptcha import Claptcha
    return Claptcha


def claptcha5(rng: random.Random) -> tuple[Any, str]:
    Claptcha = claptcha_class()
    label = text(rng, UPPER + DIGITS, 5, 5)
    random.seed(rng.random())  # claptcha draws from the random module
    drawer = Claptcha(label, rng.choice([font("DejaVuSans.ttf"), font("DejaVuSerif.ttf")]),
                      size=(150, 50), noise=rng.uniform(0.1, 0.4))
    return drawer.image[1], label


def dejavu48(rng: random.Random) -> tuple[Any, str]:
    from captcha.image import ImageCaptcha
    from jiema_captcha.generator import _seeded_captcha_module

    label = text(rng, LOWER + DIGITS, 4, 8)
    drawer = ImageCaptcha(width=200, height=64, fonts=[
        font("DejaVuSerif-Bold.ttf"), font("DejaVuSansMono.ttf"), font("DejaVuSans.ttf")],
        font_sizes=(38, 42, 46))
    with _seeded_captcha_module(rng):
        return drawer.generate_image(label), label


def _pil_drawer(rng: random.Random, label: str, size: tuple[int, int], fonts: list[str],
                font_px: tuple[int, int], lines: int, dots: int, step: float,
                tilt: float, arcs: bool = False, blur: bool = False) -> Any:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    w, h = size
    bg = tuple(rng.randint(200, 255) for _ in range(3))
    image = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(image)
    x = rng.uniform(2, 8)
    for ch in label:
        f = ImageFont.truetype(rng.choice(fonts), rng.randint(*font_px))
        colour = tuple(rng.randint(0, 140) for _ in range(3))
        box = draw.textbbox((0, 0), ch, font=f)
        cw, chh = box[2] - box[0] + 4, box[3] - box[1] + 4
        glyph = Image.new("L", (cw, chh), 0)
        ImageDraw.Draw(glyph).text((2 - box[0], 2 - box[1]), ch, font=f, fill=255)
        glyph = glyph.rotate(rng.uniform(-tilt, tilt), Image.Resampling.BILINEAR, expand=True)
        y = rng.uniform(0, max(0.0, h - glyph.size[1]))
        image.paste(Image.new("RGB", glyph.size, colour), (int(x), int(y)), glyph)
        x += glyph.size[0] * step
    for _ in range(lines):
        colour = tuple(rng.randint(40, 180) for _ in range(3))
        if arcs:
            r = rng.uniform(h / 2, w)
            cx, cy = rng.uniform(0, w), rng.uniform(-r / 2, h + r / 2)
            start = rng.uniform(0, 360)
            draw.arc((cx - r, cy - r, cx + r, cy + r), start, start + rng.uniform(30, 90),
                     fill=colour, width=rng.randint(1, 2))
        else:
            draw.line([(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(2)], fill=colour,
                      width=rng.randint(1, 2))
    for _ in range(dots):
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        px, py = rng.uniform(0, w), rng.uniform(0, h)
        draw.point((px, py), fill=colour)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(0.7))
    return image


def lines5(rng: random.Random) -> tuple[Any, str]:
    label = text(rng, DIGITS + UPPER + LOWER, 5, 5)
    fonts = [font("DejaVuSans.ttf"), font("DejaVuSans-Bold.ttf"), font("DejaVuSerif.ttf")]
    return _pil_drawer(rng, label, (130, 44), fonts, (24, 30), rng.randint(3, 6), 120, 0.85,
                       20), label


def digits4(rng: random.Random) -> tuple[Any, str]:
    from PIL import ImageDraw

    label = text(rng, DIGITS, 4, 4)
    image = _pil_drawer(rng, label, (100, 32), [font("DejaVuSerif-Bold.ttf")], (20, 24), 0, 40,
                        0.95, 10)
    draw = ImageDraw.Draw(image)
    step = rng.randint(6, 10)
    colour = tuple(rng.randint(150, 210) for _ in range(3))
    for gx in range(rng.randint(0, step), 100, step):
        draw.line([(gx, 0), (gx, 32)], fill=colour)
    return image, label


def wqy6(rng: random.Random) -> tuple[Any, str]:
    label = text(rng, UPPER + DIGITS, 6, 6)
    return _pil_drawer(rng, label, (150, 50), [font("wqy-microhei.ttc")], (30, 36),
                       rng.randint(2, 4), 60, 0.7, 25, arcs=True, blur=True), label


STYLES: dict[str, tuple[Callable[[random.Random], tuple[Any, str]], int]] = {
    # style: drawer, default image count
    "wheezy5": (wheezy5, 1000),
    "claptcha5": (claptcha5, 1000),
    "dejavu4-8": (dejavu48, 10000),
    "lines5": (lines5, 1000),
    "digits4": (digits4, 500),
    "wqy6": (wqy6, 2000),
}


def make(out: Path, styles: list[str], n: int | None, seed: int) -> None:
    for style in styles:
        drawer, default_n = STYLES[style]
        count = n or default_n
        n_test = max(1, math.floor(count * TEST_SHARE))
        for part in ("train", "test"):
            (out / style / part).mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        for i in range(count):
            rng = random.Random(f"{style}/{seed}/{i}")
            image, label = drawer(rng)
            part = "test" if i < n_test else "train"
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            (out / style / part / f"{label}_{i}.png").write_bytes(buf.getvalue())
        print(f"{style}: {count} images ({n_test} test) in {time.time() - t0:.0f}s",
              file=sys.stderr)


def _labels(folder: Path) -> tuple[list[Path], list[str]]:
    from jiema_captcha.folder import list_samples

    samples = list_samples(folder)
    return [s.path for s in samples], [s.label for s in samples]


def ddddocr_accuracy(folder: Path) -> float:
    import ddddocr

    ocr = ddddocr.DdddOcr(show_ad=False)
    paths, gold = _labels(folder)
    right = 0
    for p, g in zip(paths, gold, strict=True):
        pred = ocr.classification(p.read_bytes())
        if not any(c.islower() for c in g) and any(c.isupper() for c in g):
            pred = pred.upper()  # the style has one case: compare in it
        elif not any(c.isupper() for c in g):
            pred = pred.lower()
        right += pred == g
    return right / len(gold)


def run(out: Path, styles: list[str], runs: Path, dddd: bool, max_minutes: float | None) -> None:
    rows = []
    for style in styles:
        train, test = out / style / "train", out / style / "test"
        run_dir = runs / style
        load = os.getloadavg()[0]
        t0 = time.time()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cap = ["--max-minutes", str(max_minutes)] if max_minutes else []
        subprocess.run([sys.executable, "-m", "jiema", "train", "captcha", "--data", str(train),
                        "--out", str(run_dir), *cap], check=True)
        seconds = time.time() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        load = max(load, os.getloadavg()[0])
        model = next(p for p in run_dir.glob("*.safetensors")
                     if p.stem not in ("last", "best"))
        res = subprocess.run([sys.executable, "-m", "jiema", "eval", "captcha", "--model",
                              str(model), "--labels", str(test)], check=True,
                             capture_output=True, text=True).stdout
        acc = float(dict(line.split("\t") for line in res.splitlines())["whole_accuracy"])
        d = ddddocr_accuracy(test) if dddd else float("nan")
        n_train = len(_labels(train)[0])
        rows.append((style, n_train, len(_labels(test)[0]), acc, d, seconds, cpu, load))
        print(f"{style}: {acc:.4f} (ddddocr {d:.4f}) in {seconds:.0f}s", file=sys.stderr)
    print("| style | train images | test images | jiema whole acc | ddddocr | train wall | "
          "train CPU | load (1 min, max of start/end) |")
    print("|---|---|---|---|---|---|---|---|")
    for style, ntr, nte, acc, d, s, cpu, load in rows:
        print(f"| {style} | {ntr} | {nte} | {acc:.3f} | {d:.3f} | {s / 60:.1f} min | "
              f"{cpu / 60:.1f} min | {load:.1f} |")


def chosen_styles(parser: argparse.ArgumentParser, names: str, known: Any) -> list[str]:
    """The comma-separated `names`, each one of `known` (else a usage error naming them)."""
    styles = [s for s in names.split(",") if s]
    unknown = sorted(set(styles) - set(known))
    if unknown:
        parser.error(f"unknown styles {unknown}; known: {', '.join(known)}")
    return styles


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["make", "run"])
    p.add_argument("out", type=Path, help="folder of the styles' folders")
    p.add_argument("--styles", default=",".join(STYLES))
    p.add_argument("--n", type=int, default=None, help="images per style (default: per style)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--runs", type=Path, default=None, help="training runs (default OUT/runs)")
    p.add_argument("--no-ddddocr", action="store_true")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="cap each training (passed on; the defaults stop by themselves)")
    a = p.parse_args()
    styles = chosen_styles(p, a.styles, STYLES)
    if a.command == "make":
        make(a.out, styles, a.n, a.seed)
    else:
        run(a.out, styles, a.runs or a.out / "runs", not a.no_ddddocr, a.max_minutes)


if __name__ == "__main__":
    main()
