"""Counting passes of word discovery, written as `jiema.mapping.map_corpus` workers.

Pass 1 counts characters and adjacent pairs inside pieces; pass 2 glues characters at strong
pairs into candidate words and counts them with their first place in reading order (nlp-zero's
pruning order depends on it). Each worker turns one batch of `(line number, text)` items into one
partial count; partials merge exactly (integer sums, minimum of first places), so the result
is the same in-process and on Dask, whatever the partitioning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .charcodes import BITS, encode_batch, piece_mask

__all__ = ["PairCounts", "WordCounts", "pair_counter", "word_counter", "short_word_keys",
           "decode_short_key"]

_COMPACT_AT = 1 << 21
_MASK = (1 << BITS) - 1


def _reduce(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, np.bincount(inverse, weights=counts, minlength=uniq.shape[0]).astype(np.int64)


@dataclass
class PairCounts:
    """Character and adjacent-pair counts (pair key = first << 21 | second)."""

    char_parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    pair_parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def __add__(self, other: PairCounts) -> PairCounts:
        """Merge `other` into this partial (in place: partials are never shared)."""
        self.char_parts.extend(other.char_parts)
        self.pair_parts.extend(other.pair_parts)
        if sum(k.shape[0] for k, _ in self.pair_parts) > _COMPACT_AT:
            self.compact()
        return self

    def compact(self) -> PairCounts:
        for parts in (self.char_parts, self.pair_parts):
            if len(parts) > 1:
                keys = np.concatenate([k for k, _ in parts])
                counts = np.concatenate([c for _, c in parts])
                parts[:] = [_reduce(keys, counts)]
        return self

    def chars(self) -> tuple[np.ndarray, np.ndarray]:
        self.compact()
        return self.char_parts[0] if self.char_parts else (_empty(), _empty())

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        self.compact()
        return self.pair_parts[0] if self.pair_parts else (_empty(), _empty())


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def _pair_keys(codes: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions p with p and p+1 in one piece, their pair keys)."""
    both = mask[:-1] & mask[1:]
    pos = np.flatnonzero(both)
    return pos, (codes[pos] << BITS) | codes[pos + 1]


def pair_counter(filtering: bool) -> Any:
    """Pass-1 worker factory: a batch -> [PairCounts]."""

    def count(batch: list[tuple[int, str]]) -> list[PairCounts]:
        enc = encode_batch(batch)
        if enc.codes.shape[0] == 0:
            return []
        mask = piece_mask(enc, filtering)
        chars = np.unique(enc.codes[mask], return_counts=True)
        _, keys = _pair_keys(enc.codes, mask)
        pairs = np.unique(keys, return_counts=True)
        return [PairCounts([(chars[0], chars[1].astype(np.int64))],
                           [(pairs[0], pairs[1].astype(np.int64))])]

    return count


