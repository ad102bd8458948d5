"""nlp-zero's minimum-entropy pruning of candidate words, exactly, in one Numba pass.

Candidates are visited longest first (ties in first-occurrence order). A candidate w with count
n is taken out of the dictionary and re-cut by the unigram tokenizer; with T the total count
before it was taken out, its gain is

    log(n/T) - sum over sub-words k of (log(count k) - log T)      (log 0 counts as -100)

and when the gain is below len(w) - 1, w is removed and n is added to every sub-word's count
(T grows accordingly); otherwise w goes back. Every sub-string a candidate's cut can produce is
numbered up front (dictionary words, single characters, and for candidates with ASCII letters
or digits every sub-string, which nlp-zero's `combine_Aa123` can glue), so the kernel only does
integer look-ups. A sub-word missing from the table scores log 0 = -100, so its candidate is
always kept; should a pruned cut ever hold one, it is added with count n (where nlp-zero's plain
dict would raise KeyError).

Why a unigram DP here rather than `jiema.viterbi` on a `WordLattice` (as `Tokenizer` does): each
candidate's cut depends on the counts left by the one before, so the cuts (19,713 candidates on
2000 People's Daily lines, 183 k characters) cannot be batched into one lattice,
and one `WordLattice.from_edges` + `jiema.viterbi` round trip from Python costs ~65 us against
well under 1 us per cut inside this kernel (the core's Numba decoder is private to the core).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .aa123 import F_AA123, F_PUNCT, char_flags, glue_runs

__all__ = ["prune_words", "NULL_SCORE"]

NULL_SCORE = -100.0  # nlp-zero's DAG score of a character no dictionary word covers


@njit(cache=True, nogil=True)
def _log(x: float) -> float:
    if x == 0:
        return -100.0
    return math.log(x)


@njit(cache=True, nogil=True)
def _prune_kernel(counts, total, cand_ids, cand_len, tab_off, table, char_off, flags, null_score):
    ncand = cand_ids.shape[0]
    removed = np.zeros(ncand, dtype=np.bool_)
    maxlen = 1
    for c in range(ncand):
        maxlen = max(maxlen, cand_len[c])
    score = np.zeros(maxlen + 1)
    seen = np.zeros(maxlen + 1, dtype=np.bool_)
    back = np.zeros(maxlen + 1, dtype=np.int64)
    tok_s = np.zeros(maxlen, dtype=np.int64)
    tok_e = np.zeros(maxlen, dtype=np.int64)
    src = np.zeros(maxlen, dtype=np.int64)  # glue_runs' bookkeeping, unused here
    glued = np.zeros(maxlen, dtype=np.bool_)
    for c in range(ncand):
        wid = cand_ids[c]
        L = cand_len[c]
        t0 = tab_off[c]
        f0 = char_off[c]
        stride = L + 1
        num = counts[wid]
        log_t = _log(total)
        pmi = _log(num) - log_t
        counts[wid] = 0
        ntok = 0
        pos = 0
        while pos < L:
            if flags[f0 + pos] & F_PUNCT:
                tok_s[ntok] = pos
                tok_e[ntok] = pos + 1
                ntok += 1
                pos += 1
                continue
            stop = pos
            while stop < L and not (flags[f0 + stop] & F_PUNCT):
                stop += 1
            m = stop - pos
            for i in range(m + 1):
                seen[i] = False
            score[0] = 1.0
            seen[0] = True
            for st in range(m):
                for en in range(st + 1, m + 1):
                    k = table[t0 + (pos + st) * stride + pos + en]
                    if k >= 0 and counts[k] > 0:
                        sc = score[st] + (math.log(counts[k]) - log_t)
                        if (not seen[en]) or sc > score[en]:
                            score[en] = sc
                            back[en] = st
                            seen[en] = True
                if not seen[st + 1]:
                    score[st + 1] = score[st] + null_score
                    back[st + 1] = st
                    seen[st + 1] = True
            # backtrack into tok_s/tok_e (reversed, then flipped in place)
            first = ntok
            at = m
            while at > 0:
                tok_s[ntok] = pos + back[at]
                tok_e[ntok] = pos + at
                ntok += 1
                at = back[at]
            i, j = first, ntok - 1
            while i < j:
                tok_s[i], tok_s[j] = tok_s[j], tok_s[i]
                tok_e[i], tok_e[j] = tok_e[j], tok_e[i]
                i += 1
                j -= 1
            pos = stop
        out = glue_runs(tok_s, tok_e, ntok, flags[f0:f0 + L], src, glued)
        for t in range(out):
            k = table[t0 + tok_s[t] * stride + tok_e[t]]
            cnt = counts[k] if k >= 0 else 0
            pmi -= _log(cnt) - log_t
        if pmi < L - 1:
            for t in range(out):
                k = table[t0 + tok_s[t] * stride + tok_e[t]]
                if k >= 0:
                    counts[k] += num
                    total += num
            total -= num
            removed[c] = True
        else:
            counts[wid] = num
    return removed, total


class _Flags(dict):
    def __missing__(self, ch: str) -> int:
        value = self[ch] = char_flags(ch)
        return value


def prune_words(
    words: list[str], counts: list[int], order: list[int], null_score: float = NULL_SCORE
) -> dict[str, int]:
    """Run the pruning over `words` (with `counts`), visiting multi-character words in `order`
    (indices into `words`). Returns the surviving table, sub-words added by pruning included,
    in `words` order then order of addition."""
    ids = {w: i for i, w in enumerate(words)}
    all_words = list(words)
    all_counts = list(counts)
    cand = [i for i in order if len(words[i]) > 1]
    tab_off = np.zeros(len(cand), dtype=np.int64)
    char_off = np.zeros(len(cand), dtype=np.int64)
    lens = np.zeros(len(cand), dtype=np.int64)
    table: list[int] = []
    flags: list[int] = []
    flag_cache = _Flags()
    for c, i in enumerate(cand):
        w = words[i]
        n = len(w)
        lens[c] = n
        tab_off[c] = len(table)
        char_off[c] = len(flags)
        fl = [flag_cache[ch] for ch in w]
        flags.extend(fl)
        open_all = any(f & F_AA123 for f in fl)
        row = [-1] * (n * (n + 1))
        for s in range(n):
            for e in range(s + 1, n + 1):
                sub = w[s:e]
                k = ids.get(sub)
                if k is None and (e - s == 1 or open_all):
                    k = ids[sub] = len(all_words)
                    all_words.append(sub)
                    all_counts.append(0)
                if k is not None:
                    row[s * (n + 1) + e] = k
        table.extend(row)
    arr = np.asarray(all_counts, dtype=np.int64)
    total = int(sum(counts))
    _prune_kernel(
        arr, total, np.asarray(cand, dtype=np.int64), lens, tab_off,
        np.asarray(table, dtype=np.int64), char_off, np.asarray(flags, dtype=np.int64),
        float(null_score),
    )
    return {w: int(c) for w, c in zip(all_words, arr.tolist(), strict=True) if c > 0}
