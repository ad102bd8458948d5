"""BigramModel: the smoothing/backoff formulas, proper rows, look-ups, files, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from jiema.bigram import BigramModel
from jiema.errors import InvalidInputError, LabelRangeError, ModelFileError, ShapeError


def _tiny() -> BigramModel:
    # V = 3; unigram [5, 3, 0]; pairs (0,1):4, (0,2):1, (1,0):2 (given in two pieces), (0,0):0
    return BigramModel.from_counts(
        [5, 3, 0], [0, 0, 1, 1, 0], [1, 2, 0, 0, 0], [4, 1, 1, 1, 0], alpha=0.5, threshold=2
    )


def _dense(m: BigramModel) -> np.ndarray:
    v = m.vocab_size
    p, x = np.meshgrid(np.arange(v), np.arange(v), indexing="ij")
    return np.exp(m.logprob(p, x))


def test_formulas_on_a_hand_made_table() -> None:
    m = _tiny()
    # row 0: S=5, H={1}, |L|=2, D=5+0.5*2=6; row 1: S=2 (1+1 summed), H={0}, D=2+1=3
    # row 2: never a predecessor -> unigram: u=[5,3,0], L={2}, D=8+0.5=8.5
    expected = np.array([
        [0.5 / 6, 4 / 6, 1.5 / 6],
        [2 / 3, 0.5 / 3, 0.5 / 3],
        [5 / 8.5, 3 / 8.5, 0.5 / 8.5],
    ])
    np.testing.assert_allclose(_dense(m), expected, rtol=1e-12)
    np.testing.assert_allclose(np.exp(m.start), [5 / 8.5, 3 / 8.5, 0.5 / 8.5], rtol=1e-12)
    np.testing.assert_allclose(m.row_default[:2], [math.log(0.5 / 6), math.log(0.5 / 3)])
    # stored: row 0 -> {1, 2} (the zero count is not stored), row 1 -> {0}, row 2 -> seen ids {0, 1}
    np.testing.assert_array_equal(m.indptr, [0, 2, 3, 5])
    np.testing.assert_array_equal(m.indices, [1, 2, 0, 0, 1])


def test_rows_are_proper_and_unseen_rows_back_off() -> None:
    rng = np.random.default_rng(1)
    v = 40
    prev = rng.integers(0, 30, 300)  # rows 30..39 never seen as predecessors
    nxt = rng.integers(0, v, 300)
    m = BigramModel.from_counts(rng.integers(0, 50, v), prev, nxt, rng.integers(0, 6, 300),
                                alpha=0.3, threshold=3)
    np.testing.assert_allclose(m.row_logsumexp(), 0.0, atol=1e-12)
    np.testing.assert_allclose(_dense(m).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(m.start).sum(), 1.0, rtol=1e-12)
    for row in range(30, 40):
        np.testing.assert_allclose(m.logprob(row, np.arange(v)), m.start, rtol=1e-12)


def test_counts_at_or_above_threshold_keep_relative_frequencies() -> None:
    m = BigramModel.from_counts([1, 1, 1, 1], [0, 0, 0], [1, 2, 3], [10, 30, 1], alpha=1.0,
                                threshold=5)
    d = _dense(m)
    assert d[0, 2] / d[0, 1] == pytest.approx(3.0)
    assert d[0, 3] / d[0, 0] == pytest.approx(2.0)  # (1 + alpha) vs (0 + alpha)


def test_all_zero_unigrams_give_a_uniform_start() -> None:
    m = BigramModel.from_counts(np.zeros(4), [], [], [])
    np.testing.assert_allclose(m.start, math.log(0.25))
    np.testing.assert_allclose(_dense(m), 0.25)


def test_hash_lookup_equals_csr_lookup() -> None:
    from jiema._kernels.bigram import csr_lookup_many

    rng = np.random.default_rng(2)
    v = 300
    keys = rng.integers(0, v * v, 5000)
    m = BigramModel.from_counts(rng.integers(0, 9, v), keys // v, keys % v,
                                rng.integers(1, 20, keys.size), alpha=0.05, threshold=4)
    # half stored pairs, half random ones (mostly absent)
    p = np.concatenate([keys[:3000] // v, rng.integers(0, v, 3000)])
    x = np.concatenate([keys[:3000] % v, rng.integers(0, v, 3000)])
    ref = np.empty(p.size)
    csr_lookup_many(m.indptr, m.indices, m.logp, m.row_default, p, x, ref)
    np.testing.assert_array_equal(m.logprob(p, x), ref)
    # a few against a plain Python search of the CSR arrays
    for a, b in zip(p[:50], x[:50], strict=True):
        row = m.indices[m.indptr[a]:m.indptr[a + 1]]
        k = np.searchsorted(row, b)
        want = m.logp[m.indptr[a] + k] if k < row.size and row[k] == b else m.row_default[a]
        assert m.logprob(a, b) == want


def test_logprob_broadcasts() -> None:
    m = _tiny()
    out = m.logprob(np.array([[0], [1]]), np.array([0, 1, 2]))
    assert out.shape == (2, 3)
    assert out.dtype == np.float64
    assert m.logprob(0, 1).shape == ()


def test_from_sequences_counts_within_sequences_only() -> None:
    m = BigramModel.from_sequences([[0, 1, 0, 1], [1, 2]], 3, alpha=0.5, threshold=1)
    ref = BigramModel.from_counts([2, 3, 1], [0, 1, 1], [1, 0, 2], [2, 1, 1], alpha=0.5,
                                  threshold=1)
    np.testing.assert_array_equal(m.indptr, ref.indptr)
    np.testing.assert_array_equal(m.indices, ref.indices)
    np.testing.assert_allclose(m.logp, ref.logp)
    np.testing.assert_allclose(m.start, ref.start)


def test_save_load_round_trip(tmp_path) -> None:
    m = _tiny()
    path = tmp_path / "bigram.safetensors"
    m.save(path)
    back = BigramModel.load(path)
    assert back.vocab_size == m.vocab_size
    for name in ("indptr", "indices", "logp", "row_default", "start"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    np.testing.assert_array_equal(_dense(back), _dense(m))


def test_load_rejects_other_files(tmp_path) -> None:
    from safetensors.numpy import save_file

    with pytest.raises(ModelFileError, match="not found"):
        BigramModel.load(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelFileError):
        BigramModel.load(junk)
    other = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(3)}, str(other), metadata={"format": "something-else"})
    with pytest.raises(ModelFileError, match="not a jiema bigram"):
        BigramModel.load(other)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"counts": [1, -1]}, InvalidInputError),
        ({"unigram_counts": [1, -2, 0]}, InvalidInputError),
        ({"prev": [0, 3]}, LabelRangeError),
        ({"next": [-1, 0]}, LabelRangeError),
        ({"alpha": 0.0}, InvalidInputError),
        ({"alpha": float("nan")}, InvalidInputError),
        ({"threshold": 0}, InvalidInputError),
        ({"counts": [1, 2, 3]}, ShapeError),
        ({"unigram_counts": []}, InvalidInputError),
        ({"counts": [1.0, float("inf")]}, InvalidInputError),
    ],
)
def test_from_counts_rejects_bad_inputs(kwargs, error) -> None:
    args = {"unigram_counts": [1, 1, 1], "prev": [0, 1], "next": [1, 2], "counts": [1, 2]}
    args.update(kwargs)
    alpha = args.pop("alpha", 0.1)
    threshold = args.pop("threshold", 1.0)
    with pytest.raises(error):
        BigramModel.from_counts(**args, alpha=alpha, threshold=threshold)


def test_other_bad_inputs() -> None:
    m = _tiny()
    with pytest.raises(LabelRangeError):
        m.logprob([0, 3], [0, 0])
    with pytest.raises(LabelRangeError):
        BigramModel.from_sequences([[0, 5]], 3)
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        BigramModel(3, [0, 2, 2, 2], [2, 1], [-1.0, -1.0], np.zeros(3), np.zeros(3))
    with pytest.raises(ShapeError):
        BigramModel(3, [0, 1, 1], [2], [-1.0], np.zeros(3), np.zeros(3))
    with pytest.raises(InvalidInputError):
        BigramModel(0, [0], [], [], [], [])
