"""Top-k glyph candidates + character bigram LM -> text, via the core's candidate lattice.

Score of a reading c_1..c_T: sum_t log p_cnn(c_t) + w * (log P(c_1) + sum_t log P(c_t | c_{t-1})),
best path by `jiema.viterbi`, per-character confidence = posterior of the chosen candidate
from `jiema.marginals` (forward-backward over the same scores).

The defaults were measured, not guessed, on 600 rendered PKU-test images from seeds other than the
benchmark's (tuning runs not kept in the repository). With the final shipped char CNN, line CER was
2.72% with the LM off, 1.68-1.70% for weights 0.25-0.5 and 2.04% at weight 1 (banners 4.62% off,
3.65-3.76% at 0.25-0.5, 4.28% at 1): the LM helps most at about half weight. Candidates far below
their glyph's best (< 1% of it) are dropped first: with the interim CNN they were almost never
right, and at full weight the LM picked them for a common bigram (5.68% -> 5.36% CER at weight 1).
Re-measured once the classifier's top-1 had improved (layout prior, bar shapes): 0.4 beats 0.5 on
every dev set (errors at 0.35/0.4/0.45/0.5 on fresh renders: lines seeds 80+81 60/56/59/62, held-
out lines seed 84 26/27/27/30, banners seed 82 33/33/33/36, seed 85 57/57/57/59). """

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from jiema import CandidateLattice, marginals, viterbi
from jiema.errors import InvalidValueError

from .language_model import CharLM

Candidates = Sequence[Sequence[tuple[str, float]]]
_FLOOR = 1e-12  # a probability of 0 would be -inf: a candidate that can never be chosen
DEFAULT_LM_WEIGHT = 0.4  # LM log-probabilities x this, against the classifier's
MIN_RATIO = 0.01  # candidates below this fraction of their glyph's best are not considered


# glyphs some of the Debian faces draw alike: the CNN's preference among them says little
# (it read 2000 as 2OOO at 0.92 vs 0.009), so each gets the best probability of its group and
# the LM chooses. Measured on 1,200 dev lines + 240 banners (seeds 77-79): line CER 0.61% ->
# 0.58%, banners 3.31% -> 3.14%; adding "1lI|丨" cost two lines, "口囗" changed nothing. ○ is
# left out: a full-width circle, not a digit's look-alike (the LM turned 二○○○ into 二000;
# seen in the benchmark, and dev CER is the same without it).
# 一 and — were a group too, until the pipeline's layout prior learnt to tell them apart by
# where the bar sits (`bar_shapes`); sharing them then threw that away (dev renders, seeds 80-82:
# 98 errors without the group, 103 with it, 106 before the bar shapes).
LOOK_ALIKES = ("0O",)


def share_look_alikes(candidates: Candidates, groups: Sequence[str] = LOOK_ALIKES
                      ) -> list[list[tuple[str, float]]]:
    """Each glyph's candidates, where one of a look-alike group is a candidate, with every
    member of the group at the best probability among them (order kept, members appended)."""
    _check(candidates)
    return _share_look_alikes(candidates, groups)


def _share_look_alikes(candidates: Candidates, groups: Sequence[str]
                       ) -> list[list[tuple[str, float]]]:
    out = []
    for cands in candidates:
        probs = dict(cands)
        row = list(cands)
        for group in groups:
            best = max((probs[ch] for ch in group if ch in probs), default=None)
            if best is None:
                continue
            row = [(ch, best if ch in group else p) for ch, p in row]
            row += [(ch, best) for ch in group if ch not in probs]
        out.append(row)
    return out


def _check(candidates: Candidates) -> None:
    for t, cands in enumerate(candidates):
        if not cands:
            raise InvalidValueError(f"glyph {t} has no candidates; every position needs one")
        for ch, p in cands:
            if not (0.0 <= p <= 1.0) or math.isnan(p):
                raise InvalidValueError(f"glyph {t}: probability of {ch!r} is {p}, not in [0, 1]")


def prune_candidates(candidates: Candidates, min_ratio: float = MIN_RATIO
                     ) -> list[list[tuple[str, float]]]:
    """Each glyph's candidates without those below `min_ratio` x its best probability (the
    best is always kept; order is kept)."""
    if not (0.0 <= min_ratio <= 1.0):
        raise InvalidValueError(f"min_ratio must be in [0, 1], got {min_ratio}")
    _check(candidates)
    out = []
    for cands in candidates:
        if min_ratio == 0.0:
            out.append(list(cands))
            continue
        floor = min_ratio * max(p for _, p in cands)
        out.append([(ch, p) for ch, p in cands if p >= floor])
    return out


def candidate_lattice(candidates: Candidates, lm: CharLM) -> tuple[CandidateLattice, list[str]]:
    """The lattice (labels = LM ids, scores = log probabilities) and the flat candidate chars."""
    chars: list[str] = []
    scores: list[float] = []
    offsets = np.zeros(len(candidates) + 1, dtype=np.int64)
    _check(candidates)
    for t, cands in enumerate(candidates):
        for ch, p in cands:
            chars.append(ch)
            scores.append(math.log(max(p, _FLOOR)))
        offsets[t + 1] = len(chars)
    lattice = CandidateLattice.from_arrays(offsets, lm.ids(chars),
                                           np.asarray(scores, dtype=np.float64),
                                           lm.model.vocab_size)
    return lattice, chars


def decode_line(candidates: Candidates, lm: CharLM | None,
                lm_weight: float = DEFAULT_LM_WEIGHT,
                min_ratio: float = MIN_RATIO,
                look_alikes: Sequence[str] = LOOK_ALIKES) -> tuple[str, list[float]]:
    """Best text for one line of glyphs and a confidence per character.

    `candidates[t]` lists `(char, probability)` for glyph t (e.g. `CharClassifier.topk`).
    With `lm=None` or `lm_weight=0` each glyph keeps its most probable candidate and its
    probability as the confidence. Otherwise candidates below `min_ratio` x their glyph's best
    are dropped (`prune_candidates`) and the rest decoded with the LM; a confidence is the
    chosen candidate's posterior among the kept ones.
    """
    if lm_weight < 0 or math.isnan(lm_weight):
        raise InvalidValueError(f"lm_weight must be >= 0, got {lm_weight}")
    if not candidates:
        return "", []
    _check(candidates)
    if lm is None or lm_weight == 0:
        best = [max(cands, key=lambda c: c[1]) for cands in candidates]  # first of equals wins
        return "".join(c for c, _ in best), [float(p) for _, p in best]
    if not (0.0 <= min_ratio <= 1.0):
        raise InvalidValueError(f"min_ratio must be in [0, 1], got {min_ratio}")
    shared = _share_look_alikes(candidates, look_alikes) if look_alikes else candidates
    lattice, chars = candidate_lattice(prune_candidates(shared, min_ratio), lm)
    transitions = lm.weighted(float(lm_weight))
    path = viterbi(lattice, transitions)
    post = marginals(lattice, transitions).posteriors
    nodes = [int(n) for n in path.nodes]
    return "".join(chars[n] for n in nodes), [float(post[n]) for n in nodes]
