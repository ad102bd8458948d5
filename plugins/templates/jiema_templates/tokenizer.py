"""Unigram tokenizer over a discovered word table (nlp-zero `Tokenizer`), decoded by the core:
dictionary matches (`jiema.text.DictionaryMatcher`) become a `jiema.WordLattice`, best path by
`jiema.viterbi`.

As nlp-zero: a text is cut at `。，、！？`, newlines and spaces (each such character is a token);
a word scores log(count) - log(total); a character that no dictionary word ends at gets a
one-character edge scoring -100; afterwards digit/Latin runs are glued (`combine_Aa123`, or the
core's `merge_runs` with `runs="core"`). Many texts are decoded as one lattice (the split
characters between them keep the paths apart), so corpus tokenization is one Viterbi call.

Differences from nlp-zero: matching is on width-normalised text (`ＧＤＰ` matches `GDP`); exact
ties between two cuts go to the one whose last word starts first (nlp-zero's pick depends on the
rounding of its running sums).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from jiema.errors import InvalidInputError

from .charcodes import PUNCT_CHARS
from .pruning import NULL_SCORE

__all__ = ["Tokenizer", "combine_aa123"]

_AA123 = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ALNUM_DOT = re.compile(r"[a-zA-Z\d\.]")
_HAS_AA123 = re.compile("[0-9A-Za-z]")
Runs = Literal["nlp-zero", "core", "none"]


def combine_aa123(tokens: Sequence[str]) -> list[str]:
    """nlp-zero's `combine_Aa123`: after a token ending in an ASCII letter/digit, tokens made only
    of `[a-zA-Z\\d.]` are appended to it."""
    result: list[str] = []
    combine = False
    for w in tokens:
        if w[-1] in _AA123:
            if combine:
                if len(_ALNUM_DOT.findall(w)) == len(w):
                    result[-1] += w
                else:
                    combine = False
                    result.append(w)
            else:
                combine = True
                result.append(w)
        else:
            combine = False
            result.append(w)
    return result


class Tokenizer:
    """Cuts text into the words of a table `word -> count` (a `WordTable` or a mapping)."""

    def __init__(self, counts: Mapping[str, int] | Any, *, runs: Runs = "nlp-zero",
                 null_score: float = NULL_SCORE) -> None:
        from jiema.text import Dictionary, DictionaryMatcher

        table = getattr(counts, "counts", counts)
        if not isinstance(table, Mapping):
            raise InvalidInputError("Tokenizer needs a WordTable or a word -> count mapping, "
                                    f"got {type(counts).__name__}")
        if runs not in ("nlp-zero", "core", "none"):
            raise InvalidInputError(f"runs must be 'nlp-zero', 'core' or 'none', got {runs!r}")
        bad = [w for w, c in table.items() if not isinstance(c, int | np.integer) or c <= 0]
        if bad:
            raise InvalidInputError(f"word counts must be positive integers; bad: {bad[:5]!r}")
        # words holding a split character can never match (nlp-zero cuts there first)
        entries = [(w, int(c), None) for w, c in table.items()
                   if w and not any(ch in PUNCT_CHARS or ch.isspace() for ch in w)]
        self.dictionary = Dictionary(entries)
        self.matcher = DictionaryMatcher(self.dictionary)
        self.runs: Runs = runs
        self.null_score = float(null_score)
        total = sum(int(c) for c in table.values())
        self.total = total
        freqs = self.dictionary.freqs
        uniq, inverse = np.unique(freqs, return_inverse=True)
        logs = np.array([math.log(v) if v else -math.inf for v in uniq.tolist()])
        self.scores = logs[inverse] - math.log(total) if total else logs[inverse]

    def __getstate__(self) -> dict:
        return self.__dict__.copy()

    def __call__(self, text: str) -> list[str]:
        return self.cut(text)

    def cut(self, text: str) -> list[str]:
        """The words of `text`, in order ("".join gives `text` back)."""
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
        return self.cut_many([text])[0]

    def lattice(self, text: str) -> Any:
        """The `jiema.WordLattice` decoded for `text` (labels: dictionary ids, -1 for the
        one-character fallback and split characters)."""
        return self._lattice(text)[0]

    def _lattice(self, text: str) -> tuple[Any, np.ndarray]:
        from jiema import WordLattice

        n = len(text)
        starts, ends, ids = self.matcher.find(text)
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        punct = np.isin(codes, _PUNCT_CODES)
        if punct.any():
            inside = np.concatenate(([0], np.cumsum(punct)))
            keep = inside[ends] == inside[starts]
            starts, ends, ids = starts[keep], ends[keep], ids[keep]
        scores = self.scores[ids]
        reached = np.zeros(n + 1, dtype=bool)
        reached[ends] = True
        reached[1:] |= punct
        fallback = np.flatnonzero(~reached[1:])  # char p gets edge (p, p + 1)
        ppos = np.flatnonzero(punct)
        starts = np.concatenate((starts, fallback, ppos))
        ends = np.concatenate((ends, fallback + 1, ppos + 1))
        labels = np.concatenate((ids, np.full(fallback.shape[0] + ppos.shape[0], -1)))
        scores = np.concatenate((scores, np.full(fallback.shape[0], self.null_score),
                                 np.zeros(ppos.shape[0])))
        return WordLattice.from_edges(n, starts, ends, labels, scores), punct

    def cut_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Cut many texts with one lattice and one Viterbi call."""
        import jiema

        texts = list(texts)
        joined = "\n".join(texts)
        if not joined:
            return [[] for _ in texts]
        lat, _ = self._lattice(joined)
        path = jiema.viterbi(lat)
        st = lat.starts[path.nodes]
        en = lat.ends[path.nodes]
        tokens = [joined[s:e] for s, e in zip(st.tolist(), en.tolist(), strict=True)]
        seps = np.cumsum([len(t) + 1 for t in texts])[:-1] - 1
        cuts = np.flatnonzero(np.isin(st, seps)).tolist()  # separators are one-char edges
        bounds = [-1, *cuts, len(tokens)]
        runs = self._runs
        return [runs(tokens[a + 1:b], text)
                for a, b, text in zip(bounds[:-1], bounds[1:], texts, strict=True)]

    def _runs(self, tokens: list[str], text: str) -> list[str]:
        if self.runs == "none" or not tokens:
            return tokens
        if self.runs == "core":
            from jiema.text import merge_runs

            return merge_runs(tokens)
        if not _HAS_AA123.search(text):
            return tokens
        return combine_aa123(tokens)


_PUNCT_CODES = np.array([ord(c) for c in PUNCT_CHARS], dtype=np.uint32)

