"""Boundary checks shared by the public constructors; kernels trust what passes here."""

from __future__ import annotations

import numpy as np

from .errors import DTypeError, InvalidValueError, LabelRangeError, ShapeError

FLOAT_DTYPES = (np.float32, np.float64)
# k-best keeps, for every node (trellis cell or DAG edge), a list as long as the number of paths
# it returns, min(k, paths that exist): a score and two back-pointers, 24 bytes an entry. Past
# this many entries (about 0.8 GB) kbest refuses instead of exhausting memory.
KBEST_MAX_ENTRIES = 1 << 25


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


def check_k(k: object) -> int:
    """`k` of k-best: a positive integer (bools are not counts)."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise InvalidValueError(f"k must be an integer >= 1, got {k!r}")
    return int(k)


def kbest_width(k: int, n_paths: int, n_nodes: int) -> int:
    """How many paths k-best keeps per node: min(k, paths that exist), refused with a message
    when the tables would pass KBEST_MAX_ENTRIES, so memory follows the answer, not `k`."""
    width = max(1, min(k, n_paths))
    if width * max(n_nodes, 1) > KBEST_MAX_ENTRIES:
        raise InvalidValueError(
            f"kbest would keep {width:,} paths at each of {n_nodes:,} lattice nodes, over the "
            f"limit of {KBEST_MAX_ENTRIES:,} entries (jiema._validate.KBEST_MAX_ENTRIES, about "
            "0.8 GB); ask for a smaller k"
        )
    return width
