"""Dense-trellis Viterbi, k-best and marginals against brute-force enumeration of every path."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import jiema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema import DenseTransitions, Trellis
from jiema.errors import (
    DTypeError,
    InvalidInputError,
    InvalidValueError,
    LengthsError,
    NoPathError,
    ShapeError,
)

NEG = -np.inf


# --- brute force ------------------------------------------------------------------------------


def enumerate_paths(em, a, start, end):
    """Every label sequence and its score (float64), -inf ones included."""
    t_len, k = em.shape
    paths = np.array(list(itertools.product(range(k), repeat=t_len)), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        s = start[paths[:, 0]] + em[0, paths[:, 0]]
        for t in range(1, t_len):
            s = s + a[paths[:, t - 1], paths[:, t]]
            s = s + em[t, paths[:, t]]
        s = s + end[paths[:, -1]]
    return paths, s


def ranked(paths, scores):
    """Finite paths, best first; ties in reverse-lexicographic label order (the documented rule)."""
    keep = np.isfinite(scores)
    paths, scores = paths[keep], scores[keep]
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], tuple(paths[i][::-1])))
    return paths[order], scores[order]


# --- strategies -------------------------------------------------------------------------------

# Small integers make exact ties common (sums of small integers are exact in float64), so the
# tie rule is checked exactly; continuous values check the general case.
integer_value = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0, NEG])
real_value = st.one_of(st.floats(-3, 3, allow_nan=False, allow_infinity=False), st.just(NEG))


@st.composite
def problems(draw, max_t=5, max_k=4, min_t=1):
    exact = draw(st.booleans())
    values = integer_value if exact else real_value
    t_len = draw(st.integers(min_t, max_t))
    k = draw(st.integers(1, max_k))

    def arr(*shape):
        n = int(np.prod(shape))
        return np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64).reshape(
            shape
        )

    em = arr(t_len, k)
    if draw(st.booleans()):
        mask = draw(st.lists(st.booleans(), min_size=k * k, max_size=k * k))
        allowed = np.array(mask).reshape(k, k) if draw(st.booleans()) else None
        tr = DenseTransitions.from_arrays(arr(k, k), arr(k), arr(k), allowed=allowed)
    else:
        tr = None
    return em, tr, exact


def dense(tr, k):
    if tr is None:
        return np.zeros((k, k)), np.zeros(k), np.zeros(k)
    return tr.log_matrix, tr.start, tr.end


# --- properties -------------------------------------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(problems())
def test_viterbi_matches_enumeration(problem):
    em, tr, exact = problem
    paths, scores = ranked(*enumerate_paths(em, *dense(tr, em.shape[1])))
    if len(scores) == 0:
        with pytest.raises(NoPathError, match="no path"):
            jiema.viterbi(em, tr)
        return
    path = jiema.viterbi(em, tr)
    assert path.score == pytest.approx(scores[0], abs=1e-9)
    np.testing.assert_array_equal(path.nodes, path.labels)
    # unique by a margin, or integer data where ties are exact and the tie rule decides
    if exact or len(scores) == 1 or scores[0] - scores[1] > 1e-6:
        np.testing.assert_array_equal(path.labels, paths[0])


@settings(deadline=None, max_examples=100)
@given(problems(), st.integers(1, 12))
def test_kbest_matches_enumeration(problem, k):
    em, tr, exact = problem
    paths, scores = ranked(*enumerate_paths(em, *dense(tr, em.shape[1])))
    if len(scores) == 0:
        with pytest.raises(NoPathError):
            jiema.kbest(em, tr, k=k)
        return
    best = jiema.kbest(em, tr, k=k)
    assert len(best) == min(k, len(scores))
    np.testing.assert_allclose([p.score for p in best], scores[:k], atol=1e-9, rtol=0)
    assert all(a.score >= b.score for a, b in zip(best, best[1:], strict=False))
    np.testing.assert_array_equal(best[0].labels, jiema.viterbi(em, tr).labels)
    if exact:
        np.testing.assert_array_equal(np.array([p.labels for p in best]), paths[:k])


@settings(deadline=None, max_examples=100)
@given(problems())
def test_marginals_match_enumeration(problem):
    em, tr, _ = problem
    k = em.shape[1]
    paths, scores = enumerate_paths(em, *dense(tr, k))
    if not np.isfinite(scores).any():
        with pytest.raises(NoPathError):
            jiema.marginals(em, tr)
        return
    log_z = np.logaddexp.reduce(scores)
    weights = np.exp(scores - log_z)
    expected = np.zeros(em.shape)
    for t in range(em.shape[0]):
        np.add.at(expected[t], paths[:, t], weights)
    m = jiema.marginals(em, tr)
    assert m.log_z.shape == (1,)
    assert m.log_z[0] == pytest.approx(log_z, abs=1e-9)
    np.testing.assert_allclose(m.posteriors, expected, atol=1e-9)
    np.testing.assert_allclose(m.posteriors.sum(axis=1), 1.0, atol=1e-12)


@st.composite
def batches(draw):
    k = draw(st.integers(1, 5))
    lengths = draw(st.lists(st.integers(0, 6), min_size=1, max_size=6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    em = rng.normal(size=(sum(lengths), k))
    mat, start, end = rng.normal(size=(k, k)), rng.normal(size=k), rng.normal(size=k)
    tr = DenseTransitions.from_arrays(mat, start, end)
    return em, np.array(lengths), tr


@settings(deadline=None, max_examples=60)
@given(batches())
def test_batch_ragged_and_padded_equal_one_by_one(batch):
    em, lengths, tr = batch
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    ragged = jiema.viterbi(em, tr, lengths=lengths)
    padded_em = np.full((len(lengths), max(lengths.max(), 1), em.shape[1]), 7.0)
    for b, n in enumerate(lengths):
        padded_em[b, :n] = em[offsets[b] : offsets[b + 1]]
    padded = jiema.viterbi(padded_em, tr, lengths=lengths)
    marg = jiema.marginals(em, tr, lengths=lengths)
    assert len(ragged) == len(lengths)
    np.testing.assert_array_equal(ragged.lengths, lengths)
    np.testing.assert_array_equal(ragged.labels, padded.labels)
    np.testing.assert_array_equal(ragged.scores, padded.scores)
    for b in range(len(lengths)):
        seq = em[offsets[b] : offsets[b + 1]]
        one = jiema.viterbi(seq, tr)
        np.testing.assert_array_equal(ragged[b].labels, one.labels)
        assert ragged.scores[b] == one.score
        if len(seq):
            single = jiema.marginals(seq, tr)
            rows = marg.posteriors[offsets[b] : offsets[b + 1]]
            np.testing.assert_allclose(rows, single.posteriors)
            assert marg.log_z[b] == pytest.approx(single.log_z[0])
        else:
            assert one.score == 0.0 and len(one) == 0
            assert marg.log_z[b] == 0.0
    assert ragged.padded().shape == (len(lengths), lengths.max())


@pytest.mark.parametrize("k", [4, 5])
def test_float32_matches_float64_on_a_long_sequence(k):
    """float32 runs with per-step max subtraction: without it, scores near -1e4 lose the
    resolution needed to rank paths and the path would differ."""
    rng = np.random.default_rng(7)
    em = rng.normal(size=(10_000, k))
    em -= np.logaddexp.reduce(em, axis=1, keepdims=True)
    mat = rng.normal(size=(k, k))
    mat -= np.logaddexp.reduce(mat, axis=1, keepdims=True)
    allowed = np.ones((k, k), dtype=bool)
    allowed[0, 1] = False
    tr = DenseTransitions.from_arrays(mat, allowed=allowed)
    em32 = em.astype(np.float32)
    p64 = jiema.viterbi(em32.astype(np.float64), tr)
    p32 = jiema.viterbi(em32, tr)
    assert p64.score < -5000  # magnitudes a float32 accumulator could not rank exactly
    np.testing.assert_array_equal(p32.labels, p64.labels)
    assert p32.score == pytest.approx(p64.score, rel=1e-4)
    batch32 = jiema.viterbi(np.concatenate([em32, em32[:50]]), tr, lengths=[10_000, 50])
    np.testing.assert_array_equal(batch32[0].labels, p64.labels)


@given(problems(max_k=4))
@settings(deadline=None, max_examples=50)
def test_float32_small_matches_enumeration(problem):
    em, tr, _ = problem
    em32 = em.astype(np.float32)
    paths, scores = ranked(*enumerate_paths(em32.astype(np.float64), *dense(tr, em.shape[1])))
    if len(scores) == 0:
        with pytest.raises(NoPathError):
            jiema.viterbi(em32, tr)
        return
    path = jiema.viterbi(em32, tr)
    assert path.score == pytest.approx(scores[0], abs=1e-4)
    if len(scores) == 1 or scores[0] - scores[1] > 1e-3:
        np.testing.assert_array_equal(path.labels, paths[0])


# --- tie rule, empty input, threads ---------------------------------------------------------


@pytest.mark.parametrize("k", [3, 4])
def test_ties_lowest_labels_and_reverse_lexicographic_kbest(k):
    em = np.zeros((3, k))
    assert list(jiema.viterbi(em).labels) == [0, 0, 0]
    best = jiema.kbest(em, k=2 * k)
    expected = sorted(itertools.product(range(k), repeat=3), key=lambda p: p[::-1])[: 2 * k]
    assert [tuple(p.labels) for p in best] == expected  # [0,0,0], [1,0,0], [2,0,0], ...


def test_zero_length_gives_empty_paths():
    empty = np.zeros((0, 3))
    path = jiema.viterbi(empty)
    assert len(path) == 0 and path.score == 0.0 and path.labels.dtype == np.int64
    assert len(jiema.kbest(empty, k=3)[0]) == 0
    assert jiema.marginals(empty).posteriors.shape == (0, 3)
    batch = jiema.viterbi(np.zeros((0, 3)), lengths=[0, 0])
    assert list(batch.scores) == [0.0, 0.0] and batch.labels.shape == (0,)


def test_kbest_returns_all_paths_when_fewer_than_k():
    tr = DenseTransitions.from_allowed(np.array([[True, False], [True, True]]))
    best = jiema.kbest(np.zeros((3, 2)), tr, k=100)
    # 2 labels, 3 steps, no move 0 -> 1: 000, 100, 110, 111
    assert sorted(tuple(p.labels) for p in best) == [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 1, 1)]


def test_batch_viterbi_from_a_thread_pool_equals_serial():
    """The parallel kernel is entered under a lock: Numba's workqueue layer would abort."""
    rng = np.random.default_rng(3)
    tr = DenseTransitions.from_arrays(rng.normal(size=(4, 4)))
    jobs = []
    for _ in range(8):
        lengths = rng.integers(0, 60, size=40)
        jobs.append((rng.normal(size=(lengths.sum(), 4)), lengths))
    serial = [jiema.viterbi(e, tr, lengths=n) for e, n in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda j: jiema.viterbi(j[0], tr, lengths=j[1]), jobs))
    for s, t in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(s.labels, t.labels)
        np.testing.assert_array_equal(s.scores, t.scores)


