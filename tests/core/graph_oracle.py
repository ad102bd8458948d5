"""One brute-force oracle for the graph decoders (candidate and word lattices share kernels)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import pytest
from jiema import BigramModel, DenseTransitions, kbest, marginals, viterbi
from jiema.errors import NoPathError


def draw_transitions(draw, kind: str, k: int, v: int, alpha=None):
    """Transitions of `kind` ("dense" over k labels, "bigram" over v, else None) drawn from a
    hypothesis `draw`; the bigram's smoothing `alpha` is drawn when not given."""
    from hypothesis import strategies as st

    if kind == "dense":
        mat = np.array(draw(st.lists(st.floats(-4, 0), min_size=k * k, max_size=k * k)))
        allowed = np.array(draw(st.lists(st.booleans(), min_size=k * k, max_size=k * k)))
        vec = st.lists(st.floats(-2, 0), min_size=k, max_size=k)
        return DenseTransitions.from_arrays(mat.reshape(k, k), draw(vec), draw(vec),
                                            allowed=(allowed | (mat > -1)).reshape(k, k))
    if kind == "bigram":
        c = np.array(draw(st.lists(st.integers(0, 6), min_size=v * v, max_size=v * v)))
        p, x = np.divmod(np.arange(v * v), v)
        unigram = draw(st.lists(st.integers(0, 9), min_size=v, max_size=v))
        if alpha is None:
            alpha = draw(st.sampled_from([0.1, 1.0]))
        return BigramModel.from_counts(unigram, p, x, c, alpha=alpha,
                                       threshold=draw(st.sampled_from([1, 3])))
    return None


def csr_logprob(model: BigramModel, a: int, b: int) -> float:
    """Reference look-up straight from the CSR arrays (not the hash table)."""
    row = model.indices[model.indptr[a]:model.indptr[a + 1]]
    k = int(np.searchsorted(row, b))
    if k < row.size and row[k] == b:
        return float(model.logp[model.indptr[a] + k])
    return float(model.row_default[a])


def path_score(lat, trans, nodes: tuple[int, ...]) -> float:
    """Score of a path given as node indices (candidates or edges: both carry scores, labels)."""
    s = sum(float(lat.scores[c]) for c in nodes)
    labels = [int(lat.labels[c]) for c in nodes]
    if isinstance(trans, DenseTransitions) and labels:
        s += trans.start[labels[0]] + trans.end[labels[-1]]
        s += sum(trans.log_matrix[a, b] for a, b in itertools.pairwise(labels))
    elif isinstance(trans, BigramModel) and labels:
        s += trans.start[labels[0]]
        s += sum(csr_logprob(trans, a, b) for a, b in itertools.pairwise(labels))
    return s


def check_against_enumeration(
    lat, trans, paths: Iterable[tuple[int, ...]], k: int
) -> np.ndarray | None:
    """Compare viterbi, kbest and marginals with the enumeration of every path (node tuples),
    scored by `path_score`. Returns the posteriors for lattice-specific checks (None: no path)."""
    scored = sorted(((path_score(lat, trans, p), p) for p in paths), key=lambda sp: -sp[0])
    finite = [(s, p) for s, p in scored if s > -math.inf]
    if not finite:
        for call in (lambda: viterbi(lat, trans), lambda: kbest(lat, trans, k),
                     lambda: marginals(lat, trans)):
            with pytest.raises(NoPathError):
                call()
        return None
    best = viterbi(lat, trans)
    assert best.score == pytest.approx(finite[0][0], abs=1e-9)
    assert path_score(lat, trans, tuple(best.nodes)) == pytest.approx(best.score, abs=1e-9)
    np.testing.assert_array_equal(best.labels, lat.labels[best.nodes])
    if len(finite) == 1 or finite[0][0] - finite[1][0] > 1e-6:
        assert tuple(best.nodes) == finite[0][1]

    top = kbest(lat, trans, k)
    np.testing.assert_allclose([p.score for p in top], [s for s, _ in finite[:k]], atol=1e-9)
    assert len({tuple(p.nodes) for p in top}) == len(top)
    for p in top:
        assert path_score(lat, trans, tuple(p.nodes)) == pytest.approx(p.score, abs=1e-9)

    m = marginals(lat, trans)
    log_z = np.logaddexp.reduce([s for s, _ in finite])
    assert m.log_z.shape == (1,)
    assert m.log_z[0] == pytest.approx(log_z, abs=1e-9)
    want = np.zeros(lat.labels.shape[0])
    for s, p in finite:
        want[list(p)] += math.exp(s - log_z)
    np.testing.assert_allclose(m.posteriors, want, atol=1e-9)
    return m.posteriors
