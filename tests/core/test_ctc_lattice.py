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
        scores, text = _scored(lat, trans, choices)
        yield scores[-1], text, choices


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


def _one_per_frame(labels: list[int], blank_wins: list[bool]) -> CTCLattice:
    """One candidate per frame; the blank beats it where `blank_wins`."""
    blank = [-0.1 if b else -3.0 for b in blank_wins]
    scores = [-3.0 if b else -0.1 for b in blank_wins]
    return CTCLattice.from_arrays(blank, np.arange(len(labels) + 1), labels, scores)


@pytest.mark.parametrize("trans", [None, "bigram"])
def test_repeats_need_a_blank_between(trans) -> None:
    lm = _bigram(np.random.default_rng(0)) if trans else None
    assert viterbi(_one_per_frame([1, 1], [False, False]), lm).labels.tolist() == [1]
    three = viterbi(_one_per_frame([1, 2, 1], [False, True, False]), lm)
    assert three.labels.tolist() == [1, 1]
    assert three.nodes.tolist() == [0, -1, 2]
    assert viterbi(_one_per_frame([1, 2, 2, 3], [False, False, False, False]),
                   lm).labels.tolist() == [1, 2, 3]


def test_the_lm_scores_emitted_characters_not_frames() -> None:
    """`a a _ b` and `a _ _ b` read "ab" and pay log P(b | a) once, P(a | a) never."""
    rng = np.random.default_rng(3)
    lm = _bigram(rng)
    lat = _one_per_frame([0, 0, 2, 1], [False, False, True, False])
    best = viterbi(lat, lm)
    frames = -0.1 * 3 - 0.1
    assert best.labels.tolist() == [0, 1]
    assert best.score == pytest.approx(frames + lm.start[0] + csr_logprob(lm, 0, 1))


def test_no_lm_is_the_greedy_path_collapsed() -> None:
    rng = np.random.default_rng(7)
    t_len, c = 40, 6
    lp = np.log(rng.dirichlet(np.full(c, 0.3), size=t_len))
    lat = CTCLattice.from_log_probs(lp, top_k=c)
    best = viterbi(lat)
    greedy = lp.argmax(axis=1)
    expect = [int(g) - 1 for i, g in enumerate(greedy) if g != 0 and (i == 0 or greedy[i - 1] != g)]
    assert best.labels.tolist() == expect
    assert best.score == pytest.approx(lp.max(axis=1).sum())


def test_a_language_model_changes_the_reading() -> None:
    """Frame scores prefer "ab"; an LM that forbids a -> b makes it "ac"."""
    lat = CTCLattice.from_arrays([-5.0, -5.0], [0, 1, 3], [0, 1, 2], [0.0, -0.1, -0.2])
    assert viterbi(lat).labels.tolist() == [0, 1]
    mat = np.zeros((3, 3))
    allowed = np.ones((3, 3), dtype=bool)
    allowed[0, 1] = False
    lm = DenseTransitions.from_arrays(mat, np.zeros(3), np.zeros(3), allowed=allowed)
    assert viterbi(lat, lm).labels.tolist() == [0, 2]
    assert [p.labels.tolist() for p in kbest(lat, lm, 5)] == [[0, 2], [0], [1], [2], []]


def test_kbest_merges_alignments_of_one_text() -> None:
    """Many alignments read "a" (blank placement), so k-best must look past them."""
    t_len = 8
    lat = CTCLattice.from_arrays(np.full(t_len, -0.7), np.arange(t_len + 1), np.zeros(t_len, int),
                                 np.full(t_len, -0.69))
    top = kbest(lat, None, 3)
    assert [p.labels.tolist() for p in top] == [[0], [0, 0], [0, 0, 0]]
    np.testing.assert_allclose([p.score for p in top], [-0.69 * (8 - b) - 0.7 * b
                                                        for b in range(3)])
    _check(CTCLattice.from_arrays(lat.blank[:5], lat.offsets[:6], lat.labels[:5], lat.scores[:5]),
           None, 6)


