"""The OCR character set: every GB2312 hanzi plus digits, Latin letters and punctuation.

Ids are stable: they follow a fixed construction order (ASCII digits, upper, lower letters,
punctuation, GB2312 hanzi in code order, then the symbols and hanzi outside GB2312 that news
text prints), never a Python set or a file on disk, so the
classifier head, the bigram language model and the tests all agree without a shared file.

Characters that NFKC folds together look alike in print (`，` and `,`, `Ａ` and `A`), so they are
one class: `normalize_char` maps any input character to its class label (full-width Chinese
punctuation for the ASCII punctuation that has such a twin, ASCII for digits and letters).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
# Chinese punctuation first (the class label when an ASCII twin exists), then ASCII-only marks.
CHINESE_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】「」『』—…·￥％＋＝"
ASCII_PUNCT = ".'\"-/\\@#&*_<>[]{}|$^`~"
# ASCII / half-width characters that fold into a Chinese class (same shape after tight cropping).
_FOLD = {
    ",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）",
    "%": "％", "+": "＋", "=": "＝", "¥": "￥",
}

# Added after the first shipped model (appended, so its ids still hold): symbols the People's
# Daily prints (℃ is one glyph in the fonts, ○ writes zero in dates: 二○○○年) and the most
# frequent hanzi outside GB2312 (镕 of 朱镕基).
SYMBOLS = "℃°○●×△▲‰±Ⅱ"
EXTRA_HANZI = "镕珺"

GB2312_LEVEL1 = (0xB0, 0xD7)  # rows, inclusive: 3,755 chars
GB2312_LEVEL2 = (0xD8, 0xF7)  # 3,008 chars


def gb2312_hanzi(levels: Sequence[int] = (1, 2)) -> list[str]:
    """All GB2312 hanzi of the given levels, in code order (decoded with Python's gb2312 codec)."""
    rows: list[tuple[int, int]] = []
    if 1 in levels:
        rows.append(GB2312_LEVEL1)
    if 2 in levels:
        rows.append(GB2312_LEVEL2)
    out: list[str] = []
    for first, last in rows:
        for hi in range(first, last + 1):
            for lo in range(0xA1, 0xFF):
                try:
                    out.append(bytes((hi, lo)).decode("gb2312"))
                except UnicodeDecodeError:
                    continue  # the five unassigned cells at the end of row 0xD7
    return out


def normalize_char(ch: str) -> str:
    """The class label a character belongs to (or the NFKC form when it is in no class)."""
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        return ch if len(ch) == 1 else folded
    return _FOLD.get(folded, folded)


class Charset:
    """An ordered label set with `id(char)` / `label(id)`; unknown characters map to None."""

    def __init__(self, labels: Sequence[str]) -> None:
        labels = list(labels)
        if len(set(labels)) != len(labels):
            raise ValueError("charset labels must be unique")
        self.labels: list[str] = labels
        self._index = {ch: i for i, ch in enumerate(labels)}

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, ch: object) -> bool:
        return isinstance(ch, str) and normalize_char(ch) in self._index

    def id(self, ch: str) -> int | None:
        return self._index.get(normalize_char(ch))

    def label(self, i: int) -> str:
        return self.labels[i]

    def encode(self, text: Iterable[str], unknown: int = -1) -> np.ndarray:
        """Ids of the characters of `text` (`unknown` where a character is in no class)."""
        out = [self.id(ch) for ch in text]
        return np.asarray([unknown if i is None else i for i in out], dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.labels[int(i)] for i in ids)


@lru_cache(maxsize=1)
def default_charset() -> Charset:
    """The shipped set: digits, letters, punctuation, the 6,763 GB2312 hanzi, then the
    symbols and extra hanzi (appended later; a model trained before reads the first 6,877)."""
    return Charset([*DIGITS, *UPPER, *LOWER, *CHINESE_PUNCT, *ASCII_PUNCT, *gb2312_hanzi(),
                    *SYMBOLS, *EXTRA_HANZI])
