"""Word-lattice (DAG) decoding against brute-force enumeration of every chain 0 -> n."""

from __future__ import annotations

import math

import numpy as np
import pytest
from graph_oracle import check_against_enumeration, draw_transitions
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema import BigramModel, DenseTransitions, WordLattice, kbest, marginals, viterbi
from jiema.errors import LabelRangeError, NoPathError

K = 3
V = 4


def _chains(lat: WordLattice) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []

    def walk(at: int, acc: tuple[int, ...]) -> None:
        if at == lat.n:
            out.append(acc)
            return
        for e in range(lat.n_edges):
            if lat.starts[e] == at:
                walk(int(lat.ends[e]), (*acc, e))

    walk(0, ())
    return out


@st.composite
def _cases(draw):
    n = draw(st.integers(0, 5))
    m = draw(st.integers(0, 9)) if n else 0
    starts, ends = [], []
    for _ in range(m):
        s = draw(st.integers(0, n - 1))
        starts.append(s)
        ends.append(draw(st.integers(s + 1, min(n, s + 3))))
    kind = draw(st.sampled_from(["none", "dense", "bigram"]))
    high = {"none": V, "dense": K, "bigram": V}[kind]
    low = -1 if kind == "none" else 0
    labels = [draw(st.integers(low, high - 1)) for _ in range(m)]
    scores = [-math.inf if draw(st.integers(0, 9)) == 0 else draw(st.floats(-5, 0))
              for _ in range(m)]
    lat = WordLattice.from_edges(n, starts, ends, labels, np.array(scores, dtype=float))
    trans = draw_transitions(draw, kind, K, V, alpha=0.5)
    return lat, trans


@settings(deadline=None, max_examples=100)
@given(_cases())
def test_viterbi_kbest_marginals_match_enumeration(case) -> None:
    lat, trans = case
    check_against_enumeration(lat, trans, _chains(lat), k=4)


def _segment_lattice() -> WordLattice:
    # 0-1-2-3 with words [0,2) and [1,3): edges sorted by end then start
    return WordLattice.from_edges(3, [0, 0, 1, 1, 2], [1, 2, 2, 3, 3], [-1] * 5,
                                  [-1.0, -1.5, -1.0, -2.0, -0.5])


def test_small_dag_by_hand() -> None:
    lat = _segment_lattice()
    p = viterbi(lat)
    assert p.nodes.tolist() == [1, 4] and p.score == pytest.approx(-2.0)
    assert [q.nodes.tolist() for q in kbest(lat, None, 5)] == [[1, 4], [0, 2, 4], [0, 3]]
    post = marginals(lat).posteriors
    z = math.exp(-2.0) + math.exp(-2.5) + math.exp(-3.0)
    assert post[4] == pytest.approx((math.exp(-2.0) + math.exp(-2.5)) / z)


def test_unreachable_end_and_empty() -> None:
    gap = WordLattice.from_edges(3, [0, 2], [1, 3], [-1, -1], [0.0, 0.0])
    with pytest.raises(NoPathError, match="boundary 3"):
        viterbi(gap)
    with pytest.raises(NoPathError):
        marginals(gap)
    empty = WordLattice.from_edges(0, [], [], [], [])
    assert len(viterbi(empty)) == 0 and viterbi(empty).score == 0.0
    assert marginals(empty).log_z.tolist() == [0.0]


def test_unlabelled_edges_need_no_transitions() -> None:
    lat = _segment_lattice()
    with pytest.raises(LabelRangeError, match="-1"):
        viterbi(lat, DenseTransitions.uniform(2))
    with pytest.raises(LabelRangeError):
        kbest(lat, BigramModel.from_counts(np.ones(3), [], [], []), 2)


def test_word_bigram_changes_the_segmentation() -> None:
    # words: 0 "ab" [0,2), 1 "a" [0,1), 2 "bc" [1,3), 3 "c" [2,3)
    lat = WordLattice.from_edges(3, [0, 0, 1, 2], [2, 1, 3, 3], [0, 1, 2, 3],
                                 [-1.0, -1.2, -1.2, -1.0])
    assert viterbi(lat).labels.tolist() == [0, 3]
    model = BigramModel.from_counts([10] * 4, [1, 0, 0], [2, 3, 0], [50, 1, 30], alpha=0.01)
    assert viterbi(lat, model).labels.tolist() == [1, 2]


def test_kbest_k_beyond_the_paths_returns_them_all() -> None:
    lat = _segment_lattice()  # 3 paths
    assert [q.nodes.tolist() for q in kbest(lat, None, 10**9)] == [[1, 4], [0, 2, 4], [0, 3]]
    labelled = WordLattice.from_edges(3, [0, 0, 1, 1, 2], [1, 2, 2, 3, 3], [0, 1, 0, 2, 0],
                                      [-1.0, -1.5, -1.0, -2.0, -0.5])
    bigram = BigramModel.from_counts(np.ones(3), [], [], [])
    assert len(kbest(labelled, bigram, 10**12)) == 3
