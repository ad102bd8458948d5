"""Candidate-lattice decoding against brute-force enumeration, the OCR golden case, errors."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import pytest
from graph_oracle import check_against_enumeration, draw_transitions
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema import BigramModel, CandidateLattice, DenseTransitions, kbest, marginals, viterbi
from jiema.errors import InvalidInputError, LabelRangeError, NoPathError

K = 3  # labels for dense transitions
V = 4  # vocabulary for the bigram


@st.composite
def _cases(draw):
    t = draw(st.integers(0, 4))
    counts = [draw(st.integers(1, 3)) for _ in range(t)]
    high = draw(st.sampled_from([K, V]))
    labels = [draw(st.integers(0, high - 1)) for _ in range(sum(counts))]
    scores = [-math.inf if draw(st.integers(0, 9)) == 0 else draw(st.floats(-5, 0))
              for _ in labels]
    lat = CandidateLattice.from_arrays(np.concatenate(([0], np.cumsum(counts))).astype(int),
                                       np.array(labels, dtype=np.int64),
                                       np.array(scores, dtype=np.float32 if high == V else float))
    kind = draw(st.sampled_from(["none", "dense", "bigram"]))
    trans = draw_transitions(draw, kind, K, V)
    return lat, trans


def _fits(lat, trans) -> bool:
    return not (isinstance(trans, DenseTransitions) and lat.labels.size and lat.labels.max() >= K)


@settings(deadline=None, max_examples=100)
@given(_cases())
def test_viterbi_kbest_marginals_match_enumeration(case) -> None:
    lat, trans = case
    if not _fits(lat, trans):
        with pytest.raises(LabelRangeError):
            viterbi(lat, trans)
        return
    ranges = [range(lat.offsets[t], lat.offsets[t + 1]) for t in range(lat.n_positions)]
    post = check_against_enumeration(lat, trans, itertools.product(*ranges), k=5)
    if post is not None:
        sums = np.add.reduceat(post, lat.offsets[:-1]) if lat.n_positions else []
        np.testing.assert_allclose(sums, 1.0, atol=1e-9)


def _ocr_case():
    chars = "电宙柳视规"
    ids = {c: i for i, c in enumerate(chars)}
    # unigram counts: 电 145001, 宙 1980; 柳 视 规 only appear as second characters here -> 0
    unigram = [145001, 1980, 0, 0, 0]
    pairs = {"电柳": 0, "电视": 12426, "电规": 7, "宙规": 18}  # every other pair: count 0
    model = BigramModel.from_counts(unigram, [ids[p[0]] for p in pairs],
                                    [ids[p[1]] for p in pairs], list(pairs.values()))
    cnn = [[("电", 0.99996), ("宙", 0.00004)], [("柳", 0.87838), ("视", 0.12148), ("规", 0.00012)]]
    lat = CandidateLattice.from_lists([[(ids[c], math.log(p)) for c, p in pos] for pos in cnn],
                                      vocab_size=len(chars))
    return chars, model, lat


def test_ocr_golden_case() -> None:
    chars, model, lat = _ocr_case()
    assert "".join(chars[i] for i in viterbi(lat, model).labels) == "电视"
    assert "".join(chars[i] for i in viterbi(lat).labels) == "电柳"
    assert "".join(chars[i] for i in kbest(lat, model, 2)[1].labels) == "电柳"
    post = marginals(lat, model).posteriors
    assert post[3] > 0.99  # 视 is almost surely right once the bigram speaks


def test_empty_lattice_and_empty_position() -> None:
    empty = CandidateLattice.from_arrays([0], [], [])
    for trans in (None, DenseTransitions.uniform(2)):
        p = viterbi(empty, trans)
        assert len(p) == 0 and p.score == 0.0
        assert kbest(empty, trans, 3)[0].score == 0.0
        m = marginals(empty, trans)
        assert m.posteriors.shape == (0,) and m.log_z.tolist() == [0.0]
    gap = CandidateLattice.from_arrays([0, 1, 1, 2], [0, 1], [0.0, 0.0])
    with pytest.raises(NoPathError, match="position 1"):
        viterbi(gap)


def test_bad_arguments() -> None:
    lat = CandidateLattice.from_lists([[(0, 0.0), (5, -1.0)]])
    with pytest.raises(LabelRangeError, match="K = 3"):
        viterbi(lat, DenseTransitions.uniform(3))
    with pytest.raises(LabelRangeError, match="vocab_size = 4"):
        marginals(lat, BigramModel.from_counts(np.ones(4), [], [], []))
    with pytest.raises(InvalidInputError):
        kbest(lat, None, 0)
    with pytest.raises(InvalidInputError):
        viterbi(lat, np.zeros((6, 6)))


def test_ties_go_to_the_lowest_candidate_index() -> None:
    lat = CandidateLattice.from_lists([[(0, 0.0), (1, 0.0)], [(2, -1.0), (3, -1.0)]])
    for trans in (None, DenseTransitions.uniform(4)):
        assert viterbi(lat, trans).nodes.tolist() == [0, 2]
        assert [p.nodes.tolist() for p in kbest(lat, trans, 4)] == [[0, 2], [1, 2], [0, 3], [1, 3]]


def test_threads_decode_concurrently() -> None:
    rng = np.random.default_rng(3)
    model = BigramModel.from_sequences([rng.integers(0, 50, 400) for _ in range(5)], 50)
    lat = CandidateLattice.from_arrays(np.arange(201) * 5, rng.integers(0, 50, 1000),
                                       rng.normal(size=1000))
    want = viterbi(lat, model)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(viterbi(lat, model)))
               for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(np.array_equal(r.nodes, want.nodes) and r.score == want.score for r in results)