# --- bad input ---------------------------------------------------------------------------------


def test_bad_inputs_raise_their_errors():
    em = np.zeros((3, 2))
    with pytest.raises(ShapeError, match="K = 0"):
        jiema.viterbi(np.zeros((3, 0)))
    with pytest.raises(ShapeError, match="dimension"):
        jiema.viterbi(np.zeros(3))
    with pytest.raises(DTypeError, match="float32 or float64"):
        jiema.viterbi(np.zeros((3, 2), dtype=np.int64))
    bad = em.copy()
    bad[1, 1] = np.nan
    with pytest.raises(InvalidValueError, match=r"\(1, 1\)"):
        jiema.viterbi(bad)
    bad[1, 1] = np.inf
    with pytest.raises(InvalidValueError):
        jiema.marginals(bad)
    with pytest.raises(LengthsError, match="add up"):
        jiema.viterbi(em, lengths=[1, 1])
    with pytest.raises(ShapeError, match="K = 3"):
        jiema.viterbi(em, DenseTransitions.uniform(3))
    with pytest.raises(ShapeError):
        jiema.kbest(em, DenseTransitions.uniform(3), k=2)
    with pytest.raises(ShapeError):
        jiema.marginals(em, DenseTransitions.uniform(3))
    with pytest.raises(InvalidInputError, match="k must be"):
        jiema.kbest(em, k=0)
    with pytest.raises(InvalidInputError, match="DenseTransitions"):
        jiema.viterbi(em, np.zeros((2, 2)))


