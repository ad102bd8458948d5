"""A line's CTC frames decoded through the core's CTC lattice, with and without the bigram LM."""

from __future__ import annotations

import numpy as np
import pytest
from jiema.errors import InvalidValueError, ShapeError
from jiema_ocr.ctc_decode import decode_frames
from jiema_ocr.language_model import CharLM, count_chars

LABELS = ["电", "视", "柳", "好"]


def _frames(rows: list[list[float]]) -> np.ndarray:
    """Rows of probabilities, column 0 = blank, then LABELS."""
    p = np.asarray(rows, dtype=np.float64) + 1e-9
    return np.log(p / p.sum(axis=1, keepdims=True))


def _lm(texts: list[str]) -> CharLM:
    return CharLM.from_counts(count_chars(texts))


def test_without_a_model_each_frame_keeps_its_best_and_runs_collapse() -> None:
    lp = _frames([[0.9, 0.1, 0, 0, 0],  # blank
                  [0.1, 0.8, 0.1, 0, 0],  # 电
                  [0.2, 0.7, 0.1, 0, 0],  # 电 (same run)
                  [0.9, 0.1, 0, 0, 0],  # blank
                  [0.1, 0, 0.2, 0.7, 0],  # 柳
                  [0.1, 0.8, 0.1, 0, 0]])  # 电 right after 柳: a new character
    r = decode_frames(lp, LABELS)
    assert r.text == "电柳电"
    assert r.spans == [(1, 2), (4, 4), (5, 5)]
    assert r.confidences[0] == pytest.approx((0.8 + 0.7) / 2, abs=1e-6)
    assert r.candidates[1][0] == ("柳", pytest.approx(0.7 / 0.9, abs=1e-6))
    assert decode_frames(_frames([[1, 0, 0, 0, 0]] * 3), LABELS).text == ""


def test_the_lm_fixes_a_look_alike_as_in_the_seed_example() -> None:
    lp = _frames([[0.05, 0.9, 0.05, 0, 0],  # 电
                  [0.9, 0.05, 0.05, 0, 0],  # blank
                  [0.05, 0, 0.4, 0.55, 0]])  # 柳 a little above 视
    lm = _lm(["电视好", "电视", "看电视"] * 50 + ["柳"])
    assert decode_frames(lp, LABELS).text == "电柳"
    assert decode_frames(lp, LABELS, lm, lm_weight=1.0).text == "电视"
    assert decode_frames(lp, LABELS, lm, lm_weight=0.0).text == "电柳"


def test_the_lm_can_regroup_frames_which_grouping_first_could_not() -> None:
    # 视 _ 视 or 视 视 视: the middle frame leans to blank (greedy reads 视视); the LM has never
    # seen 视视, so it reads the three frames as one 视
    lp = _frames([[0.05, 0, 0.95, 0, 0],
                  [0.55, 0, 0.45, 0, 0],
                  [0.05, 0, 0.95, 0, 0]])
    assert decode_frames(lp, LABELS).text == "视视"
    lm = _lm(["电视", "视好"] * 100)
    r = decode_frames(lp, LABELS, lm, lm_weight=1.0, char_bonus=0.0)
    assert r.text == "视" and r.spans == [(0, 2)]


def test_a_character_bonus_offsets_the_lm_cost_of_each_emitted_character() -> None:
    lp = _frames([[0.05, 0, 0.95, 0, 0],
                  [0.55, 0, 0.45, 0, 0],
                  [0.05, 0, 0.95, 0, 0]])
    lm = _lm(["电视", "视好"] * 100)
    assert decode_frames(lp, LABELS, lm, lm_weight=1.0, char_bonus=0.0).text == "视"
    assert decode_frames(lp, LABELS, lm, lm_weight=1.0, char_bonus=30.0).text == "视视"


def test_bad_input_is_refused_with_a_named_error() -> None:
    with pytest.raises(ShapeError):
        decode_frames(np.zeros((3, 3)), LABELS)
    with pytest.raises(InvalidValueError):
        decode_frames(_frames([[1, 0, 0, 0, 0]]), LABELS, _lm(["电"]), lm_weight=-1.0)


@pytest.mark.parametrize("top_k", [1, 3])
def test_the_frame_lattice_is_the_core_lattice_built_from_the_kept_entries(top_k: int) -> None:
    from jiema import CTCLattice
    from jiema_ocr.ctc_decode import frame_lattice

    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 3.0, (40, 30)).astype(np.float32)
    x[:, 0] += 4.0  # blank-heavy frames, as a CTC model gives
    x[1, 2:6] = x[1, 1]  # ties: the lower column comes first
    x[2, 1:] = -50.0  # a frame keeping no character at all
    lp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    want = CTCLattice.from_log_probs(lp, top_k=top_k, min_log_prob=-9.0)
    got = frame_lattice(lp, top_k, -9.0)
    for name in ("blank", "offsets", "labels", "scores"):
        a, b = getattr(want, name), getattr(got, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
