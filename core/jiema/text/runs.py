"""Digit / Latin runs: `3.14`, `1,000`, `50%`, `COVID-19`, `２００５` stay one token.

Segmenters built for Chinese characters split such strings badly; finding them up front lets
a lattice force them whole. Runs are found on the width-normalised text (one character in,
one out), so full-width forms count and the offsets are offsets in the original text.

What belongs to a run (checked on the normalised text):

* atoms: ASCII letters `A-Z a-z` and ASCII digits `0-9` (full-width forms included through
  normalisation). Nothing else: no accented letters, no other scripts' digits, and Chinese
  numerals `〇一二…` are Chinese characters, not run atoms.
* joiners, only *between* two atoms: `.`, `-`, `_` between any atoms (`3.14`, `v1.2`,
  `COVID-19`, `snake_case`); `,` and `:` only between two digits (`1,000`, `10:30`).
* a `%` right after a digit ends the run (`50%`).

So a trailing or leading joiner is never part of a run (`2005.` is `2005` then `.`), nor is a
sign (`-5` is `-` then `5`), nor a space (`New York` is two runs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .width import normalize_width

__all__ = ["RUN_PATTERN", "find_runs", "merge_runs"]

RUN_PATTERN = re.compile(
    r"[0-9A-Za-z]+"
    r"(?:[._\-][0-9A-Za-z]+|(?<=[0-9])[,:][0-9]+)*"
    r"(?:(?<=[0-9])%)?"
)


def find_runs(text: str, *, normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Maximal runs as `(starts, ends)` int64 arrays of character offsets, `[start, end)`, in order.

    Runs of one character are included. Pass `normalized=True` when `text` is already
    width-normalised (saves one pass).
    """
    norm = text if normalized else normalize_width(text)
    spans = [m.span() for m in RUN_PATTERN.finditer(norm)]
    if not spans:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    arr = np.array(spans, dtype=np.int64)
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1])


def merge_runs(tokens: Sequence[str]) -> list[str]:
    """Join adjacent tokens wherever a token boundary falls strictly inside a run.

    For segmenters that tag characters one by one (and may cut `3.14` into `3 . 14`):
    `merge_runs(["价格", "3", ".", "14", "元"]) == ["价格", "3.14", "元"]`. Other boundaries
    are kept; a run is judged on the joined text, so `"１"` `"２"` merge too.
    """
    if len(tokens) < 2:
        return list(tokens)
    text = "".join(tokens)
    starts, ends = find_runs(text)
    if starts.size == 0:
        return list(tokens)
    cuts = np.cumsum([len(t) for t in tokens])[:-1]
    # a cut c is inside run r when starts[r] < c < ends[r]; runs are sorted and disjoint
    r = np.searchsorted(starts, cuts, side="left") - 1
    inside = (r >= 0) & (cuts < ends[np.maximum(r, 0)]) & (cuts > starts[np.maximum(r, 0)])
    out: list[str] = [tokens[0]]
    for token, join in zip(tokens[1:], inside, strict=True):
        if join:
            out[-1] += token
        else:
            out.append(token)
    return out
