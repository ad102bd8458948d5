"""The parser's chart in Numba: best template parse of every span of one sentence.

The template trie is flat arrays: literal children in CSR order (sorted word ids, binary
search), one slot child per node, and per node the template that ends there (score, number of
words, index). For each start i, right to left, a sweep over positions k keeps states (trie node
at k) with the best score of a template prefix over words i..k-1 and a back-pointer; slots are
scored by the best parses of their spans, which are final when used (inner slots start after i;
a leading slot [i, m) is applied once best(i, m) is final; a trailing slot [k, m) is kept as the
best prefix per k and closed when span (i, m) is finalised). Templates that start with a slot
are matched once per first-word position a, independent of where the slot starts, as G(a, k);
span (i, k) then closes them with max over a of best(i, a) + G(a, k). O(n^3) closings.
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
    if total == best_total:
        return length > best_len
    a = round(total, 4)
    b = round(best_total, 4)
    return a > b or (a == b and length > best_len)


@njit(cache=True, nogil=True)
def chart_parse(ws, child_off, child_word, child_node, slot_child, end_score, end_len, end_tid,
                in_lead, null_score, max_lits, cache_off, cache_cnt):
    """ws: word ids (-1: in no template); in_lead: per trie node, whether it lies under the
    root's slot child (templates that start with a slot). Returns score (n+1, n+1), tid (-1: no
    template), nlits and lits (n+1, n+1, max_lits): the template words' positions of each
    span's choice. cache_off (-1 filled) and cache_cnt are scratch arrays, one entry per trie
    node, handed back as they came (-1 filled)."""
    n = ws.shape[0]
    ml = max(max_lits, 1)
    score = np.zeros((n + 1, n + 1))
    tid = np.full((n + 1, n + 1), -1, dtype=np.int64)
    nlits = np.zeros((n + 1, n + 1), dtype=np.int64)
    lits = np.zeros((n + 1, n + 1, ml), dtype=np.int64)
    # G(a, k): best match of a slot-first template's remainder, from its first word at a
    gscore = np.zeros((n + 1, n + 1))
    gtid = np.full((n + 1, n + 1), -1, dtype=np.int64)
    glen = np.zeros((n + 1, n + 1), dtype=np.int64)
    gn = np.zeros((n + 1, n + 1), dtype=np.int64)
    glits = np.zeros((n + 1, n + 1, ml), dtype=np.int64)
    lead = slot_child[0]
    cap = 64 * (n + 2)
    st_node = np.empty(cap, dtype=np.int64)
    st_pos = np.empty(cap, dtype=np.int64)
    st_score = np.empty(cap)
    st_back = np.empty(cap, dtype=np.int64)
    st_next = np.empty(cap, dtype=np.int64)
    head = np.empty(n + 2, dtype=np.int64)
    tr_val = np.empty((2, n + 1))
    tr_len = np.empty((2, n + 1), dtype=np.int64)
    tr_tid = np.empty((2, n + 1), dtype=np.int64)
    tr_state = np.empty((2, n + 1), dtype=np.int64)
    buf = np.empty(ml, dtype=np.int64)
    b_total = np.empty(2)
    b_len = np.empty(2, dtype=np.int64)
    b_tid = np.empty(2, dtype=np.int64)
    b_state = np.empty(2, dtype=np.int64)
    # per slot node: the positions m whose word continues the template, found once per sentence
    touched = np.empty(n * n + 1, dtype=np.int64)
    ntouched = 0
    buf_m = np.empty(16 * (n + 1), dtype=np.int64)
    buf_c = np.empty(16 * (n + 1), dtype=np.int64)
    used = 0
    nn = slot_child.shape[0]  # (position, node) -> state, open addressing
    size = 1
    while size < 4 * cap:
        size *= 2
    hkeys = np.full(size, -1, dtype=np.int64)
    hvals = np.empty(size, dtype=np.int64)
    count = 0
    for i in range(n - 1, -1, -1):
        mask = hkeys.shape[0] - 1
        if count * 8 > hkeys.shape[0]:  # forget the previous start's states
            hkeys[:] = -1
        else:  # find every slot first: clearing one could hide another from its probe
            scratch = np.empty(count, dtype=np.int64)
            for q in range(count):
                scratch[q] = _slot(st_pos[q] * nn + st_node[q], hkeys, mask)
            for q in range(count):
                hkeys[scratch[q]] = -1
        for k in range(i, n + 2):
            head[k] = -1
        for k in range(i, n + 1):
            tr_tid[0, k] = -1
            tr_tid[1, k] = -1
        # seeds: the root at i (back -1: no word), and a slot-first template's first word at i
        # (back -2: this word, then stop)
        st_node[0] = 0
        st_pos[0] = i
        st_score[0] = 0.0
        st_back[0] = -1
        st_next[0] = -1
        head[i] = 0
        hkeys[_slot(i * nn, hkeys, mask)] = i * nn
        hvals[_slot(i * nn, hkeys, mask)] = 0
        count = 1
        if lead >= 0:
            c = _child(lead, ws[i], child_off, child_word, child_node)
            if c >= 0:
                count = _update(i + 1, c, 0.0, -2, head, st_node, st_pos, st_score, st_back,
                                st_next, count, hkeys, hvals, nn)
        for k in range(i, n + 1):
            if k > i:
                b_tid[0] = -1
                b_tid[1] = -1
                s = head[k]
                while s >= 0:
                    node = st_node[s]
                    if end_tid[node] >= 0:
                        o = in_lead[node]
                        total = st_score[s] + end_score[node]
                        if b_tid[o] < 0 or _better(total, end_len[node], b_total[o], b_len[o]):
                            b_total[o] = total
                            b_len[o] = end_len[node]
                            b_tid[o] = end_tid[node]
                            b_state[o] = s
                    s = st_next[s]
                for a in range(i + 1, k):
                    for o in range(2):
                        if tr_tid[o, a] >= 0:
                            total = tr_val[o, a] + score[a, k]
                            if b_tid[o] < 0 or _better(total, tr_len[o, a], b_total[o], b_len[o]):
                                b_total[o] = total
                                b_len[o] = tr_len[o, a]
                                b_tid[o] = tr_tid[o, a]
                                b_state[o] = tr_state[o, a]
                for o in range(2):
                    if b_tid[o] < 0:
                        continue
                    m = 0
                    s = b_state[o]
                    while st_back[s] != -1:
                        buf[m] = st_pos[s] - 1
                        m += 1
                        if st_back[s] == -2:
                            break
                        s = st_back[s]
                    if o == 0:
                        nlits[i, k] = m
                        for q in range(m):
                            lits[i, k, q] = buf[m - 1 - q]
                    else:
                        gscore[i, k] = b_total[1]
                        gtid[i, k] = b_tid[1]
                        glen[i, k] = b_len[1]
                        gn[i, k] = m
                        for q in range(m):
                            glits[i, k, q] = buf[m - 1 - q]
                # slot-first templates: slot [i, a), then their remainder from a
                best_total = b_total[0]
                best_len = b_len[0]
                best_tid = b_tid[0]
                best_a = -1
                for a in range(i + 1, k):
                    if gtid[a, k] >= 0:
                        total = score[i, a] + gscore[a, k]
                        if best_tid < 0 or _better(total, glen[a, k], best_total, best_len):
                            best_total = total
                            best_len = glen[a, k]
                            best_tid = gtid[a, k]
                            best_a = a
                if best_tid < 0:
                    score[i, k] = null_score * (k - i - 1)
                else:
                    score[i, k] = best_total
                    tid[i, k] = best_tid
                    if best_a >= 0:
                        nlits[i, k] = gn[best_a, k]
                        for q in range(gn[best_a, k]):
                            lits[i, k, q] = glits[best_a, k, q]
            if k == n:
                break
            s = head[k]
            while s >= 0:
                node = st_node[s]
                sc = st_score[s]
                c = _child(node, ws[k], child_off, child_word, child_node)
                if c >= 0:
                    count = _update(k + 1, c, sc, s, head, st_node, st_pos, st_score, st_back,
                                    st_next, count, hkeys, hvals, nn)
                    if count >= cap - 1:
                        cap *= 2
                        st_node, st_pos, st_score, st_back, st_next = _grow(
                            cap, st_node, st_pos, st_score, st_back, st_next)
                        hkeys, hvals = _rehash(count, st_node, st_pos, nn, 2 * hkeys.shape[0])
                sl = slot_child[node] if node != 0 else -1
                if sl >= 0:
                    o = in_lead[node]
                    if end_tid[sl] >= 0:
                        v = sc + end_score[sl]
                        if tr_tid[o, k] < 0 or _better(v, end_len[sl], tr_val[o, k], tr_len[o, k]):
                            tr_val[o, k] = v
                            tr_len[o, k] = end_len[sl]
                            tr_tid[o, k] = end_tid[sl]
                            tr_state[o, k] = s
                    if cache_off[sl] < 0:  # this slot's continuations in this sentence
                        if used + n > buf_m.shape[0]:
                            buf_m, buf_c = _grow2(2 * (used + n), buf_m, buf_c)
                        cache_off[sl] = used
                        if ntouched == touched.shape[0]:
                            touched, _ = _grow2(2 * ntouched, touched, touched)
                        touched[ntouched] = sl
                        ntouched += 1
                        for m in range(n):
                            c2 = _child(sl, ws[m], child_off, child_word, child_node)
                            if c2 >= 0:
                                buf_m[used] = m
                                buf_c[used] = c2
                                used += 1
                        cache_cnt[sl] = used - cache_off[sl]
                    for q in range(cache_off[sl], cache_off[sl] + cache_cnt[sl]):
                        m = buf_m[q]
                        if m > k:
                            count = _update(m + 1, buf_c[q], sc + score[k, m], s, head, st_node,
                                            st_pos, st_score, st_back, st_next, count, hkeys,
                                            hvals, nn)
                            if count >= cap - 1:
                                cap *= 2
                                st_node, st_pos, st_score, st_back, st_next = _grow(
                                    cap, st_node, st_pos, st_score, st_back, st_next)
                                hkeys, hvals = _rehash(count, st_node, st_pos, nn,
                                                       2 * hkeys.shape[0])
                s = st_next[s]
    for q in range(ntouched):
        cache_off[touched[q]] = -1
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
def _grow2(cap, a, b):
    a2 = np.empty(cap, dtype=np.int64)
    b2 = np.empty(cap, dtype=np.int64)
    a2[: a.shape[0]] = a
    b2[: b.shape[0]] = b
    return a2, b2


@njit(cache=True, nogil=True)
def _slot(key, hkeys, mask):
    h = (key * 0x9E3779B1) & mask
    while hkeys[h] != -1 and hkeys[h] != key:
        h = (h + 1) & mask
    return h


@njit(cache=True, nogil=True)
def _rehash(count, st_node, st_pos, nn, size):
    hkeys = np.full(size, -1, dtype=np.int64)
    hvals = np.empty(size, dtype=np.int64)
    mask = size - 1
    for s in range(count):
        key = st_pos[s] * nn + st_node[s]
        h = _slot(key, hkeys, mask)
        hkeys[h] = key
        hvals[h] = s
    return hkeys, hvals


@njit(cache=True, nogil=True)
def _update(k, node, value, back, head, st_node, st_pos, st_score, st_back, st_next, count,
            hkeys, hvals, nn):
    key = k * nn + node
    h = _slot(key, hkeys, hkeys.shape[0] - 1)
    if hkeys[h] == key:
        s = hvals[h]
        if value > st_score[s]:
            st_score[s] = value
            st_back[s] = back
        return count
    hkeys[h] = key
    hvals[h] = count
    st_node[count] = node
    st_pos[count] = k
    st_score[count] = value
    st_back[count] = back
    st_next[count] = head[k]
    head[k] = count
    return count + 1


@njit(cache=True, nogil=True)
def tree_nodes(tid, nlits, lits, n):
    """The chosen parse of [0, n) as preorder arrays: span start, end, template (-1: none) and
    parent index (-1 for the root); a node's slot subtrees follow it in slot order."""
    cap = 2 * n + 2
    ni = np.empty(cap, dtype=np.int64)
    nj = np.empty(cap, dtype=np.int64)
    parent = np.empty(cap, dtype=np.int64)
    stack_i = np.empty(cap, dtype=np.int64)
    stack_j = np.empty(cap, dtype=np.int64)
    stack_p = np.empty(cap, dtype=np.int64)
    top = 0
    stack_i[0] = 0
    stack_j[0] = n
    stack_p[0] = -1
    top = 1
    count = 0
    gaps_i = np.empty(n + 1, dtype=np.int64)
    gaps_j = np.empty(n + 1, dtype=np.int64)
    while top > 0:
        top -= 1
        i = stack_i[top]
        j = stack_j[top]
        ni[count] = i
        nj[count] = j
        parent[count] = stack_p[top]
        me = count
        count += 1
        if tid[i, j] < 0:
            continue
        g = 0
        prev = i - 1
        for q in range(nlits[i, j] + 1):
            p = lits[i, j, q] if q < nlits[i, j] else j
            if prev + 1 < p:
                gaps_i[g] = prev + 1
                gaps_j[g] = p
                g += 1
            prev = p
        for q in range(g - 1, -1, -1):  # pushed in reverse: popped in slot order
            stack_i[top] = gaps_i[q]
            stack_j[top] = gaps_j[q]
            stack_p[top] = me
            top += 1
    return ni[:count], nj[:count], parent[:count]