def short_word_keys(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Exact int64 keys of words of 1..3 characters: (c0+1) << 42 | (c1+1) << 21 | (c2+1)."""
    key = codes[starts] + 1
    for k in (1, 2):
        nxt = np.where(lengths > k, codes[np.minimum(starts + k, codes.shape[0] - 1)] + 1, 0)
        key = (key << BITS) | nxt
    return key


def decode_short_key(key: int) -> str:
    chars = [(key >> (2 * BITS)) & _MASK, (key >> BITS) & _MASK, key & _MASK]
    return "".join(chr(c - 1) for c in chars if c)


def decode_keys(*parts: np.ndarray) -> list[str]:
    """Vectorised `decode_short_key` over one or more key columns, concatenated per row."""
    if not parts or parts[0].shape[0] == 0:
        return []
    cols = []
    for keys in parts:
        for shift in (2 * BITS, BITS, 0):
            cols.append((keys >> shift) & _MASK)
    codes = np.stack(cols, axis=1)
    codes = np.where(codes > 0, codes - 1, 0).astype("<u4")
    width = codes.shape[1]
    text = codes.tobytes().decode("utf-32-le", "surrogatepass")
    return [text[k:k + width].rstrip("\x00") for k in range(0, len(text), width)]


@dataclass
class WordCounts:
    """Candidate words and counts: words of <= 3 characters by exact int keys, of 4..6 by pairs of
    keys (vectorised), longer ones by string; `first` is the reading-order key of the first
    occurrence."""

    short: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    long: dict[str, list[int]] = field(default_factory=dict)
    mid: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def __add__(self, other: WordCounts) -> WordCounts:
        """Merge `other` into this partial (in place: partials are never shared)."""
        long = self.long
        for word, (count, first) in other.long.items():
            have = long.get(word)
            if have is None:
                long[word] = [count, first]
            else:
                have[0] += count
                if first < have[1]:
                    have[1] = first
        self.short.extend(other.short)
        self.mid.extend(other.mid)
        if sum(k.shape[0] for k, _, _ in self.short) + sum(
                k.shape[0] for k, _, _, _ in self.mid) > _COMPACT_AT:
            self.compact()
        return self

    def compact(self) -> WordCounts:
        if len(self.short) > 1:
            keys = np.concatenate([k for k, _, _ in self.short])
            counts = np.concatenate([c for _, c, _ in self.short])
            firsts = np.concatenate([f for _, _, f in self.short])
            order = np.lexsort((firsts, keys))
            keys, counts, firsts = keys[order], counts[order], firsts[order]
            head = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            self.short = [(keys[head], np.add.reduceat(counts, head), firsts[head])]
        if len(self.mid) > 1:
            k1 = np.concatenate([a for a, _, _, _ in self.mid])
            k2 = np.concatenate([b for _, b, _, _ in self.mid])
            counts = np.concatenate([c for _, _, c, _ in self.mid])
            firsts = np.concatenate([f for _, _, _, f in self.mid])
            order = np.lexsort((firsts, k2, k1))
            k1, k2, counts, firsts = k1[order], k2[order], counts[order], firsts[order]
            new = np.concatenate(([True], (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])))
            head = np.flatnonzero(new)
            self.mid = [(k1[head], k2[head], np.add.reduceat(counts, head), firsts[head])]
        return self

    def table(self) -> list[tuple[str, int, int]]:
        """(word, count, first) for every candidate word."""
        self.compact()
        out = [(w, c, f) for w, (c, f) in self.long.items()]
        if self.short:
            keys, counts, firsts = self.short[0]
            out.extend(zip(decode_keys(keys), counts.tolist(), firsts.tolist(), strict=True))
        if self.mid:
            k1, k2, counts, firsts = self.mid[0]
            out.extend(zip(decode_keys(k1, k2), counts.tolist(), firsts.tolist(), strict=True))
        return out


class _StrongTable:
    """Membership of strong pairs by two array look-ups: code -> dense index of first / second
    characters, then a boolean matrix (built once per worker process)."""

    def __init__(self, strong_keys: np.ndarray) -> None:
        first = strong_keys >> BITS
        second = strong_keys & _MASK
        top = int(max(first.max(initial=0), second.max(initial=0))) + 1
        self.top = top
        self.fi = np.full(top, -1, dtype=np.int64)
        self.si = np.full(top, -1, dtype=np.int64)
        uf, us = np.unique(first), np.unique(second)
        self.fi[uf] = np.arange(uf.shape[0])
        self.si[us] = np.arange(us.shape[0])
        self.table = np.zeros((max(uf.shape[0], 1), max(us.shape[0], 1)), dtype=bool)
        self.table[self.fi[first], self.si[second]] = True

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.zeros(a.shape[0], dtype=bool)
        ok = (a < self.top) & (b < self.top)
        fa = np.where(ok, self.fi[np.where(ok, a, 0)], -1)
        sb = np.where(ok, self.si[np.where(ok, b, 0)], -1)
        ok &= (fa >= 0) & (sb >= 0)
        out[ok] = self.table[fa[ok], sb[ok]]
        return out


def word_counter(settings: tuple[bool, np.ndarray]) -> Any:
    """Pass-2 worker factory; `settings` = (filtering, sorted strong pair keys)."""
    filtering, strong_keys = settings
    strong = _StrongTable(strong_keys) if strong_keys.shape[0] else None

    def count(batch: list[tuple[int, str]]) -> list[WordCounts]:
        enc = encode_batch(batch)
        n = enc.codes.shape[0]
        if n == 0:
            return []
        mask = piece_mask(enc, filtering)
        pos = np.flatnonzero(mask[:-1] & mask[1:])
        glued = np.zeros(n, dtype=bool)  # glued[p]: p and p + 1 are one word
        if strong is not None:
            glued[pos[strong(enc.codes[pos], enc.codes[pos + 1])]] = True
        prev = np.concatenate(([False], glued[:-1]))
        starts = np.flatnonzero(mask & ~prev)
        ends = np.flatnonzero(mask & ~glued) + 1
        lengths = ends - starts
        codes = enc.codes
        short = lengths <= 3
        sstarts = starts[short]
        skeys = short_word_keys(codes, sstarts, lengths[short])
        uniq, first_at, counts = np.unique(skeys, return_index=True, return_counts=True)
        out = WordCounts([(uniq, counts.astype(np.int64), enc.order_keys(sstarts[first_at]))])
        mid = (lengths > 3) & (lengths <= 6)
        if mid.any():
            mstarts, mlen = starts[mid], lengths[mid]
            k1 = short_word_keys(codes, mstarts, np.full(mstarts.shape[0], 3))
            k2 = short_word_keys(codes, mstarts + 3, mlen - 3)
            order = np.lexsort((mstarts, k2, k1))
            k1, k2, ms = k1[order], k2[order], mstarts[order]
            new = np.concatenate(([True], (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])))
            head = np.flatnonzero(new)
            cnt = np.diff(np.concatenate((head, [k1.shape[0]])))
            out.mid.append((k1[head], k2[head], cnt.astype(np.int64), enc.order_keys(ms[head])))
        long_idx = np.flatnonzero(lengths > 6)
        joined = enc.joined
        table = out.long
        for s, e, f in zip(starts[long_idx].tolist(), ends[long_idx].tolist(),
                           enc.order_keys(starts[long_idx]).tolist(), strict=True):
            word = joined[s:e]
            have = table.get(word)
            if have is None:
                table[word] = [1, f]
            else:
                have[0] += 1
        return [out]

    return count
