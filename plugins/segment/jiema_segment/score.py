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
    """For each gold word, whether it is in a longest common subsequence with `test`.

    When both lines hold the same characters they are cut at the boundaries the two
    segmentations share and each piece is aligned alone (small tables); otherwise one table.
    """
    if b"".join(truth) == b"".join(test):
        out: list[bool] = []
        i = j = 0
        pos_t = pos_p = 0
        start_i = start_j = 0
        while i < len(truth) or j < len(test):
            if pos_t <= pos_p and i < len(truth):
                pos_t += len(truth[i])
                i += 1
            else:
                pos_p += len(test[j])
                j += 1
            if pos_t == pos_p:
                a, b = truth[start_i:i], test[start_j:j]
                out.extend([True] * len(a) if a == b else _lcs(a, b))
                start_i, start_j = i, j
        return out
    return _lcs(truth, test)


def _lcs(a: list[bytes], b: list[bytes]) -> list[bool]:
    n, m = len(a), len(b)
    if not n:
        return []
    if not m:
        return [False] * n
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = table[i], table[i + 1]
        ai = a[i]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if ai == b[j] else max(below[j], row[j + 1])
    hit = [False] * n
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            hit[i] = True
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
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
