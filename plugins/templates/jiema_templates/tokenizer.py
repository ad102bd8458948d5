"""Unigram tokenizer over a discovered word table (nlp-zero `Tokenizer`), decoded by the core:
dictionary matches become a `jiema.WordLattice`, best path by `jiema.viterbi`.

As nlp-zero: a text is cut at `。，、！？`, newlines and spaces (each such character is a token);
a word scores log(count) - log(total); a character that no dictionary word ends at gets a
one-character edge scoring -100; afterwards digit/Latin runs are glued (`combine_Aa123`, or the
core's `merge_runs` with `runs="core"`). Many texts are decoded as one lattice (the split
characters between them keep the paths apart), so corpus tokenization is one Viterbi call.
Matching is the core's `DictionaryMatcher.find_codes` (arrays in, arrays out) over the joined
batch; `combine_Aa123` is `jiema_templates.aa123`.

Differences from nlp-zero: matching is on width-normalised text (`ＧＤＰ` matches `GDP`), as the
core's `DictionaryMatcher` does; exact ties between two cuts go to the one whose last word starts
first (nlp-zero's pick depends on the rounding of its running sums).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
from jiema.errors import InvalidInputError

from .aa123 import F_AA123, F_PUNCT, code_flags, combine_aa123, combine_runs
from .charcodes import PUNCT_CHARS
from .pruning import NULL_SCORE

__all__ = ["Tokenizer", "combine_aa123"]

Runs = Literal["nlp-zero", "core", "none"]


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
        self.runs: Runs = runs
        self.null_score = float(null_score)
        total = sum(int(c) for c in table.values())
        self.total = total
        freqs = self.dictionary.freqs
        uniq, inverse = np.unique(freqs, return_inverse=True)
        logs = np.array([math.log(v) if v else -math.inf for v in uniq.tolist()])
        self.scores = logs[inverse] - math.log(total) if total else logs[inverse]
        self.matcher = DictionaryMatcher(self.dictionary)

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

    def _lattice(self, text: str) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
        """(lattice, code points, width-normalised code points, `F_*` flags) of `text`."""
        from jiema import WordLattice
        from jiema.text import normalize_codes

        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.int64)
        norm = normalize_codes(codes)
        flags = code_flags(codes)
        st, en, lab, sc = self._edges(norm, (flags & F_PUNCT) != 0)
        return WordLattice.from_edges(len(text), st, en, lab, sc), codes, norm, flags

    def _edges(self, norm: np.ndarray, split: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Edges `(starts, ends, labels, scores)` over `norm` (normalised code points), ordered
        by end then start: every dictionary match not holding a split character (`split` True),
        where words sharing a normalised key (`GDP`, `ＧＤＰ`) give one edge, labelled by the
        best-scoring of them (then the lowest id); each split character as its own edge scoring
        0; a one-character edge scoring `null_score` at each position no word ends at (labels -1
        for both)."""
        st, en, ids = self.matcher.find_codes(norm, normalized=True)
        n_split = np.concatenate(([0], np.cumsum(split)))
        keep = n_split[en] == n_split[st]
        st, en, ids = st[keep], en[keep], ids[keep]
        sc = self.scores[ids]
        same = (st[1:] == st[:-1]) & (en[1:] == en[:-1])
        if same.any():  # one key, several words: sort each span's words best first
            order = np.lexsort((ids, -sc, st, en))
            st, en, ids, sc = st[order], en[order], ids[order], sc[order]
            first = np.concatenate(([True], ~same))
            st, en, ids, sc = st[first], en[first], ids[first], sc[first]
        # matches are ordered by end then start; no match ends where a one-character edge goes
        ended = np.zeros(norm.shape[0] + 1, dtype=bool)
        ended[en] = True
        alone = np.flatnonzero(split | ~ended[1:])
        at = np.searchsorted(en, alone + 1)
        return (np.insert(st, at, alone), np.insert(en, at, alone + 1),
                np.insert(ids, at, -1),
                np.insert(sc, at, np.where(split[alone], 0.0, self.null_score)).astype(np.float64))

    def _tokens(self, texts: list[str]) -> tuple[str, np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, np.ndarray, np.ndarray]:
        """Decode `texts` as one lattice: (joined text, its code points, normalised code points,
        token starts, ends, labels (-1: no dictionary word), glued by `combine_Aa123`), the
        joining newlines included as tokens."""
        import jiema

        joined = "\n".join(texts)
        lat, codes, norm, flags = self._lattice(joined)
        nodes = jiema.viterbi(lat).nodes
        st, en, lab = lat.starts[nodes], lat.ends[nodes], lat.labels[nodes]
        glued = np.zeros(st.shape[0], dtype=bool)
        if self.runs == "nlp-zero":
            if (flags & F_AA123).any():
                st, en, src, glued = combine_runs(st, en, flags)
                lab = lab[src]
        return joined, codes, norm, st, en, lab, glued

    def cut_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Cut many texts with one lattice and one Viterbi call."""
        texts = list(texts)
        if not any(texts):
            return [[] for _ in texts]
        joined, _, _, st, en, _, _ = self._tokens(texts)
        tokens = [joined[s:e] for s, e in zip(st.tolist(), en.tolist(), strict=True)]
        seps = np.cumsum([len(t) + 1 for t in texts])[:-1] - 1
        cuts = np.flatnonzero(np.isin(st, seps)).tolist()  # separators are one-char edges
        bounds = [-1, *cuts, len(tokens)]
        out = [tokens[a + 1:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        if self.runs == "core":
            from jiema.text import merge_runs

            out = [merge_runs(ws) if ws else ws for ws in out]
        return out

    def encode_many(self, texts: Iterable[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The tokens of many texts as ids: `(vocabulary, ids, lengths)`, `vocabulary[ids]`
        being the concatenated `cut_many(texts)` and `lengths` the number of tokens per text.
        Keyed by dictionary id and code point in numpy, so no string is made per token."""
        texts = list(texts)
        if not any(texts):
            return [], np.zeros(0, dtype=np.int64), np.zeros(len(texts), dtype=np.int64)
        if self.runs == "core":
            return encode_lists(self.cut_many(texts))
        joined, codes, norm, st, en, lab, glued = self._tokens(texts)
        seps = np.cumsum([len(t) + 1 for t in texts])[:-1] - 1
        keep = ~np.isin(st, seps)
        lengths = np.bincount(np.searchsorted(seps, st[keep]), minlength=len(texts))
        st, en, lab, glued = st[keep], en[keep], lab[keep], glued[keep]
        # a token's text is fixed by its dictionary id (or code point) where matching saw the
        # characters as written; width-changed and glued tokens are keyed by their text
        changed = np.concatenate(([0], np.cumsum(norm != codes)))
        clean = (changed[en] == changed[st]) & ~glued
        key = np.where(clean & (lab >= 0), lab, -1)
        alone = clean & (lab < 0) & (en - st == 1)
        key[alone] = self.dictionary.vocab_size + codes[st[alone]]
        rest = np.flatnonzero(key < 0)
        if rest.size:
            named: dict[str, int] = {}
            key[rest] = [-2 - named.setdefault(joined[s:e], len(named))
                         for s, e in zip(st[rest].tolist(), en[rest].tolist(), strict=True)]
        uniq, first, ids = np.unique(key, return_index=True, return_inverse=True)
        vocab = [joined[s:e] for s, e in zip(st[first].tolist(), en[first].tolist(),
                                             strict=True)]
        if len(set(vocab)) < len(vocab):  # one text under two keys: merge them
            index: dict[str, int] = {}
            remap = np.array([index.setdefault(w, len(index)) for w in vocab], dtype=np.int64)
            ids, vocab = remap[ids], list(index)
        return vocab, ids.astype(np.int64).reshape(-1), lengths.astype(np.int64)


def encode_lists(pieces: list[list[str]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(vocabulary, token ids, lengths) of tokenized texts."""
    index: dict[str, int] = {}
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    ids = np.fromiter((index.setdefault(w, len(index)) for p in pieces for w in p),
                      dtype=np.int64, count=int(lengths.sum()))
    return list(index), ids, lengths


