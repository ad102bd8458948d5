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
