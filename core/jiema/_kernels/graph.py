"""Decoding kernels for DAG lattices in edge form (a CandidateLattice is the DAG whose edges are
its candidates, position t spanning boundaries t -> t + 1).

Edges are sorted by end; the edges ending at boundary b are `end_offsets[b]:end_offsets[b + 1]`,
so the predecessors of edge e (edges ending where e starts) form one contiguous, already processed
range. With transitions the state is the last edge; without, a DP over boundaries suffices.

Transition kinds: 0 none, 1 dense `(K, K)` matrix over labels, 2 bigram hash table. All the
transitions needed at one boundary are looked up together (`_fill_trans`) so the bigram table's
memory accesses overlap. Ties: strict `>` while scanning predecessors in index order, so the lowest
edge index wins; final states likewise. Every kernel allocates its own scratch (thread safe, nogil).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .bigram import lookup_batch
from .merge import best_head

NONE, DENSE, BIGRAM = 0, 1, 2


@njit(cache=True, nogil=True, inline="always")
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@njit(cache=True, nogil=True)
def _max_pairs(n, starts, end_offsets):
    """Largest number of (predecessor, edge) pairs at one boundary: the scratch size."""
    most = 0
    for b in range(1, n + 1):
        total = 0
        for e in range(end_offsets[b], end_offsets[b + 1]):
            s = starts[e]
            total += end_offsets[s + 1] - end_offsets[s]
        most = max(most, total)
    return most


@njit(cache=True, nogil=True)
def count_paths(n, starts, scores, end_offsets, cap):
    """Number of 0 -> n chains of finite-score edges, saturating at `cap` (float64 counts): an
    upper bound on the finite paths (transitions may forbid some), which k-best sizes by."""
    at = np.zeros(n + 1)
    at[0] = 1.0
    for b in range(1, n + 1):
        total = 0.0
        for e in range(end_offsets[b], end_offsets[b + 1]):
            if scores[e] > -np.inf:
                total += at[starts[e]]
        at[b] = min(total, cap)
    return at[n]


@njit(cache=True, nogil=True)
def _pair_buffers(n, starts, end_offsets):
    """`_fill_trans`'s buffers, sized for the boundary with the most (predecessor, edge) pairs:
    prev and next labels, their transition scores, and the bigram lookup's two work arrays."""
    m = _max_pairs(n, starts, end_offsets)
    return (np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64),
            np.empty(m, dtype=np.float64), np.empty(2 * m, dtype=np.int64),
            np.empty(2 * m, dtype=np.int64))


@njit(cache=True, nogil=True)
def pair_scores(kind, dense, slots, fslots, bits, filt, fbits, row_default, vocab_size,
                 prev, nxt, q, out, work_i, work_k):
    """out[i] = trans(prev[i] -> nxt[i]) for i < q."""
    if kind == BIGRAM:
        lookup_batch(slots, fslots, bits, filt, fbits, row_default, vocab_size, prev, nxt, q, out,
                     work_i, work_k)
    elif kind == DENSE:
        for i in range(q):
            out[i] = dense[prev[i], nxt[i]]
    else:
        for i in range(q):
            out[i] = 0.0


@njit(cache=True, nogil=True)
def _fill_trans(b, starts, labels, end_offsets, kind, dense, slots, fslots, bits, filt, fbits,
                row_default, vocab_size, prev, nxt, out, work_i, work_k):
    """Transition scores of every (predecessor d, edge e) pair at boundary b, e-major, d-minor
    in index order, into `out`; returns the number of pairs."""
    q = 0
    for e in range(end_offsets[b], end_offsets[b + 1]):
        s = starts[e]
        for d in range(end_offsets[s], end_offsets[s + 1]):
            prev[q] = labels[d]
            nxt[q] = labels[e]
            q += 1
    pair_scores(kind, dense, slots, fslots, bits, filt, fbits, row_default, vocab_size, prev, nxt,
                q, out, work_i, work_k)
    return q


@njit(cache=True, nogil=True)
def viterbi_edges(n, starts, labels, scores, end_offsets, start_t, end_t, kind, dense, slots,
                  fslots, bits, filt, fbits, row_default, vocab_size):
    """Best chain of edges from boundary 0 to n, the state being the last edge.
    Returns (edge indices in order, score); score -inf (and no edges) when there is no path."""
    n_edges = starts.shape[0]
    prev, nxt, tr, work_i, work_k = _pair_buffers(n, starts, end_offsets)
    best = np.full(n_edges, -np.inf)
    back = np.full(n_edges, -1, dtype=np.int64)
    for b in range(1, n + 1):
        _fill_trans(b, starts, labels, end_offsets, kind, dense, slots, fslots, bits, filt, fbits,
                    row_default, vocab_size, prev, nxt, tr, work_i, work_k)
        q = 0
        for e in range(end_offsets[b], end_offsets[b + 1]):
            s = starts[e]
            if s == 0:
                best[e] = scores[e] + start_t[e]
                continue
            top = -np.inf
            arg = -1
            for d in range(end_offsets[s], end_offsets[s + 1]):
                v = best[d] + tr[q]
                q += 1
                if v > top:
                    top = v
                    arg = d
            best[e] = top + scores[e]
            back[e] = arg
    return _backtrack_final(n, best, back, end_t, end_offsets)


