"""Numba kernels for dense trellises: Viterbi (one sequence and ragged batches), k-best, marginals.

Private: inputs were validated by the caller (C-contiguous, finite or -inf, consistent shapes).

Viterbi keeps no backpointer table (as hmmlearn does): the forward pass stores only the score table
`delta (T, K)` and needs a max, not an argmax, which vectorises. Backtracking recomputes each
backpointer in O(K). The forward loop runs over predecessors outside and successors inside, over
rows of the (K, K) transition matrix, so the inner loop is an element-wise max over contiguous
memory: it vectorises without fast-math (no reduction to reassociate), and -inf stays exact.

Ties: the strict `>` comparisons below keep the first (lowest) predecessor id and the lowest final
label among equal scores. float32 emissions run in float32 with the per-step maximum subtracted
from `delta` (magnitudes stay small, so the best path survives long sequences); the reported score
is always recomputed in float64 along the path.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .merge import best_head

# ---------------------------------------------------------------------------------------------
# Viterbi, one sequence
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _forward_generic(em, a, start, delta, normalise):
    """Fill `delta` (T, K); return False when every path is -inf."""
    t_len, k = em.shape
    for j in range(k):
        delta[0, j] = start[j] + em[0, j]
    for t in range(1, t_len):
        prev = delta[t - 1]
        cur = delta[t]
        p0 = prev[0]
        for j in range(k):
            cur[j] = p0 + a[0, j]
        for i in range(1, k):
            pi = prev[i]
            for j in range(k):
                v = pi + a[i, j]
                cur[j] = v if v > cur[j] else cur[j]
        e = em[t]
        for j in range(k):
            cur[j] += e[j]
        if normalise:
            m = cur[0]
            for j in range(1, k):
                m = cur[j] if cur[j] > m else m
            if m == -np.inf:
                return False
            for j in range(k):
                cur[j] -= m
    return True


@njit(cache=True, nogil=True, inline="always")
def _best_of_4(d0, d1, d2, d3, b0, b1, b2, b3):
    """max_i (d_i + b_i) and its lowest argmax, as a balanced tree (short dependency chain)."""
    x = d0 + b0
    y = d1 + b1
    u = y if y > x else x
    iu = 1 if y > x else 0
    x = d2 + b2
    y = d3 + b3
    w = y if y > x else x
    iw = 3 if y > x else 2
    return (w, iw) if w > u else (u, iu)


@njit(cache=True, nogil=True)
def _forward_k4(em, a, start, bp, normalise):
    """The K = 4 case (SBME tagging): scores held in registers, and the four backpointers of a
    step packed 2 bits each into one byte of `bp` (1 byte per step instead of a 32-byte delta
    row; backtracking is then a shift per step). Returns (ok, the four final scores)."""
    t_len = em.shape[0]
    d0 = start[0] + em[0, 0]
    d1 = start[1] + em[0, 1]
    d2 = start[2] + em[0, 2]
    d3 = start[3] + em[0, 3]
    a00, a01, a02, a03 = a[0, 0], a[0, 1], a[0, 2], a[0, 3]
    a10, a11, a12, a13 = a[1, 0], a[1, 1], a[1, 2], a[1, 3]
    a20, a21, a22, a23 = a[2, 0], a[2, 1], a[2, 2], a[2, 3]
    a30, a31, a32, a33 = a[3, 0], a[3, 1], a[3, 2], a[3, 3]
    for t in range(1, t_len):
        m0, i0 = _best_of_4(d0, d1, d2, d3, a00, a10, a20, a30)
        m1, i1 = _best_of_4(d0, d1, d2, d3, a01, a11, a21, a31)
        m2, i2 = _best_of_4(d0, d1, d2, d3, a02, a12, a22, a32)
        m3, i3 = _best_of_4(d0, d1, d2, d3, a03, a13, a23, a33)
        bp[t] = np.uint8(i0 | (i1 << 2) | (i2 << 4) | (i3 << 6))
        d0 = m0 + em[t, 0]
        d1 = m1 + em[t, 1]
        d2 = m2 + em[t, 2]
        d3 = m3 + em[t, 3]
        if normalise:
            u = d1 if d1 > d0 else d0
            w = d3 if d3 > d2 else d2
            m = w if w > u else u
            if m == -np.inf:
                return False, m, m, m, m
            d0 -= m
            d1 -= m
            d2 -= m
            d3 -= m
    return True, d0, d1, d2, d3


@njit(cache=True, nogil=True)
def _final_label(last, end):
    """Lowest label with the best final score (-1 when every path is -inf), and that score."""
    best = last[0] + end[0]
    y = 0
    for j in range(1, last.shape[0]):
        v = last[j] + end[j]
        if v > best:
            best = v
            y = j
    if best == -np.inf:
        return -1, best
    return y, best


@njit(cache=True, nogil=True)
def _backtrack_k4(bp, y, out):
    t_len = out.shape[0]
    out[t_len - 1] = y
    for t in range(t_len - 1, 0, -1):
        y = (bp[t] >> (2 * y)) & 3
        out[t - 1] = y


@njit(cache=True, nogil=True)
def _backtrack(delta, a, y, out):
    """Recompute each backpointer from `delta` in O(K): the lowest best predecessor."""
    t_len, k = delta.shape
    out[t_len - 1] = y
    for t in range(t_len - 2, -1, -1):
        row = delta[t]
        best = row[0] + a[0, y]
        arg = 0
        for i in range(1, k):
            v = row[i] + a[i, y]
            if v > best:
                best = v
                arg = i
        y = arg
        out[t] = y


@njit(cache=True, nogil=True)
def path_score(em, a, start, end, labels):
    """start[y0] + sum em[t, y_t] + sum A[y_{t-1}, y_t] + end[y_{T-1}] in float64, in the same
    order of additions as the float64 forward pass (so both give the same bits)."""
    t_len = labels.shape[0]
    if t_len == 0:
        return 0.0
    y = labels[0]
    s = np.float64(start[y]) + np.float64(em[0, y])
    for t in range(1, t_len):
        z = labels[t]
        s = s + np.float64(a[y, z])
        s = s + np.float64(em[t, z])
        y = z
    return s + np.float64(end[y])


@njit(cache=True, nogil=True)
def _viterbi_into(em, a, start, end, a64, start64, end64, delta, bp, out, normalise):
    """Best labels of one sequence (T >= 1) into `out`; returns the float64 score (-inf: no
    path). `delta` (T, K) is scratch for K != 4, `bp` (T,) uint8 for K = 4.

    For float64 the forward pass adds in path order, so its final value is the path score
    bit for bit; float32 (normalised) recomputes it in float64 along the path."""
    k = em.shape[1]
    if k == 4:
        ok, d0, d1, d2, d3 = _forward_k4(em, a, start, bp, normalise)
        if not ok:
            return -np.inf
        # lowest label with the best final score (strict > keeps the first)
        y, best = 0, d0 + end[0]
        for j, v in ((1, d1 + end[1]), (2, d2 + end[2]), (3, d3 + end[3])):
            if v > best:
                y, best = j, v
        if best == -np.inf:
            return -np.inf
        _backtrack_k4(bp, y, out)
    else:
        if not _forward_generic(em, a, start, delta, normalise):
            return -np.inf
        y, best = _final_label(delta[em.shape[0] - 1], end)
        if y < 0:
            return -np.inf
        _backtrack(delta, a, y, out)
    if normalise:
        return path_score(em, a64, start64, end64, out)
    return np.float64(best)


@njit(cache=True, nogil=True)
def _scratch(em, n):
    """`_viterbi_into`'s scratch for n positions of `em`: the (n, K) score table, or for K = 4
    the (n,) packed backpointers; the other one empty."""
    k = em.shape[1]
    if k == 4:
        return np.empty((0, k), dtype=em.dtype), np.empty(n, dtype=np.uint8)
    return np.empty((n, k), dtype=em.dtype), np.empty(0, dtype=np.uint8)


@njit(cache=True, nogil=True)
def viterbi_one(em, a, start, end, a64, start64, end64, normalise):
    """Best path of one sequence (T >= 1). `a/start/end` have em's dtype, `*64` are float64 for
    the score; `normalise` (float32) subtracts the per-step max. Returns (labels, score); score is
    -inf when no path exists."""
    t_len = em.shape[0]
    delta, bp = _scratch(em, t_len)
    out = np.empty(t_len, dtype=np.int64)  # every entry is written when a path exists
    score = _viterbi_into(em, a, start, end, a64, start64, end64, delta, bp, out, normalise)
    return out, score


@njit(cache=True, nogil=True, parallel=True)
def viterbi_batch(em, offsets, a, start, end, a64, start64, end64, normalise):
    """Best paths of a ragged batch, sequences in parallel. Zero-length sequences score 0;
    a sequence with no path scores -inf (the caller raises)."""
    n_seq = offsets.shape[0] - 1
    n = em.shape[0]
    labels = np.empty(n, dtype=np.int64)  # every entry is written when a path exists
    scores = np.zeros(n_seq, dtype=np.float64)
    delta, bp = _scratch(em, n)  # the one not used is empty; slicing it gives an empty view
    for b in prange(n_seq):
        lo = offsets[b]
        hi = offsets[b + 1]
        if hi > lo:
            scores[b] = _viterbi_into(
                em[lo:hi], a, start, end, a64, start64, end64,
                delta[lo:hi], bp[lo:hi], labels[lo:hi], normalise,
            )
    return labels, scores


# ---------------------------------------------------------------------------------------------
# k-best (list Viterbi): per (t, label) the k best prefixes, merged from K sorted lists
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def kbest_one(em, a, start, end, k_best):
    """The k best paths of one sequence (T >= 1), float64.

    Order: score descending; equal scores in reverse-lexicographic order of the label sequence
    (lower last label first, then lower previous label, ...), which for k = 1 is the Viterbi tie
    rule. Returns (labels (n, T), scores (n,)) with n <= k finite paths."""
    t_len, k = em.shape
    sc = np.full((t_len, k, k_best), -np.inf)
    bl = np.zeros((t_len, k, k_best), dtype=np.int64)
    br = np.zeros((t_len, k, k_best), dtype=np.int64)
    cnt = np.zeros((t_len, k), dtype=np.int64)
    head = np.zeros(k, dtype=np.int64)
    for j in range(k):
        v = start[j] + em[0, j]
        if v > -np.inf:
            sc[0, j, 0] = v
            cnt[0, j] = 1
    for t in range(1, t_len):
        for j in range(k):
            if em[t, j] == -np.inf:
                continue
            head[:] = 0
            n = 0
            while n < k_best:
                arg, best = best_head(sc[t - 1], head, cnt[t - 1], a[:, j])
                if arg < 0:
                    break
                sc[t, j, n] = best + em[t, j]
                bl[t, j, n] = arg
                br[t, j, n] = head[arg]
                head[arg] += 1
                n += 1
            cnt[t, j] = n
    # final merge, with the end scores
    labels = np.zeros((k_best, t_len), dtype=np.int64)
    scores = np.zeros(k_best, dtype=np.float64)
    head[:] = 0
    n = 0
    while n < k_best:
        arg, best = best_head(sc[t_len - 1], head, cnt[t_len - 1], end)
        if arg < 0:
            break
        scores[n] = best
        y = arg
        r = head[arg]
        head[arg] += 1
        for t in range(t_len - 1, -1, -1):
            labels[n, t] = y
            if t > 0:
                y, r = bl[t, y, r], br[t, y, r]
        n += 1
    return labels[:n], scores[:n]


@njit(cache=True, nogil=True)
def count_paths(em, a, start, end, cap):
    """Number of finite-score paths through a trellis (T >= 1), saturating at `cap` (counts are
    float64, exact below 2**53): k-best sizes its tables by it."""
    t_len, k = em.shape
    cnt = np.zeros(k)
    nxt = np.zeros(k)
    for j in range(k):
        if start[j] + em[0, j] > -np.inf:
            cnt[j] = 1.0
    for t in range(1, t_len):
        for j in range(k):
            total = 0.0
            if em[t, j] > -np.inf:
                for i in range(k):
                    if cnt[i] > 0.0 and a[i, j] > -np.inf:
                        total += cnt[i]
            nxt[j] = min(total, cap)
        cnt, nxt = nxt, cnt
    total = 0.0
    for j in range(k):
        if end[j] > -np.inf:
            total += cnt[j]
    return min(total, cap)


# ---------------------------------------------------------------------------------------------
# Marginals: forward-backward in log space
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _logsumexp_col(vec, a, j):
    """log sum_i exp(vec[i] + a[i, j])."""
    k = vec.shape[0]
    m = -np.inf
    for i in range(k):
        v = vec[i] + a[i, j]
        if v > m:
            m = v
    if m == -np.inf:
        return m
    s = 0.0
    for i in range(k):
        s += np.exp(vec[i] + a[i, j] - m)
    return m + np.log(s)


@njit(cache=True, nogil=True)
def _logsumexp_row(vec, a, e, i):
    """log sum_j exp(a[i, j] + e[j] + vec[j])."""
    k = vec.shape[0]
    m = -np.inf
    for j in range(k):
        v = a[i, j] + e[j] + vec[j]
        if v > m:
            m = v
    if m == -np.inf:
        return m
    s = 0.0
    for j in range(k):
        s += np.exp(a[i, j] + e[j] + vec[j] - m)
    return m + np.log(s)


@njit(cache=True, nogil=True)
def _forward_backward_into(em, a, start, end, alpha, beta, post):
    """Posteriors of one sequence (T >= 1) into `post`; returns log Z (-inf: no path)."""
    t_len, k = em.shape
    for j in range(k):
        alpha[0, j] = start[j] + em[0, j]
    for t in range(1, t_len):
        for j in range(k):
            alpha[t, j] = _logsumexp_col(alpha[t - 1], a, j) + em[t, j]
    for j in range(k):
        beta[t_len - 1, j] = end[j]
    for t in range(t_len - 2, -1, -1):
        for i in range(k):
            beta[t, i] = _logsumexp_row(beta[t + 1], a, em[t + 1], i)
    m = -np.inf
    for j in range(k):
        v = alpha[t_len - 1, j] + end[j]
        if v > m:
            m = v
    if m == -np.inf:
        return m
    s = 0.0
    for j in range(k):
        s += np.exp(alpha[t_len - 1, j] + end[j] - m)
    log_z = m + np.log(s)
    for t in range(t_len):
        for j in range(k):
            post[t, j] = np.exp(alpha[t, j] + beta[t, j] - log_z)
    return log_z


@njit(cache=True, nogil=True, parallel=True)
def marginals_batch(em, offsets, a, start, end):
    """Posteriors (N, K) and log Z per sequence; zero-length sequences have log Z = 0."""
    n_seq = offsets.shape[0] - 1
    k = em.shape[1]
    post = np.zeros((em.shape[0], k), dtype=np.float64)
    alpha = np.empty((em.shape[0], k), dtype=np.float64)
    beta = np.empty((em.shape[0], k), dtype=np.float64)
    log_z = np.zeros(n_seq, dtype=np.float64)
    for b in prange(n_seq):
        lo = offsets[b]
        hi = offsets[b + 1]
        if hi > lo:
            log_z[b] = _forward_backward_into(
                em[lo:hi], a, start, end, alpha[lo:hi], beta[lo:hi], post[lo:hi]
            )
    return post, log_z


@njit(cache=True, nogil=True)
def marginals_one(em, a, start, end):
    t_len, k = em.shape
    post = np.zeros((t_len, k), dtype=np.float64)
    alpha = np.empty((t_len, k), dtype=np.float64)
    beta = np.empty((t_len, k), dtype=np.float64)
    log_z = _forward_backward_into(em, a, start, end, alpha, beta, post)
    return post, log_z
