"""CTC lattice decoding at the size of an OCR line, against a CandidateLattice of the same size.

A line: T = 200 frames, the blank and the top 5 characters per frame, vocabulary 6,900 (the
OCR charset's order), a random sparse bigram model (500,000 stored pairs). Two kinds of frames:
- "peaky": what a trained CTC model gives: a 50-character line, each character on 1-3 frames
  with blanks between, probabilities peaked on the blank or the true character, the other
  candidates drawn from a small confusion set per character (so labels recur);
- "uniform": every frame's 5 labels drawn uniformly from the vocabulary with Dirichlet scores
  (about 1,000 distinct labels a line): the worst case for the blank-state set.
Reports ms per line (best of several runs over LINES lines) for the CTC Viterbi with the LM,
without it, and k-best (k = 5) (peaky lines also with candidates under 1e-4 dropped, as
`from_log_probs(min_log_prob=...)` does), and for `jiema.viterbi` on a CandidateLattice with 200
positions x 5 candidates and the same LM (what the OCR line reader decodes today).

Run: python benchmarks/ctc.py
"""

from __future__ import annotations

import time

import numpy as np

VOCAB = 6_900
STORED = 500_000
FRAMES = 200
TOP_K = 5
CHARS = 50
CONFUSABLE = 8  # confusion set size per character (peaky lines)
MIN_LOG_PROB = float(np.log(1e-4))  # the ">= 1e-4" rows: candidates below this are dropped
LINES = 20
REPEAT = 3


def build_model(rng: np.random.Generator):
    from jiema import BigramModel

    keys = np.unique(rng.integers(0, VOCAB * VOCAB, size=int(STORED * 1.05)))[:STORED]
    counts = rng.integers(1, 200, size=keys.shape[0])
    unigram = rng.integers(1, 100_000, size=VOCAB)
    return BigramModel.from_counts(unigram, keys // VOCAB, keys % VOCAB, counts, alpha=0.1,
                                   threshold=2)


def peaky_line(rng: np.random.Generator) -> np.ndarray:
    """(FRAMES, VOCAB + 1) log-probabilities, blank = column 0."""
    text = rng.integers(0, VOCAB, size=CHARS)
    confusion = {int(c): rng.integers(0, VOCAB, size=CONFUSABLE) for c in text}
    logits = np.full((FRAMES, VOCAB + 1), -12.0)
    logits[:, 0] = 4.0
    frame = 0
    for c in text:
        for _ in range(int(rng.integers(1, 4))):
            if frame >= FRAMES:
                break
            logits[frame, 0] = rng.normal(0, 1)
            logits[frame, c + 1] = rng.normal(4, 1)
            logits[frame, confusion[int(c)] + 1] = rng.normal(1, 1.5, size=CONFUSABLE)
            frame += 1
        frame += 1
    logits += rng.normal(0, 0.5, size=logits.shape)
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def uniform_line(rng: np.random.Generator):
    from jiema import CTCLattice

    scores = np.log(rng.dirichlet(np.ones(TOP_K + 1), size=FRAMES))
    return CTCLattice.from_arrays(scores[:, 0], np.arange(FRAMES + 1) * TOP_K,
                                  rng.integers(0, VOCAB, size=FRAMES * TOP_K),
                                  scores[:, 1:].ravel().copy(), VOCAB)


def candidate_line(rng: np.random.Generator):
    from jiema import CandidateLattice

    scores = np.log(rng.dirichlet(np.ones(TOP_K), size=FRAMES)).ravel()
    return CandidateLattice.from_arrays(np.arange(FRAMES + 1) * TOP_K,
                                        rng.integers(0, VOCAB, size=FRAMES * TOP_K), scores, VOCAB)


def ms_per_line(fn, lines) -> float:
    fn(lines[0])  # compile / load the cache
    best = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        for lat in lines:
            fn(lat)
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best / len(lines)


def main() -> None:
    from jiema import CTCLattice, kbest, viterbi

    rng = np.random.default_rng(0)
    model = build_model(rng)
    probs = [peaky_line(rng) for _ in range(LINES)]
    peaky = [CTCLattice.from_log_probs(lp, top_k=TOP_K) for lp in probs]
    cut = [CTCLattice.from_log_probs(lp, top_k=TOP_K, min_log_prob=MIN_LOG_PROB) for lp in probs]
    uniform = [uniform_line(rng) for _ in range(LINES)]
    cands = [candidate_line(rng) for _ in range(LINES)]
    rows = [
        ("CTC peaky, Viterbi + LM", ms_per_line(lambda x: viterbi(x, model), peaky)),
        ("CTC peaky, Viterbi no LM", ms_per_line(viterbi, peaky)),
        ("CTC peaky, k-best k=5 + LM", ms_per_line(lambda x: kbest(x, model, 5), peaky)),
        ("CTC peaky >= 1e-4, Viterbi + LM", ms_per_line(lambda x: viterbi(x, model), cut)),
        ("CTC peaky >= 1e-4, k-best k=5 + LM", ms_per_line(lambda x: kbest(x, model, 5), cut)),
        ("CTC uniform, Viterbi + LM", ms_per_line(lambda x: viterbi(x, model), uniform)),
        ("CTC uniform, Viterbi no LM", ms_per_line(viterbi, uniform)),
        ("CandidateLattice 200 x 5, Viterbi + LM", ms_per_line(lambda x: viterbi(x, model),
                                                               cands)),
    ]
    distinct = np.mean([np.unique(x.labels).size for x in peaky])
    kept = np.mean([np.unique(x.labels).size for x in cut])
    print(f"T = {FRAMES} frames, top {TOP_K} + blank, V = {VOCAB:,}, {STORED:,} stored bigrams; "
          f"distinct labels per peaky line: {distinct:.0f} (>= 1e-4: {kept:.0f})")
    print(f"{'decode':<42}{'ms / line':>10}")
    for name, ms in rows:
        print(f"{name:<42}{ms:>10.3f}")


if __name__ == "__main__":
    main()
