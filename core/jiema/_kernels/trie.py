"""Dictionary matching as arrays: the keys, reversed, in a trie stored as an open-addressing hash
`(parent << 21 | code) -> child`, walked leftwards from every end position.

Why next to pyahocorasick (`jiema.text.matching`): its iterator hands back one Python tuple per
match, and on corpus-sized text (People's Daily, 1.6 M characters, 2.2 M matches) that loop alone
takes seconds; this walk gives the same matches as int64 arrays in tens of milliseconds. Private:
callers pass validated int64 code points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

CODE_BITS = 21  # every code point fits in 21 bits
_MIN_TABLE = 16  # smallest hash table (a power of two); it is kept at most half full


def build_reverse_trie(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """`(hkeys, hvals, term_key, maxlen)` for `keys` (distinct, non-empty): the hash of the
    reversed-key trie, per node the index of the key ending there (-1 for none), and the
    longest key's length."""
    children: dict[tuple[int, int], int] = {}
    term_key = [-1]
    maxlen = 0
    for k, key in enumerate(keys):
        node = 0
        for ch in reversed(key):
            nxt = children.get((node, ord(ch)))
            if nxt is None:
                nxt = children[(node, ord(ch))] = len(term_key)
                term_key.append(-1)
            node = nxt
        maxlen = max(maxlen, len(key))
        term_key[node] = k
    size = _MIN_TABLE
    while size < 2 * len(children) + 2:
        size *= 2
    edges = np.fromiter(((p << CODE_BITS) | c for p, c in children), dtype=np.int64,
                        count=len(children))
    kids = np.fromiter(children.values(), dtype=np.int64, count=len(children))
    hkeys, hvals = _build_hash(edges, kids, size)
    return hkeys, hvals, np.array(term_key, dtype=np.int64), maxlen


@njit(cache=True, nogil=True)
def _probe(key, hkeys, mask):
    x = key * 0x9E3779B1  # int64 arithmetic wraps; the shifts mix the high bits down
    x ^= x >> 29
    x *= 0xBF58476D
    x ^= x >> 32
    h = x & mask
    while hkeys[h] != -1 and hkeys[h] != key:
        h = (h + 1) & mask
    return h


@njit(cache=True, nogil=True)
def _build_hash(keys, vals, size):
    hkeys = np.full(size, -1, dtype=np.int64)
    hvals = np.full(size, -1, dtype=np.int64)
    mask = size - 1
    for i in range(keys.shape[0]):
        h = _probe(keys[i], hkeys, mask)
        hkeys[h] = keys[i]
        hvals[h] = vals[i]
    return hkeys, hvals


@njit(cache=True, nogil=True)
def match_keys(codes, hkeys, hvals, term_key, maxlen):
    """Every key occurrence in `codes`: `(starts, ends, key indices)`, ordered by end, then
    start."""
    n = codes.shape[0]
    mask = hkeys.shape[0] - 1
    cap = 2 * n + 16
    st = np.empty(cap, dtype=np.int64)
    en = np.empty(cap, dtype=np.int64)
    kk = np.empty(cap, dtype=np.int64)
    m = 0
    for e in range(1, n + 1):
        if m + maxlen > cap:
            cap = 2 * cap + maxlen
            st2 = np.empty(cap, dtype=np.int64)
            en2 = np.empty(cap, dtype=np.int64)
            kk2 = np.empty(cap, dtype=np.int64)
            st2[:m] = st[:m]
            en2[:m] = en[:m]
            kk2[:m] = kk[:m]
            st, en, kk = st2, en2, kk2
        first = m
        node = 0
        q = e - 1
        lo = max(0, e - maxlen)
        while q >= lo:
            key = (node << CODE_BITS) | codes[q]
            h = _probe(key, hkeys, mask)
            if hkeys[h] != key:
                break
            node = hvals[h]
            if term_key[node] >= 0:
                st[m] = q
                en[m] = e
                kk[m] = term_key[node]
                m += 1
            q -= 1
        i, j = first, m - 1  # found longest last: flip to ascending starts
        while i < j:
            st[i], st[j] = st[j], st[i]
            kk[i], kk[j] = kk[j], kk[i]
            i += 1
            j -= 1
    return st[:m].copy(), en[:m].copy(), kk[:m].copy()
