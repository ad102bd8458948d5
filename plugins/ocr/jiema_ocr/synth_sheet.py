"""A contact sheet of training lines, for a human to check that the data looks like real
screenshots, photos and posters: `python -m jiema_ocr.synth_sheet OUT.png [--n 40] [--seed 0]
[--style photo] [--corpus FILE] [--words jieba]`. Each line is shown with its label under it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
import numpy as np

SHEET_WIDTH = 1000  # pixels; wider lines are scaled down to fit
LABEL_HEIGHT = 16
FALLBACK_TEXT = ("今天天气很好，我们去公园散步。", "新款手机上市，欢迎选购！",
                 "请输入验证码后点击登录", "本店支持微信和支付宝付款", "会议将于下午三点在二楼举行")


def contact_sheet(n: int, seed: int, style: str | None = None,
                  corpus: Sequence[str] = (), words: Sequence[str] = ("modern",)) -> np.ndarray:
    """`n` training lines stacked with their labels (RGB uint8), drawn as the trainer does."""
    from PIL import Image, ImageDraw

    from .charset import default_charset
    from .language_model import corpus_lines
    from .synth_fonts import training_fonts
    from .synth_lines import draw_line
    from .synth_text import TextMaker

    lines = list(corpus_lines(list(corpus))) if corpus else list(FALLBACK_TEXT)
    fonts = training_fonts()
    if not fonts:
        raise click.UsageError("no training font installed (fonts-noto-cjk, fonts-wqy-microhei, "
                               "...): see jiema_ocr.synth_fonts.TRAINING_FAMILIES")
    maker = TextMaker(lines, default_charset(), words)
    label_font = next((f for f in fonts if "Regular" in f.name), fonts[0])
    from .synth_lines import _pil_font

    small = _pil_font(label_font.path, label_font.index, 12)
    rows = []
    for k in range(n):
        rng = np.random.default_rng([seed, k])
        item = draw_line(maker, fonts, rng, style)
        img = Image.fromarray(item.image)
        if img.width > SHEET_WIDTH:
            img = img.resize((SHEET_WIDTH, max(1, img.height * SHEET_WIDTH // img.width)))
        row = Image.new("RGB", (SHEET_WIDTH, img.height + LABEL_HEIGHT + 4), (200, 200, 200))
        row.paste(img, (0, 0))
        ImageDraw.Draw(row).text((2, img.height + 2), f"{item.style} {item.font} {item.size}px "
                                 f"{'dark' if item.dark_text else 'light'}: {item.label}",
                                 fill=(0, 0, 160), font=small)
        rows.append(np.asarray(row))
    return np.concatenate(rows, axis=0)


@click.command()
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--n", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--style", type=click.Choice(["screen", "button", "document", "photo", "picture",
                                            "title"]), default=None, help="Only this style.")
@click.option("--corpus", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Segmented corpus for the text (default: a few built-in sentences).")
@click.option("--words", multiple=True, type=click.Choice(["modern", "jieba"]),
              default=("modern",), show_default=True, help="Word lists mixed into the text.")
def main(out: str, n: int, seed: int, style: str | None, corpus: tuple[str, ...],
         words: tuple[str, ...]) -> None:
    """Write a contact sheet of N training lines (PNG) to OUT."""
    from PIL import Image

    Image.fromarray(contact_sheet(n, seed, style, corpus, words)).save(Path(out))
    click.echo(out)


if __name__ == "__main__":
    main()
