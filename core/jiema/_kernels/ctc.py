"""Kernels for CTC lattices: the blank/repeat grammar with a transition model over the EMITTED
characters (see `jiema.lattice.CTCLattice`).

State after frame t: the frame's choice and the last emitted character. A non-blank candidate j
fixes both (its label is the last emitted), so it is one state; the blank keeps the last emitted
character e, so frame t has one blank state per "slot": e = none (nothing emitted yet, slot 0) or
a label of some candidate at a frame < t (slots are numbered in first-seen order). Moves into
non-blank j at frame t:
- from non-blank j' at t - 1 with the same label: a repeat, no emission, no transition score;
- from non-blank j' with another label, or from blank state e: an emission, + trans(e, label j)
  (the start score when e is none).
Moves into blank state e: from blank state e at t - 1, or from a non-blank j' at t - 1 whose label
is e. A virtual frame -1 holds one blank state (none) with score 0, so frame 0 needs no special
case.

Exact pruning (Viterbi): a blank state whose score plus the largest transition score into a
candidate cannot reach the best score that candidate already has is skipped, so the transition
look-ups per frame follow the blank states still in contention, not every label seen so far.

Transitions arrive as `jiema._decode_graph._Trans` arguments (kinds 0 none, 1 dense, 2 bigram)
and are looked up in batches (`lookup_batch`) like the DAG kernels do.

Tie rule: among equal predecessors, non-blank ones (lowest candidate index) come before blank
ones (lowest last-emitted id, none first); the same order picks among equal final states.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .graph import pair_scores


@njit(cache=True, nogil=True, inline="always")
def _label_pairs(labels, lo, hi, d_lo, d_hi, slot_label, keep, n_keep, pv, nx):
    """The (previous, next) label pairs whose transition scores a frame needs, into `pv`/`nx`:
    for each candidate j of [lo, hi), first each candidate d of [d_lo, d_hi) of the frame before,
    then each blank state keep[:n_keep] (its last emitted label; state 0, nothing emitted yet,
    gets 0, which callers score by the start score instead). Returns how many."""
    q = 0
    for j in range(lo, hi):
        for d in range(d_lo, d_hi):
            pv[q] = labels[d]
            nx[q] = labels[j]
            q += 1
        for r in range(n_keep):
            s = keep[r]
            pv[q] = slot_label[s] if s > 0 else 0
            nx[q] = labels[j]
            q += 1
    return q


@njit(cache=True, nogil=True)
def _pair_scratch(kmax, n_slots):
    """Buffers for one frame's (previous, next) label pairs: at most kmax x kmax candidate
    pairs, kmax x n_slots from blank states, and the start; twice that for the work lists."""
    m = kmax * kmax + kmax * n_slots + 1
    return (np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m),
            np.empty(2 * m, dtype=np.int64), np.empty(2 * m, dtype=np.int64))


@njit(cache=True, nogil=True, inline="always")
def _register_labels(labels, lo, hi, end_t, slot_of, slot_label, slot_end, n_slots):
    """Give each label among candidates lo..hi that has no blank-state slot yet the next one
    (first-seen order), with its end score; returns the new number of slots."""
    for j in range(lo, hi):
        c = labels[j]
        if slot_of[c] < 0:
            slot_of[c] = n_slots
            slot_label[n_slots] = c
            slot_end[n_slots] = end_t[j]
            n_slots += 1
    return n_slots


@njit(cache=True, nogil=True)
def _slot_counts(offsets, labels, n_ids):
    """Slots (blank states) at each frame: 1 + distinct labels at earlier frames; `(T + 1,)`."""
    t_len = offsets.shape[0] - 1
    seen = np.zeros(n_ids, dtype=np.bool_)
    out = np.empty(t_len + 1, dtype=np.int64)
    s = 1
    for t in range(t_len):
        out[t] = s
        for j in range(offsets[t], offsets[t + 1]):
            if not seen[labels[j]]:
                seen[labels[j]] = True
                s += 1
    out[t_len] = s
    return out


@njit(cache=True, nogil=True)
def viterbi_ctc(blank, offsets, labels, scores, start_t, end_t, kind, dense, slots, fslots, bits,
                filt, fbits, row_default, vocab_size, n_ids, in_ub):
    """Best alignment. `start_t` / `end_t`: per candidate, the start / end score of its label;
    `n_ids` > every label; `in_ub[j]` >= every transition score into candidate j (pruning).
    Returns (per-frame choice: candidate index or -1 for blank, score); score -inf when there is
    no path."""
    t_len = blank.shape[0]
    n = labels.shape[0]
    kmax = 0
    for t in range(t_len):
        kmax = max(kmax, offsets[t + 1] - offsets[t])
    n_slots = _slot_counts(offsets, labels, n_ids)[t_len]
    slot_of = np.full(n_ids, -1, dtype=np.int64)
    slot_label = np.full(n_slots, -1, dtype=np.int64)
    slot_end = np.zeros(n_slots)
    prev_b = np.full(n_slots, -np.inf)  # blank states at t - 1
    new_b = np.full(n_slots, -np.inf)
    win = np.full(n_slots, -1, dtype=np.int64)
    prev_b[0] = 0.0  # virtual frame -1: nothing emitted
    s_prev = 1  # slots existing at t - 1
    nb = np.full(n, -np.inf)
    back = np.full(n, -1, dtype=np.int64)  # >= 0 candidate, -1 blank(none), -2 - e blank(e)
    won = np.zeros(n, dtype=np.bool_)  # nb j gave blank(t + 1, label j) its score
    pv, nx, tr, work_i, work_k = _pair_scratch(kmax, n_slots)
    keep = np.empty(n_slots, dtype=np.int64)
    best_blank = np.empty(1, dtype=np.int64)  # look-ups 1's one blank state
    lo_prev, hi_prev = 0, 0  # candidates of frame t - 1
    for t in range(t_len):
        lo, hi = offsets[t], offsets[t + 1]
        # blank states at t: continue, or leave a non-blank of t - 1 (non-blank wins ties)
        for s in range(s_prev):
            new_b[s] = prev_b[s]
            win[s] = -1
        for d in range(lo_prev, hi_prev):
            s = slot_of[labels[d]]
            v = nb[d]
            if v > new_b[s] or (v == new_b[s] and win[s] < 0 and v > -np.inf):
                new_b[s] = v
                win[s] = d
        for s in range(s_prev):
            if win[s] >= 0:
                won[win[s]] = True
            new_b[s] += blank[t]
        # best blank state of t - 1 (lowest label on ties, none first)
        sb = 0
        for s in range(1, s_prev):
            if prev_b[s] > prev_b[sb] or (prev_b[s] == prev_b[sb] and sb > 0
                                          and slot_label[s] < slot_label[sb]):
                sb = s
        # look-ups 1: non-blank predecessors, and the best blank state
        best_blank[0] = sb
        q = _label_pairs(labels, lo, hi, lo_prev, hi_prev, slot_label, best_blank,
                         1 if sb > 0 else 0, pv, nx)
        pair_scores(kind, dense, slots, fslots, bits, filt, fbits, row_default, vocab_size,
                     pv, nx, q, tr, work_i, work_k)
        q = 0
        floor = np.inf
        for j in range(lo, hi):
            top = -np.inf
            arg = -1
            for d in range(lo_prev, hi_prev):
                v = nb[d] + (0.0 if labels[d] == labels[j] else tr[q])
                q += 1
                if v > top:
                    top = v
                    arg = d
            if sb > 0:
                v = prev_b[sb] + tr[q]
                q += 1
            else:
                v = prev_b[0] + start_t[j]
            if v > top:
                top = v
                arg = -2 - slot_label[sb]
            nb[j] = top
            back[j] = arg
            if in_ub[j] > -np.inf:  # else no move into j is finite (and top - in_ub is NaN)
                floor = min(floor, top - in_ub[j])
        # look-ups 2: the other blank states that might still win some candidate j, i.e.
        # prev_b[s] + in_ub[j] >= the best j already has (exact: in_ub[j] >= any move into j)
        n_keep = 0
        for s in range(s_prev):
            if s != sb and prev_b[s] > -np.inf and prev_b[s] >= floor:
                keep[n_keep] = s
                n_keep += 1
        q = _label_pairs(labels, lo, hi, lo, lo, slot_label, keep, n_keep, pv, nx)
        pair_scores(kind, dense, slots, fslots, bits, filt, fbits, row_default, vocab_size,
                     pv, nx, q, tr, work_i, work_k)
        q = 0
        for j in range(lo, hi):
            top = nb[j]
            arg = back[j]
            for r in range(n_keep):
                s = keep[r]
                v = prev_b[s] + (tr[q] if s > 0 else start_t[j])
                q += 1
                e = slot_label[s]
                if v > top or (v == top and arg < 0 and e < -2 - arg):
                    top = v
                    arg = -2 - e
            nb[j] = top + scores[j]
            back[j] = arg
        # register the labels of frame t: blank states at t + 1 may carry them
        s_now = _register_labels(labels, lo, hi, end_t, slot_of, slot_label, slot_end, s_prev)
        for s in range(s_prev, s_now):
            new_b[s] = -np.inf
        for s in range(s_now):
            prev_b[s] = new_b[s]
        s_prev = s_now
        lo_prev, hi_prev = lo, hi
    # final states: non-blanks of the last frame first, then blank states by label (none
    # first); the slots registered at the last frame are -inf there
    top = -np.inf
    last = 0  # >= 0 candidate, -2 - e blank state e (e = -1: none)
    for j in range(lo_prev, hi_prev):
        v = nb[j] + end_t[j]
        if v > top:
            top = v
            last = j
    for s in range(s_prev if t_len > 0 else 0):
        v = prev_b[s] + (slot_end[s] if s > 0 else 0.0)
        e = slot_label[s]
        if v > top or (v == top and v > -np.inf and last < 0 and e < -2 - last):
            top = v
            last = -2 - e
    choice = np.full(t_len, -1, dtype=np.int64)
    if top == -np.inf:
        return choice, -np.inf
    state = last
    for t in range(t_len - 1, -1, -1):
        if state >= 0:
            choice[t] = state
            state = back[state]
        else:
            e = -2 - state
            if e >= 0 and t > 0:
                for d in range(offsets[t - 1], offsets[t]):
                    if won[d] and labels[d] == e:
                        state = d
                        break
    return choice, top


@njit(cache=True, nogil=True)
def _grow(st, en, lab, sc, need):
    """The four edge arrays with room for `need` edges (doubling)."""
    size = st.shape[0]
    if need <= size:
        return st, en, lab, sc
    size = max(need, 2 * size)
    st2 = np.empty(size, dtype=np.int64)
    en2 = np.empty(size, dtype=np.int64)
    lab2 = np.empty(size, dtype=np.int64)
    sc2 = np.empty(size)
    st2[:st.shape[0]] = st
    en2[:st.shape[0]] = en
    lab2[:st.shape[0]] = lab
    sc2[:st.shape[0]] = sc
    return st2, en2, lab2, sc2


@njit(cache=True, nogil=True)
def state_graph(blank, offsets, labels, scores, start_t, end_t, kind, dense, slots, fslots, bits,
                filt, fbits, row_default, vocab_size, n_ids, in_ub, floor, fut_nb, fut_b):
    """The alignments scoring >= `floor` as 0 -> n chains of edges (a DAG over states, for the
    DAG k-best); with floor = -inf, every alignment, one to one.

    Boundary 0 is the start; frame t's states follow (its candidates in index order, then its
    blank states in slot order); boundary n is the end. An edge into a state carries the frame
    score plus the move's transition score and is labelled with the frame's choice (candidate
    index, -1 blank); the closing edges into n carry the end score, label -1. An edge is left
    out when the best score into its source (over the edges kept) + its score + an upper bound on
    what the frames after it can add (`fut_nb` per candidate, `fut_b` per frame for the blank
    states, from `future_bounds`) is below `floor`: every alignment scoring >= floor keeps all
    its edges (by induction along it), so nothing it needs is lost. `in_ub[j]` >= every
    transition score into candidate j decides which blank states need look-ups at all.
    Returns (n, starts, ends, labels, scores, whether an edge of finite score was left out)."""
    t_len = blank.shape[0]
    counts = _slot_counts(offsets, labels, n_ids)
    base = np.zeros(t_len + 1, dtype=np.int64)  # first boundary of frame t's states
    base[0] = 1
    for t in range(t_len):
        base[t + 1] = base[t] + (offsets[t + 1] - offsets[t]) + counts[t]
    n = base[t_len]
    alpha = np.full(n + 1, -np.inf)  # best score into each boundary over the kept edges
    alpha[0] = 0.0
    size = 1024
    st = np.empty(size, dtype=np.int64)
    en = np.empty(size, dtype=np.int64)
    lab = np.empty(size, dtype=np.int64)
    sc = np.empty(size)
    slot_of = np.full(n_ids, -1, dtype=np.int64)
    slot_label = np.full(counts[t_len], -1, dtype=np.int64)
    slot_end = np.zeros(counts[t_len])
    kmax = 1
    for t in range(t_len):
        kmax = max(kmax, offsets[t + 1] - offsets[t])
    m = kmax * (kmax + counts[t_len]) + 1
    pv = np.empty(m, dtype=np.int64)
    nx = np.empty(m, dtype=np.int64)
    tr = np.empty(m)
    work_i = np.empty(2 * m, dtype=np.int64)
    work_k = np.empty(2 * m, dtype=np.int64)
    keep = np.empty(counts[t_len], dtype=np.int64)
    dropped = False
    i = 0
    for t in range(t_len):
        lo, hi = offsets[t], offsets[t + 1]
        lo_p = offsets[t - 1] if t > 0 else lo
        s_prev = counts[t - 1] if t > 0 else 1
        b_prev = base[t - 1] + (lo - lo_p) if t > 0 else 0  # first blank state of t - 1
        b_now = base[t] + (hi - lo)
        st, en, lab, sc = _grow(st, en, lab, sc, i + (hi - lo) * (lo - lo_p + s_prev)
                                + counts[t] + (lo - lo_p))
        reach = -np.inf  # the most a move into a candidate of t can add, the future included
        for j in range(lo, hi):
            reach = max(reach, scores[j] + in_ub[j] + fut_nb[j])
        # blank states of t - 1 (other than none) that may start a kept edge
        n_keep = 0
        for s in range(1, s_prev):
            a = alpha[b_prev + s]
            if a > -np.inf and reach > -np.inf:
                if a + reach >= floor:
                    keep[n_keep] = s
                    n_keep += 1
                else:
                    dropped = True
        q = _label_pairs(labels, lo, hi, lo_p, lo, slot_label, keep, n_keep, pv, nx)
        pair_scores(kind, dense, slots, fslots, bits, filt, fbits, row_default, vocab_size,
                     pv, nx, q, tr, work_i, work_k)
        q = 0
        for j in range(lo, hi):
            node = base[t] + (j - lo)
            for d in range(lo_p, lo):
                src = base[t - 1] + (d - lo_p)
                w = scores[j] + (0.0 if labels[d] == labels[j] else tr[q])
                q += 1
                i, dropped = _edge(st, en, lab, sc, alpha, i, src, node, j, w, fut_nb[j], floor,
                                   dropped)
            w = scores[j] + start_t[j]  # from blank state "none" of t - 1 (t == 0: the start)
            i, dropped = _edge(st, en, lab, sc, alpha, i, b_prev, node, j, w, fut_nb[j], floor,
                               dropped)
            for r in range(n_keep):
                w = scores[j] + tr[q]
                q += 1
                i, dropped = _edge(st, en, lab, sc, alpha, i, b_prev + keep[r], node, j, w,
                                   fut_nb[j], floor, dropped)
        for s in range(min(counts[t], s_prev)):
            i, dropped = _edge(st, en, lab, sc, alpha, i, b_prev + s, b_now + s, -1, blank[t],
                               fut_b[t], floor, dropped)
        for d in range(lo_p, lo):
            i, dropped = _edge(st, en, lab, sc, alpha, i, base[t - 1] + (d - lo_p),
                               b_now + slot_of[labels[d]], -1, blank[t], fut_b[t], floor,
                               dropped)
        _register_labels(labels, lo, hi, end_t, slot_of, slot_label, slot_end, counts[t])
    if t_len > 0:
        lo, hi = offsets[t_len - 1], offsets[t_len]
        st, en, lab, sc = _grow(st, en, lab, sc, i + (hi - lo) + counts[t_len - 1])
        for j in range(lo, hi):
            i, dropped = _edge(st, en, lab, sc, alpha, i, base[t_len - 1] + (j - lo), n, -1,
                               end_t[j], 0.0, floor, dropped)
        b_last = base[t_len - 1] + (hi - lo)
        for s in range(counts[t_len - 1]):
            i, dropped = _edge(st, en, lab, sc, alpha, i, b_last + s, n, -1,
                               slot_end[s] if s > 0 else 0.0, 0.0, floor, dropped)
    return n, st[:i], en[:i], lab[:i], sc[:i], dropped


@njit(cache=True, nogil=True)
def future_bounds(blank, offsets, labels, scores, end_t, in_ub, end_max):
    """Upper bounds on what the frames after t (and the end score) can add to a path: from
    candidate j at t (`fut_nb[j]`) and from any blank state at t (`fut_b[t]`). The same
    recurrence as the alignments' backwards, with every transition into candidate j' replaced by
    its bound `in_ub[j']`, so the last emitted character need not be tracked; `end_max` >= every
    end score (0 included, for a path that emits nothing)."""
    t_len = blank.shape[0]
    fut_nb = np.empty(labels.shape[0])
    fut_b = np.empty(t_len)
    if t_len == 0:
        return fut_nb, fut_b
    fut_b[t_len - 1] = end_max
    for j in range(offsets[t_len - 1], offsets[t_len]):
        fut_nb[j] = end_t[j]
    for t in range(t_len - 2, -1, -1):
        lo, hi = offsets[t + 1], offsets[t + 2]
        via_blank = blank[t + 1] + fut_b[t + 1]
        enter = via_blank
        for k in range(lo, hi):
            enter = max(enter, scores[k] + in_ub[k] + fut_nb[k])
        fut_b[t] = enter
        for j in range(offsets[t], offsets[t + 1]):
            top = via_blank
            for k in range(lo, hi):
                move = 0.0 if labels[k] == labels[j] else in_ub[k]
                top = max(top, scores[k] + move + fut_nb[k])
            fut_nb[j] = top
    return fut_nb, fut_b


@njit(cache=True, nogil=True, inline="always")
def _edge(st, en, lab, sc, alpha, i, src, dst, label, w, future, floor, dropped):
    """Append edge src -> dst unless no alignment through it can score >= floor."""
    v = alpha[src] + w
    if v == -np.inf:
        return i, dropped
    if v + future < floor:
        return i, True
    st[i] = src
    en[i] = dst
    lab[i] = label
    sc[i] = w
    alpha[dst] = max(alpha[dst], v)
    return i + 1, dropped


@njit(cache=True, nogil=True)
def edge_bounds(n, starts, ends, scores):
    """Per edge of `state_graph` (in the order it returns them), the best score of a whole
    0 -> n chain through that edge: forward best into its start + its score + backward best from
    its end. Edges come frame by frame, so one pass forward and one backward suffice."""
    fwd = np.full(n + 1, -np.inf)
    bwd = np.full(n + 1, -np.inf)
    fwd[0] = 0.0
    bwd[n] = 0.0
    for i in range(starts.shape[0]):
        fwd[ends[i]] = max(fwd[ends[i]], fwd[starts[i]] + scores[i])
    for i in range(starts.shape[0] - 1, -1, -1):
        bwd[starts[i]] = max(bwd[starts[i]], scores[i] + bwd[ends[i]])
    out = np.empty(starts.shape[0])
    for i in range(starts.shape[0]):
        out[i] = fwd[starts[i]] + scores[i] + bwd[ends[i]]
    return out


@njit(cache=True, nogil=True)
def viterbi_ctc_emitted(blank, offsets, labels, scores, start_t, end_t, kind, dense, slots,
                        fslots, bits, filt, fbits, row_default, vocab_size, n_ids, lo, hi):
    """Best alignment whose text has `lo..hi` characters (`hi` <= frames): the states of
    `viterbi_ctc` times the count of characters emitted so far, 0..hi; no pruning (the count
    multiplies the states, meant for short texts such as captchas). Same tie rule and returns
    as `viterbi_ctc`; score -inf when no alignment of a legal length has a finite score."""
    t_len = blank.shape[0]
    n = labels.shape[0]
    kw = hi + 1
    kmax = 0
    for t in range(t_len):
        kmax = max(kmax, offsets[t + 1] - offsets[t])
    counts = _slot_counts(offsets, labels, n_ids)
    n_slots = counts[t_len]
    slot_of = np.full(n_ids, -1, dtype=np.int64)
    slot_label = np.full(n_slots, -1, dtype=np.int64)
    slot_end = np.zeros(n_slots)
    prev_b = np.full((n_slots, kw), -np.inf)  # blank states at t - 1: (last emitted, count)
    new_b = np.full((n_slots, kw), -np.inf)
    prev_b[0, 0] = 0.0  # virtual frame -1: nothing emitted
    s_prev = 1
    nb = np.full((n, kw), -np.inf)  # candidate j (its frame) after `count` emissions
    back = np.full((n, kw), -1, dtype=np.int64)  # >= 0 candidate, -1 - s blank slot s
    bback = np.full((t_len, n_slots, kw), -1, dtype=np.int64)  # candidate left, -1 stayed
    pv, nx, tr, work_i, work_k = _pair_scratch(kmax, n_slots)
    every = np.arange(n_slots)
    lo_prev, hi_prev = 0, 0
    for t in range(t_len):
        lo_t, hi_t = offsets[t], offsets[t + 1]
        # blank states at t: stay, or leave a non-blank of t - 1 (non-blank wins ties)
        for s in range(s_prev):
            for k in range(kw):
                new_b[s, k] = prev_b[s, k]
        for d in range(lo_prev, hi_prev):
            s = slot_of[labels[d]]
            for k in range(1, kw):
                v = nb[d, k]
                if v > -np.inf and (v > new_b[s, k] or (v == new_b[s, k]
                                                        and bback[t, s, k] < 0)):
                    new_b[s, k] = v
                    bback[t, s, k] = d
        for s in range(s_prev):
            for k in range(kw):
                new_b[s, k] += blank[t]
        # candidates at t: every predecessor, the pair scores looked up once per frame
        q = _label_pairs(labels, lo_t, hi_t, lo_prev, hi_prev, slot_label, every, s_prev, pv,
                         nx)
        pair_scores(kind, dense, slots, fslots, bits, filt, fbits, row_default, vocab_size,
                    pv, nx, q, tr, work_i, work_k)
        q0 = 0
        per_j = (hi_prev - lo_prev) + s_prev
        for j in range(lo_t, hi_t):
            for k in range(1, kw):
                top = -np.inf
                arg = -1
                e_arg = n_ids  # label of the blank state chosen (none = -1)
                q = q0
                for d in range(lo_prev, hi_prev):
                    if labels[d] == labels[j]:
                        v = nb[d, k]  # a repeat: no emission
                    else:
                        v = nb[d, k - 1] + tr[q]
                    q += 1
                    if v > top:
                        top = v
                        arg = d
                for s in range(s_prev):
                    v = prev_b[s, k - 1] + (tr[q] if s > 0 else start_t[j])
                    q += 1
                    e = slot_label[s]
                    if v > top or (v == top and v > -np.inf and arg < 0 and e < e_arg):
                        top = v
                        arg = -1 - s
                        e_arg = e
                nb[j, k] = top + scores[j]
                back[j, k] = arg
            q0 += per_j
        s_now = _register_labels(labels, lo_t, hi_t, end_t, slot_of, slot_label, slot_end,
                                 s_prev)
        for s in range(s_prev, s_now):
            for k in range(kw):
                new_b[s, k] = -np.inf
        for s in range(s_now):
            for k in range(kw):
                prev_b[s, k] = new_b[s, k]
        s_prev = s_now
        lo_prev, hi_prev = lo_t, hi_t
    # final states of a legal count: non-blanks of the last frame, then blank states by label
    top = -np.inf
    kind_last, idx_last, k_last = 0, -1, 0  # kind 1 non-blank j, 2 blank slot s
    e_best = n_ids
    for j in range(lo_prev, hi_prev):
        for k in range(max(lo, 1), kw):
            v = nb[j, k] + end_t[j]
            if v > top:
                top, kind_last, idx_last, k_last = v, 1, j, k
    for s in range(s_prev):
        for k in range(lo, kw):
            v = prev_b[s, k] + (slot_end[s] if s > 0 else 0.0)
            e = slot_label[s]
            if v > top or (v == top and v > -np.inf and kind_last == 2 and e < e_best):
                top, kind_last, idx_last, k_last = v, 2, s, k
                e_best = e
    choice = np.full(t_len, -1, dtype=np.int64)
    if top == -np.inf:
        return choice, -np.inf
    state_kind, idx, k = kind_last, idx_last, k_last
    for t in range(t_len - 1, -1, -1):
        if state_kind == 1:
            choice[t] = idx
            p = back[idx, k]
            if p >= 0:
                if labels[p] != labels[idx]:
                    k -= 1
                idx = p
            else:
                state_kind, idx, k = 2, -1 - p, k - 1
        else:
            d = bback[t, idx, k]
            if d >= 0:
                state_kind, idx = 1, d
    return choice, top
