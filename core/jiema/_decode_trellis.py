"""Dense-trellis decoding behind `jiema.viterbi/kbest/marginals`: check transitions, call a kernel.

Threading: Numba's default `workqueue` threading layer aborts the process when parallel kernels are
entered from several threads at once. The parallel (batch) kernels are therefore entered under one
module lock: concurrent batch calls from a thread pool are safe and give the same results as serial
calls; they run one after another, each using all of Numba's threads. Single-sequence kernels are
not parallel, release the GIL, and need no lock.

Precision: float64 is the default. float32 emissions are decoded by float32 Viterbi kernels that
subtract each step's maximum (so the best path survives long sequences); scores are recomputed in
float64 along the path. k-best and marginals always compute in float64.
"""

from __future__ import annotations

import threading

import numpy as np

from ._validate import check_k, kbest_width
from .bigram import BigramModel
from .errors import InvalidInputError, NoPathError, ShapeError
from .lattice import BatchPath, Marginals, Path, Trellis
from .transitions import DenseTransitions

# A BigramModel is accepted by the type only to be rejected with a clear error.
Transitions = DenseTransitions | BigramModel | None

_PARALLEL_LOCK = threading.Lock()


def _dense(transitions: object, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(A, start, end)` float64 for K labels; None means every move scores 0."""
    if transitions is None:
        return np.zeros((k, k)), np.zeros(k), np.zeros(k)
    if not isinstance(transitions, DenseTransitions):
        raise InvalidInputError(
            f"a Trellis needs DenseTransitions (or None); got {type(transitions).__name__}, "
            "which is only supported for a CandidateLattice or WordLattice"
        )
    if transitions.n_labels != k:
        raise ShapeError(
            f"transitions have K = {transitions.n_labels} labels but the emissions have K = {k}"
        )
    return transitions.log_matrix, transitions.start, transitions.end


def _no_path(b: int | None) -> NoPathError:
    which = "the sequence" if b is None else f"sequence {b}"
    return NoPathError(
        f"no path through {which}: every path scores -inf (forbidden moves or -inf emissions); "
        "expected at least one allowed label sequence"
    )


def viterbi_trellis(
    lat: Trellis, transitions: Transitions, batch: bool
) -> Path | BatchPath:
    """Best path of each sequence (ties: lowest predecessor id, then lowest final label)."""
    from ._kernels import trellis as kern

    em = lat.emissions
    a64, s64, e64 = _dense(transitions, lat.n_labels)
    normalise = em.dtype == np.float32
    if normalise:
        a, s, e = (x.astype(np.float32) for x in (a64, s64, e64))
    else:
        a, s, e = a64, s64, e64
    if not batch:
        if lat.n_sequences != 1:
            raise InvalidInputError(f"expected one sequence, got a batch of {lat.n_sequences}")
        if em.shape[0] == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Path(empty, empty, 0.0)
        labels, score = kern.viterbi_one(em, a, s, e, a64, s64, e64, normalise)
        if score == -np.inf:
            raise _no_path(None)
        return Path(labels, labels, float(score))
    if lat.n_sequences == 1 and em.shape[0] > 0:
        labels, score = kern.viterbi_one(em, a, s, e, a64, s64, e64, normalise)
        scores = np.array([score])
    else:
        with _PARALLEL_LOCK:
            labels, scores = kern.viterbi_batch(em, lat.offsets, a, s, e, a64, s64, e64, normalise)
    bad = np.flatnonzero(scores == -np.inf)
    if bad.size:
        raise _no_path(int(bad[0]))
    return BatchPath(labels, scores, lat.lengths.copy())


def kbest_trellis(lat: Trellis, transitions: Transitions, k: int) -> list[Path]:
    """Exact k best paths of one sequence, best first; equal scores in reverse-lexicographic
    order of the labels (lower last label first, then lower previous label, ...), so the first
    path is the Viterbi path. Fewer than k are returned when fewer finite paths exist."""
    from ._kernels import trellis as kern

    k = check_k(k)
    if lat.n_sequences != 1:
        raise InvalidInputError(
            f"kbest decodes one sequence; got a batch of {lat.n_sequences} (call it per sequence)"
        )
    a, s, e = _dense(transitions, lat.n_labels)
    em = lat.emissions.astype(np.float64, copy=False)
    if em.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return [Path(empty, empty, 0.0)]
    n_paths = kern.count_paths(em, a, s, e, float(k))
    if n_paths == 0:
        raise _no_path(None)
    width = kbest_width(k, int(n_paths), em.shape[0] * em.shape[1])
    labels, scores = kern.kbest_one(em, a, s, e, width)
    if scores.shape[0] == 0:
        raise _no_path(None)
    return [Path(labels[i], labels[i], float(scores[i])) for i in range(scores.shape[0])]


def marginals_trellis(lat: Trellis, transitions: Transitions) -> Marginals:
    """Forward-backward in log space: posteriors (N, K) that sum to 1 per position, and log Z per
    sequence (0 for an empty sequence)."""
    from ._kernels import trellis as kern

    a, s, e = _dense(transitions, lat.n_labels)
    em = lat.emissions.astype(np.float64, copy=False)
    if lat.n_sequences == 1:
        if em.shape[0] == 0:
            return Marginals(np.zeros((0, lat.n_labels)), np.zeros(1))
        post, log_z = kern.marginals_one(em, a, s, e)
        log_zs = np.array([log_z])
    else:
        with _PARALLEL_LOCK:
            post, log_zs = kern.marginals_batch(em, lat.offsets, a, s, e)
    bad = np.flatnonzero(log_zs == -np.inf)
    if bad.size:
        raise _no_path(int(bad[0]) if lat.n_sequences > 1 else None)
    return Marginals(post, log_zs)
