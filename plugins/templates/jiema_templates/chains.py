"""Template chains of one tokenized batch, enumerated in Numba.

The strong skip-gram pairs of a batch are edges between word positions (always inside one
piece, earlier to later). Every maximal path, from a position no edge ends at to one no edge
starts from, is a template occurrence: its words, `[X]` (-1) where positions were skipped
between two of them, and at either end when the path does not reach the piece's end. Paths are
enumerated depth-first, edges in order of their end position (nlp-zero's recursion order).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["chain_templates"]


@njit(cache=True, nogil=True)
def chain_templates(ids, first, last, a, b):
    """ids: word id per position; first/last: the first and last position of each position's
    piece; (a, b): the strong edges. Returns (codes, offsets): template k is
    `codes[offsets[k]:offsets[k + 1]]`, word ids and -1 for slots."""
    n = ids.shape[0]
    m = a.shape[0]
    off = np.zeros(n + 1, dtype=np.int64)
    has_in = np.zeros(n, dtype=np.bool_)
    for e in range(m):
        off[a[e] + 1] += 1
        has_in[b[e]] = True
    for x in range(n):
        off[x + 1] += off[x]
    adj = np.empty(m, dtype=np.int64)
    fill = off[:n].copy()
    for e in range(m):
        adj[fill[a[e]]] = b[e]
        fill[a[e]] += 1
    for x in range(n):  # each position's few out-edges, ascending (insertion sort)
        for i in range(off[x] + 1, off[x + 1]):
            v = adj[i]
            j = i - 1
            while j >= off[x] and adj[j] > v:
                adj[j + 1] = adj[j]
                j -= 1
            adj[j + 1] = v
    codes = np.empty(4 * m + 16, dtype=np.int64)
    offsets = np.empty(m + 16, dtype=np.int64)
    offsets[0] = 0
    used = 0
    count = 0
    path = np.empty(n + 1, dtype=np.int64)
    choice = np.empty(n + 1, dtype=np.int64)
    for s in range(n):
        if has_in[s] or off[s + 1] == off[s]:
            continue
        depth = 0
        path[0] = s
        choice[0] = off[s]
        while depth >= 0:
            x = path[depth]
            if off[x + 1] == off[x]:  # a sink: one template
                need = used + 2 * depth + 3
                if need > codes.shape[0]:
                    grown = np.empty(2 * need, dtype=np.int64)
                    grown[:used] = codes[:used]
                    codes = grown
                if count + 2 > offsets.shape[0]:
                    grown = np.empty(2 * offsets.shape[0], dtype=np.int64)
                    grown[: count + 1] = offsets[: count + 1]
                    offsets = grown
                p0 = path[0]
                if p0 != first[p0]:
                    codes[used] = -1
                    used += 1
                codes[used] = ids[p0]
                used += 1
                for d in range(1, depth + 1):
                    if path[d] - path[d - 1] > 1:
                        codes[used] = -1
                        used += 1
                    codes[used] = ids[path[d]]
                    used += 1
                if x != last[x]:
                    codes[used] = -1
                    used += 1
                count += 1
                offsets[count] = used
                depth -= 1
                continue
            c = choice[depth]
            if c < off[x + 1]:
                choice[depth] = c + 1
                depth += 1
                path[depth] = adj[c]
                choice[depth] = off[adj[c]]
            else:
                depth -= 1
    return codes[:used].copy(), offsets[: count + 1].copy()
