"""A line's CTC frame posteriors + the character bigram LM -> text, through the core's CTC lattice.

The line recogniser's `(T, K + 1)` frame log-posteriors (column 0 = blank) become a
`jiema.CTCLattice` (each frame's blank and its best few characters); `jiema.viterbi` then finds
the best alignment under the CTC grammar with the LM scoring each pair of consecutive EMITTED
characters, so the LM can choose between readings that differ in how frames group into
characters (a doubled character, a mark the greedy path dropped), which the old route — group
frames by the greedy alignment first, then decode a candidate lattice — could not undo.

Without an LM (or at weight 0) the same Viterbi is best-path decoding: every frame's argmax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from jiema import BigramModel, CTCLattice, viterbi
from jiema.errors import InvalidValueError, ShapeError

from .language_model import CharLM

# The LM's weight against the summed frame log-posteriors, and a bonus per emitted character
# that offsets the LM's cost of each character (without it the LM prefers dropping characters:
# lines CER 3.86% -> 5.56% at weight 0.4 and no bonus, benchmarks/ocr.py --lines 200 --seed 7).
# Tuned on rendered lines (training fonts, PKU-test text; dev seeds 101 and 102, not the
# benchmark's) with gb2312-line-ctc: seed 101 (200 lines) LM off 3.77%, 0.2/3.0 3.22%,
# 0.4/4.0 3.54%; seed 102 (300 lines) off 4.59%, 0.1/2.0 4.35%, 0.15/2.5 4.35%, 0.2/2.0 4.53%.
CTC_LM_WEIGHT = 0.15
CTC_CHAR_BONUS = 2.5
# Characters kept per frame: the LM only reorders what the network finds plausible, and a
# frame's fifth-best character is almost never the right one; fewer keeps Viterbi's states few.
FRAME_TOP_K = 5
# A frame candidate below this posterior is not kept: e^-9 ~ 1e-4, the cut the earlier route
# (frames grouped by the greedy alignment, then a candidate lattice) used.
MIN_FRAME_LOG_PROB = -9.0


@dataclass(frozen=True)
class CTCReading:
    """One decoded line: its text, a confidence per character (the mean posterior of that
    character over the frames it was read from), each character's first and last frame, and
    its alternatives (the frames' posteriors averaged, blank left out, renormalised)."""

    text: str
    confidences: list[float]
    spans: list[tuple[int, int]]
    candidates: list[list[tuple[str, float]]]


def decode_frames(log_probs: np.ndarray, labels: Sequence[str], lm: CharLM | None = None,
                  lm_weight: float = CTC_LM_WEIGHT, top_k: int = FRAME_TOP_K,
                  char_bonus: float = CTC_CHAR_BONUS) -> CTCReading:
    """Decode one line's frame log-posteriors (`labels[j]` is column `j + 1`)."""
    lp = np.asarray(log_probs)
    if not np.issubdtype(lp.dtype, np.floating):
        lp = lp.astype(np.float64)
    if lp.ndim != 2 or lp.shape[1] != len(labels) + 1:
        raise ShapeError(f"log_probs must be (T, {len(labels) + 1}), got {lp.shape}")
    if lm_weight < 0 or math.isnan(lm_weight):
        raise InvalidValueError(f"lm_weight must be >= 0, got {lm_weight}")
    lattice = frame_lattice(lp, top_k, MIN_FRAME_LOG_PROB)
    classes = lattice.labels  # charset ids of the candidates (CSR order)
    if lm is None or lm_weight == 0:
        choices = viterbi(lattice).nodes
    else:
        lm_ids = _lm_ids(lm, tuple(labels))[classes] if classes.size else classes
        in_lm = CTCLattice.from_arrays(lattice.blank, lattice.offsets, lm_ids, lattice.scores,
                                       lm.model.vocab_size)
        choices = viterbi(in_lm, _transitions(lm, float(lm_weight), float(char_bonus))).nodes
    return _reading(lp, labels, classes, np.asarray(choices, dtype=np.int64), top_k)


def frame_lattice(log_probs: np.ndarray, top_k: int, min_log_prob: float) -> CTCLattice:
    """`CTCLattice.from_log_probs(log_probs, top_k=top_k, min_log_prob=min_log_prob)` (blank in
    column 0), the same lattice, found by keeping the entries at or above `min_log_prob` first:
    over a charset of ~6,900 columns most frames keep a handful, so the per-row partition
    `from_log_probs` runs over every column (four fifths of a line's decoding time) is skipped."""
    if not math.isfinite(min_log_prob):
        return CTCLattice.from_log_probs(log_probs, top_k=top_k, min_log_prob=min_log_prob)
    lp = np.ascontiguousarray(log_probs)
    flat = np.flatnonzero(lp.ravel() >= min_log_prob)  # one pass; a 2-D nonzero costs 5x more
    rows, cols = np.divmod(flat, lp.shape[1])
    rows, cols, scores = rows[cols > 0], cols[cols > 0] - 1, lp.ravel()[flat[cols > 0]]
    order = np.lexsort((cols, -scores, rows))  # by frame, then best first, lower column first
    rows, cols, scores = rows[order], cols[order], scores[order]
    counts = np.bincount(rows, minlength=lp.shape[0])
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    keep = np.arange(rows.size) - starts[rows] < top_k
    offsets = np.zeros(lp.shape[0] + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.minimum(counts, top_k))
    return CTCLattice.from_arrays(np.ascontiguousarray(lp[:, 0]), offsets,
                                  cols[keep].astype(np.int64), scores[keep])


@lru_cache(maxsize=8)
def _lm_ids(lm: CharLM, labels: tuple[str, ...]) -> np.ndarray:
    """The LM id of each charset label (a recogniser's charset meets a handful of LMs)."""
    return lm.ids(labels)


@lru_cache(maxsize=8)
def _transitions(lm: CharLM, weight: float, bonus: float) -> BigramModel:
    """The weighted LM with every transition (into each emitted character) `bonus` higher;
    cached, since building a BigramModel's lookup tables costs far more than a line's decode."""
    model = lm.weighted(weight)
    if bonus == 0.0:
        return model
    return BigramModel(model.vocab_size, model.indptr, model.indices, model.logp + bonus,
                       model.row_default + bonus, model.start + bonus)


def _reading(lp: np.ndarray, labels: Sequence[str], classes: np.ndarray,
             choices: np.ndarray, n_alternatives: int) -> CTCReading:
    """Characters of an alignment: a run of frames choosing one class, not broken by a blank."""
    chosen = np.where(choices >= 0, classes[np.maximum(choices, 0)] if classes.size else -1, -1)
    spans: list[tuple[int, int]] = []
    ids: list[int] = []
    for t, c in enumerate(chosen.tolist()):
        if c < 0:
            continue
        if spans and spans[-1][1] == t - 1 and ids[-1] == c:
            spans[-1] = (spans[-1][0], t)
        else:
            spans.append((t, t))
            ids.append(c)
    confidences, candidates = [], []
    for (t0, t1), c in zip(spans, ids, strict=True):
        frames = np.exp(lp[t0: t1 + 1, 1:])
        confidences.append(float(frames[:, c].mean()))
        p = frames.mean(axis=0)
        p = p / max(float(p.sum()), 1e-12)
        top = np.argpartition(-p, min(n_alternatives, p.size) - 1)[:n_alternatives]
        top = top[np.lexsort((top, -p[top]))]  # best first, the lower id among equals
        candidates.append([(labels[int(j)], float(p[j])) for j in top])
    return CTCReading("".join(labels[c] for c in ids), confidences, spans, candidates)
