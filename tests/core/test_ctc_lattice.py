"""CTC lattice decoding against brute-force enumeration of every alignment, the grammar's rules
(repeats, blanks), from_log_probs, and errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from graph_oracle import csr_logprob
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema import BigramModel, CTCLattice, DenseTransitions, kbest, marginals, viterbi
from jiema.errors import (
    InvalidInputError,
    InvalidValueError,
    LabelRangeError,
    NoPathError,
    ShapeError,
)

V = 4  # vocabulary of the tiny lattices


def _bigram(rng: np.random.Generator) -> BigramModel:
    counts = rng.integers(0, 5, size=(V, V))
    prev, nxt = np.nonzero(counts)
    return BigramModel.from_counts(rng.integers(1, 9, size=V), prev, nxt,
                                   counts[prev, nxt].astype(float), alpha=0.5)


def _dense(rng: np.random.Generator) -> DenseTransitions:
    mat = rng.uniform(-4, 0, size=(V, V))
    allowed = rng.random((V, V)) > 0.2
    return DenseTransitions.from_arrays(mat, rng.uniform(-2, 0, V), rng.uniform(-2, 0, V),
                                        allowed=allowed)


def _trans_score(trans, prev: int | None, nxt: int) -> float:
    if trans is None:
        return 0.0
    if isinstance(trans, BigramModel):
        return float(trans.start[nxt]) if prev is None else csr_logprob(trans, prev, nxt)
    return float(trans.start[nxt]) if prev is None else float(trans.log_matrix[prev, nxt])


def _end_score(trans, last: int | None) -> float:
    if isinstance(trans, DenseTransitions) and last is not None:
        return float(trans.end[last])
    return 0.0


def _alignments(lat: CTCLattice, trans):
    """Every alignment: (score, text, choices), from the definition."""
    frames = [[-1, *range(lat.offsets[t], lat.offsets[t + 1])] for t in range(lat.n_frames)]
    for choices in itertools.product(*frames):
        score, text, prev_lab = 0.0, [], -1
        for t, c in enumerate(choices):
            if c < 0:
                score += float(lat.blank[t])
                prev_lab = -1
                continue
            lab = int(lat.labels[c])
            score += float(lat.scores[c])
            if lab != prev_lab:
                score += _trans_score(trans, text[-1] if text else None, lab)
                text.append(lab)
            prev_lab = lab
        score += _end_score(trans, text[-1] if text else None)
        yield score, tuple(text), choices


def _best_texts(lat: CTCLattice, trans) -> list[tuple[float, tuple[int, ...]]]:
    best: dict[tuple[int, ...], float] = {}
    for score, text, _ in _alignments(lat, trans):
        best[text] = max(best.get(text, -math.inf), score)
    return sorted(((s, t) for t, s in best.items() if s > -math.inf), key=lambda st: -st[0])


def _random_lattice(rng: np.random.Generator, t_len: int, neg_inf: bool = False) -> CTCLattice:
    counts = rng.integers(0, 4, size=t_len)
    labels = rng.integers(0, V, size=int(counts.sum()))
    scores = rng.uniform(-4, 0, size=labels.size)
    blank = rng.uniform(-4, 0, size=t_len)
    if neg_inf:
        scores[rng.random(labels.size) < 0.2] = -np.inf
        blank[rng.random(t_len) < 0.2] = -np.inf
    return CTCLattice.from_arrays(blank, np.concatenate(([0], np.cumsum(counts))), labels,
                                  scores)


def _check(lat: CTCLattice, trans, k: int) -> None:
    texts = _best_texts(lat, trans)
    if not texts:
        with pytest.raises(NoPathError):
            viterbi(lat, trans)
        with pytest.raises(NoPathError):
            kbest(lat, trans, k)
        return
    best = viterbi(lat, trans)
    assert best.score == pytest.approx(texts[0][0], abs=1e-9)
    # the returned alignment really scores that much and reads its text
    by_choice = {c: (s, t) for s, t, c in _alignments(lat, trans)}
    s, t = by_choice[tuple(best.nodes.tolist())]
    assert s == pytest.approx(best.score, abs=1e-9)
    assert tuple(best.labels.tolist()) == t
    if len(texts) == 1 or texts[0][0] - texts[1][0] > 1e-6:
        assert t == texts[0][1]
    top = kbest(lat, trans, k)
    np.testing.assert_allclose([p.score for p in top], [s for s, _ in texts[:k]], atol=1e-9)
    assert len({tuple(p.labels.tolist()) for p in top}) == len(top)
    for p in top:
        s, t = by_choice[tuple(p.nodes.tolist())]
        assert s == pytest.approx(p.score, abs=1e-9)
        assert tuple(p.labels.tolist()) == t
    assert top[0].score == pytest.approx(best.score, abs=1e-12)


@pytest.mark.parametrize("kind", ["none", "bigram", "dense"])
@pytest.mark.parametrize("seed", range(12))
def test_matches_enumeration(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    trans = {"none": None, "bigram": _bigram(rng), "dense": _dense(rng)}[kind]
    for t_len in range(0, 6):
        lat = _random_lattice(rng, t_len, neg_inf=seed % 3 == 0)
        _check(lat, trans, k=int(rng.integers(1, 12)))
