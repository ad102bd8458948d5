"""Decoding of a CTCLattice: validate against the transitions, call `jiema._kernels.ctc`.

Viterbi is one exact kernel over (frame choice, last emitted character) states. k-best returns
the k best distinct TEXTS, each scored by its best alignment (what Viterbi maximises): it
enumerates the best alignments with the DAG k-best kernel over the explicit state graph
(`state_graph`: alignments and chains of its edges correspond one to one), keeps the first
alignment of each text, and if fewer than k texts came out of the `width` alignments while
more alignments exist, runs again with `width` times KBEST_GROWTH. Alignments come best first,
so a text's first alignment is its best one and the answer is exact; the cost follows how many
alignments share the top texts (blank placement makes several per text).

The full state graph has an edge from every blank state to every candidate of the next frame,
most of them hopeless; k-best keeps only edges that can lie on an alignment scoring at least
L = Viterbi's score - margin: `state_graph` leaves out edges by a forward score and an upper
bound on the frames to come (`future_bounds`: the backward recurrence with each transition
replaced by the largest score into its character), so memory follows the promising part,
then `edge_bounds` drops the rest exactly. Every alignment scoring >= L survives whole, so when
the k texts found all score >= L they are the true k best; otherwise the margin doubles (the
last retry keeps everything), which keeps the answer exact.

The LM weight: viterbi/kbest take no weight (the other lattice kinds have none either); a
caller scales its model once, e.g. `BigramModel(v, indptr, indices, logp * w, row_default * w,
start * w)`, as the OCR plugin's `LanguageModel.weighted` does.
"""

from __future__ import annotations

import numpy as np

from ._decode_graph import Transitions, _trans, kbest_graph
from ._validate import check_k
from .bigram import BigramModel
from .errors import InvalidValueError, NoPathError
from .lattice import CTCLattice, Path, WordLattice
from .transitions import DenseTransitions

# k-best: the first score margin (natural log) below the best alignment; a reading e^-12 less
# likely than the best is past any alternative worth listing, so one pass nearly always suffices.
KBEST_MARGIN = 12.0
# k-best: after this many doublings of the margin, one last pass with no margin at all.
KBEST_RETRIES = 6
# k-best: alignments per text are few for peaky CTC output (a blank more or less at a
# character's edges), so each retry asks for this many times more alignments.
KBEST_GROWTH = 4


def _args(lat: CTCLattice, transitions: Transitions) -> tuple:
    tr = _trans(transitions, lat.labels)
    n_ids = int(lat.labels.max(initial=-1)) + 1
    return (lat.blank.astype(np.float64), lat.offsets, lat.labels,
            lat.scores.astype(np.float64), tr.start_t, tr.end_t, tr.kind, tr.dense, tr.slots,
            tr.fslots, tr.bits, tr.filt, tr.fbits, tr.row_default, tr.vocab_size, max(n_ids, 1))


def _no_path(lat: CTCLattice) -> NoPathError:
    return NoPathError(
        f"no alignment of the {lat.n_frames} CTC frames has a finite score (every path is -inf)"
    )


def viterbi_ctc(
    lat: CTCLattice, transitions: Transitions, emitted: tuple[int, int] | None = None
) -> Path:
    """Best alignment: `nodes` the per-frame choices (candidate index, -1 blank), `labels` its
    collapsed text; with `emitted = (lo, hi)`, the best whose text has lo..hi characters."""
    from ._kernels import ctc

    args = _args(lat, transitions)
    limits = None if emitted is None else _emitted(emitted)
    if lat.n_frames == 0 and (limits is None or limits[0] == 0):
        return Path(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0.0)
    if limits is not None:
        lo, hi = limits
        choice, score = ctc.viterbi_ctc_emitted(  # type: ignore[call-arg]  # numba Dispatcher
            *args, lo, min(hi, lat.n_frames))  # no text is longer than its frames
        if score == -np.inf:
            raise NoPathError(
                f"no alignment of the {lat.n_frames} CTC frames emitting {lo}..{hi} "
                "characters has a finite score"
            )
        return Path(lat.collapse(choice), choice, float(score))
    choice, score = ctc.viterbi_ctc(  # type: ignore[call-arg]  # numba Dispatcher
        *args, _in_bound(lat, transitions))
    if score == -np.inf:
        raise _no_path(lat)
    return Path(lat.collapse(choice), choice, float(score))


