"""Public decoding API: validate, pick the kernel for the lattice kind, call it.

Tie rule (every kernel): when two predecessors score the same, the lowest id wins (label id in a
Trellis, candidate index in a CandidateLattice, edge index in a WordLattice); among equal final
states the lowest id wins too. k-best lists break ties the same way, in order.
"""

from __future__ import annotations

from typing import Any, cast, overload

import numpy as np

from .bigram import BigramModel
from .errors import InvalidInputError
from .lattice import BatchPath, CandidateLattice, Marginals, Path, Trellis, WordLattice
from .transitions import DenseTransitions

Transitions = DenseTransitions | BigramModel | None
LatticeLike = Trellis | CandidateLattice | WordLattice | np.ndarray


def as_lattice(
    lattice: object, lengths: object | None = None
) -> Trellis | CandidateLattice | WordLattice:
    """Arrays become a Trellis: `(T, K)` one sequence, `(N, K)` + lengths ragged,
    `(B, T, K)` + lengths padded."""
    if isinstance(lattice, Trellis | CandidateLattice | WordLattice):
        if lengths is not None:
            raise InvalidInputError("lengths is only accepted with a plain emissions array")
        return lattice
    arr = np.asarray(lattice)
    if arr.ndim == 3:
        if lengths is None:
            lengths = np.full(arr.shape[0], arr.shape[1], dtype=np.int64)
        return Trellis.from_padded(arr, lengths)
    if lengths is None:
        return Trellis.single(arr)
    return Trellis.from_ragged(arr, lengths)


@overload
def viterbi(
    lattice: CandidateLattice | WordLattice,
    transitions: Transitions = None,
    *,
    lengths: None = None,
) -> Path: ...


@overload
def viterbi(
    lattice: Trellis | np.ndarray, transitions: Transitions = None, *, lengths: object | None = None
) -> Path | BatchPath: ...


def viterbi(
    lattice: LatticeLike, transitions: Transitions = None, *, lengths: object | None = None
) -> Path | BatchPath:
    """Best path. A Trellis with one sequence (or a 2-D array without lengths) gives a Path;
    a batch (lengths given, or a 3-D array) gives a BatchPath decoded in parallel over sequences."""
    lat = as_lattice(lattice, lengths)
    if isinstance(lat, Trellis):
        from ._decode_trellis import viterbi_trellis

        if isinstance(lattice, Trellis):
            batch = lat.n_sequences != 1
        else:
            batch = lengths is not None or np.ndim(cast(Any, lattice)) == 3
        return viterbi_trellis(lat, transitions, batch=batch)
    from ._decode_graph import viterbi_graph

    return viterbi_graph(lat, transitions)


def kbest(lattice: LatticeLike, transitions: Transitions = None, k: int = 5) -> list[Path]:
    """The k best paths of one sequence, best first (exact); fewer if fewer paths exist.

    Memory and time follow min(k, paths that exist), not k: a k larger than the number of
    paths returns them all. The tables hold min(k, paths) entries per lattice node; past
    `jiema._validate.KBEST_MAX_ENTRIES` of them (about 0.8 GB) an InvalidValueError asks for
    a smaller k."""
    lat = as_lattice(lattice)
    if isinstance(lat, Trellis):
        from ._decode_trellis import kbest_trellis

        return kbest_trellis(lat, transitions, k)
    from ._decode_graph import kbest_graph

    return kbest_graph(lat, transitions, k)


def marginals(
    lattice: LatticeLike, transitions: Transitions = None, *, lengths: object | None = None
) -> Marginals:
    """Forward-backward posteriors and log-partition."""
    lat = as_lattice(lattice, lengths)
    if isinstance(lat, Trellis):
        from ._decode_trellis import marginals_trellis

        return marginals_trellis(lat, transitions)
    from ._decode_graph import marginals_graph

    return marginals_graph(lat, transitions)
