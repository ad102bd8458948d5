"""Bigram look-up kernels: a small filter in front of an open-addressing hash table.

Keys are `prev * V + next` (int64). Why this shape:
- `slots` (int64, 2 * capacity words) holds slot i's key at 2i (-1 = empty) and the float64
  log-probability's bits at 2i + 1 (read through `fslots`, the same buffer viewed as float64), so
  a probe touches one cache line. Capacity is a power of two with load <= 0.5; Fibonacci
  (multiplicative) hashing takes the top `bits` bits of key * 0x9E3779B97F4A7C15; collisions
  probe linearly.
- `filt` (uint64 words, about 8 bits per stored pair, so it stays in cache) is a blocked Bloom
  filter: each key sets two bits of one word. Most candidate pairs in a lattice are not stored;
  the filter answers those without touching the big table, whose probes are memory-latency bound.
- `lookup_batch` resolves many pairs at once in phases (filter, then one gather per surviving
  pair, then the rare extra probes), so independent memory accesses overlap instead of
  waiting behind the branches of a probe loop. On the development machine this is about 2.5x a
  per-pair probe and 7x a CSR binary search (see benchmarks/viterbi_candidate.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

EMPTY = -1
_HASH_A = 0x9E3779B97F4A7C15  # table slot and filter word (golden-ratio multiplier)
_HASH_B = 0xC2B2AE3D27D4EB4F  # the two bit positions inside a filter word


@njit(cache=True, nogil=True, inline="always")
def _filter_bits(key):
    h = np.uint64(key) * np.uint64(_HASH_B)
    return (np.uint64(1) << (h >> np.uint64(58))) | (
        np.uint64(1) << ((h >> np.uint64(52)) & np.uint64(63))
    )


@njit(cache=True, nogil=True)
def build_tables(indptr, indices, logp, vocab_size, slots, filt, bits, filter_bits):
    """Fill `slots` (pre-set to EMPTY) and `filt` (pre-set to 0) with every stored pair.

    The caller allocates both (numpy's allocator gives large arrays huge pages, which matters for
    random access); CSR rows hold each next id once, so keys are unique."""
    shift = np.uint64(64 - bits)
    fshift = np.uint64(64 - filter_bits)
    mask = (np.int64(1) << bits) - 1
    vals = logp.view(np.int64)
    for p in range(indptr.shape[0] - 1):
        for k in range(indptr[p], indptr[p + 1]):
            key = p * vocab_size + indices[k]
            h = np.uint64(key) * np.uint64(_HASH_A)
            filt[np.int64(h >> fshift)] |= _filter_bits(key)
            i = np.int64(h >> shift)
            while slots[2 * i] != EMPTY:
                i = (i + 1) & mask
            slots[2 * i] = key
            slots[2 * i + 1] = vals[k]


@njit(cache=True, nogil=True)
def lookup_batch(slots, fslots, bits, filt, filter_bits, row_default, vocab_size,
                 prev, nxt, n, out, work_i, work_k):
    """out[q] = log P(nxt[q] | prev[q]) for q < n. `work_i`, `work_k` are int64 scratch of size
    >= 2 * n (slot / key of the pairs that pass the filter, then their positions)."""
    shift = np.uint64(64 - bits)
    fshift = np.uint64(64 - filter_bits)
    mask = (np.int64(1) << bits) - 1
    npos = 0
    for q in range(n):  # phase 1: defaults, and the filter (cache resident)
        p = prev[q]
        key = p * vocab_size + nxt[q]
        h = np.uint64(key) * np.uint64(_HASH_A)
        m = _filter_bits(key)
        out[q] = row_default[p]
        work_i[npos] = np.int64(h >> shift)
        work_k[npos] = key
        work_i[n + npos] = q
        npos += (filt[np.int64(h >> fshift)] & m) == m
    for r in range(npos):  # phase 2: one independent gather per surviving pair
        work_k[n + r] = slots[2 * work_i[r]]
    for r in range(npos):  # phase 3: resolve (the line is now cached; extra probes are rare)
        i = work_i[r]
        found = work_k[n + r]
        key = work_k[r]
        while True:
            if found == key:
                out[work_i[n + r]] = fslots[2 * i + 1]
                break
            if found == EMPTY:
                break
            i = (i + 1) & mask
            found = slots[2 * i]


@njit(cache=True, nogil=True)
def hash_lookup_many(slots, fslots, bits, filt, filter_bits, row_default, vocab_size, prev, nxt,
                     out):
    """`lookup_batch` over flat arrays of any length, in chunks."""
    chunk = 4096
    work_i = np.empty(2 * chunk, dtype=np.int64)
    work_k = np.empty(2 * chunk, dtype=np.int64)
    for lo in range(0, prev.shape[0], chunk):
        hi = min(lo + chunk, prev.shape[0])
        lookup_batch(slots, fslots, bits, filt, filter_bits, row_default, vocab_size,
                     prev[lo:hi], nxt[lo:hi], hi - lo, out[lo:hi], work_i, work_k)


@njit(cache=True, nogil=True, inline="always")
def csr_lookup(indptr, indices, logp, row_default, prev, nxt):
    """The same answer by binary search in the CSR row (reference and speed baseline)."""
    lo = indptr[prev]
    end = indptr[prev + 1]
    hi = end
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < nxt:
            lo = mid + 1
        else:
            hi = mid
    out = row_default[prev]
    if lo < end and indices[lo] == nxt:
        out = logp[lo]
    return out


@njit(cache=True, nogil=True)
def csr_lookup_many(indptr, indices, logp, row_default, prev, nxt, out):
    for i in range(prev.shape[0]):
        out[i] = csr_lookup(indptr, indices, logp, row_default, prev[i], nxt[i])