def test_bigram_model_is_rejected_for_a_trellis():
    from jiema.bigram import BigramModel

    model = object.__new__(BigramModel)  # only its type matters here
    with pytest.raises(InvalidInputError, match="BigramModel"):
        jiema.viterbi(np.zeros((3, 2)), model)


def test_everything_forbidden_raises_no_path_naming_the_sequence():
    tr = DenseTransitions.from_allowed(np.zeros((2, 2), dtype=bool))
    with pytest.raises(NoPathError, match="no path"):
        jiema.viterbi(np.zeros((2, 2)), tr)
    with pytest.raises(NoPathError):
        jiema.kbest(np.zeros((2, 2)), tr, k=3)
    with pytest.raises(NoPathError):
        jiema.marginals(np.zeros((2, 2)), tr)
    # one step needs no move, so sequence 0 (length 1) decodes and sequence 1 does not
    with pytest.raises(NoPathError, match="sequence 1"):
        jiema.viterbi(np.zeros((3, 2)), tr, lengths=[1, 2])
    em = np.zeros((4, 4), dtype=np.float32)
    em[2] = NEG
    with pytest.raises(NoPathError, match="sequence 1"):
        jiema.viterbi(em, lengths=[1, 3])


def test_kbest_k_beyond_the_paths_returns_them_all_without_allocating_k():
    em = np.log(np.full((2, 2), 0.5))
    best = [p.labels.tolist() for p in jiema.kbest(em, k=2)]
    # k = 1e9 used to allocate by k (MemoryError); now by the 4 paths that exist
    for k in (30_000_000, 10**9, np.int64(10**18)):
        paths = jiema.kbest(em, k=k)
        assert len(paths) == 4
        assert [p.labels.tolist() for p in paths[:2]] == best
        assert sorted(p.labels.tolist() for p in paths) == [[0, 0], [0, 1], [1, 0], [1, 1]]
    # forbidden moves leave fewer paths: S B M E grammar, T = 3 -> SSS, SBE, BES, BME
    allowed = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0]], bool)
    tr = DenseTransitions.from_allowed(allowed, np.array([1, 1, 0, 0], bool),
                                       np.array([1, 0, 0, 1], bool))
    paths = jiema.kbest(np.zeros((3, 4)), tr, k=10**9)
    assert sorted(p.labels.tolist() for p in paths) == [[0, 0, 0], [0, 1, 3], [1, 2, 3], [1, 3, 0]]


