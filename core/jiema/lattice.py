"""The lattice kinds and what decoding returns; plain arrays, no object per node.

Scores are natural-log scores. Constructors validate (shape, dtype, NaN/+inf, ranges)
so the private kernels can trust their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_index, as_scores, check_range
from .errors import InvalidValueError, LabelRangeError, LengthsError, ShapeError


@dataclass(frozen=True, eq=False)
class Trellis:
    """Dense emissions `(N, K)`; a batch is a ragged concatenation split by `lengths`
    (the hmmlearn convention).

    `batch` says which result the decoders give: a Trellis made by `from_ragged` or
    `from_padded` is a batch (a BatchPath from `viterbi`, one list of paths per sequence from
    `kbest`), even with one sequence; one made by `single` is not (a Path, a list of paths), so
    a result's type depends on how the input was made, never on how many sequences it holds."""

    emissions: np.ndarray
    lengths: np.ndarray
    batch: bool = True

    @classmethod
    def single(cls, emissions: object) -> Trellis:
        em = as_scores(emissions, "emissions", 2)
        _check_k(em.shape[1])
        return cls(em, np.array([em.shape[0]], dtype=np.int64), batch=False)

    @classmethod
    def from_ragged(cls, emissions: object, lengths: object) -> Trellis:
        em = as_scores(emissions, "emissions", 2)
        _check_k(em.shape[1])
        ln = as_index(lengths, "lengths")
        if (ln < 0).any():
            raise LengthsError(f"lengths must be >= 0, got {ln.min()}")
        if int(ln.sum()) != em.shape[0]:
            raise LengthsError(
                f"lengths add up to {int(ln.sum())} but emissions have {em.shape[0]} rows"
            )
        return cls(em, ln)

    @classmethod
    def from_padded(cls, emissions: object, lengths: object) -> Trellis:
        """`(B, T, K)` padded emissions; only the first `lengths[b]` steps of row b are used."""
        em = as_scores(emissions, "emissions", 3)
        _check_k(em.shape[2])
        ln = as_index(lengths, "lengths")
        if ln.shape[0] != em.shape[0]:
            raise LengthsError(f"lengths has {ln.shape[0]} entries for a batch of {em.shape[0]}")
        if ln.size and ((ln < 0).any() or ln.max() > em.shape[1]):
            raise LengthsError(
                f"lengths must lie in [0, {em.shape[1]}], got {ln.min()}..{ln.max()}"
            )
        mask = np.arange(em.shape[1])[None, :] < ln[:, None]
        return cls(np.ascontiguousarray(em[mask]), ln)

    @property
    def n_labels(self) -> int:
        return int(self.emissions.shape[1])

    @property
    def n_sequences(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def offsets(self) -> np.ndarray:
        """`(B + 1,)` start row of each sequence."""
        return np.concatenate(([0], np.cumsum(self.lengths))).astype(np.int64)

    def sequence(self, i: int) -> np.ndarray:
        off = self.offsets
        return self.emissions[off[i] : off[i + 1]]


@dataclass(frozen=True, eq=False)
class CandidateLattice:
    """Per position a variable number of candidates (CSR): position t owns
    `labels[offsets[t]:offsets[t+1]]` and their `scores`. Labels are vocabulary ids."""

    offsets: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_arrays(
        cls, offsets: object, labels: object, scores: object, vocab_size: int | None = None
    ) -> CandidateLattice:
        off, lab, sc = _candidates(offsets, labels, scores, vocab_size)
        return cls(off, lab, sc)

    @classmethod
    def from_lists(
        cls, candidates: list[list[tuple[int, float]]], vocab_size: int | None = None
    ) -> CandidateLattice:
        """Convenience for small inputs: per position a list of `(label, score)`."""
        offsets = np.zeros(len(candidates) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(c) for c in candidates])
        labels = [lab for c in candidates for lab, _ in c]
        scores = [s for c in candidates for _, s in c]
        return cls.from_arrays(
            offsets,
            np.array(labels, dtype=np.int64),
            np.array(scores, dtype=np.float64),
            vocab_size,
        )

    @property
    def n_positions(self) -> int:
        return int(self.offsets.shape[0] - 1)


# Non-blank candidates kept per frame by `CTCLattice.from_log_probs`: enough for the LM to
# reorder the plausible characters of a frame, few enough to keep the blank-state set small.
CTC_TOP_K = 8


