"""Dense transitions: a `(K, K)` log-matrix with start/end log-vectors and an `allowed` mask.

A move that `allowed` forbids is impossible (-inf), not merely unlikely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_scores
from .errors import DTypeError, ShapeError


@dataclass(frozen=True, eq=False)
class DenseTransitions:
    """`log_matrix[i, j]` scores moving from label i to label j; `start`/`end` score the first and
    last label. Stored float64 with forbidden moves already set to -inf."""

    log_matrix: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def from_arrays(
        cls,
        log_matrix: object,
        start: object | None = None,
        end: object | None = None,
        allowed: object | None = None,
        allowed_start: object | None = None,
        allowed_end: object | None = None,
    ) -> DenseTransitions:
        mat = as_scores(log_matrix, "log_matrix", 2).astype(np.float64, copy=True)
        k = mat.shape[0]
        if k == 0 or mat.shape != (k, k):
            raise ShapeError(f"log_matrix must be square (K, K) with K >= 1, got shape {mat.shape}")
        st = _vector(start, "start", k)
        en = _vector(end, "end", k)
        if allowed is not None:
            mat[~_mask(allowed, "allowed", (k, k))] = -np.inf
        if allowed_start is not None:
            st[~_mask(allowed_start, "allowed_start", (k,))] = -np.inf
        if allowed_end is not None:
            en[~_mask(allowed_end, "allowed_end", (k,))] = -np.inf
        return cls(mat, st, en)

    @classmethod
    def from_allowed(
        cls, allowed: object, allowed_start: object | None = None, allowed_end: object | None = None
    ) -> DenseTransitions:
        """A pure grammar: allowed moves score 0, forbidden ones -inf."""
        k = np.asarray(allowed).shape[0]
        return cls.from_arrays(np.zeros((k, k)), None, None, allowed, allowed_start, allowed_end)

    @classmethod
    def uniform(cls, k: int) -> DenseTransitions:
        return cls.from_arrays(np.zeros((k, k)))

    @property
    def n_labels(self) -> int:
        return int(self.log_matrix.shape[0])


def _vector(v: object | None, name: str, k: int) -> np.ndarray:
    if v is None:
        return np.zeros(k, dtype=np.float64)
    arr = as_scores(v, name, 1).astype(np.float64, copy=True)
    if arr.shape != (k,):
        raise ShapeError(f"{name} must have shape ({k},) to match log_matrix, got {arr.shape}")
    return arr


def _mask(m: object, name: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(m)
    if arr.dtype != np.bool_:
        raise DTypeError(f"{name} must be a boolean mask, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr
