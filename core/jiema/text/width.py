"""Width normalisation for matching: full-width ASCII variants become ASCII.

Chinese text mixes `ＧＤＰ２００５` with `GDP2005`; dictionaries and run detection should treat
them alike, yet the output must show the characters the user wrote. Every mapping here is
one character to exactly one character, so an offset in the normalised text is the same offset
in the original: match on `normalize_width(text)`, slice the output from `text`.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np

__all__ = ["normalize_codes", "normalize_width", "width_table"]

IDEOGRAPHIC_SPACE = "\u3000"
# Below this length str.translate wins; above it a vectorised lookup over UTF-32 code units does.
_VECTOR_THRESHOLD = 4096


@cache
def width_table(compat: bool = False) -> dict[int, int]:
    """The `str.translate` table (code point -> code point), built once.

    Always: U+FF01..U+FF5E (full-width `！`..`～`) -> U+0021..U+007E and U+3000 -> U+0020.
    With `compat`: also every other character whose Unicode decomposition is `<wide>` or
    `<narrow>` of a single character (e.g. `￥` -> `¥`, half-width katakana `ｱ` -> `ア`,
    `￩` -> `←`). Multi-character decompositions are never used, so lengths never change.
    """
    table = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
    table[ord(IDEOGRAPHIC_SPACE)] = ord(" ")
    if compat:
        for cp in range(0x10000):
            if cp in table or 0xD800 <= cp < 0xE000:
                continue
            tag, _, rest = unicodedata.decomposition(chr(cp)).partition(" ")
            if tag in ("<wide>", "<narrow>") and rest and " " not in rest:
                table[cp] = int(rest, 16)
    return table


@cache
def _lookup(compat: bool) -> np.ndarray:
    """The same table as a BMP-sized array (identity where nothing maps); every entry < 0x10000."""
    lut = np.arange(0x10000, dtype=np.uint32)
    for src, dst in width_table(compat).items():
        lut[src] = dst
    lut.setflags(write=False)
    return lut


def normalize_width(text: str, *, compat: bool = False) -> str:
    """`text` with full-width ASCII forms (and U+3000) made ASCII; same length, same offsets."""
    if text.isascii():
        return text
    if len(text) < _VECTOR_THRESHOLD:
        return text.translate(width_table(compat))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return normalize_codes(codes, compat=compat).tobytes().decode("utf-32-le", "surrogatepass")


def normalize_codes(codes: np.ndarray, *, compat: bool = False) -> np.ndarray:
    """Code points (an unsigned or int64 array, e.g. a text encoded as UTF-32) mapped as
    `normalize_width` maps characters; a new array of the same shape (uint32 stays uint32)."""
    return np.where(codes < 0x10000, _lookup(compat)[np.minimum(codes, 0xFFFF)], codes)
