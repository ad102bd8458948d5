"""Captcha styles from generators other than the `captcha` package, fixed before any general
model is trained and kept out of its training: how a reader does on styles it never saw.

    python benchmarks/captcha_general.py make OUT [--n 300] [--seed 11] [--styles a,b]
    python benchmarks/captcha_general.py run OUT [--model M ...] [--no-ddddocr]

`make` writes OUT/<style>/ with images named `label_i.png` (labels lowercase: every style is
scored case-insensitively, as ddddocr answers in either case). `run` reads each folder with
every `--model` (default: the shipped `general`; `jiema eval captcha --model M --labels DIR`; a
case-insensitive model compares in lowercase) and with ddddocr (no training), and prints
whole-captcha accuracy per style side by side, and their mean over the styles.

Held-out styles (issue 22 item 6), each seeded (image i is the same on every run):
- wheezy: wheezy.captcha (MIT) warp/rotate/offset, curve, noise, smooth; DejaVu Sans Mono Bold
  and DejaVu Serif Italic; 4-6 upper+digits
- claptcha: claptcha (MIT) with its noise; DejaVu Sans; 5 upper+digits
- multicolor: multicolorcaptcha (GPLv3; only run here, never shipped) difficulty 1, its
  bundled fonts, 4 digits drawn in colours over lines and dots
- gvcode: gvcode's VFCode with its bundled fonts, dots and lines, 5 letters+digits
- flask: flask-simple-captcha (MIT) with its bundled Roboto Mono, 6 upper+digits

The generator packages are installed by `make` when missing (pinned below), never by jiema.
DejaVu fonts are therefore kept out of a general model's training fonts.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This folder holds captcha.py, named like the captcha package: keep it off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

PACKAGES = {
    "wheezy": "wheezy.captcha==3.2.2",
    "multicolor": "multicolorcaptcha==1.2.0",
    "gvcode": "gvcode==1.0.3",
    "flask": "flask-simple-captcha==5.5.5",
}  # claptcha: captcha_folders.claptcha_class installs it


def _sibling(name: str) -> Any:
    """A benchmark module of this folder (the folder is kept off sys.path, see above)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(_HERE, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The folder benchmark's fonts, texts, claptcha, ddddocr scoring and style checks.
folders = _sibling("captcha_folders")
UPPER_DIGITS = folders.UPPER + folders.DIGITS
LETTERS_DIGITS = folders.LOWER + folders.UPPER + folders.DIGITS


def _ensure(style: str, module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGES[style]],
                       check=True)


def wheezy(rng: random.Random) -> tuple[Any, str]:
    _ensure("wheezy", "wheezy.captcha")
    from wheezy.captcha import image as w

    label = folders.text(rng, UPPER_DIGITS, 4, 6)
    fonts = [folders.font("DejaVuSansMono-Bold.ttf"), folders.font("DejaVuSerif-Italic.ttf")]
    draw = w.captcha(drawings=[
        w.background("#eeeecc"), w.text(fonts=fonts, font_sizes=(34, 38, 42), drawings=[
            w.warp(0.3), w.rotate(), w.offset()]),
        w.curve(), w.noise(), w.smooth()], width=200, height=70)
    return draw(label), label


def claptcha(rng: random.Random) -> tuple[Any, str]:
    label = folders.text(rng, UPPER_DIGITS, 5, 5)
    drawer = folders.claptcha_class()(label, folders.font("DejaVuSans.ttf"), size=(200, 80),
                                      noise=0.3)
    return drawer.image[1], label


def multicolor(rng: random.Random) -> tuple[Any, str]:
    _ensure("multicolor", "multicolorcaptcha")
    from multicolorcaptcha import CaptchaGenerator

    captcha = CaptchaGenerator(1).gen_captcha_image(difficult_level=1, chars_mode="nums")
    return captcha.image, captcha.characters


