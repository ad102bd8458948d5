"""Texts as arrays of code points, and nlp-zero's two ways of cutting a text into pieces.

Counting characters, pairs and glued words is done on whole batches of lines at once in numpy:
the batch is joined with `\\n` and encoded as UTF-32, so position i of the array is character i
of the joined string, and a mask says which positions may be counted.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["ASCII_ALNUM", "FILTER_SPLIT", "PUNCT_SPLIT", "Batch", "encode_batch", "piece_mask",
           "BITS"]

# nlp-zero `texts(filtering=True)`: pieces are the runs of these characters.
FILTER_SPLIT = re.compile("[^\u4e00-\u9fa50-9a-zA-Z]+")
# nlp-zero `Tokenizer.tokenize` and `Template_Finder.texts(filtering=False)`: split points.
PUNCT_SPLIT = re.compile("[。，、！？\n ]+")
PUNCT_CHARS = "。，、！？\n "
BITS = 21  # every code point fits in 21 bits
ASCII_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_ALNUM = np.zeros(128, dtype=bool)
_ASCII_ALNUM[[ord(c) for c in ASCII_ALNUM]] = True


class Batch:
    """A batch of lines joined by `\\n`: `codes[i]` is the code point of `joined[i]`; line k starts
    at `starts[k]` and has global number `first_line + k`."""

    __slots__ = ("joined", "codes", "starts", "first_line", "numbers")

    def __init__(self, numbers: list[int], texts: list[str]) -> None:
        self.numbers = np.asarray(numbers, dtype=np.int64)
        self.joined = "\n".join(texts)
        raw = self.joined.encode("utf-32-le", "surrogatepass")
        self.codes = np.frombuffer(raw, dtype=np.uint32).astype(np.int64)
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        self.starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.first_line = int(numbers[0]) if numbers else 0

    def order_keys(self, positions: np.ndarray) -> np.ndarray:
        """Global reading-order keys of positions: (line number << 32) | offset in the line."""
        line = np.searchsorted(self.starts, positions, side="right") - 1
        return (self.numbers[line] << 32) | (positions - self.starts[line])


def encode_batch(items: list[tuple[int, str]]) -> Batch:
    return Batch([i for i, _ in items], [t for _, t in items])


def piece_mask(batch: Batch, filtering: bool) -> np.ndarray:
    """True where a position belongs to a piece: with `filtering`, CJK U+4E00..U+9FA5 and ASCII
    alphanumerics; without, every character except the joining newlines."""
    codes = batch.codes
    if filtering:
        mask = (codes >= 0x4E00) & (codes <= 0x9FA5)
        small = codes < 128
        mask[small] = _ASCII_ALNUM[codes[small]]
        return mask
    mask = np.ones(codes.shape[0], dtype=bool)
    mask[batch.starts[1:] - 1] = False
    return mask
