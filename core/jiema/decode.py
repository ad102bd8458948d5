"""Public decoding API: validate, pick the kernel for the lattice kind, call it.

Tie rule (every kernel): when two predecessors score the same, the lowest id wins (label id in a
Trellis, candidate index in a CandidateLattice, edge index in a WordLattice); among equal final
states the lowest id wins too. k-best lists break ties the same way, in order.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from .bigram import BigramModel
from .errors import InvalidInputError, InvalidValueError
from .lattice import BatchPath, CandidateLattice, CTCLattice, Marginals, Path, Trellis, WordLattice
from .transitions import DenseTransitions

Transitions = DenseTransitions | BigramModel | None
LatticeLike = Trellis | CandidateLattice | WordLattice | CTCLattice | np.ndarray


def as_lattice(
    lattice: object, lengths: object | None = None
) -> Trellis | CandidateLattice | WordLattice | CTCLattice:
    """Arrays become a Trellis: `(T, K)` one sequence, `(N, K)` + lengths ragged,
    `(B, T, K)` + lengths padded."""
    if isinstance(lattice, Trellis | CandidateLattice | WordLattice | CTCLattice):
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
    lattice: CandidateLattice | WordLattice | CTCLattice,
    transitions: Transitions = None,
    *,
    lengths: None = None,
    emitted: tuple[int, int] | None = None,
) -> Path: ...


@overload
def viterbi(
    lattice: Trellis | np.ndarray,
    transitions: Transitions = None,
    *,
    lengths: object | None = None,
    emitted: None = None,
) -> Path | BatchPath: ...


def viterbi(
    lattice: LatticeLike, transitions: Transitions = None, *, lengths: object | None = None,
    emitted: tuple[int, int] | None = None,
) -> Path | BatchPath:
    """The best path through a lattice.

    Parameters
    ----------
    lattice : Trellis, CandidateLattice, WordLattice, CTCLattice or array
        A `(T, K)` array is one sequence of log-emissions; `(N, K)` with `lengths` is a ragged
        batch; `(B, T, K)` is a padded batch (`lengths` optional). A CTCLattice is decoded
        under the blank/repeat grammar: the Path's `nodes` are per-frame choices (candidate
        index, -1 blank) and its `labels` the collapsed text.
    transitions : DenseTransitions, BigramModel or None
        Log-scores of consecutive labels (None: every move scores 0); for a CTCLattice, of
        consecutive emitted characters.
    lengths : array of int, optional
        Sequence lengths of a batch given as an array.
    emitted : (int, int), optional
        CTCLattice only: the best alignment whose text has min..max characters (a captcha of
        4 to 6); the count multiplies the decoder's states, so keep max small.

    Returns
    -------
    Path or BatchPath
        A Path for one sequence (a 2-D array without lengths, `Trellis.single`, a
        CandidateLattice or WordLattice); a BatchPath, decoded in parallel, for a batch (`lengths`
        given, a 3-D array, `Trellis.from_ragged` / `from_padded`), even a batch of one.

    Raises `NoPathError` when every path scores -inf, `InvalidInputError` (and its subclasses)
    for malformed input.

    Examples
    --------
    >>> import numpy as np, jiema
    >>> em = np.log([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> jiema.viterbi(em).labels.tolist()
    [0, 1, 0]
    >>> [p.labels.tolist() for p in jiema.viterbi(em, lengths=[1, 2])]
    [[0], [1, 0]]
    >>> ctc = jiema.CTCLattice.from_log_probs(np.log([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3],
    ...                                               [0.4, 0.6]]))  # column 0: blank
    >>> path = jiema.viterbi(ctc)  # frames "a a _ a" read "aa"
    >>> path.nodes.tolist(), path.labels.tolist()
    ([0, 1, -1, 3], [0, 0])
    """
    lat = as_lattice(lattice, lengths)
    if isinstance(lat, CTCLattice):
        from ._decode_ctc import viterbi_ctc

        return viterbi_ctc(lat, transitions, emitted)
    if emitted is not None:
        raise InvalidValueError("emitted limits apply to a CTCLattice only")
    if isinstance(lat, Trellis):
        from ._decode_trellis import viterbi_trellis

        return viterbi_trellis(lat, transitions, batch=lat.batch)
    from ._decode_graph import viterbi_graph

    return viterbi_graph(lat, transitions)


@overload
def kbest(
    lattice: CandidateLattice | WordLattice | CTCLattice,
    transitions: Transitions = None,
    k: int = 5,
    *,
    lengths: None = None,
) -> list[Path]: ...


@overload
def kbest(
    lattice: Trellis | np.ndarray,
    transitions: Transitions = None,
    k: int = 5,
    *,
    lengths: object | None = None,
) -> list[Path] | list[list[Path]]: ...


def kbest(
    lattice: LatticeLike, transitions: Transitions = None, k: int = 5, *,
    lengths: object | None = None,
) -> list[Path] | list[list[Path]]:
    """The k best paths, best first (exact); fewer where fewer paths exist.

    Parameters
    ----------
    lattice, transitions, lengths
        As for `viterbi`.
    k : int
        How many paths (>= 1). A k larger than the number of paths returns them all: memory
        and time follow min(k, paths that exist), not k. The tables hold that many entries per
        lattice node; past `jiema._validate.KBEST_MAX_ENTRIES` of them (about 0.8 GB) an
        InvalidValueError asks for a smaller k.

    Returns
    -------
    list of Path, or one such list per sequence
        For one sequence, its paths; for a batch (as `viterbi` decides), a list per sequence.
        Equal scores keep the tie rule of the module docstring. For a CTCLattice: the k best
        distinct texts, each with its best alignment (so the first is `viterbi`'s path).

    Examples
    --------
    >>> import numpy as np, jiema
    >>> em = np.log([[0.9, 0.1], [0.2, 0.8]])
    >>> [p.labels.tolist() for p in jiema.kbest(em, k=10)]
    [[0, 1], [0, 0], [1, 1], [1, 0]]
    >>> [len(ps) for ps in jiema.kbest(em, k=3, lengths=[1, 1])]
    [2, 2]
    """
    lat = as_lattice(lattice, lengths)
    if isinstance(lat, CTCLattice):
        from ._decode_ctc import kbest_ctc

        return kbest_ctc(lat, transitions, k)
    if isinstance(lat, Trellis):
        from ._decode_trellis import kbest_trellis

        if not lat.batch:
            return kbest_trellis(lat, transitions, k)
        return [
            kbest_trellis(Trellis.single(lat.sequence(i)), transitions, k)
            for i in range(lat.n_sequences)
        ]
    from ._decode_graph import kbest_graph

    return kbest_graph(lat, transitions, k)


def marginals(
    lattice: LatticeLike, transitions: Transitions = None, *, lengths: object | None = None
) -> Marginals:
    """Forward-backward posteriors and the log-partition function.

    Parameters
    ----------
    lattice, transitions, lengths
        As for `viterbi`.

    Returns
    -------
    Marginals
        `posteriors`: for a Trellis `(N, K)` probabilities summing to 1 at every position (rows
        of a batch concatenated); for a CandidateLattice / WordLattice the probability that
        each candidate / edge is on the path. `log_z`: one log-partition per sequence.

    Examples
    --------
    >>> import numpy as np, jiema
    >>> m = jiema.marginals(np.log([[0.5, 0.5], [0.25, 0.75]]))
    >>> m.posteriors.round(2).tolist(), round(float(m.log_z[0]), 6)
    ([[0.5, 0.5], [0.25, 0.75]], 0.0)
    """
    lat = as_lattice(lattice, lengths)
    if isinstance(lat, CTCLattice):
        raise InvalidInputError(
            "marginals are not implemented for a CTCLattice (viterbi and kbest are)"
        )
    if isinstance(lat, Trellis):
        from ._decode_trellis import marginals_trellis

        return marginals_trellis(lat, transitions)
    from ._decode_graph import marginals_graph

    return marginals_graph(lat, transitions)