def _emitted(emitted: object) -> tuple[int, int]:
    """Checked `(lo, hi)` emitted-length limits."""
    try:
        pair: tuple[object, ...] = tuple(emitted)  # type: ignore[arg-type]
    except TypeError:
        pair = ()
    if len(pair) != 2 or isinstance(emitted, str):
        raise InvalidValueError(f"emitted must be a pair (min, max), got {emitted!r}")
    if not all(isinstance(x, int | np.integer) and not isinstance(x, bool) for x in pair):
        raise InvalidValueError(f"emitted limits must be integers, got {emitted!r}")
    lo, hi = (int(x) for x in pair)  # type: ignore[call-overload]
    if not 0 <= lo <= hi:
        raise InvalidValueError(f"emitted limits need 0 <= min <= max, got {emitted!r}")
    return lo, hi


def kbest_ctc(lat: CTCLattice, transitions: Transitions, k: int) -> list[Path]:
    """The k best distinct texts, best first, each with its best alignment (module docstring)."""
    from ._kernels import ctc

    k = check_k(k)
    args = _args(lat, transitions)
    if lat.n_frames == 0:
        return [Path(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0.0)]
    in_ub = _in_bound(lat, transitions)
    _, best = ctc.viterbi_ctc(*args, in_ub)  # type: ignore[call-arg]  # numba Dispatcher
    if best == -np.inf:
        raise _no_path(lat)
    blank, _, _, scores, _, end_t = args[:6]
    fut_nb, fut_b = ctc.future_bounds(blank, lat.offsets, lat.labels, scores, end_t, in_ub,
                                      _end_max(transitions))
    margin = KBEST_MARGIN
    for attempt in range(KBEST_RETRIES + 1):
        floor = best - margin if attempt < KBEST_RETRIES else -np.inf
        n, starts, ends, labels, weights, dropped = ctc.state_graph(  # type: ignore[call-arg]
            *args, in_ub, floor, fut_nb, fut_b)
        through = ctc.edge_bounds(n, starts, ends, weights)
        keep = through >= floor
        # renumber the boundaries the kept edges touch (order kept): the k-best kernels
        # walk every boundary, and most blank states lie on no kept edge
        used = np.unique(np.concatenate(([0, n], starts[keep], ends[keep])))
        graph = WordLattice.from_edges(used.shape[0] - 1, np.searchsorted(used, starts[keep]),
                                       np.searchsorted(used, ends[keep]), labels[keep],
                                       weights[keep])
        texts = _kbest_texts(lat, graph, k)
        complete = not dropped and not ((through > -np.inf) & ~keep).any()
        if complete or (len(texts) == k and texts[-1].score >= floor):
            return texts
        margin *= 2
    raise AssertionError("unreachable: the last attempt keeps every finite alignment")


def _in_bound(lat: CTCLattice, transitions: Transitions) -> np.ndarray:
    """Per candidate, an upper bound on every transition score into it (start included)."""
    if isinstance(transitions, BigramModel):
        return transitions.max_logprob_to[lat.labels]
    if isinstance(transitions, DenseTransitions):
        into = np.maximum(transitions.log_matrix.max(axis=0), transitions.start)
        return into[lat.labels]
    return np.zeros(lat.labels.shape[0])


def _end_max(transitions: Transitions) -> float:
    """An upper bound on the end score, 0 (nothing emitted) included."""
    if isinstance(transitions, DenseTransitions):
        return max(float(transitions.end.max(initial=0.0)), 0.0)
    return 0.0


def _kbest_texts(lat: CTCLattice, graph: WordLattice, k: int) -> list[Path]:
    """The k best distinct texts of the alignments in `graph` (a pruned state graph)."""
    width = k
    while True:
        aligned = kbest_graph(graph, None, width)
        out: dict[tuple[int, ...], Path] = {}
        for p in aligned:
            choice = graph.labels[p.nodes[:-1]]  # the last edge closes the path
            text = lat.collapse(choice)
            out.setdefault(tuple(text.tolist()), Path(text, choice, p.score))
        if len(out) >= k or len(aligned) < width:
            return list(out.values())[:k]
        width *= KBEST_GROWTH
