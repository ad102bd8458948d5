"""nlp-zero's `combine_Aa123` (gluing digit/Latin tokens after a tokenizer's cut), once, for the
tokenizer, the word pruning kernel and plain token lists; and the per-character flags it reads.

Not `jiema.text.merge_runs`: nlp-zero glues every token made only of `[a-zA-Z\\d.]` (Unicode
digits included) to a preceding token ending in an ASCII letter/digit, with its own quirks
(`3` `.` `14` stays three tokens; a token ending in a letter that cannot be glued stops the
gluing for the next token), and the templates plugin reproduces nlp-zero exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from jiema.errors import InvalidInputError
from numba import njit

from .charcodes import ASCII_ALNUM, PUNCT_CHARS

__all__ = ["F_AA123", "F_ALNUM_DOT", "F_PUNCT", "char_flags", "code_flags", "combine_aa123",
           "combine_runs", "glue_runs"]

F_AA123 = 1  # an ASCII letter or digit (`Aa123`)
F_ALNUM_DOT = 2  # matches nlp-zero's `[a-zA-Z\d\.]` (Unicode decimal digits included)
F_PUNCT = 4  # a tokenizer split character (`PUNCT_CHARS`)

_AA123 = frozenset(ASCII_ALNUM)


def char_flags(ch: str) -> int:
    """The `F_*` bits of one character."""
    flags = 0
    if ch in _AA123:
        flags |= F_AA123
    if ch in _AA123 or ch == "." or ch.isdecimal():
        flags |= F_ALNUM_DOT
    if ch in PUNCT_CHARS:
        flags |= F_PUNCT
    return flags


@cache
def _bmp_flags() -> np.ndarray:
    """`char_flags` of every BMP code point (built once: a BMP digit or split character is
    looked up, not recomputed per text)."""
    table = np.zeros(0x10000, dtype=np.int64)
    for ch in "".join(chr(c) for c in range(0x10000) if chr(c).isdecimal()) + ".":
        table[ord(ch)] |= F_ALNUM_DOT
    for ch in _AA123:
        table[ord(ch)] |= F_AA123 | F_ALNUM_DOT
    for ch in PUNCT_CHARS:
        table[ord(ch)] |= F_PUNCT
    table.setflags(write=False)
    return table


def code_flags(codes: np.ndarray) -> np.ndarray:
    """`char_flags` of every code point in `codes` (int64 array)."""
    bmp = codes < 0x10000
    flags = _bmp_flags()[np.where(bmp, codes, 0)]
    if not bmp.all():
        uniq, inverse = np.unique(codes[~bmp], return_inverse=True)
        bits = np.array([char_flags(chr(c)) for c in uniq.tolist()], dtype=np.int64)
        flags[~bmp] = bits[inverse.reshape(-1)]
    return flags


@njit(cache=True, nogil=True)
def glue_runs(st, en, k, flags, src, glued):
    """`combine_Aa123` on the first `k` token spans `st`/`en` (positions into `flags`), in place:
    returns the new count; `src[i]` is the first input token of new token i and `glued[i]`
    whether others were appended to it."""
    out = 0
    combine = False
    for t in range(k):
        s = st[t]
        e = en[t]
        if flags[e - 1] & F_AA123:
            if combine:
                whole = True
                for q in range(s, e):
                    if not (flags[q] & F_ALNUM_DOT):
                        whole = False
                        break
                if whole:
                    en[out - 1] = e
                    glued[out - 1] = True
                    continue
                combine = False
            else:
                combine = True
        else:
            combine = False
        st[out] = s
        en[out] = e
        src[out] = t
        glued[out] = False
        out += 1
    return out


@njit(cache=True, nogil=True)
def combine_runs(st, en, flags):
    """`glue_runs` on copies: `(starts, ends, first input token, glued)` of the new tokens."""
    k = st.shape[0]
    out_s = st.copy()
    out_e = en.copy()
    src = np.empty(k, dtype=np.int64)
    glued = np.zeros(k, dtype=np.bool_)
    out = glue_runs(out_s, out_e, k, flags, src, glued)
    return out_s[:out], out_e[:out], src[:out], glued[:out]


def combine_aa123(tokens: Sequence[str]) -> list[str]:
    """nlp-zero's `combine_Aa123` on a token list: after a token ending in an ASCII letter/digit,
    tokens made only of `[a-zA-Z\\d.]` are appended to it."""
    tokens = list(tokens)
    if any(not t for t in tokens):
        raise InvalidInputError("combine_aa123 needs non-empty tokens")
    if not tokens:
        return []
    text = "".join(tokens)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.cumsum([len(t) for t in tokens]).astype(np.int64)
    starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
    st, en, _, _ = combine_runs(starts, ends, code_flags(codes.astype(np.int64)))
    return [text[s:e] for s, e in zip(st.tolist(), en.tolist(), strict=True)]
