"""Sparse bigram model over a vocabulary (CSR), scoring label pairs without a V x V matrix.

TO BE IMPLEMENTED (kernel helper K2): see the docstrings below for the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class BigramModel:
    """log P(next | prev) for vocabulary ids in [0, vocab_size).

    Contract (fields may grow, these stay):
    - `vocab_size: int`
    - `indptr (V+1,) int64`, `indices (nnz,) int64` sorted within each row, `logp (nnz,) float64`:
      stored pairs.
    - `row_default (V,) float64`: log-probability of a pair not stored in row `prev`.
    - `start (V,) float64`: log-probability of a label opening a sequence (unigram by default).
    - `logprob(prev, next) -> ndarray` vectorised look-up.
    - `from_counts(unigram_counts, prev, next, counts, *, alpha, threshold)` builds it (add-alpha
      below the threshold, backoff to unigram, documented in that docstring).
    """

    vocab_size: int
    indptr: np.ndarray
    indices: np.ndarray
    logp: np.ndarray
    row_default: np.ndarray
    start: np.ndarray