@dataclass(frozen=True, eq=False)
class CTCLattice:
    """Per-frame CTC output: frame t's blank log-score `blank[t]` and its non-blank candidates
    (CSR, like CandidateLattice) `labels[offsets[t]:offsets[t+1]]` (vocabulary ids) with
    `scores`.

    A path (an alignment) picks at every frame the blank or one candidate; its text is the
    labels with runs of one label not separated by a blank collapsed (`a a` reads "a",
    `a _ a` reads "aa"). Its score is the sum of the chosen frame scores plus a transition
    score for each pair of consecutive EMITTED characters (and the start / end score of the
    first / last one), so a character bigram LM scores the text, not the frames."""

    blank: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_arrays(
        cls, blank: object, offsets: object, labels: object, scores: object,
        vocab_size: int | None = None,
    ) -> CTCLattice:
        bl = as_scores(blank, "blank", 1)
        off = as_index(offsets, "offsets")
        if off.size != bl.shape[0] + 1:
            raise ShapeError(
                f"offsets must start at 0, be non-decreasing and have length T + 1 = "
                f"{bl.shape[0] + 1} (one blank score per frame); got length {off.size}"
            )
        off, lab, sc = _candidates(off, labels, scores, vocab_size)
        return cls(bl, off, lab, sc)

    @classmethod
    def from_log_probs(
        cls, log_probs: object, *, blank: int = 0, top_k: int = CTC_TOP_K,
        min_log_prob: float = -np.inf,
    ) -> CTCLattice:
        """From a CTC model's `(T, C)` per-frame log-probabilities, `C` = vocabulary + 1.

        Keeps every frame's blank column and its `top_k` best other columns scoring at least
        `min_log_prob` (best first, the lower column on ties). Columns become vocabulary ids by
        skipping the blank: id = column for columns before `blank`, column - 1 after it (with
        the usual `blank=0`, id = column - 1)."""
        lp = as_scores(log_probs, "log_probs", 2)
        t_len, c = lp.shape
        if not 0 <= int(blank) < max(c, 1):
            raise LabelRangeError(f"blank column {blank} is outside [0, {c}) for {c} columns")
        if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1:
            raise InvalidValueError(f"top_k must be an integer >= 1, got {top_k!r}")
        if np.isnan(min_log_prob):
            raise InvalidValueError("min_log_prob must not be NaN")
        blank = int(blank)
        rest = lp[:, 1:] if blank == 0 else np.delete(lp, blank, axis=1)  # a view when it can
        order, top = _top_k_rows(rest, min(int(top_k), rest.shape[1]))
        keep = top >= min_log_prob
        counts = keep.sum(axis=1)
        offsets = np.zeros(t_len + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(counts)
        return cls(np.ascontiguousarray(lp[:, blank]), offsets,
                   np.ascontiguousarray(order[keep], dtype=np.int64),
                   np.ascontiguousarray(top[keep].astype(lp.dtype)))

    @property
    def n_frames(self) -> int:
        return int(self.blank.shape[0])

    def collapse(self, choices: object) -> np.ndarray:
        """The text (label ids) of an alignment given as per-frame choices (candidate index,
        -1 for the blank): runs of one label not separated by a blank count once."""
        ch = as_index(choices, "choices")
        if ch.shape[0] != self.n_frames:
            raise ShapeError(f"choices has {ch.shape[0]} entries for {self.n_frames} frames")
        lab = np.where(ch >= 0, self.labels[np.maximum(ch, 0)] if self.labels.size else -1, -1)
        prev = np.concatenate(([-1], lab[:-1]))
        return np.ascontiguousarray(lab[(lab >= 0) & (lab != prev)], dtype=np.int64)


def _top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `k` best columns, best first, the lower column first among equal scores, and
    their scores: what a stable argsort of `-scores` gives, in time linear in the row length (a
    CTC model has thousands of columns and keeps a handful)."""
    t_len, c = scores.shape
    if k == 0 or t_len == 0:
        return np.zeros((t_len, k), dtype=np.int64), np.zeros((t_len, k), dtype=scores.dtype)
    kth = np.partition(scores, c - k, axis=1)[:, c - k : c - k + 1]  # each row's k-th best
    above = scores > kth
    tied = scores == kth
    # all columns above the k-th score, then the lowest tied columns up to k
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | tied
    crowded = np.flatnonzero(tied.sum(axis=1) > room[:, 0])  # rows with ties to break
    if crowded.size:
        chosen[crowded] = above[crowded] | (
            tied[crowded] & (np.cumsum(tied[crowded], axis=1) <= room[crowded]))
    rows, cols = np.nonzero(chosen)  # row-major: columns ascending within a row
    picked = scores[rows, cols]
    order = np.lexsort((cols, -picked, rows))  # by row, then best first, then lower column
    return cols[order].reshape(t_len, k).astype(np.int64), picked[order].reshape(t_len, k)


@dataclass(frozen=True, eq=False)
class WordLattice:
    """A DAG over character boundaries 0..n. Edge i spans `[starts[i], ends[i])` with a label
    (vocabulary id, or -1 when unlabelled) and a score. Edges are sorted by end (then start, then
    input order); edges ending at boundary e are `end_offsets[e]:end_offsets[e+1]`."""

    n: int
    starts: np.ndarray
    ends: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    end_offsets: np.ndarray

    @classmethod
    def from_edges(
        cls, n: int, starts: object, ends: object, labels: object, scores: object
    ) -> WordLattice:
        if int(n) < 0:
            raise ShapeError(f"n (number of characters) must be >= 0, got {n}")
        n = int(n)
        st = as_index(starts, "starts")
        en = as_index(ends, "ends")
        lab = as_index(labels, "labels")
        sc = as_scores(scores, "scores", 1)
        m = st.shape[0]
        if not (en.shape[0] == lab.shape[0] == sc.shape[0] == m):
            raise ShapeError(
                "starts, ends, labels, scores must have one length; "
                f"got {m}, {en.shape[0]}, {lab.shape[0]}, {sc.shape[0]}"
            )
        check_range(st, "starts", 0, max(n, 1))
        check_range(en, "ends", 1, n + 1)
        if m and (st >= en).any():
            i = int(np.flatnonzero(st >= en)[0])
            raise ShapeError(f"edge {i} has start {int(st[i])} >= end {int(en[i])}")
        check_range(lab, "labels", -1, np.iinfo(np.int64).max)
        order = np.lexsort((np.arange(m), st, en))
        st, en, lab, sc = st[order], en[order], lab[order], sc[order]
        end_offsets = np.zeros(n + 2, dtype=np.int64)
        np.add.at(end_offsets, en + 1, 1)
        end_offsets = np.cumsum(end_offsets)
        return cls(n, st, en, lab, np.ascontiguousarray(sc), end_offsets)

    @property
    def n_edges(self) -> int:
        return int(self.starts.shape[0])


@dataclass(frozen=True, eq=False)
class Path:
    """A best path. `nodes` index the lattice (label id per step for a Trellis, candidate index
    for a CandidateLattice, edge index for a WordLattice); `labels` are the label ids.

    For a CTCLattice `nodes` has one entry per frame (candidate index, -1 for the blank) and
    `labels` is the collapsed text, so `len(path)` counts emitted characters, not frames."""

    labels: np.ndarray
    nodes: np.ndarray
    score: float

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True, eq=False)
class BatchPath:
    """Best paths of a Trellis batch, ragged like its input."""

    labels: np.ndarray
    scores: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.lengths))).astype(np.int64)

    def __getitem__(self, i: int) -> Path:
        off = self.offsets
        lab = self.labels[off[i] : off[i + 1]]
        return Path(lab, lab, float(self.scores[i]))

    def padded(self, fill: int = -1) -> np.ndarray:
        """`(B, max(lengths))` labels, `fill` after each sequence's end."""
        out = np.full((len(self), int(self.lengths.max(initial=0))), fill, dtype=np.int64)
        mask = np.arange(out.shape[1])[None, :] < self.lengths[:, None]
        out[mask] = self.labels
        return out


@dataclass(frozen=True, eq=False)
class Marginals:
    """Posterior probabilities, laid out like the lattice's scores (`(N, K)` for a Trellis, one per
    candidate, one per edge), and the log-partition `log_z` (one per sequence for a batch)."""

    posteriors: np.ndarray
    log_z: np.ndarray

    def confidence(self) -> np.ndarray:
        """Trellis only: the largest posterior at each position."""
        return self.posteriors.max(axis=1)


def _check_k(k: int) -> None:
    if k == 0:
        raise ShapeError("emissions must have at least one label (K = 0 given)")


def _candidates(
    offsets: object, labels: object, scores: object, vocab_size: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated CSR candidates per position (a CandidateLattice's, a CTCLattice's frames)."""
    off = as_index(offsets, "offsets")
    lab = as_index(labels, "labels")
    sc = as_scores(scores, "scores", 1)
    if off.size == 0 or off[0] != 0 or (np.diff(off) < 0).any():
        raise ShapeError("offsets must start at 0 and be non-decreasing, length T + 1")
    if off[-1] != lab.shape[0] or lab.shape[0] != sc.shape[0]:
        raise ShapeError(
            f"offsets end at {int(off[-1])} but there are "
            f"{lab.shape[0]} labels and {sc.shape[0]} scores"
        )
    check_range(
        lab, "labels", 0, vocab_size if vocab_size is not None else np.iinfo(np.int64).max
    )
    return off, lab, sc
