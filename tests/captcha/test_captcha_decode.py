"""CTC decoding through the core: the grammar Viterbi equals brute force over alignments."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema_captcha.decode import decode_ctc, decode_ctc_best_path, decode_heads


def collapse(frames: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    prev = -1
    for f in frames:
        if f != prev and f != 0:
            out.append(f)
        prev = f
    return tuple(out)


def brute_force(lp: np.ndarray, lo: int, hi: int) -> float:
    """Best alignment score over every frame labelling whose text has a legal length."""
    t, k = lp.shape
    best = -np.inf
    for frames in itertools.product(range(k), repeat=t):
        if lo <= len(collapse(frames)) <= hi:
            best = max(best, float(lp[np.arange(t), frames].sum()))
    return best


def alignment_score(lp: np.ndarray, text: str, alphabet: str) -> float:
    """Best score among alignments of exactly `text` (brute force)."""
    t, k = lp.shape
    want = tuple(alphabet.index(c) + 1 for c in text)
    best = -np.inf
    for frames in itertools.product(range(k), repeat=t):
        if collapse(frames) == want:
            best = max(best, float(lp[np.arange(t), frames].sum()))
    return best


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


@settings(deadline=None, max_examples=30)
@given(
    seed=st.integers(0, 2**31 - 1),
    t=st.integers(1, 6),
    lo=st.integers(1, 3),
    extra=st.integers(0, 2),
)
def test_grammar_viterbi_is_the_best_legal_alignment(
    seed: int, t: int, lo: int, extra: int
) -> None:
    alphabet = "AB"
    hi = lo + extra
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(size=(t, 3)) * 3)
    best = brute_force(lp, lo, min(hi, t))
    if not np.isfinite(best):  # too few frames for `lo` characters (e.g. "AA" needs 3)
        return
    (reading,) = decode_ctc(lp[None], alphabet, lo, hi)
    assert min(lo, t) <= len(reading.text) <= hi
    assert np.isclose(alignment_score(lp, reading.text, alphabet), best)
    assert len(reading.char_confidences) == len(reading.text)
    assert all(0.0 <= c <= 1.0 for c in reading.char_confidences)


def frames_for(path: str, alphabet: str, sharp: float = 8.0) -> np.ndarray:
    """Log-probs peaked on the frame labels of `path` ('-' is blank)."""
    ids = [0 if c == "-" else alphabet.index(c) + 1 for c in path]
    lp = np.full((len(ids), len(alphabet) + 1), -sharp)
    lp[np.arange(len(ids)), ids] = 0.0
    return log_softmax(lp)


def test_repeats_need_a_blank_and_are_merged_otherwise() -> None:
    alphabet = "ABC"
    lp = frames_for("AA-BB-BC", alphabet)
    assert decode_ctc(lp[None], alphabet, 1, 8)[0].text == "ABBC"
    assert decode_ctc_best_path(lp[None], alphabet) == ["ABBC"]


def test_length_constraint_fixes_a_dropped_character() -> None:
    alphabet = "ABC"
    lp = frames_for("AB-CCC", alphabet)
    lp[4] = log_softmax(np.array([-1.0, -6.0, -6.0, 0.0]))  # C, but a blank is close
    assert decode_ctc_best_path(lp[None], alphabet) == ["ABC"]
    four = decode_ctc(lp[None], alphabet, 4, 4)[0]
    assert four.text == "ABCC"
    assert four.confidence < decode_ctc(lp[None], alphabet, 3, 3)[0].confidence


def test_batch_equals_one_by_one() -> None:
    rng = np.random.default_rng(0)
    lp = log_softmax(rng.normal(size=(5, 12, 4)) * 2)
    batch = decode_ctc(lp, "XYZ", 2, 4)
    assert batch == [decode_ctc(lp[i : i + 1], "XYZ", 2, 4)[0] for i in range(5)]


def test_heads_are_per_position_argmax_with_softmax_confidence() -> None:
    rng = np.random.default_rng(1)
    lp = log_softmax(rng.normal(size=(3, 4, 5)))
    reads = decode_heads(lp, "VWXYZ")
    for i, r in enumerate(reads):
        assert r.text == "".join("VWXYZ"[j] for j in lp[i].argmax(-1))
        assert np.allclose(r.char_confidences, np.exp(lp[i].max(-1)))
        assert np.isclose(r.confidence, np.prod(r.char_confidences))
