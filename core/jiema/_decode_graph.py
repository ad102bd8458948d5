"""Decoding of CandidateLattice and WordLattice: validate against the transitions, put the lattice
in edge form, call the kernels in `jiema._kernels.graph`.

A CandidateLattice is decoded as the DAG whose edges are its candidates (position t spans
boundaries t -> t + 1), so both kinds share one set of kernels and candidate indices are edge
indices. Scores are decoded in float64 whatever the lattice stores.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import check_k, kbest_width
from .bigram import BigramModel
from .errors import InvalidInputError, LabelRangeError, NoPathError
from .lattice import CandidateLattice, Marginals, Path, WordLattice
from .transitions import DenseTransitions

Graph = CandidateLattice | WordLattice
Transitions = DenseTransitions | BigramModel | None


class _Trans(NamedTuple):
    """Kernel arguments for one transitions object (unused ones are tiny placeholders)."""

    kind: int
    start_t: np.ndarray
    end_t: np.ndarray
    dense: np.ndarray
    slots: np.ndarray
    fslots: np.ndarray
    bits: int
    filt: np.ndarray
    fbits: int
    row_default: np.ndarray
    vocab_size: int

    def args(self) -> tuple:
        return (self.start_t, self.end_t, self.kind, self.dense, self.slots, self.fslots,
                self.bits, self.filt, self.fbits, self.row_default, self.vocab_size)


def _edges(lat: Graph) -> WordLattice:
    """The lattice as edges ending in CSR order (a candidate at position t spans [t, t + 1)),
    float64 scores; built without a second validation."""
    if isinstance(lat, CandidateLattice):
        t = lat.n_positions
        counts = np.diff(lat.offsets)
        if t and (counts == 0).any():
            pos = int(np.flatnonzero(counts == 0)[0])
            raise NoPathError(f"position {pos} of the candidate lattice has no candidates")
        starts = np.repeat(np.arange(t, dtype=np.int64), counts)
        end_offsets = np.concatenate(([0], lat.offsets)).astype(np.int64)
        return WordLattice(t, starts, starts + 1, lat.labels, lat.scores.astype(np.float64),
                           end_offsets)
    if isinstance(lat, WordLattice):
        return WordLattice(lat.n, lat.starts, lat.ends, lat.labels,
                           lat.scores.astype(np.float64), lat.end_offsets)
    raise InvalidInputError(
        f"expected a CandidateLattice or WordLattice, got {type(lat).__name__}"
    )


def _check_labels(labels: np.ndarray, high: int, what: str) -> None:
    if labels.size == 0:
        return
    bad = np.flatnonzero((labels < 0) | (labels >= high))
    if bad.size:
        i = int(bad[0])
        hint = " (label -1 is allowed only with transitions=None)" if labels[i] == -1 else ""
        raise LabelRangeError(
            f"label {int(labels[i])} of node {i} is outside [0, {high}) required by {what}{hint}"
        )


def _trans(transitions: Transitions, labels: np.ndarray) -> _Trans:
    zi, zf = np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.uint64)
    if transitions is None:
        zero = np.zeros(labels.shape[0])
        return _Trans(0, zero, zero, np.zeros((1, 1)), zi, zi.view(np.float64), 1, zf, 1,
                      np.zeros(1), 1)
    if isinstance(transitions, DenseTransitions):
        k = transitions.n_labels
        _check_labels(labels, k, f"DenseTransitions with K = {k}")
        return _Trans(1, transitions.start[labels], transitions.end[labels],
                      transitions.log_matrix, zi, zi.view(np.float64), 1, zf, 1, np.zeros(1), 1)
    if isinstance(transitions, BigramModel):
        v = transitions.vocab_size
        _check_labels(labels, v, f"BigramModel with vocab_size = {v}")
        slots = transitions.table_slots
        return _Trans(2, transitions.start[labels], np.zeros(labels.shape[0]),
                      np.zeros((1, 1)), slots, slots.view(np.float64), transitions.table_bits,
                      transitions.table_filter, transitions.table_filter_bits,
                      transitions.row_default, v)
    raise InvalidInputError(
        "transitions must be None, a DenseTransitions or a BigramModel, got "
        f"{type(transitions).__name__}"
    )


def _path(ed: WordLattice, nodes: np.ndarray, score: float) -> Path:
    return Path(ed.labels[nodes], nodes, float(score))


def _empty_path() -> Path:
    return Path(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0.0)


def _no_path(ed: WordLattice) -> NoPathError:
    return NoPathError(
        f"no path with a finite score reaches boundary {ed.n} (every path is -inf or the end is "
        "unreachable)"
    )


def viterbi_graph(lat: Graph, transitions: Transitions) -> Path:
    """Best path; nodes are candidate / edge indices."""
    from ._kernels import graph as kg

    ed = _edges(lat)
    tr = _trans(transitions, ed.labels)
    if ed.n == 0:
        return _empty_path()
    if tr.kind == kg.NONE:
        nodes, score = kg.viterbi_boundaries(ed.n, ed.starts, ed.scores, ed.end_offsets)
    else:
        nodes, score = kg.viterbi_edges(ed.n, ed.starts, ed.labels, ed.scores, ed.end_offsets,
                                        *tr.args())
    if score == -np.inf:
        raise _no_path(ed)
    return _path(ed, nodes, score)


def kbest_graph(lat: Graph, transitions: Transitions, k: int) -> list[Path]:
    """The k best paths, best first; fewer when fewer finite-score paths exist."""
    from ._kernels import graph as kg

    k = check_k(k)
    ed = _edges(lat)
    tr = _trans(transitions, ed.labels)
    if ed.n == 0:
        return [_empty_path()]
    n_paths = kg.count_paths(ed.n, ed.starts, ed.scores, ed.end_offsets, float(k))
    if n_paths == 0:
        raise _no_path(ed)
    width = kbest_width(k, int(n_paths), ed.starts.shape[0])
    edges, offsets, scores = kg.kbest_edges(  # type: ignore[call-arg]  # numba Dispatcher
        ed.n, ed.starts, ed.labels, ed.scores, ed.end_offsets, *tr.args(), width)
    if scores.shape[0] == 0:
        raise _no_path(ed)
    return [_path(ed, edges[offsets[i]:offsets[i + 1]], scores[i])
            for i in range(scores.shape[0])]


def marginals_graph(lat: Graph, transitions: Transitions) -> Marginals:
    """Posterior probability that each candidate / edge is on the path; log_z shape (1,)."""
    from ._kernels import graph as kg

    ed = _edges(lat)
    tr = _trans(transitions, ed.labels)
    if ed.n == 0:
        return Marginals(np.zeros(0), np.zeros(1))
    if tr.kind == kg.NONE:
        post, log_z = kg.marginals_boundaries(ed.n, ed.starts, ed.ends, ed.scores,
                                              ed.end_offsets)
    else:
        post, log_z = kg.marginals_edges(ed.n, ed.starts, ed.labels, ed.scores, ed.end_offsets,
                                         *tr.args())
    if log_z == -np.inf:
        raise _no_path(ed)
    return Marginals(post, np.array([log_z]))
