"""Turning network log-probabilities into text with the core's decoders.

CTC output is decoded by the core's CTC lattice (`jiema.CTCLattice`, every class a candidate
at every frame) under its blank/repeat grammar with the text's length limited to
`min_length..max_length` (`viterbi(..., emitted=...)`), so the best path is the best alignment
of a legal text of legal length (plain best-path decoding can drop or add a character). A
character's confidence is the highest frame posterior of its class over the frames the best
alignment gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Reading:
    """One captcha read: the text, its confidence (product over characters) and each
    character's confidence."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]


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
    post = np.exp(lp - np.logaddexp.reduce(lp, axis=2, keepdims=True))  # frame posteriors
    out = []
    for i in range(b):
        lat = jiema.CTCLattice.from_log_probs(lp[i], top_k=len(alphabet))
        nodes = jiema.viterbi(lat, emitted=(min_length, max_length)).nodes
        chars: list[str] = []
        confs: list[float] = []
        prev = -1  # class of the frame before (0: blank)
        for frame, choice in enumerate(nodes.tolist()):
            cls = int(lat.labels[choice]) + 1 if choice >= 0 else 0
            if cls and cls != prev:  # a new character
                chars.append(alphabet[cls - 1])
                confs.append(0.0)
            if cls:
                confs[-1] = max(confs[-1], float(post[i, frame, cls]))
            prev = cls
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