def gvcode(rng: random.Random) -> tuple[Any, str]:
    _ensure("gvcode", "gvcode")
    import gvcode as g

    code = g.VFCode(width=180, height=64, fontsize=44, draw_dots=True,
                    font=rng.choice(["arial.ttf", "calibri.ttf"]))
    label = folders.text(rng, LETTERS_DIGITS, 5, 5)
    code.generate(label)
    return code._img.convert("RGB"), label


def flask(rng: random.Random) -> tuple[Any, str]:
    _ensure("flask", "flask_simple_captcha")
    from flask_simple_captcha import CAPTCHA
    from flask_simple_captcha.img import create_text_img

    config = CAPTCHA({"SECRET_CAPTCHA_KEY": "k" * 64, "CAPTCHA_DIGITS": True})
    # its own text draw picks from tuples of sets, whose order follows the per-process string
    # hash: the label is drawn here from its sorted pool, and the image by its drawer
    label = folders.text(rng, "".join(sorted(config.characters)), 6, 6)
    font = rng.choice(sorted(str(f.path) for f in config.fonts))
    image = create_text_img(label, font, back_color=config.config["BACKGROUND_COLOR"],
                            text_color=config.config["TEXT_COLOR"])
    return image, label


STYLES: dict[str, Callable[[random.Random], tuple[Any, str]]] = {
    "wheezy": wheezy, "claptcha": claptcha, "multicolor": multicolor, "gvcode": gvcode,
    "flask": flask,
}


def make(out: Path, styles: list[str], n: int, seed: int) -> None:
    for style in styles:
        folder = out / style
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rng = random.Random(f"{seed}:{style}:{i}")
            random.seed(rng.random())  # the generators draw from the random module
            image, label = STYLES[style](rng)
            image.convert("RGB").save(folder / f"{label.lower()}_{i}.png")
        print(f"{style}: {n} images in {folder}", flush=True)


def _jiema(model: str, folder: Path) -> float:
    done = subprocess.run([sys.executable, "-m", "jiema", "eval", "captcha", "--model", model,
                           "--labels", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip() or done.stdout.strip())
    scores = dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)
    return float(scores["whole_accuracy"])


def run(out: Path, styles: list[str], models: list[str], ddddocr: bool) -> None:
    from jiema_captcha.folder import list_samples

    rows = []
    scores: list[list[float]] = []
    for style in styles:
        folder = out / style
        t0 = time.perf_counter()
        accuracies = [_jiema(m, folder) for m in models]
        if ddddocr:
            accuracies.append(folders.ddddocr_accuracy(folder))
        scores.append(accuracies)
        rows.append([style, str(len(list_samples(folder)))] + [f"{a:.1%}" for a in accuracies])
        print(f"{style} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    names = [m if not m.endswith(".safetensors") else f"{Path(m).parent.name}/{Path(m).stem}"
             for m in models]
    head = ["style", "images", *names] + (["ddddocr"] if ddddocr else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    means = [sum(col) / len(col) for col in zip(*scores, strict=True)]
    print("| mean of the styles | | " + " | ".join(f"{m:.1%}" for m in means) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make", help="write the held-out style folders")
    mk.add_argument("out", type=Path)
    mk.add_argument("--n", type=int, default=300, help="images per style")
    mk.add_argument("--seed", type=int, default=11)
    mk.add_argument("--styles", default=",".join(STYLES))
    rn = sub.add_parser("run", help="score models and ddddocr on the folders")
    rn.add_argument("out", type=Path)
    rn.add_argument("--model", action="append", default=[],
                    help="a jiema captcha model (repeat for more; default: general)")
    rn.add_argument("--no-ddddocr", action="store_true")
    rn.add_argument("--styles", default=",".join(STYLES))
    args = ap.parse_args()
    styles = folders.chosen_styles(ap, args.styles, STYLES)
    if args.command == "make":
        make(args.out, styles, args.n, args.seed)
    else:
        run(args.out, styles, args.model or ["general"], not args.no_ddddocr)


if __name__ == "__main__":
    main()
