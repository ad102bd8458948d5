"""The SIGHAN bakeoff `score` script's figures (P, R, F, OOV rate, OOV recall, IV recall).

Follows the official perl script line for line, on bytes as perl sees them: lines of gold and
prediction are read in step until either file ends; each is stripped of ASCII whitespace, U+3000
(and the Big5 full-width space bytes A1 40) become spaces, CR is deleted, and the line splits on
ASCII whitespace. A gold line with no words is skipped (with its prediction line). Words match by
a longest common subsequence of the two word lists (what `diff -y` finds); a gold word is OOV
when it is not a line of the word list (lines stripped). Unlike perl, a UTF-8 BOM at the start of
any file is ignored, and an empty prediction file is an error rather than a division by zero.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from typing import IO

from jiema.errors import InvalidInputError

_STRIP = b" \t\n\r\x0b\x0c"
_SPACES = re.compile(rb"\xe3\x80\x80|\xa1\x40")


@dataclass(frozen=True)
class Score:
    true_words: int
    test_words: int
    recall_hits: int
    precision_hits: int
    oov: int
    oov_missed: int
    iv: int
    iv_missed: int

    @property
    def recall(self) -> float:
        return self.recall_hits / self.true_words

    @property
    def precision(self) -> float:
        return self.precision_hits / self.test_words

    @property
    def f(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def oov_rate(self) -> float:
        return self.oov / self.true_words

    @property
    def oov_recall(self) -> float | None:
        return 1 - self.oov_missed / self.oov if self.oov else None

    @property
    def iv_recall(self) -> float | None:
        return 1 - self.iv_missed / self.iv if self.iv else None

    def summary(self) -> str:
        """The summary block the perl script prints (same labels, `%2.3f` figures)."""

        def fmt(x: float | None) -> str:
            return "--" if x is None else f"{x:2.3f}"

        return "".join(
            (
                "=== SUMMARY:\n",
                f"=== TOTAL TRUE WORD COUNT:\t{self.true_words}\n",
                f"=== TOTAL TEST WORD COUNT:\t{self.test_words}\n",
                f"=== TOTAL TRUE WORDS RECALL:\t{fmt(self.recall)}\n",
                f"=== TOTAL TEST WORDS PRECISION:\t{fmt(self.precision)}\n",
                f"=== F MEASURE:\t{fmt(self.f)}\n",
                f"=== OOV Rate:\t{fmt(self.oov_rate)}\n",
                f"=== OOV Recall Rate:\t{fmt(self.oov_recall)}\n",
                f"=== IV Recall Rate:\t{fmt(self.iv_recall)}\n",
            )
        )


def _lines(handle: IO[bytes]):
    for number, raw in enumerate(handle):
        yield raw.removeprefix(codecs.BOM_UTF8) if number == 0 else raw


def _words(raw: bytes) -> list[bytes]:
    line = raw.strip(_STRIP)
    line = _SPACES.sub(b" ", line).replace(b"\r", b"")
    return line.split()


def read_word_list(path: str | os.PathLike) -> set[bytes]:
    with open(path, "rb") as f:
        return {raw.strip(_STRIP) for raw in _lines(f)}


def matched(truth: list[bytes], test: list[bytes]) -> list[bool]:
    """For each gold word, whether a shortest edit script (Myers' O(ND) diff, as `diff` runs)
    keeps it: the words of a longest common subsequence of the two lines."""
    n, m = len(truth), len(test)
    if truth == test:
        return [True] * n
    v = {1: 0}
    trace: list[dict[int, int]] = []
    for d in range(n + m + 1):
        trace.append(v.copy())
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[k - 1] < v[k + 1]):
                x = v[k + 1]
            else:
                x = v[k - 1] + 1
            y = x - k
            while x < n and y < m and truth[x] == test[y]:
                x += 1
                y += 1
            v[k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    raise AssertionError("unreachable: an edit script of length n + m always exists")


def _backtrack(trace: list[dict[int, int]], n: int, m: int) -> list[bool]:
    hit = [False] * n
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        v = trace[d]
        k = x - y
        if k == -d or (k != d and v.get(k - 1, -1) < v.get(k + 1, -1)):
            prev_k = k + 1
        else:
            prev_k = k - 1
        prev_x = v.get(prev_k, 0) if d else 0
        prev_y = prev_x - prev_k if d else 0
        while x > prev_x and y > prev_y:
            x -= 1
            y -= 1
            hit[x] = True
        x, y = prev_x, prev_y
    return hit


def score_files(
    gold: str | os.PathLike, words: str | os.PathLike, pred: str | os.PathLike
) -> Score:
    """Score `pred` against `gold` with `words` as the in-vocabulary list."""
    vocab = read_word_list(words)
    true_words = test_words = recall_hits = precision_hits = 0
    oov = oov_missed = iv = iv_missed = 0
    with open(gold, "rb") as g, open(pred, "rb") as p:
        for raw_truth, raw_test in zip(_lines(g), _lines(p)):  # noqa: B905 - stops at the shorter
            truth, test = _words(raw_truth), _words(raw_test)
            if not truth:
                continue
            hits = matched(truth, test)
            n_hit = sum(hits)
            true_words += len(truth)
            test_words += len(test)
            recall_hits += n_hit
            precision_hits += n_hit
            for word, hit in zip(truth, hits, strict=True):
                if word in vocab:
                    iv += 1
                    iv_missed += not hit
                else:
                    oov += 1
                    oov_missed += not hit
    if not true_words or not test_words:
        raise InvalidInputError(
            f"nothing to score: {true_words} gold word(s) in {os.fspath(gold)} and {test_words} "
            f"predicted word(s) in {os.fspath(pred)}; expected both non-empty and aligned by line"
        )
    return Score(
        true_words, test_words, recall_hits, precision_hits, oov, oov_missed, iv, iv_missed
    )