@njit(cache=True, nogil=True)
def _backtrack_final(n, best, back, end_t, end_offsets):
    top = -np.inf
    last = -1
    for e in range(end_offsets[n], end_offsets[n + 1]):
        v = best[e] + end_t[e]
        if v > top:
            top = v
            last = e
    if last < 0:
        return np.zeros(0, dtype=np.int64), -np.inf
    length = 0
    e = last
    while e >= 0:
        length += 1
        e = back[e]
    path = np.empty(length, dtype=np.int64)
    e = last
    for i in range(length - 1, -1, -1):
        path[i] = e
        e = back[e]
    return path, top


@njit(cache=True, nogil=True)
def viterbi_boundaries(n, starts, scores, end_offsets):
    """Best path without transitions: best[b] over boundaries, back[b] = the edge that got there."""
    best = np.full(n + 1, -np.inf)
    back = np.full(n + 1, -1, dtype=np.int64)
    best[0] = 0.0
    for b in range(1, n + 1):
        for e in range(end_offsets[b], end_offsets[b + 1]):
            v = best[starts[e]] + scores[e]
            if v > best[b]:
                best[b] = v
                back[b] = e
    if best[n] == -np.inf:
        return np.zeros(0, dtype=np.int64), -np.inf
    length = 0
    b = n
    while b > 0:
        length += 1
        b = starts[back[b]]
    path = np.empty(length, dtype=np.int64)
    b = n
    for i in range(length - 1, -1, -1):
        path[i] = back[b]
        b = starts[back[b]]
    return path, best[n]


@njit(cache=True, nogil=True)
def kbest_edges(n, starts, labels, scores, end_offsets, start_t, end_t, kind, dense, slots,
                fslots, bits, filt, fbits, row_default, vocab_size, k):
    """Exact k best chains (k lists per edge, merged from the predecessors' sorted lists).
    Ties go to the lower predecessor edge, then its lower rank. Returns (edges of all paths
    concatenated, offsets (m + 1,), scores (m,)) for the m <= k paths with finite score."""
    n_edges = starts.shape[0]
    prev, nxt, tr, work_i, work_k = _pair_buffers(n, starts, end_offsets)
    kb = np.full((n_edges, k), -np.inf)
    back = np.full((n_edges, k), -1, dtype=np.int64)
    rank = np.full((n_edges, k), -1, dtype=np.int64)
    ptr = np.zeros(max(n_edges, 1), dtype=np.int64)
    limit = np.full(max(n_edges, 1), k, dtype=np.int64)  # every list may hold k entries
    for b in range(1, n + 1):
        _fill_trans(b, starts, labels, end_offsets, kind, dense, slots, fslots, bits, filt, fbits,
                    row_default, vocab_size, prev, nxt, tr, work_i, work_k)
        q = 0
        for e in range(end_offsets[b], end_offsets[b + 1]):
            s = starts[e]
            if s == 0:
                kb[e, 0] = scores[e] + start_t[e]
                continue
            lo = end_offsets[s]
            npred = end_offsets[s + 1] - lo
            for i in range(npred):
                ptr[i] = 0
            for r in range(k):
                arg, top = best_head(kb[lo:lo + npred], ptr, limit, tr[q:q + npred])
                if arg < 0:
                    break
                kb[e, r] = top + scores[e]
                back[e, r] = lo + arg
                rank[e, r] = ptr[arg]
                ptr[arg] += 1
            q += npred
    # merge the final edges' lists
    lo = end_offsets[n]
    nfin = end_offsets[n + 1] - lo
    fin_e = np.empty(k, dtype=np.int64)
    fin_r = np.empty(k, dtype=np.int64)
    fin_s = np.empty(k, dtype=np.float64)
    for i in range(nfin):
        ptr[i] = 0
    found = 0
    for _ in range(k):
        arg, top = best_head(kb[lo:lo + nfin], ptr, limit, end_t[lo:lo + nfin])
        if arg < 0:
            break
        fin_e[found] = lo + arg
        fin_r[found] = ptr[arg]
        fin_s[found] = top
        ptr[arg] += 1
        found += 1
    lengths = np.zeros(found, dtype=np.int64)
    for j in range(found):
        e, r = fin_e[j], fin_r[j]
        while e >= 0:
            lengths[j] += 1
            e, r = back[e, r], rank[e, r]
    offsets = np.zeros(found + 1, dtype=np.int64)
    for j in range(found):
        offsets[j + 1] = offsets[j] + lengths[j]
    edges = np.empty(offsets[found], dtype=np.int64)
    for j in range(found):
        e, r = fin_e[j], fin_r[j]
        for i in range(offsets[j + 1] - 1, offsets[j] - 1, -1):
            edges[i] = e
            e, r = back[e, r], rank[e, r]
    return edges, offsets, fin_s[:found].copy()