def test_empty_and_blank_only() -> None:
    empty = CTCLattice.from_arrays(np.zeros(0), [0], np.zeros(0, int), np.zeros(0))
    assert len(viterbi(empty)) == 0 and viterbi(empty).score == 0.0
    assert [len(p) for p in kbest(empty, None, 3)] == [0]
    blanks = CTCLattice.from_arrays([-1.0, -2.0], [0, 0, 0], np.zeros(0, int), np.zeros(0))
    best = viterbi(blanks, _bigram(np.random.default_rng(1)))
    assert best.labels.tolist() == [] and best.nodes.tolist() == [-1, -1]
    assert best.score == pytest.approx(-3.0)


def test_from_log_probs_keeps_blank_and_top_k() -> None:
    lp = np.log(np.array([[0.5, 0.1, 0.3, 0.1], [0.1, 0.2, 0.2, 0.5]]))
    lat = CTCLattice.from_log_probs(lp, top_k=2)
    np.testing.assert_allclose(lat.blank, lp[:, 0])
    assert lat.offsets.tolist() == [0, 2, 4]
    assert lat.labels.tolist() == [1, 0, 2, 0]  # column - 1, best first, lower id on ties
    np.testing.assert_allclose(lat.scores, [lp[0, 2], lp[0, 1], lp[1, 3], lp[1, 1]])
    last = CTCLattice.from_log_probs(lp, blank=3, top_k=3, min_log_prob=math.log(0.15))
    np.testing.assert_allclose(last.blank, lp[:, 3])
    assert last.labels.tolist() == [0, 2, 1, 2]  # columns before the blank keep their id
    with pytest.raises(LabelRangeError, match="blank column 4"):
        CTCLattice.from_log_probs(lp, blank=4)
    with pytest.raises(InvalidValueError, match="top_k"):
        CTCLattice.from_log_probs(lp, top_k=0)
    with pytest.raises(InvalidValueError, match="top_k"):
        CTCLattice.from_log_probs(lp, top_k=2.5)  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match="log_probs must have 2"):
        CTCLattice.from_log_probs(lp[0])
    none = CTCLattice.from_log_probs(np.zeros((0, 4), dtype=np.float32))
    assert none.n_frames == 0 and viterbi(none).score == 0.0


def test_errors() -> None:
    with pytest.raises(ShapeError, match="length T \\+ 1 = 3"):
        CTCLattice.from_arrays([0.0, 0.0], [0, 1], [0], [0.0])
    with pytest.raises(ShapeError, match="offsets end at 2"):
        CTCLattice.from_arrays([0.0, 0.0], [0, 1, 2], [0], [0.0])
    with pytest.raises(InvalidValueError, match="blank must hold finite"):
        CTCLattice.from_arrays([np.nan], [0, 1], [0], [0.0])
    with pytest.raises(InvalidValueError, match="scores must hold finite"):
        CTCLattice.from_arrays([0.0], [0, 1], [0], [np.inf])
    with pytest.raises(LabelRangeError, match="labels"):
        CTCLattice.from_arrays([0.0], [0, 1], [-1], [0.0])
    with pytest.raises(LabelRangeError, match="labels"):
        CTCLattice.from_arrays([0.0], [0, 1], [5], [0.0], vocab_size=5)
    lat = CTCLattice.from_arrays([0.0], [0, 1], [V], [0.0])
    with pytest.raises(LabelRangeError, match=f"vocab_size = {V}"):
        viterbi(lat, _bigram(np.random.default_rng(0)))
    with pytest.raises(LabelRangeError, match=f"vocab_size = {V}"):
        kbest(lat, _bigram(np.random.default_rng(0)), 2)
    with pytest.raises(InvalidInputError, match="marginals are not implemented"):
        marginals(lat)
    with pytest.raises(InvalidInputError, match="lengths"):
        viterbi(lat, lengths=[1])
    with pytest.raises(InvalidValueError, match="k must be"):
        kbest(lat, None, 0)
    dead = CTCLattice.from_arrays([-np.inf], [0, 1], [0], [-np.inf])
    with pytest.raises(NoPathError, match="CTC frames"):
        viterbi(dead)


