"""The k-way merge step both k-best kernels (trellis and DAG) repeat: each candidate predecessor
holds a list of scores sorted best first; the next best extension is the best list head plus
that predecessor's move score. Private: callers own the heads and pass validated arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def best_head(rows, heads, limits, bonus):
    """`(i, value)` for the list i whose next entry `rows[i, heads[i]] + bonus[i]` is largest,
    among lists with `heads[i] < limits[i]`; the lowest i wins ties; `(-1, -inf)` when every
    list is spent or -inf."""
    best = -np.inf
    arg = -1
    for i in range(rows.shape[0]):
        h = heads[i]
        if h < limits[i]:
            v = rows[i, h] + bonus[i]
            if v > best:
                best = v
                arg = i
    return arg, best
