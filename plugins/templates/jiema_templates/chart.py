"""The parser's chart in Numba: best template parse of every span of one sentence.

The template trie is flat arrays: literal children in CSR order (sorted word ids, binary
search), one slot child per node, and per node the template that ends there (score, number of
words, index). For each start i, right to left, a sweep over positions k keeps states (trie node
at k) with the best score of a template prefix over words i..k-1 and a back-pointer; slots are
scored by the best parses of their spans, which are final when used (inner slots start after i;
a leading slot [i, m) is applied once best(i, m) is final; a trailing slot [k, m) is kept as the
best prefix per k and closed when span (i, m) is finalised). O(n^2) states, O(n^3) closings.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["chart_parse"]

_NEG = -np.inf


@njit(cache=True, nogil=True)
def _child(node, word, child_off, child_word, child_node):
    lo = child_off[node]
    hi = child_off[node + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        w = child_word[mid]
        if w < word:
            lo = mid + 1
        elif w > word:
            hi = mid
        else:
            return child_node[mid]
    return -1


@njit(cache=True, nogil=True)
def _better(total, length, best_total, best_len):
    if total > best_total + 1e-4:
        return True
    if total < best_total - 1e-4:
        return False
    a = round(total, 4)
    b = round(best_total, 4)
    return a > b or (a == b and length > best_len)


@njit(cache=True, nogil=True)
def chart_parse(ws, child_off, child_word, child_node, slot_child, end_score, end_len, end_tid,
                null_score, max_lits):
    """ws: word ids (-1: in no template). Returns score (n+1, n+1), tid (-1: no template),
    nlits and lits (n+1, n+1, max_lits): the template words' positions of each span's choice."""
    n = ws.shape[0]
    score = np.zeros((n + 1, n + 1))
    tid = np.full((n + 1, n + 1), -1, dtype=np.int64)
    nlits = np.zeros((n + 1, n + 1), dtype=np.int64)
    lits = np.zeros((n + 1, n + 1, max(max_lits, 1)), dtype=np.int64)
    lead = slot_child[0]
    cap = 64 * (n + 2)
    st_node = np.empty(cap, dtype=np.int64)
    st_pos = np.empty(cap, dtype=np.int64)
    st_score = np.empty(cap)
    st_back = np.empty(cap, dtype=np.int64)
    st_next = np.empty(cap, dtype=np.int64)
    head = np.empty(n + 2, dtype=np.int64)
    tr_val = np.empty(n + 1)
    tr_len = np.empty(n + 1, dtype=np.int64)
    tr_tid = np.empty(n + 1, dtype=np.int64)
    tr_state = np.empty(n + 1, dtype=np.int64)
    buf = np.empty(max(max_lits, 1), dtype=np.int64)
    for i in range(n - 1, -1, -1):
        for k in range(i, n + 2):
            head[k] = -1
        for k in range(i, n + 1):
            tr_val[k] = _NEG
        # state 0: the root at i
        st_node[0] = 0
        st_pos[0] = i
        st_score[0] = 0.0
        st_back[0] = -1
        st_next[0] = -1
        head[i] = 0
        count = 1
        for k in range(i, n + 1):
            if k > i:
                best_total = _NEG
                best_len = -1
                best_tid = -1
                best_state = -1
                s = head[k]
                while s >= 0:
                    node = st_node[s]
                    if end_tid[node] >= 0:
                        total = st_score[s] + end_score[node]
                        if best_tid < 0 or _better(total, end_len[node], best_total, best_len):
                            best_total = total
                            best_len = end_len[node]
                            best_tid = end_tid[node]
                            best_state = s
                    s = st_next[s]
                for a in range(i + 1, k):
                    if tr_tid[a] >= 0 and tr_val[a] > _NEG:
                        total = tr_val[a] + score[a, k]
                        if best_tid < 0 or _better(total, tr_len[a], best_total, best_len):
                            best_total = total
                            best_len = tr_len[a]
                            best_tid = tr_tid[a]
                            best_state = tr_state[a]
                if best_tid < 0:
                    score[i, k] = null_score * (k - i - 1)
                else:
                    score[i, k] = best_total
                    tid[i, k] = best_tid
                    m = 0
                    s = best_state
                    while st_back[s] >= 0:
                        buf[m] = st_pos[s] - 1
                        m += 1
                        s = st_back[s]
                    nlits[i, k] = m
                    for q in range(m):
                        lits[i, k, q] = buf[m - 1 - q]
                if lead >= 0 and k < n:
                    c = _child(lead, ws[k], child_off, child_word, child_node)
                    if c >= 0:
                        count = _update(k + 1, c, score[i, k], 0, head, st_node, st_pos,
                                        st_score, st_back, st_next, count)
                        if count >= cap - 1:
                            cap *= 2
                            st_node, st_pos, st_score, st_back, st_next = _grow(
                                cap, st_node, st_pos, st_score, st_back, st_next)
            if k == n:
                break
            s = head[k]
            while s >= 0:
                node = st_node[s]
                sc = st_score[s]
                c = _child(node, ws[k], child_off, child_word, child_node)
                if c >= 0:
                    count = _update(k + 1, c, sc, s, head, st_node, st_pos, st_score, st_back,
                                    st_next, count)
                    if count >= cap - 1:
                        cap *= 2
                        st_node, st_pos, st_score, st_back, st_next = _grow(
                            cap, st_node, st_pos, st_score, st_back, st_next)
                sl = slot_child[node] if node != 0 else -1
                if sl >= 0:
                    if end_tid[sl] >= 0:
                        v = sc + end_score[sl]
                        if tr_val[k] == _NEG or _better(v, end_len[sl], tr_val[k], tr_len[k]):
                            tr_val[k] = v
                            tr_len[k] = end_len[sl]
                            tr_tid[k] = end_tid[sl]
                            tr_state[k] = s
                    for m in range(k + 1, n):
                        c2 = _child(sl, ws[m], child_off, child_word, child_node)
                        if c2 >= 0:
                            count = _update(m + 1, c2, sc + score[k, m], s, head, st_node,
                                            st_pos, st_score, st_back, st_next, count)
                            if count >= cap - 1:
                                cap *= 2
                                st_node, st_pos, st_score, st_back, st_next = _grow(
                                    cap, st_node, st_pos, st_score, st_back, st_next)
                if count >= cap - 1:
                    cap *= 2
                    st_node, st_pos, st_score, st_back, st_next = _grow(
                        cap, st_node, st_pos, st_score, st_back, st_next)
                s = st_next[s]
    return score, tid, nlits, lits


@njit(cache=True, nogil=True)
def _grow(cap, st_node, st_pos, st_score, st_back, st_next):
    a = np.empty(cap, dtype=np.int64)
    b = np.empty(cap, dtype=np.int64)
    c = np.empty(cap)
    d = np.empty(cap, dtype=np.int64)
    e = np.empty(cap, dtype=np.int64)
    m = st_node.shape[0]
    a[:m] = st_node
    b[:m] = st_pos
    c[:m] = st_score
    d[:m] = st_back
    e[:m] = st_next
    return a, b, c, d, e


@njit(cache=True, nogil=True)
def _update(k, node, value, back, head, st_node, st_pos, st_score, st_back, st_next, count):
    s = head[k]
    while s >= 0:
        if st_node[s] == node:
            if value > st_score[s]:
                st_score[s] = value
                st_back[s] = back
            return count
        s = st_next[s]
    st_node[count] = node
    st_pos[count] = k
    st_score[count] = value
    st_back[count] = back
    st_next[count] = head[k]
    head[k] = count
    return count + 1