def test_kbest_refuses_tables_past_the_documented_limit():
    from jiema._validate import KBEST_MAX_ENTRIES

    em = np.zeros((200, 4))  # 4**200 paths
    with pytest.raises(InvalidValueError, match="KBEST_MAX_ENTRIES"):
        jiema.kbest(em, k=KBEST_MAX_ENTRIES)
    assert len(jiema.kbest(em, k=KBEST_MAX_ENTRIES // 800)) == KBEST_MAX_ENTRIES // 800


def test_the_result_type_follows_how_the_input_was_made_not_its_size():
    em = np.log(np.full((5, 2), 0.5))
    one = [jiema.viterbi(em), jiema.viterbi(Trellis.single(em))]
    assert all(isinstance(p, jiema.Path) for p in one)
    padded = Trellis.from_padded(em[None], [5])
    batch = [jiema.viterbi(em, lengths=[5]), jiema.viterbi(Trellis.from_ragged(em, [5])),
             jiema.viterbi(em[None], lengths=[5]), jiema.viterbi(padded)]
    assert all(isinstance(p, jiema.BatchPath) and len(p) == 1 for p in batch)
    assert all(p[0].labels.tolist() == one[0].labels.tolist() for p in batch)


def test_kbest_takes_lengths_and_gives_a_list_per_sequence():
    em = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]))
    per_seq = jiema.kbest(em, k=3, lengths=[1, 2])
    assert [[p.labels.tolist() for p in ps] for ps in per_seq] == [
        [[0], [1]], [[1, 0], [1, 1], [0, 0]]
    ]
    assert [len(ps) for ps in jiema.kbest(Trellis.from_ragged(em, [3]), k=2)] == [2]
    assert [p.labels.tolist() for p in jiema.kbest(Trellis.single(em), k=1)] == [[0, 1, 0]]
