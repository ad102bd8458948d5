"""Top-k glyph candidates + character bigram LM -> text, via the core's candidate lattice.

Score of a reading c_1..c_T: sum_t log p_cnn(c_t) + w * (log P(c_1) + sum_t log P(c_t | c_{t-1})),
best path by `jiema.viterbi`, per-character confidence = posterior of the chosen candidate
from `jiema.marginals` (forward-backward over the same scores).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from jiema import CandidateLattice, marginals, viterbi
from jiema.errors import InvalidValueError

from .language_model import CharLM

Candidates = Sequence[Sequence[tuple[str, float]]]
_FLOOR = 1e-12  # a probability of 0 would be -inf: a candidate that can never be chosen


def candidate_lattice(candidates: Candidates, lm: CharLM) -> tuple[CandidateLattice, list[str]]:
    """The lattice (labels = LM ids, scores = log probabilities) and the flat candidate chars."""
    chars: list[str] = []
    scores: list[float] = []
    offsets = np.zeros(len(candidates) + 1, dtype=np.int64)
    for t, cands in enumerate(candidates):
        if not cands:
            raise InvalidValueError(f"glyph {t} has no candidates; every position needs one")
        for ch, p in cands:
            if not (0.0 <= p <= 1.0) or math.isnan(p):
                raise InvalidValueError(f"glyph {t}: probability of {ch!r} is {p}, not in [0, 1]")
            chars.append(ch)
            scores.append(math.log(max(p, _FLOOR)))
        offsets[t + 1] = len(chars)
    lattice = CandidateLattice.from_arrays(offsets, lm.ids(chars),
                                           np.asarray(scores, dtype=np.float64),
                                           lm.model.vocab_size)
    return lattice, chars


def decode_line(candidates: Candidates, lm: CharLM | None,
                lm_weight: float = 1.0) -> tuple[str, list[float]]:
    """Best text for one line of glyphs and a confidence per character.

    `candidates[t]` lists `(char, probability)` for glyph t (e.g. `CharClassifier.topk`).
    With `lm=None` or `lm_weight=0` each glyph keeps its most probable candidate and its
    probability as the confidence.
    """
    if lm_weight < 0 or math.isnan(lm_weight):
        raise InvalidValueError(f"lm_weight must be >= 0, got {lm_weight}")
    if not candidates:
        return "", []
    if lm is None or lm_weight == 0:
        best = []
        for t, cands in enumerate(candidates):
            if not cands:
                raise InvalidValueError(f"glyph {t} has no candidates; every position needs one")
            best.append(max(cands, key=lambda c: c[1]))  # first of equals wins
        return "".join(c for c, _ in best), [float(p) for _, p in best]
    lattice, chars = candidate_lattice(candidates, lm)
    transitions = lm.weighted(float(lm_weight))
    path = viterbi(lattice, transitions)
    post = marginals(lattice, transitions).posteriors
    nodes = [int(n) for n in path.nodes]
    return "".join(chars[n] for n in nodes), [float(post[n]) for n in nodes]
