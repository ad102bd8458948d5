"""Turning network log-probabilities into text with the core's Viterbi and marginals.

CTC output is decoded over a small state machine that *is* the CTC grammar: state `blank_k`
(k characters read so far) and `char(k, c)` (the k-th character is c, possibly held over several
frames). A character may repeat only through a blank in between, and the path must end after
`min_length..max_length` characters, so the best path is the best alignment of a legal text of
legal length (plain best-path decoding can drop or add a character). A character's confidence is
the highest frame posterior of its class (the core's marginals of the frame trellis) over the
frames the best alignment gives it. (Marginals over the grammar states would cost ~40x more for
the same ranking of good and bad reads.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import jiema


@dataclass(frozen=True)
class Reading:
    """One captcha read: the text, its confidence (product over characters) and each
    character's confidence."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]


@dataclass(frozen=True)
class CTCGrammar:
    """The CTC state machine as core transitions; `label[s]` is the network class of state s
    (0 = blank) and `position[s]` its character index (1-based; 0 for blanks)."""

    transitions: jiema.DenseTransitions
    label: np.ndarray
    position: np.ndarray
    is_blank: np.ndarray


@lru_cache(maxsize=16)
def ctc_grammar(n_classes: int, min_length: int, max_length: int) -> CTCGrammar:
    """States: blank_0..blank_L, then char(k, c) for k = 1..L, c = 1..n_classes."""
    import jiema

    big_l, c = max_length, n_classes
    n_states = (big_l + 1) + big_l * c
    label = np.zeros(n_states, dtype=np.int64)
    position = np.zeros(n_states, dtype=np.int64)
    is_blank = np.zeros(n_states, dtype=bool)
    is_blank[: big_l + 1] = True

    def char_state(k: int, cls: int) -> int:  # k in 1..L, cls in 1..C
        return big_l + 1 + (k - 1) * c + (cls - 1)

    for k in range(1, big_l + 1):
        for cls in range(1, c + 1):
            s = char_state(k, cls)
            label[s], position[s] = cls, k
    allowed = np.zeros((n_states, n_states), dtype=bool)
    start = np.zeros(n_states, dtype=bool)
    end = np.zeros(n_states, dtype=bool)
    start[0] = True
    for k in range(big_l + 1):
        allowed[k, k] = True  # blank_k holds
        if k < big_l:
            nxt = [char_state(k + 1, cls) for cls in range(1, c + 1)]
            allowed[k, nxt] = True  # blank_k -> char(k+1, any)
            if k == 0:
                start[nxt] = True
        if min_length <= k:
            end[k] = True
    for k in range(1, big_l + 1):
        for cls in range(1, c + 1):
            s = char_state(k, cls)
            allowed[s, s] = True  # held over frames
            allowed[s, k] = True  # -> blank_k
            if k < big_l:
                for cls2 in range(1, c + 1):
                    if cls2 != cls:  # the same class next needs a blank between
                        allowed[s, char_state(k + 1, cls2)] = True
            if min_length <= k:
                end[s] = True
    trans = jiema.DenseTransitions.from_allowed(allowed, start, end)
    return CTCGrammar(trans, label, position, is_blank)


def decode_ctc(
    log_probs: np.ndarray, alphabet: str, min_length: int, max_length: int
) -> list[Reading]:
    """`(B, T, C + 1)` per-frame log-probabilities (blank = 0) -> one Reading per image."""
    import jiema

    lp = np.asarray(log_probs, dtype=np.float64)
    b, t, k = lp.shape
    if k != len(alphabet) + 1:
        raise ValueError(f"{k} network classes for an alphabet of {len(alphabet)} + blank")
    max_length = min(max_length, t)
    min_length = min(min_length, max_length)
    g = ctc_grammar(len(alphabet), min_length, max_length)
    emissions = lp[:, :, g.label]  # (B, T, S)
    lengths = np.full(b, t, dtype=np.int64)
    paths = jiema.viterbi(emissions, g.transitions, lengths=lengths)
    assert isinstance(paths, jiema.BatchPath)  # lengths given: always a batch
    states = paths.padded().reshape(b, t)
    pos_seq = g.position[states]  # (B, T): which character each frame belongs to (0: blank)
    cls_seq = g.label[states]  # (B, T): its class
    # Frame posteriors of the character frames only: without transitions each frame's
    # marginal is independent of the others, so leaving out blank frames changes nothing.
    keep = pos_seq > 0
    frame_post = np.zeros((b, t))
    if keep.any():
        post = jiema.marginals(lp[keep], lengths=keep.sum(axis=1)).posteriors
        frame_post[keep] = post[np.arange(post.shape[0]), cls_seq[keep]]
    n_chars = pos_seq.max(axis=1)
    out = []
    for i in range(b):
        chars, confs = [], []
        for pos in range(1, int(n_chars[i]) + 1):
            in_pos = pos_seq[i] == pos
            chars.append(alphabet[int(cls_seq[i][in_pos.argmax()]) - 1])
            confs.append(float(frame_post[i][in_pos].max()))
        out.append(Reading("".join(chars), float(np.prod(confs)) if confs else 1.0, tuple(confs)))
    return out


def decode_ctc_best_path(log_probs: np.ndarray, alphabet: str) -> list[str]:
    """Plain best path (frame argmax through the core, repeats merged, blanks dropped): no
    length limit; what `decode_ctc` is compared against."""
    import jiema

    lp = np.asarray(log_probs, dtype=np.float64)
    b, t, _ = lp.shape
    paths = jiema.viterbi(lp, lengths=np.full(b, t))
    assert isinstance(paths, jiema.BatchPath)  # lengths given: always a batch
    labels = paths.padded().reshape(b, t)
    texts = []
    for row in labels:
        keep = np.concatenate(([True], row[1:] != row[:-1])) & (row != 0)
        texts.append("".join(alphabet[j - 1] for j in row[keep].tolist()))
    return texts


def decode_heads(log_probs: np.ndarray, alphabet: str) -> list[Reading]:
    """`(B, N, C)` per-position log-probabilities -> texts (each head on its own: no
    transitions, so the core's Viterbi is the per-position argmax and marginals its softmax)."""
    import jiema

    lp = np.asarray(log_probs, dtype=np.float64)
    b, n, _ = lp.shape
    lengths = np.full(b, n, dtype=np.int64)
    paths = jiema.viterbi(lp, lengths=lengths)
    assert isinstance(paths, jiema.BatchPath)  # lengths given: always a batch
    labels = paths.padded().reshape(b, n)
    post = jiema.marginals(lp, lengths=lengths).posteriors.reshape(b, n, -1)
    out = []
    for i in range(b):
        confs = tuple(float(post[i, j, labels[i, j]]) for j in range(n))
        text = "".join(alphabet[j] for j in labels[i].tolist())
        out.append(Reading(text, float(np.prod(confs)), confs))
    return out
