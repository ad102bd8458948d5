"""Boundary checks shared by the public constructors; kernels trust what passes here."""

from __future__ import annotations

import numpy as np

from .errors import DTypeError, InvalidValueError, LabelRangeError, ShapeError

FLOAT_DTYPES = (np.float32, np.float64)


def as_scores(a: object, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    """A float32/float64 C-contiguous array of log-scores: -inf allowed, NaN and +inf not."""
    arr = np.asarray(a)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims:
        raise ShapeError(
            f"{name} must have {' or '.join(map(str, dims))} dimension(s), got shape {arr.shape}"
        )
    if arr.dtype.type not in FLOAT_DTYPES:
        if arr.dtype.kind in "iub" and arr.size == 0:
            arr = arr.astype(np.float64)
        else:
            raise DTypeError(f"{name} must be float32 or float64 log-scores, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr)
    # one vectorised pass: max() is NaN if any entry is NaN, +inf if any is +inf
    if arr.size and not arr.max() < np.inf:
        bad = np.argwhere(~(np.isfinite(arr) | np.isneginf(arr)))[0]
        raise InvalidValueError(
            f"{name} must hold finite log-scores or -inf; "
            f"found {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        )
    return arr


def as_index(a: object, name: str, ndim: int = 1) -> np.ndarray:
    """An int64 C-contiguous index array (bool and float arrays are rejected, not cast)."""
    arr = np.asarray(a)
    if arr.ndim != ndim:
        raise ShapeError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def check_range(arr: np.ndarray, name: str, low: int, high: int) -> None:
    """Every entry within [low, high)."""
    if arr.size == 0:
        return
    lo, hi = int(arr.min()), int(arr.max())
    if lo < low or hi >= high:
        bad = int(np.flatnonzero((arr < low) | (arr >= high))[0])
        raise LabelRangeError(
            f"{name}[{bad}] = {int(arr.flat[bad])} is outside the valid range [{low}, {high})"
        )
