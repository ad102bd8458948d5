"""Sparse bigram model over a vocabulary (CSR), scoring label pairs without a V x V matrix.

Stored pairs live in CSR arrays (the contract, and the file format); at construction the model
also builds a hash table with a small filter in front (`jiema._kernels.bigram`) because the
candidate-lattice Viterbi does C x C look-ups per step and a binary search per look-up is too slow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import numpy as np

from ._validate import as_index, as_scores, check_range
from .errors import InvalidInputError, ModelFileError, ShapeError

_FORMAT = "jiema.bigram"
_FORMAT_VERSION = "1"
_FIELDS = ("indptr", "indices", "logp", "row_default", "start")


@dataclass(frozen=True, eq=False)
class BigramModel:
    """log P(next | prev) for vocabulary ids in [0, vocab_size).

    Contract fields:
    - `vocab_size: int`
    - `indptr (V+1,) int64`, `indices (nnz,) int64` strictly increasing within each row,
      `logp (nnz,) float64`: stored pairs.
    - `row_default (V,) float64`: log-probability of a pair not stored in row `prev`.
    - `start (V,) float64`: log-probability of a label opening a sequence (unigram).

    So `logprob(p, j)` is the stored value if (p, j) is stored, else `row_default[p]`; that rule
    is complete (backed-off rows are stored explicitly, see `from_counts`). Constructing one
    validates the arrays and builds the look-up tables (`table_*` fields, not part of the file).
    """

    vocab_size: int
    indptr: np.ndarray
    indices: np.ndarray
    logp: np.ndarray
    row_default: np.ndarray
    start: np.ndarray
    table_slots: np.ndarray = field(init=False, repr=False)
    table_bits: int = field(init=False, repr=False)
    table_filter: np.ndarray = field(init=False, repr=False)
    table_filter_bits: int = field(init=False, repr=False)
    max_logprob_to: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        v = _vocab_size(self.vocab_size)
        indptr = as_index(self.indptr, "indptr")
        indices = as_index(self.indices, "indices")
        logp = as_scores(self.logp, "logp", 1).astype(np.float64)
        row_default = as_scores(self.row_default, "row_default", 1).astype(np.float64)
        start = as_scores(self.start, "start", 1).astype(np.float64)
        if indptr.shape != (v + 1,) or indptr[0] != 0 or (np.diff(indptr) < 0).any():
            raise ShapeError(
                f"indptr must have shape ({v + 1},), start at 0 and be non-decreasing; "
                f"got shape {indptr.shape}"
            )
        nnz = int(indptr[-1])
        if indices.shape != (nnz,) or logp.shape != (nnz,):
            raise ShapeError(
                f"indptr ends at {nnz} but indices has {indices.shape[0]} and logp "
                f"{logp.shape[0]} entries"
            )
        check_range(indices, "indices", 0, v)
        if row_default.shape != (v,) or start.shape != (v,):
            raise ShapeError(
                f"row_default and start must have shape ({v},); got {row_default.shape} and "
                f"{start.shape}"
            )
        if nnz > 1:
            row_of = np.repeat(np.arange(v), np.diff(indptr))
            bad = (np.diff(indices) <= 0) & (np.diff(row_of) == 0)
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise InvalidInputError(
                    f"indices must be strictly increasing within each row; row {int(row_of[k])} "
                    f"has {int(indices[k])} then {int(indices[k + 1])}"
                )
        for name, arr in (("vocab_size", v), ("indptr", indptr), ("indices", indices),
                          ("logp", logp), ("row_default", row_default), ("start", start)):
            object.__setattr__(self, name, arr)
        self._build_tables()

    def _build_tables(self) -> None:
        from ._kernels.bigram import EMPTY, build_tables

        nnz = int(self.indices.shape[0])
        bits = max(1, math.ceil(math.log2(max(2 * nnz, 2))))  # load <= 0.5
        filter_bits = max(1, math.ceil(math.log2(max(nnz / 8, 1))))  # ~8 filter bits per pair
        slots = np.full(2 << bits, EMPTY, dtype=np.int64)
        filt = np.zeros(1 << filter_bits, dtype=np.uint64)
        build_tables(self.indptr, self.indices, self.logp, self.vocab_size, slots, filt, bits,
                     filter_bits)
        object.__setattr__(self, "table_slots", slots)
        object.__setattr__(self, "table_bits", bits)
        object.__setattr__(self, "table_filter", filt)
        object.__setattr__(self, "table_filter_bits", filter_bits)
        # an upper bound for exact pruning (CTC decoding): per next id c, the largest
        # log P(c | p) over every p or as a start (a stored value, or some row's default)
        to = np.maximum(self.start, self.row_default.max(initial=-np.inf))
        np.maximum.at(to, self.indices, self.logp)
        object.__setattr__(self, "max_logprob_to", to)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_counts(
        cls,
        unigram_counts: object,
        prev: object,
        next: object,
        counts: object,
        *,
        alpha: float = 0.1,
        threshold: float = 1.0,
    ) -> BigramModel:
        """Estimate log P(next | prev) from counts (duplicate pairs add up; count 0 pairs are
        the same as absent ones).

        Definitions for a row p with pair counts c(p, j) (j over the whole vocabulary, absent = 0):
        - S_p = sum_j c(p, j); H_p = {j : c(p, j) >= threshold}; L_p = the other V - |H_p| ids
          (threshold > 0, so every never-seen pair is in L_p).
        - If S_p > 0: P(j | p) = (c(p, j) + alpha * [j in L_p]) / (S_p + alpha * |L_p|).
          This is the maximum-likelihood estimate of the row after adding a pseudo-count alpha
          to each pair below the threshold (add-alpha smoothing there) and none to the pairs at or
          above it; each row sums to exactly 1. Pairs above the threshold keep their relative
          frequencies; the smoothed mass is alpha * |L_p| / (S_p + alpha * |L_p|).
          Stored: every pair with c > 0. `row_default[p] = log(alpha / (S_p + alpha |L_p|))`.
        - If S_p = 0 (p never seen as a predecessor): back off, P(j | p) = P_uni(j). Stored: every
          j with unigram count > 0; `row_default[p]` = P_uni of a zero-count id. (So a backed-off
          row costs one stored pair per seen id.)
        - Unigram, the same rule over `unigram_counts` u: N = sum u, L = {j : u_j < threshold},
          P_uni(j) = (u_j + alpha * [j in L]) / (N + alpha * |L|); `start = log P_uni` (uniform
          when all counts are 0). Unigram counts are only used here, not as row totals, so rows
          stay proper even when the pair table covers only part of the corpus.
        """
        alpha = _positive(alpha, "alpha")
        threshold = _positive(threshold, "threshold")
        uni = _counts(unigram_counts, "unigram_counts")
        v = _vocab_size(uni.shape[0])
        p = as_index(prev, "prev")
        x = as_index(next, "next")
        c = _counts(counts, "counts")
        if not (p.shape == x.shape == c.shape):
            raise ShapeError(
                f"prev, next and counts must have one length; got {p.shape[0]}, {x.shape[0]}, "
                f"{c.shape[0]}"
            )
        check_range(p, "prev", 0, v)
        check_range(x, "next", 0, v)

        # add up duplicates, drop zero counts, sort by (prev, next)
        keys, inverse = np.unique(p * v + x, return_inverse=True)
        summed = np.zeros(keys.shape[0], dtype=np.float64)
        np.add.at(summed, inverse, c)
        keep = summed > 0
        keys, summed = keys[keep], summed[keep]
        rows, cols = keys // v, keys % v

        start = _unigram_logp(uni, alpha, threshold)
        low = summed < threshold
        row_total = np.bincount(rows, weights=summed, minlength=v)
        n_high = np.bincount(rows, weights=(~low).astype(np.float64), minlength=v)
        denom = row_total + alpha * (v - n_high)
        seen = row_total > 0
        logp = np.log(summed + alpha * low) - np.log(denom[rows])
        row_default = np.where(seen, math.log(alpha) - np.log(np.where(seen, denom, 1.0)), 0.0)

        # backed-off rows: the unigram distribution, stored explicitly
        unseen = np.flatnonzero(~seen)
        if unseen.size:
            uni_ids = np.flatnonzero(uni > 0)
            zero_logp = _unigram_zero_logp(uni, alpha, threshold)
            row_default[unseen] = zero_logp
            rows = np.concatenate([rows, np.repeat(unseen, uni_ids.size)])
            cols = np.concatenate([cols, np.tile(uni_ids, unseen.size)])
            logp = np.concatenate([logp, np.tile(start[uni_ids], unseen.size)])
            order = np.lexsort((cols, rows))
            rows, cols, logp = rows[order], cols[order], logp[order]
        indptr = np.zeros(v + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(rows, minlength=v))
        return cls(v, indptr, cols.astype(np.int64), logp, row_default, start)

    @classmethod
    def from_sequences(
        cls,
        sequences: list[object],
        vocab_size: int,
        *,
        alpha: float = 0.1,
        threshold: float = 1.0,
    ) -> BigramModel:
        """Count unigrams and adjacent pairs in id sequences (pairs never cross sequences), then
        `from_counts`."""
        v = _vocab_size(vocab_size)
        seqs = [as_index(s, f"sequences[{i}]") for i, s in enumerate(sequences)]
        for i, s in enumerate(seqs):
            check_range(s, f"sequences[{i}]", 0, v)
        flat = np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64)
        uni = np.bincount(flat, minlength=v).astype(np.float64)
        prev = np.concatenate([s[:-1] for s in seqs]) if seqs else flat
        nxt = np.concatenate([s[1:] for s in seqs]) if seqs else flat
        keys, counts = np.unique(prev * v + nxt, return_counts=True)
        return cls.from_counts(uni, keys // v, keys % v, counts.astype(np.float64),
                               alpha=alpha, threshold=threshold)

    # ------------------------------------------------------------------ scoring
    def logprob(self, prev: object, next: object) -> np.ndarray:
        """log P(next | prev), broadcasting `prev` against `next`; float64 array."""
        from ._kernels.bigram import hash_lookup_many

        p, x = np.broadcast_arrays(np.asarray(prev), np.asarray(next))
        shape = p.shape
        p = as_index(p.reshape(-1), "prev")
        x = as_index(x.reshape(-1), "next")
        check_range(p, "prev", 0, self.vocab_size)
        check_range(x, "next", 0, self.vocab_size)
        out = np.empty(p.shape[0], dtype=np.float64)
        hash_lookup_many(self.table_slots, self.table_slots.view(np.float64), self.table_bits,
                         self.table_filter, self.table_filter_bits, self.row_default,
                         self.vocab_size, p, x, out)
        return out.reshape(shape)

    def row_logsumexp(self) -> np.ndarray:
        """log of each row's total probability (0 for a proper row); a check, O(V + nnz)."""
        counts = np.diff(self.indptr)
        absent = self.vocab_size - counts
        stored = np.zeros(self.vocab_size)
        rows = np.repeat(np.arange(self.vocab_size), counts)
        np.add.at(stored, rows, np.exp(self.logp))
        return np.log(stored + absent * np.exp(self.row_default))

    # ------------------------------------------------------------------ files
    def save(self, path: str | FsPath) -> None:
        """safetensors file: the five arrays, vocab_size and the format in the metadata."""
        from safetensors.numpy import save_file

        from .atomic import atomic_path

        tensors = {name: np.ascontiguousarray(getattr(self, name)) for name in _FIELDS}
        meta = {"format": _FORMAT, "format_version": _FORMAT_VERSION,
                "vocab_size": str(self.vocab_size)}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=meta)

    @classmethod
    def load(cls, path: str | FsPath) -> BigramModel:
        """Read a file written by `save` (never unpickles); a bad file is a ModelFileError."""
        from safetensors import safe_open
        from safetensors.numpy import load_file

        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
        except FileNotFoundError as exc:
            raise ModelFileError(f"bigram model file not found: {path}") from exc
        except Exception as exc:  # safetensors raises its own error types
            raise ModelFileError(f"{path} is not a readable safetensors file: {exc}") from exc
        if meta.get("format") != _FORMAT:
            raise ModelFileError(
                f"{path} is not a jiema bigram model (metadata format={meta.get('format')!r}, "
                f"expected {_FORMAT!r})"
            )
        missing = [n for n in _FIELDS if n not in tensors]
        if missing or "vocab_size" not in meta:
            raise ModelFileError(f"{path} lacks {missing or ['vocab_size metadata']}")
        try:
            return cls(int(meta["vocab_size"]), *(tensors[n] for n in _FIELDS))
        except (InvalidInputError, ValueError) as exc:
            raise ModelFileError(f"{path} holds an inconsistent bigram model: {exc}") from exc


def _vocab_size(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or int(v) < 1:
        raise InvalidInputError(f"vocab_size must be an integer >= 1, got {v!r}")
    return int(v)


def _positive(x: object, name: str) -> float:
    try:
        val = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a positive number, got {x!r}") from exc
    if not (val > 0 and math.isfinite(val)):
        raise InvalidInputError(f"{name} must be a finite number > 0, got {x!r}")
    return val


def _counts(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ShapeError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"{name} must be numeric counts, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.size and not np.isfinite(arr).all():
        raise InvalidInputError(f"{name} must be finite, found {arr[~np.isfinite(arr)][0]}")
    if arr.size and (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise InvalidInputError(f"{name} must be >= 0; {name}[{i}] = {arr[i]}")
    return arr


def _unigram_logp(uni: np.ndarray, alpha: float, threshold: float) -> np.ndarray:
    low = uni < threshold
    return np.log(uni + alpha * low) - math.log(uni.sum() + alpha * low.sum())


def _unigram_zero_logp(uni: np.ndarray, alpha: float, threshold: float) -> float:
    low = uni < threshold
    return math.log(alpha) - math.log(uni.sum() + alpha * low.sum())