@st.composite
def _cases(draw):
    t_len = draw(st.integers(0, 4))
    counts = [draw(st.integers(0, 3)) for _ in range(t_len)]
    score = st.one_of(st.floats(-5, 0), st.just(-math.inf), st.just(-1.0))
    labels = [draw(st.integers(0, V - 1)) for _ in range(sum(counts))]
    scores = [draw(score) for _ in labels]
    blank = [draw(score) for _ in range(t_len)]
    return CTCLattice.from_arrays(np.array(blank, dtype=float),
                                  np.concatenate(([0], np.cumsum(counts))).astype(int),
                                  np.array(labels, dtype=np.int64), np.array(scores))


@settings(max_examples=60, deadline=None)
@given(_cases(), st.integers(0, 3), st.integers(1, 8))
def test_property_matches_enumeration(lat: CTCLattice, seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    _check(lat, _bigram(rng) if seed % 2 else None, k)


@pytest.mark.parametrize("seed", range(6))
def test_kbest_pruning_retries_stay_exact(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a tiny first margin most k-best calls must widen it; the answer may not change."""
    import jiema._decode_ctc as decode_ctc

    monkeypatch.setattr(decode_ctc, "KBEST_MARGIN", 0.05)
    rng = np.random.default_rng(100 + seed)
    trans = _bigram(rng) if seed % 2 else None
    for t_len in range(1, 6):
        _check(_random_lattice(rng, t_len, neg_inf=seed % 3 == 0), trans, int(rng.integers(2, 12)))


def _cumulative(lat: CTCLattice, trans, choices: tuple[int, ...]) -> list[float]:
    """Score of the alignment's first t + 1 frames (transitions of their emissions included),
    for every t, then the whole score (end included)."""
    return _scored(lat, trans, choices)[0]


def _scored(
    lat: CTCLattice, trans, choices: tuple[int, ...]
) -> tuple[list[float], tuple[int, ...]]:
    """An alignment scored from the definition: the running score after each frame, then the
    whole score (end included); and its emitted text."""
    out, score, text, prev_lab = [], 0.0, [], -1
    for t, c in enumerate(choices):
        if c < 0:
            score += float(lat.blank[t])
            prev_lab = -1
        else:
            lab = int(lat.labels[c])
            score += float(lat.scores[c])
            if lab != prev_lab:
                score += _trans_score(trans, text[-1] if text else None, lab)
                text.append(lab)
            prev_lab = lab
        out.append(score)
    return [*out, score + _end_score(trans, text[-1] if text else None)], tuple(text)


@pytest.mark.parametrize("kind", ["none", "bigram", "dense"])
def test_future_bounds_bound_every_completion(kind: str) -> None:
    """k-best prunes with them: what the frames after t add never exceeds the bound."""
    from jiema._decode_ctc import _args, _end_max, _in_bound
    from jiema._kernels.ctc import future_bounds

    rng = np.random.default_rng(11)
    trans = {"none": None, "bigram": _bigram(rng), "dense": _dense(rng)}[kind]
    for t_len in range(1, 6):
        lat = _random_lattice(rng, t_len)
        args = _args(lat, trans)
        fut_nb, fut_b = future_bounds(args[0], lat.offsets, lat.labels, args[3], args[5],
                                      _in_bound(lat, trans), _end_max(trans))
        tight = 0
        for _, _, choices in _alignments(lat, trans):
            cum = _cumulative(lat, trans, choices)
            if cum[-1] == -math.inf:
                continue
            for t, c in enumerate(choices):
                rest = cum[-1] - cum[t]
                bound = fut_nb[c] if c >= 0 else fut_b[t]
                assert rest <= bound + 1e-9
                tight += rest > bound - 1e-9
        assert tight > 0  # the bound is attained somewhere (not a uselessly loose number)


def test_bigram_max_logprob_to_bounds_every_column() -> None:
    lm = _bigram(np.random.default_rng(5))
    every = lm.logprob(np.arange(V)[:, None], np.arange(V)[None, :])
    true_max = np.maximum(every.max(axis=0), lm.start)
    assert (lm.max_logprob_to >= true_max - 1e-12).all()
    assert (lm.max_logprob_to <= np.maximum(true_max, lm.row_default.max()) + 1e-12).all()


def test_a_character_no_transition_may_emit() -> None:
    """Every move into label 1 is -inf (its pruning bound is -inf too): it is never read."""
    mat = np.zeros((V, V))
    allowed = np.ones((V, V), dtype=bool)
    allowed[:, 1] = False
    start = np.zeros(V)
    start[1] = -np.inf
    trans = DenseTransitions.from_arrays(mat, start, np.zeros(V), allowed=allowed)
    rng = np.random.default_rng(21)
    for t_len in range(1, 6):
        lat = _random_lattice(rng, t_len)
        _check(lat, trans, 4)
        if _best_texts(lat, trans):
            assert 1 not in viterbi(lat, trans).labels.tolist()


def _best_of_length(lat: CTCLattice, trans, lo: int, hi: int):
    """(score, text) of the best alignment whose text has lo..hi characters, by enumeration."""
    legal = [(s, t) for s, t, _ in _alignments(lat, trans) if lo <= len(t) <= hi]
    return max(legal, key=lambda st: st[0], default=(-math.inf, None))


@pytest.mark.parametrize("kind", ["none", "bigram", "dense"])
@pytest.mark.parametrize("seed", range(10))
def test_emitted_limits_match_enumeration(kind: str, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    trans = {"none": None, "bigram": _bigram(rng), "dense": _dense(rng)}[kind]
    for t_len in range(0, 6):
        lat = _random_lattice(rng, t_len, neg_inf=seed % 3 == 0)
        for lo, hi in [(0, 0), (0, 9), (1, 2), (2, 2), (3, 5), (t_len, t_len)]:
            want, _ = _best_of_length(lat, trans, lo, hi)
            if want == -math.inf:
                with pytest.raises(NoPathError):
                    viterbi(lat, trans, emitted=(lo, hi))
                continue
            got = viterbi(lat, trans, emitted=(lo, hi))
            assert got.score == pytest.approx(want, abs=1e-9)
            # the alignment returned really scores that and reads a text of a legal length
            scores, text = _scored(lat, trans, tuple(got.nodes.tolist()))
            assert scores[-1] == pytest.approx(got.score, abs=1e-9)
            assert tuple(got.labels.tolist()) == text and lo <= len(text) <= hi
            if (lo, hi) == (0, 9):  # no limit at all: the plain Viterbi's answer
                assert got.score == pytest.approx(viterbi(lat, trans).score, abs=1e-9)


def test_emitted_limits_force_a_length() -> None:
    # frames a a a b b read "ab"; asked for 3 characters, a blank must split the a's: "aab"
    lat = _one_per_frame([0, 0, 0, 1, 1], [False] * 5)
    assert viterbi(lat).labels.tolist() == [0, 1]
    assert viterbi(lat, emitted=(3, 3)).labels.tolist() == [0, 0, 1]
    assert viterbi(lat, emitted=(0, 1)).labels.tolist() == [0]  # a a a _ _ beats _ _ _ b b
    with pytest.raises(NoPathError, match="emitting 5..6"):
        viterbi(lat, emitted=(5, 6))


@pytest.mark.parametrize("bad", [(2, 1), (-1, 2), (1.5, 2), "ab", (1, 2, 3), None])
def test_emitted_limits_are_checked(bad) -> None:
    lat = _one_per_frame([0, 1], [False, False])
    if bad is None:
        with pytest.raises(InvalidValueError, match="CTCLattice only"):
            viterbi(np.zeros((2, 2)), emitted=(1, 2))
        return
    with pytest.raises(InvalidValueError, match="emitted"):
        viterbi(lat, emitted=bad)


def test_from_log_probs_keeps_what_a_stable_sort_would_on_many_columns_and_ties() -> None:
    rng = np.random.default_rng(3)
    for trial in range(60):
        t, c = int(rng.integers(1, 7)), int(rng.integers(2, 40))
        lp = (rng.integers(-4, 0, (t, c)).astype(float) if trial % 2  # many ties
              else np.log(rng.dirichlet(np.ones(c), size=t)))
        if trial % 3 == 0:
            lp[:, 1::3] = -np.inf
        k = int(rng.integers(1, c + 2))
        lat = CTCLattice.from_log_probs(lp, top_k=k)
        rest = lp[:, 1:]
        order = np.argsort(-rest, axis=1, kind="stable")[:, : min(k, c - 1)]
        assert lat.labels.tolist() == order.ravel().tolist()
        np.testing.assert_array_equal(lat.scores, np.take_along_axis(rest, order, 1).ravel())
