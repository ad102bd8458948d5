"""Character error rate, the metric of the OCR benchmark and of the line trainer's held-out
lines: edit distance over the reference's length, both sides NFKC-folded with whitespace
removed (full-width and half-width forms, and spacing, are not errors)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def cer_text(text: str) -> str:
    """`text` as CER compares it: NFKC, whitespace removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a  # the shorter string is the row: less memory, same distance
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Edits over reference characters, summed over the pairs (`cer_text` on both sides)."""
    edits = sum(edit_distance(cer_text(r), cer_text(h)) for r, h in zip(refs, hyps, strict=True))
    return edits / max(sum(len(cer_text(r)) for r in refs), 1)


#: Dash-like marks that real images draw alike and transcribers type alike (hyphen, figure,
#: en and em dashes, horizontal bar, minus, the two- and three-em dashes, small and full-width
#: hyphen-minus); on real images they all count as "-". `一` (one) is a character, not a dash.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_DASH_FOLD = str.maketrans({ch: "-" for ch in DASHES})


def real_text(text: str) -> str:
    """`text` as the real-image scores compare it: `cer_text`, then every dash variant as "-"."""
    return cer_text(text).translate(_DASH_FOLD)


def bag_distance(a: str, b: str) -> int:
    """Characters left unmatched when `a` and `b` are compared as multisets: the larger of
    (in `a`, not in `b`) and (in `b`, not in `a`). Reading order does not count, so a reader
    that finds every line but orders them differently is not penalised; a substitution costs
    1 as in the edit distance, which this never exceeds."""
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    return max(sum((ca - cb).values()), sum((cb - ca).values()))


def order_free_error(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """`bag_distance` over reference characters, summed over the pairs (`real_text` on both
    sides): the order-free error of the real-image set."""
    unmatched = sum(bag_distance(real_text(r), real_text(h))
                    for r, h in zip(refs, hyps, strict=True))
    return unmatched / max(sum(len(real_text(r)) for r in refs), 1)
