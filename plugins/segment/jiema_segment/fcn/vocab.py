"""Characters to ids (width-normalised, UNK for the unknown) and words <-> S/B/M/E tags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
from jiema.text.width import normalize_width

TAGS = ("S", "B", "M", "E")
S, B, M, E = range(4)
PAD, UNK = 0, 1


class CharVocab:
    """Id 0 pads, id 1 is UNK, ids 2.. are characters (after width normalisation).

    Lookup goes through a dense code-point table, so encoding a line is a few NumPy calls."""

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars: list[str] = []
        seen: set[str] = set()
        for ch in chars:
            ch = normalize_width(ch)
            if len(ch) == 1 and ch not in seen:
                seen.add(ch)
                self.chars.append(ch)
        codes = np.array([ord(c) for c in self.chars], dtype=np.int64)
        self._table = np.full(int(codes.max(initial=0)) + 2, UNK, dtype=np.int64)
        self._table[codes] = np.arange(2, 2 + codes.shape[0])

    @classmethod
    def count(cls, lines: Iterable[str], min_count: int = 1) -> CharVocab:
        """Characters seen at least `min_count` times, most frequent first."""
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(normalize_width(line))
        return cls(ch for ch, n in counts.most_common() if n >= min_count)

    @classmethod
    def from_codepoints(cls, codes: np.ndarray) -> CharVocab:
        return cls(chr(int(c)) for c in codes)

    def codepoints(self) -> np.ndarray:
        return np.array([ord(c) for c in self.chars], dtype=np.int32)

    def __len__(self) -> int:
        """Embedding rows: characters plus PAD and UNK."""
        return len(self.chars) + 2

    def encode(self, text: str) -> np.ndarray:
        """int64 ids of the width-normalised characters of `text` (UNK when unknown; a lone
        surrogate, which no training text holds, is unknown too rather than an error)."""
        return self._ids(_code_points(text))

    def encode_many(self, lines: list[str]) -> list[np.ndarray]:
        """`encode` of each line, by one width normalisation and one lookup for all of them
        (a line at a time spends more on NumPy calls than on the lookup)."""
        if not lines:
            return []
        codes, cuts = _joined_code_points(lines)
        return np.split(self._ids(codes), cuts)

    def _ids(self, codes: np.ndarray) -> np.ndarray:
        return self._table[np.minimum(codes.astype(np.int64), self._table.shape[0] - 1)]


def _code_points(text: str) -> np.ndarray:
    """The width-normalised code points of `text`; a lone surrogate is its own code point."""
    return np.frombuffer(normalize_width(text).encode("utf-32-le", "surrogatepass"),
                         dtype=np.uint32)


def _joined_code_points(lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of all `lines` back to back (as `_code_points` gives each) and the
    offsets where lines 2.. start."""
    cuts = np.cumsum([len(t) for t in lines], dtype=np.int64)[:-1]
    return _code_points("".join(lines)), cuts


def tags_for_words(words: Iterable[str]) -> np.ndarray:
    """S for a one-character word; B, M..., E for a longer one."""
    out: list[int] = []
    for w in words:
        n = len(w)
        if n == 1:
            out.append(S)
        elif n > 1:
            out.append(B)
            out.extend([M] * (n - 2))
            out.append(E)
    return np.array(out, dtype=np.int64)


def words_from_tags(text: str, tags: np.ndarray) -> list[str]:
    """Cut `text` after every S or E tag (a valid SBME path; anything else ends at the end)."""
    ends = np.flatnonzero((tags == S) | (tags == E)) + 1
    if ends.shape[0] == 0 or ends[-1] != len(text):
        ends = np.append(ends, len(text))
    starts = np.concatenate(([0], ends[:-1]))
    return [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True) if e > s]


# a bigram (a, b) of width-normalised code points is the key a << 21 | b; b = 0 past the end
_SHIFT = 21


class BigramVocab:
    """Character bigrams (each character with the next one, the last with the line end) to ids.

    Id 0 pads, id 1 is UNK, ids 2.. are the sorted keys; lookup is one `searchsorted`."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.unique(np.asarray(keys, dtype=np.int64))

    @staticmethod
    def line_keys(text: str) -> np.ndarray:
        codes = _code_points(text)
        codes = codes.astype(np.int64)
        nxt = np.zeros_like(codes)
        nxt[:-1] = codes[1:]
        return (codes << _SHIFT) | nxt

    @classmethod
    def count(cls, lines: Iterable[str], min_count: int = 1) -> BigramVocab:
        """Bigrams seen at least `min_count` times."""
        parts = [cls.line_keys(t) for t in lines]
        if not parts:
            return cls(np.zeros(0, dtype=np.int64))
        keys, counts = np.unique(np.concatenate(parts), return_counts=True)
        return cls(keys[counts >= min_count])

    def __len__(self) -> int:
        return int(self.keys.shape[0]) + 2

    def encode(self, text: str) -> np.ndarray:
        """int64 id of each position's bigram (UNK when unknown)."""
        return self._ids(self.line_keys(text))

    def encode_many(self, lines: list[str]) -> list[np.ndarray]:
        """`encode` of each line, with one normalisation and one search for all of them."""
        if not lines:
            return []
        codes, cuts = _joined_code_points(lines)
        codes = codes.astype(np.int64)
        nxt = np.zeros_like(codes)
        nxt[:-1] = codes[1:]
        nxt[cuts - 1] = 0  # a line's last character pairs with its end, not the next line
        return np.split(self._ids((codes << _SHIFT) | nxt), cuts)

    def _ids(self, k: np.ndarray) -> np.ndarray:
        if self.keys.shape[0] == 0:
            return np.full(k.shape[0], UNK, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, k), self.keys.shape[0] - 1)
        return np.where(self.keys[pos] == k, pos + 2, UNK).astype(np.int64)
