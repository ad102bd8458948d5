"""Dictionary matching with Aho-Corasick, and the word lattice (DAG) built from the matches.

Every dictionary occurrence in a text, overlaps included, in one linear pass (pyahocorasick),
over width-normalised keys and text so `ＧＤＰ` matches `GDP`. Normalisation maps one character
to one character, so match offsets are offsets in the original text.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .._validate import as_scores
from ..errors import InvalidInputError, InvalidValueError, ShapeError
from .dictionary import Dictionary
from .runs import find_runs
from .width import normalize_codes, normalize_width

__all__ = ["DictionaryMatcher"]

_EMPTY = np.zeros(0, dtype=np.int64)


class _Keys(NamedTuple):
    """The width-normalised keys of one dictionary version and the word ids under each key
    (several words can share a key: `GDP`, `ＧＤＰ`)."""

    keys: list[str]
    key_len: np.ndarray
    key_offsets: np.ndarray
    key_ids: np.ndarray
    single_id: bool

    def expand(self, starts: np.ndarray, ends: np.ndarray, keys: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Key matches `(starts, ends, key indices)` as word matches `(starts, ends, ids)`, each
        key's ids in id order."""
        if self.single_id:
            return starts, ends, self.key_ids[self.key_offsets[keys]]
        counts = self.key_offsets[keys + 1] - self.key_offsets[keys]
        hit = np.repeat(np.arange(keys.shape[0]), counts)
        within = np.arange(hit.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        ids = self.key_ids[self.key_offsets[keys][hit] + within]
        return starts[hit], ends[hit], ids


class _Index(NamedTuple):
    """One built automaton and its key tables, replaced whole (never field by field) so a thread
    searching while another rebuilds sees either the old index or the new one, never a mix."""

    version: int
    automaton: Any  # ahocorasick.Automaton, or None when no key is present
    keys: _Keys


class _ArrayIndex(NamedTuple):
    """The keys in a reversed trie for `find_codes` (see `jiema._kernels.trie`), replaced whole
    like `_Index`."""

    version: int
    hkeys: np.ndarray
    hvals: np.ndarray
    term_key: np.ndarray
    maxlen: int
    keys: _Keys


_Snapshot = TypeVar("_Snapshot", _Index, _ArrayIndex)


class DictionaryMatcher:
    """Finds dictionary words in text and builds a `jiema.WordLattice` from them.

    Built from a `Dictionary` (kept by reference: edits to it, or through `add_word` /
    `del_word` here, rebuild the automaton lazily on the next search) or from plain words (a
    Dictionary with every frequency 1). `compat=True` also folds the other width forms
    (see `jiema.text.width.width_table`). Pickles without its automaton (rebuilt on first use).
    """

    def __init__(self, dictionary: Dictionary | Iterable[str], *, compat: bool = False) -> None:
        if isinstance(dictionary, str):
            raise InvalidInputError(
                "DictionaryMatcher needs a Dictionary or an iterable of words, got one string"
            )
        self.dictionary = (
            dictionary if isinstance(dictionary, Dictionary) else Dictionary.from_words(dictionary)
        )
        self.compat = compat
        self._index: _Index | None = None
        self._array_index: _ArrayIndex | None = None
        self._build_lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_index"] = None
        state["_array_index"] = None
        del state["_build_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._build_lock = threading.Lock()

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> int:
        """`Dictionary.add_word` on the underlying dictionary; the automaton rebuilds lazily."""
        return self.dictionary.add_word(word, freq, tag)

    def del_word(self, word: str) -> bool:
        """`Dictionary.del_word` on the underlying dictionary; the automaton rebuilds lazily."""
        return self.dictionary.del_word(word)

    def _current_index(self) -> _Index:
        """The automaton index for the dictionary as it is now (see `_current`)."""
        return self._current("_index", self._build)

    def _current_array_index(self) -> _ArrayIndex:
        """The reversed-trie index of `find_codes` for the dictionary as it is now."""
        return self._current("_array_index", self._build_array)

    def _current(self, slot: str, build: Callable[[], _Snapshot]) -> _Snapshot:
        """The snapshot held in attribute `slot` if it is of the dictionary's current version,
        else a new one from `build`; built once per version, by one thread (the others wait
        for it rather than building a second copy)."""
        index = getattr(self, slot)
        if index is not None and index.version == self.dictionary.version:
            return index
        with self._build_lock:
            index = getattr(self, slot)
            if index is None or index.version != self.dictionary.version:
                index = build()
                setattr(self, slot, index)
            return index

    def _keys(self) -> tuple[int, _Keys]:
        """(dictionary version, its key tables)."""
        version = self.dictionary.version
        present, words = self.dictionary._present()
        # words hold no whitespace, so one normalisation pass over the joined words is exact
        normalised = normalize_width("\n".join(words), compat=self.compat)
        keys: dict[str, list[int]] = {}
        for key, i in zip(normalised.split("\n") if present else (), present, strict=True):
            keys.setdefault(key, []).append(i)
        counts = np.fromiter((len(v) for v in keys.values()), dtype=np.int64, count=len(keys))
        return version, _Keys(
            keys=list(keys),
            key_len=np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys)),
            key_offsets=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
            key_ids=np.fromiter(
                itertools.chain.from_iterable(keys.values()), dtype=np.int64,
                count=int(counts.sum()),
            ),
            single_id=bool((counts == 1).all()),
        )

    def _build(self) -> _Index:
        import ahocorasick

        version, keys = self._keys()
        automaton = None
        if keys.keys:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for k, key in enumerate(keys.keys):
                automaton.add_word(key, k)
            automaton.make_automaton()
        return _Index(version=version, automaton=automaton, keys=keys)

    def _build_array(self) -> _ArrayIndex:
        from .._kernels.trie import build_reverse_trie

        version, keys = self._keys()
        hkeys, hvals, term_key, maxlen = build_reverse_trie(keys.keys)
        return _ArrayIndex(version=version, hkeys=hkeys, hvals=hvals, term_key=term_key,
                           maxlen=maxlen, keys=keys)

    def _find_normalized(self, norm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = self._current_index()
        if index.automaton is None or not norm:
            return _EMPTY.copy(), _EMPTY.copy(), _EMPTY.copy()
        hits = itertools.chain.from_iterable(index.automaton.iter(norm))
        flat = np.fromiter(hits, dtype=np.int64)
        last, keys = flat[0::2], flat[1::2]
        ends = last + 1
        return index.keys.expand(ends - index.keys.key_len[keys], ends, keys)

    def find_codes(self, codes: object, *, normalized: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`find` for text given as an array of code points (e.g. a whole corpus joined and
        encoded as UTF-32): the same `(starts, ends, ids)`, in the same order, computed without
        a Python object per match, for corpus-sized batches. `normalized=True`: `codes` are
        already width-normalised (`normalize_width` with this matcher's `compat`)."""
        arr = np.asarray(codes)
        if arr.ndim != 1 or not (arr.dtype.kind in "iu" or arr.size == 0):
            raise InvalidInputError(
                f"codes must be a 1-d integer array of code points, got {arr.dtype} "
                f"with shape {arr.shape}"
            )
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) > sys.maxunicode):
            raise InvalidValueError("codes must be code points in 0..0x10FFFF")
        if not normalized:
            arr = normalize_codes(arr, compat=self.compat)
        index = self._current_array_index()
        if not index.keys.keys or not arr.size:
            return _EMPTY.copy(), _EMPTY.copy(), _EMPTY.copy()
        from .._kernels.trie import match_keys

        starts, ends, keys = match_keys(
            np.ascontiguousarray(arr), index.hkeys, index.hvals, index.term_key, index.maxlen
        )
        return index.keys.expand(starts, ends, keys)

    def find(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every occurrence of every dictionary word: `(starts, ends, ids)` int64 arrays, the word
        `ids[i]` spanning `text[starts[i]:ends[i]]`; ordered by end, then start, then id. Words
        that normalise to the same key (`GDP`, `ＧＤＰ`) all match wherever either form occurs."""
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
        return self._find_normalized(normalize_width(text, compat=self.compat))

    def lattice(
        self,
        text: str,
        scores: object | None = None,
        *,
        single_chars: bool = True,
        runs: bool = True,
        oov_score: float | None = None,
        run_score: float | None = None,
    ):  # -> jiema.WordLattice (imported lazily)
        """The word DAG of `text` over boundaries 0..len(text).

        - one edge per dictionary occurrence (`label` = word id), scored by `scores[id]`
          (`scores`: a float array of length `dictionary.vocab_size`, e.g. from a trained model)
          or by default by the dictionary's `log_probs()`;
        - `runs`: each maximal digit/Latin run (`jiema.text.runs`) becomes one edge (label -1,
          `run_score`, default `oov_score`), and every other edge that starts or ends strictly
          inside a run is dropped, so runs stay whole (a word spanning exactly a run, or
          reaching past its ends, stays);
        - `single_chars`: every character that still has no one-character edge (and is not
          inside a longer run) gets one (label -1, `oov_score`), so a path always exists;
        - `oov_score` defaults to the dictionary's `oov_log_prob` (`-log(total)`, jieba's score
          for an unknown character), or with `scores` given to the lowest finite score in it
          (0.0 if none).
        """
        from ..lattice import WordLattice

        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
        n = len(text)
        norm = normalize_width(text, compat=self.compat)
        starts, ends, ids = self._find_normalized(norm)
        if scores is None:
            table = self.dictionary.log_probs()
            default_oov = self.dictionary.oov_log_prob
        else:
            table = as_scores(scores, "scores", 1).astype(np.float64, copy=False)
            if table.shape[0] != self.dictionary.vocab_size:
                raise ShapeError(
                    f"scores must have one entry per dictionary id ({self.dictionary.vocab_size}), "
                    f"got {table.shape[0]}"
                )
            finite = table[np.isfinite(table)]
            default_oov = float(finite.min()) if finite.size else 0.0
        oov = _check_score(default_oov if oov_score is None else oov_score, "oov_score")
        run_sc = oov if run_score is None else _check_score(run_score, "run_score")
        edge_scores = table[ids]
        labels = ids
        if runs:
            run_starts, run_ends = find_runs(norm, normalized=True)
            # interior[b]: boundary b lies strictly inside some run
            depth = np.zeros(n + 2, dtype=np.int64)
            np.add.at(depth, run_starts + 1, 1)
            np.add.at(depth, run_ends, -1)
            interior = np.cumsum(depth)[: n + 1] > 0
            keep = ~(interior[starts] | interior[ends])
            starts, ends, labels, edge_scores = (
                starts[keep], ends[keep], labels[keep], edge_scores[keep]
            )
            starts = np.concatenate((starts, run_starts))
            ends = np.concatenate((ends, run_ends))
            labels = np.concatenate((labels, np.full(run_starts.shape[0], -1, dtype=np.int64)))
            edge_scores = np.concatenate((edge_scores, np.full(run_starts.shape[0], run_sc)))
        else:
            interior = np.zeros(n + 1, dtype=bool)
        if single_chars and n:
            covered = np.zeros(n, dtype=bool)
            covered[starts[ends - starts == 1]] = True
            covered |= interior[:-1] | interior[1:]
            pos = np.flatnonzero(~covered).astype(np.int64)
            starts = np.concatenate((starts, pos))
            ends = np.concatenate((ends, pos + 1))
            labels = np.concatenate((labels, np.full(pos.shape[0], -1, dtype=np.int64)))
            edge_scores = np.concatenate((edge_scores, np.full(pos.shape[0], oov)))
        return WordLattice.from_edges(n, starts, ends, labels, edge_scores.astype(np.float64))


def _check_score(value: float, name: str) -> float:
    value = float(value)
    if math.isnan(value) or value == math.inf:
        raise InvalidValueError(f"{name} must be a finite log-score or -inf, got {value}")
    return value