@njit(cache=True, nogil=True)
def marginals_edges(n, starts, labels, scores, end_offsets, start_t, end_t, kind, dense, slots,
                    fslots, bits, filt, fbits, row_default, vocab_size):
    """Forward-backward with the last edge as state. Returns (posterior per edge, log Z);
    log Z = -inf when there is no path (posteriors then meaningless)."""
    n_edges = starts.shape[0]
    prev, nxt, tr, work_i, work_k = _pair_buffers(n, starts, end_offsets)
    alpha = np.full(n_edges, -np.inf)
    beta = np.full(n_edges, -np.inf)
    for b in range(1, n + 1):
        _fill_trans(b, starts, labels, end_offsets, kind, dense, slots, fslots, bits, filt, fbits,
                    row_default, vocab_size, prev, nxt, tr, work_i, work_k)
        q = 0
        for e in range(end_offsets[b], end_offsets[b + 1]):
            s = starts[e]
            if s == 0:
                alpha[e] = scores[e] + start_t[e]
                continue
            lo = end_offsets[s]
            npred = end_offsets[s + 1] - lo
            top = -np.inf
            for i in range(npred):
                top = max(top, alpha[lo + i] + tr[q + i])
            if top > -np.inf:
                acc = 0.0
                for i in range(npred):
                    acc += np.exp(alpha[lo + i] + tr[q + i] - top)
                alpha[e] = top + np.log(acc) + scores[e]
            q += npred
    log_z = -np.inf
    for e in range(end_offsets[n], end_offsets[n + 1]):
        log_z = _logaddexp(log_z, alpha[e] + end_t[e])
        beta[e] = end_t[e]
    post = np.zeros(n_edges)
    if log_z == -np.inf:
        return post, log_z
    for b in range(n, 0, -1):
        _fill_trans(b, starts, labels, end_offsets, kind, dense, slots, fslots, bits, filt, fbits,
                    row_default, vocab_size, prev, nxt, tr, work_i, work_k)
        q = 0
        for e in range(end_offsets[b], end_offsets[b + 1]):
            s = starts[e]
            lo = end_offsets[s]
            npred = end_offsets[s + 1] - lo
            c = scores[e] + beta[e]
            if c > -np.inf:
                for i in range(npred):
                    beta[lo + i] = _logaddexp(beta[lo + i], tr[q + i] + c)
            q += npred
    for e in range(n_edges):
        post[e] = np.exp(alpha[e] + beta[e] - log_z)
    return post, log_z


@njit(cache=True, nogil=True)
def marginals_boundaries(n, starts, ends, scores, end_offsets):
    """Forward-backward over boundaries (no transitions). Returns (posterior per edge, log Z)."""
    n_edges = starts.shape[0]
    fwd = np.full(n + 1, -np.inf)
    bwd = np.full(n + 1, -np.inf)
    fwd[0] = 0.0
    bwd[n] = 0.0
    for b in range(1, n + 1):
        top = -np.inf
        for e in range(end_offsets[b], end_offsets[b + 1]):
            top = max(top, fwd[starts[e]] + scores[e])
        if top > -np.inf:
            acc = 0.0
            for e in range(end_offsets[b], end_offsets[b + 1]):
                acc += np.exp(fwd[starts[e]] + scores[e] - top)
            fwd[b] = top + np.log(acc)
    log_z = fwd[n]
    post = np.zeros(n_edges)
    if log_z == -np.inf:
        return post, log_z
    for e in range(n_edges - 1, -1, -1):  # edges ending later come first: bwd[ends[e]] is final
        bwd[starts[e]] = _logaddexp(bwd[starts[e]], scores[e] + bwd[ends[e]])
    for e in range(n_edges):
        post[e] = np.exp(fwd[starts[e]] + scores[e] + bwd[ends[e]] - log_z)
    return post, log_z
