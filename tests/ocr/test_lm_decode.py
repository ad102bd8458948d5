"""Glyph candidates + bigram LM decoded through the core's candidate lattice."""

from __future__ import annotations

import itertools
import math

import jiema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema.errors import InvalidValueError
from jiema_ocr.language_model import CharLM
from jiema_ocr.lm_decode import (
    DEFAULT_LM_WEIGHT,
    decode_line,
    prune_candidates,
    share_look_alikes,
)

SEED_CANDIDATES = [[("电", 0.99996), ("宙", 0.00004)],
                   [("柳", 0.87838), ("视", 0.12148), ("规", 0.00012)]]


def seed_lm() -> CharLM:
    """The seed's counts: 电 145001, 电柳 0, 电视 12426, 电规 7, 宙 1980, 宙规 18."""
    labels = ["电", "宙", "柳", "视", "规"]
    unigram = np.array([145001, 1980, 0, 0, 0], dtype=np.float64)
    model = jiema.BigramModel.from_counts(unigram, [0, 0, 0, 1], [2, 3, 4, 4],
                                          [0, 12426, 7, 18], alpha=0.1, threshold=1.0)
    return CharLM(labels, model)


@pytest.mark.parametrize("weight", [DEFAULT_LM_WEIGHT, 1.0])
def test_golden_seed_example_reads_dianshi(weight: float) -> None:
    text, conf = decode_line(SEED_CANDIDATES, seed_lm(), lm_weight=weight)
    assert text == "电视"
    assert len(conf) == 2 and all(0.0 <= c <= 1.0 for c in conf)
    assert conf[0] > 0.999 and conf[1] > 0.9  # the LM turns 视 from 0.12 to near-certain


def test_without_the_lm_the_cnn_alone_reads_dianliu() -> None:
    assert decode_line(SEED_CANDIDATES, None) == ("电柳", [0.99996, 0.87838])
    assert decode_line(SEED_CANDIDATES, seed_lm(), lm_weight=0)[0] == "电柳"


def test_a_weak_lm_weight_leaves_the_cnn_choice() -> None:
    assert decode_line(SEED_CANDIDATES, seed_lm(), lm_weight=0.1)[0] == "电柳"


def test_empty_line_and_bad_inputs() -> None:
    assert decode_line([], seed_lm()) == ("", [])
    with pytest.raises(InvalidValueError, match="no candidates"):
        decode_line([[("电", 1.0)], []], seed_lm())
    with pytest.raises(InvalidValueError, match="probability"):
        decode_line([[("电", 1.5)]], seed_lm())
    with pytest.raises(InvalidValueError, match="lm_weight"):
        decode_line(SEED_CANDIDATES, seed_lm(), lm_weight=-1)
    with pytest.raises(InvalidValueError, match="probability"):
        decode_line([[("电", 0.9), ("宙", float("nan"))]], seed_lm())  # not pruned away silently
    with pytest.raises(InvalidValueError, match="probability"):
        decode_line([[("电", -0.1)]], None)
    with pytest.raises(InvalidValueError, match="min_ratio"):
        decode_line(SEED_CANDIDATES, seed_lm(), min_ratio=2.0)


def test_pruning_drops_candidates_far_below_the_glyph_s_best() -> None:
    cands = [[("a", 0.5), ("b", 0.004), ("c", 0.006)], [("d", 1.0)]]
    assert prune_candidates(cands, 0.01) == [[("a", 0.5), ("c", 0.006)], [("d", 1.0)]]
    assert prune_candidates(cands, 0.0) == [list(c) for c in cands]
    assert prune_candidates(cands, 1.0) == [[("a", 0.5)], [("d", 1.0)]]


def test_a_pruned_candidate_cannot_win_however_likely_the_lm_finds_it() -> None:
    # 电规 (7) beats 电柳 (0) in the LM, but 规 is 0.00012 / 0.87838 < 1% of the best: pruned
    cands = [[("电", 1.0)], [("柳", 0.87838), ("规", 0.00012)]]
    assert decode_line(cands, seed_lm(), lm_weight=5.0, min_ratio=0.0)[0] == "电规"
    text, conf = decode_line(cands, seed_lm(), lm_weight=5.0)
    assert text == "电柳" and conf[1] == pytest.approx(1.0)


def test_characters_unknown_to_the_lm_decode_as_unk() -> None:
    labels = ["<unk>", "a", "b"]
    lm = CharLM(labels, jiema.BigramModel.from_counts([1, 5, 5], [1], [2], [5]))
    text, _ = decode_line([[("a", 0.6), ("x", 0.4)], [("b", 0.5), ("y", 0.5)]], lm)
    assert text == "ab"


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_decoding_is_the_brute_force_best_reading(data: st.DataObject) -> None:
    v = 4
    labels = ["a", "b", "c", "d"]
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    pairs = [(i, j) for i in range(v) for j in range(v) if rng.random() < 0.6]
    prev, nxt = (list(t) for t in zip(*pairs, strict=True)) if pairs else ([], [])
    counts = rng.integers(1, 50, size=len(pairs)).astype(float)
    lm = CharLM(labels, jiema.BigramModel.from_counts(rng.integers(0, 30, v).astype(float),
                                                      prev, nxt, counts))
    weight = data.draw(st.sampled_from([0.5, 1.0, 2.0]))
    t_len = data.draw(st.integers(1, 4))
    cands = []
    for _ in range(t_len):
        chosen = rng.choice(v, size=int(rng.integers(1, 4)), replace=False)
        probs = rng.dirichlet(np.ones(len(chosen)))
        cands.append([(labels[c], float(p)) for c, p in zip(chosen, probs, strict=True)])

    def score(reading: tuple[tuple[str, float], ...]) -> float:
        ids = lm.ids([c for c, _ in reading])
        total = sum(math.log(p) for _, p in reading) + weight * lm.model.start[ids[0]]
        for a, b in itertools.pairwise(ids):
            total += weight * float(lm.model.logprob(a, b))
        return total

    best = max(itertools.product(*cands), key=score)
    text, conf = decode_line(cands, lm, lm_weight=weight, min_ratio=0.0)
    assert score(tuple(zip(text, [dict(c)[ch] for c, ch in zip(cands, text, strict=True)],
                           strict=True))) == pytest.approx(score(best), abs=1e-9)
    assert all(0.0 <= c <= 1.0 + 1e-9 for c in conf)


def test_look_alikes_share_their_best_probability() -> None:
    cands = [[("O", 0.9), ("C", 0.05), ("0", 0.004)], [("年", 1.0)]]
    assert share_look_alikes(cands, ["0O○"]) == [
        [("O", 0.9), ("C", 0.05), ("0", 0.9), ("○", 0.9)], [("年", 1.0)]]
    assert share_look_alikes(cands, []) == [list(c) for c in cands]


def test_the_lm_chooses_among_look_alikes() -> None:
    # the CNN reads the zeros of 2000 as O (the faces draw them alike); 2O and OO never occur
    labels = ["2", "0", "O", "○"]
    model = jiema.BigramModel.from_counts(np.array([100, 300, 5, 5], dtype=np.float64),
                                          [0, 1], [1, 1], [100, 150], alpha=0.1, threshold=1.0)
    lm = CharLM(labels, model)
    zero = [("O", 0.92), ("C", 0.05), ("0", 0.0085)]
    cands = [[("2", 0.98)], zero, zero, zero]
    assert decode_line(cands, lm)[0] == "2000"
    assert decode_line(cands, lm, look_alikes=())[0] == "2OOO"

