"""Two readings of one line aligned glyph by glyph, by character and by place.

Aligned by characters alone (difflib), a run of like characters pairs up wherever the count
fits: 原价￥399 cut and 场价999 recognised paired the recogniser's first two 9s with the cut
reader's two, left its third 9 over and the merge read ￥3999. Here a pair whose glyphs stand in
different places costs as much as a gap, so like characters pair where they stand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from .results import GlyphResult

PLACE_SLACK = 0.25  # x the cut glyph's height: a recognised glyph's centre this far outside the
# cut glyph's box still stands in its place (CTC boxes are a few frames wide and may lean)
MISPLACED_COST = 1.0  # added to a pair whose glyphs stand apart (a gap costs 1, a change 1)

Opcode = tuple[str, int, int, int, int]


def aligned_opcodes(a: Sequence[GlyphResult], b: Sequence[GlyphResult]
                    ) -> tuple[list[Opcode], float]:
    """difflib-style opcodes (equal / replace / delete / insert) turning `a` (the cut reading)
    into `b` (the recognised one), and the share of glyphs paired as equal, 2M / (len a +
    len b), as `SequenceMatcher.ratio` gives it."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        ops: list[Opcode] = []
        if n:
            ops.append(("delete", 0, n, 0, 0))
        if m:
            ops.append(("insert", 0, 0, 0, m))
        return ops, 0.0
    same = np.array([[ga.char == gb.char for gb in b] for ga in a], dtype=np.bool_)
    ax0 = np.array([g.box[0] for g in a], dtype=np.float64)
    ax1 = np.array([g.box[2] for g in a], dtype=np.float64)
    slack = PLACE_SLACK * np.array([g.box[3] - g.box[1] for g in a], dtype=np.float64)
    bc = np.array([(g.box[0] + g.box[2]) / 2.0 for g in b], dtype=np.float64)
    placed = ((bc[None, :] >= (ax0 - slack)[:, None])
              & (bc[None, :] <= (ax1 + slack)[:, None]))
    ops = _opcodes(_align(same, placed, MISPLACED_COST), same)
    equal = sum(i2 - i1 for op, i1, i2, _, _ in ops if op == "equal")
    return ops, 2.0 * equal / (n + m)


@njit(cache=True)
def _align(same: np.ndarray, placed: np.ndarray, misplaced: float) -> np.ndarray:
    """The cheapest path, as steps from the start: 0 pair, 1 a-only, 2 b-only."""
    n, m = same.shape
    cost = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=np.int8)
    for i in range(1, n + 1):
        cost[i, 0] = i
        move[i, 0] = 1
    for j in range(1, m + 1):
        cost[0, j] = j
        move[0, j] = 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            pair = cost[i - 1, j - 1] + (0.0 if same[i - 1, j - 1] else 1.0)
            if not placed[i - 1, j - 1]:
                pair += misplaced
            best, how = pair, 0
            if cost[i - 1, j] + 1.0 < best:
                best, how = cost[i - 1, j] + 1.0, 1
            if cost[i, j - 1] + 1.0 < best:
                best, how = cost[i, j - 1] + 1.0, 2
            cost[i, j] = best
            move[i, j] = how
    out = np.empty(n + m, dtype=np.int8)
    k = 0
    i, j = n, m
    while i > 0 or j > 0:
        step = move[i, j]
        out[k] = step
        k += 1
        if step == 0:
            i -= 1
            j -= 1
        elif step == 1:
            i -= 1
        else:
            j -= 1
    return out[:k][::-1].copy()


def _opcodes(steps: np.ndarray, same: np.ndarray) -> list[Opcode]:
    """Runs of equal pairs, and between them one span of the rest: a replace where both sides
    have glyphs, else a delete or an insert."""
    ops: list[Opcode] = []
    i = j = 0
    si = sj = 0  # start of the pending unequal span
    for step in steps:
        if step == 0 and same[i, j]:
            if (si, sj) != (i, j):
                ops.append(_span(si, i, sj, j))
            if ops and ops[-1][0] == "equal":
                _, i1, _, j1, _ = ops[-1]
                ops[-1] = ("equal", i1, i + 1, j1, j + 1)
            else:
                ops.append(("equal", i, i + 1, j, j + 1))
            i, j = i + 1, j + 1
            si, sj = i, j
        elif step == 0:
            i, j = i + 1, j + 1
        elif step == 1:
            i += 1
        else:
            j += 1
    if (si, sj) != (i, j):
        ops.append(_span(si, i, sj, j))
    return ops


def _span(i1: int, i2: int, j1: int, j2: int) -> Opcode:
    kind = "replace" if i2 > i1 and j2 > j1 else ("delete" if i2 > i1 else "insert")
    return (kind, i1, i2, j1, j2)
