"""Template discovery (nlp-zero `Template_Finder`): skip-gram PMI, chains of strong pairs.

Pass 1 counts words and skip-gram pairs (a word and each of the next `window` words of its
piece); a pair is strong when log P(pair) > log(min_proba) and PMI > min_pmi. Pass 2 links each
word to the later words it forms strong pairs with, and every maximal chain (from a word no
strong pair ends at, to a word no strong pair starts from) is a template: its words, with `[X]`
wherever words were skipped and at the ends when the chain does not reach them. Both passes are
`jiema.mapping.map_corpus` workers (in-process or Dask, same results).

In-process, pass 1 saves each tokenized batch (word ids + its vocabulary) to a temporary folder
and pass 2 reads them back, so the corpus is tokenized once; on Dask both passes tokenize.
"""

from __future__ import annotations

import math
import operator
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from jiema.errors import InvalidInputError

from .chains import chain_templates
from .charcodes import FILTER_SPLIT, PUNCT_SPLIT
from .corpus import EmptyCorpusError, as_corpus, as_texts, numbered
from .options import TemplateOptions
from .template import Template, TemplateSet

__all__ = ["TemplateFinder", "discover_templates", "SkipGramCounts", "strong_skip_grams"]

_COMPACT_AT = 1 << 21
_LOW = (1 << 32) - 1
_PAD = -2  # fills template rows shorter than the longest of a batch


def _pieces(text: str, filtering: bool) -> list[str]:
    return [s for s in (FILTER_SPLIT if filtering else PUNCT_SPLIT).split(text) if s]


def _encode_batch(tokenize: Any, batch: list[tuple[int, str]], filtering: bool
                  ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(local vocabulary, token ids, tokens per piece) of a batch of lines, cut into pieces.
    A `Tokenizer` encodes in bulk (`encode_many`); another callable cuts piece by piece."""
    pieces = [p for _, text in batch for p in _pieces(text, filtering)]
    encode = getattr(tokenize, "encode_many", None)
    if encode is not None:
        return encode(pieces)
    from .tokenizer import encode_lists

    many = getattr(tokenize, "cut_many", None)
    return encode_lists(many(pieces) if many is not None else [list(tokenize(p)) for p in pieces])


def _spill(path: str, vocab: list[str], ids: np.ndarray, lengths: np.ndarray) -> None:
    np.savez(path, vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
             ids=ids.astype(np.int32), lengths=lengths.astype(np.int32))


def _unspill(path: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    with np.load(path) as data:
        raw = data["vocab"].tobytes().decode("utf-8")
        vocab = raw.split("\n") if raw else []
        return vocab, data["ids"].astype(np.int64), data["lengths"].astype(np.int64)


def _skip_pairs(ids: np.ndarray, piece: np.ndarray, window: int) -> tuple[np.ndarray, ...]:
    """(first index, second index) of every skip-gram pair within a piece, by distance."""
    firsts, seconds = [], []
    for d in range(1, window + 1):
        if d >= ids.shape[0]:
            break
        i = np.flatnonzero(piece[:-d] == piece[d:])
        firsts.append(i)
        seconds.append(i + d)
    if not firsts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(firsts), np.concatenate(seconds)


@dataclass
class SkipGramCounts:
    """Word counts and skip-gram pair counts over a vocabulary (pair key = a << 32 | b)."""

    vocab: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    words: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair_parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def __add__(self, other: SkipGramCounts) -> SkipGramCounts:
        """Merge `other` into this partial (in place), mapping its vocabulary onto ours."""
        index, vocab = self.index, self.vocab
        remap = np.empty(len(other.vocab), dtype=np.int64)
        for i, w in enumerate(other.vocab):
            k = index.get(w)
            if k is None:
                k = index[w] = len(vocab)
                vocab.append(w)
            remap[i] = k
        words = np.zeros(len(vocab), dtype=np.int64)
        words[: self.words.shape[0]] = self.words
        np.add.at(words, remap, other.words)
        self.words = words
        for keys, counts in other.pair_parts:
            self.pair_parts.append(((remap[keys >> 32] << 32) | remap[keys & _LOW], counts))
        if sum(k.shape[0] for k, _ in self.pair_parts) > _COMPACT_AT:
            self.compact()
        return self

    def compact(self) -> SkipGramCounts:
        if len(self.pair_parts) > 1:
            keys = np.concatenate([k for k, _ in self.pair_parts])
            counts = np.concatenate([c for _, c in self.pair_parts])
            order = np.argsort(keys, kind="stable")
            keys, counts = keys[order], counts[order]
            head = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            self.pair_parts = [(keys[head], np.add.reduceat(counts, head))]
        return self

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        self.compact()
        if not self.pair_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return self.pair_parts[0]


def skip_gram_counter(settings: tuple[Any, int, bool, str | None]) -> Callable[[list], list]:
    """Pass-1 worker factory: a batch -> [SkipGramCounts]; with a spill folder, the tokenized
    batch is also saved there for pass 2 (so the corpus is tokenized once)."""
    tokenize, window, filtering, spill = settings

    def count(batch: list[tuple[int, str]]) -> list[SkipGramCounts]:
        vocab, ids, lengths = _encode_batch(tokenize, batch, filtering)
        if spill is not None:
            _spill(os.path.join(spill, f"{batch[0][0]:012d}.npz"), vocab, ids, lengths)
        if not vocab:
            return []
        piece = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
        words = np.bincount(ids, minlength=len(vocab)).astype(np.int64)
        a, b = _skip_pairs(ids, piece, window)
        keys, counts = np.unique((ids[a] << 32) | ids[b], return_counts=True)
        return [SkipGramCounts(vocab, {w: i for i, w in enumerate(vocab)}, words,
                               [(keys, counts.astype(np.int64))])]

    return count


def _logs(values: np.ndarray) -> np.ndarray:
    uniq, inverse = np.unique(values, return_inverse=True)
    table = np.array([math.log(v) if v else -100.0 for v in uniq.tolist()], dtype=np.float64)
    return table[inverse].reshape(values.shape)


def strong_skip_grams(counted: SkipGramCounts, min_proba: float, min_pmi: float) -> np.ndarray:
    """Sorted keys of the skip-gram pairs above `min_proba` with PMI above `min_pmi` (nlp-zero's
    floating-point order)."""
    keys, counts = counted.pairs()
    if keys.shape[0] == 0:
        return keys
    lp = _logs(counts) - math.log(int(counts.sum()))
    lw = _logs(counted.words) - math.log(int(counted.words.sum()))
    keep = (lp > math.log(min_proba)) & (((lp - lw[keys >> 32]) - lw[keys & _LOW]) > min_pmi)
    return keys[keep]


def template_counter(settings: tuple[Any, int, bool, list[str], np.ndarray]
                     ) -> Callable[[list], list]:
    """Pass-2 worker factory: a batch (of lines, or of pass-1 spill files) -> [Counter of
    template keys (word ids, -1 = slot)]."""
    tokenize, window, filtering, vocab, strong = settings
    index = {w: i for i, w in enumerate(vocab)}

    def count(batch: list[Any]) -> list[Counter]:
        out: Counter = Counter()
        if batch and isinstance(batch[0], str):  # spill files
            for path in batch:
                _count_templates(*_unspill(path), out)
        else:
            _count_templates(*_encode_batch(tokenize, batch, filtering), out)
        return [out]

    def _count_templates(local: list[str], lids: np.ndarray, lengths: np.ndarray,
                         out: Counter) -> None:
        if not local:
            return
        remap = np.fromiter((index.get(w, -1) for w in local), dtype=np.int64, count=len(local))
        ids = remap[lids]
        piece = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
        a, b = _skip_pairs(ids, piece, window)
        ok = (ids[a] >= 0) & (ids[b] >= 0)
        a, b = a[ok], b[ok]
        keys = (ids[a] << 32) | ids[b]
        if strong.shape[0]:
            at = np.minimum(np.searchsorted(strong, keys), strong.shape[0] - 1)
            hit = strong[at] == keys
        else:
            hit = np.zeros(keys.shape[0], dtype=bool)
        a, b = a[hit], b[hit]
        n = ids.shape[0]
        has_in = np.zeros(n, dtype=bool)
        has_in[b] = True
        has_out = np.zeros(n, dtype=bool)
        has_out[a] = True
        starts_at = np.concatenate(([0], np.cumsum(lengths)))
        first = starts_at[piece]
        last = starts_at[piece + 1] - 1
        # words in no strong pair: one template each, counted in bulk
        alone = np.flatnonzero(~has_in & ~has_out & (ids >= 0))
        code = (ids[alone] << 2) | ((alone != first[alone]) << 1) | (alone != last[alone])
        uniq, cnt = np.unique(code, return_counts=True)
        for c, k in zip(uniq.tolist(), cnt.tolist(), strict=True):
            w = c >> 2
            out[((-1,) if c & 2 else ()) + (w,) + ((-1,) if c & 1 else ())] += k
        # chains of strong pairs (Numba), counted as rows of a padded matrix
        codes, offsets = chain_templates(ids, first, last, a, b)
        sizes = np.diff(offsets)
        if sizes.shape[0] == 0:
            return
        width = int(sizes.max())
        rows = np.full((sizes.shape[0], width), _PAD, dtype=np.int64)
        rows[np.arange(width)[None, :] < sizes[:, None]] = codes
        uniq_rows, cnt = np.unique(rows, axis=0, return_counts=True)
        for row, k in zip(uniq_rows.tolist(), cnt.tolist(), strict=True):
            while row[-1] == _PAD:
                row.pop()
            out[tuple(row)] += k

    return count


def _add_counters(a: Counter, b: Counter) -> Counter:
    a.update(b)
    return a


class TemplateFinder:
    """Template discovery in steps, as nlp-zero's `Template_Finder`: `train` adds the word and
    skip-gram counts of some texts cut by `tokenize` (as often as you like), `find` chains the
    strong pairs of the texts it is given and returns a `TemplateSet`.

    Where nlp-zero breaks: its `find` replaces the counts by plain dicts (with
    `remove_weak_grams=True`, its default, an empty one) and keeps adding to its templates, so a
    second `train` or `find` raises KeyError. Here `find` returns the templates of the texts it
    was given and leaves the counts as they were, unless `remove_weak_grams=True`, which drops
    the skip-grams at or below `min_proba` (what nlp-zero meant, to save memory)."""

    def __init__(self, tokenize: Any, options: TemplateOptions | None = None,
                 **kwargs: Any) -> None:
        if options is not None and kwargs:
            raise InvalidInputError("give options or keyword options, not both")
        if not callable(tokenize) and not hasattr(tokenize, "cut_many"):
            raise InvalidInputError(f"tokenize must be callable, got {type(tokenize).__name__}")
        self.options = options if options is not None else TemplateOptions(**kwargs)
        self.tokenize = tokenize
        self._counts: SkipGramCounts | None = None
        self._trained = False

    def train(self, corpus: Any, *, backend: Literal["local", "dask"] = "local",
              scheduler: Any = None, partition_size: int = 2000, progress: bool = False,
              spill: str | None = None) -> TemplateFinder:
        """Count the words and skip-grams of `corpus` (any iterable of texts, read once), adding
        to the counts so far. `spill`: an empty folder where each tokenized batch is saved for
        `find_spilled` (in-process, one `train` per folder)."""
        from jiema.mapping import map_corpus

        if spill is not None and backend != "local":
            raise InvalidInputError("spill works in-process only (backend='local')")
        opts = self.options
        counted = map_corpus(skip_gram_counter, (self.tokenize, opts.window, opts.filtering, spill),
                             numbered(as_texts(corpus)), combine=operator.add,
                             backend=backend, scheduler=scheduler,
                             partition_size=partition_size, progress=progress)
        if counted is not None:
            self._counts = counted if self._counts is None else self._counts + counted
        self._trained = True
        return self

    def _strong(self) -> tuple[SkipGramCounts, np.ndarray]:
        if not self._trained:
            raise EmptyCorpusError("nothing counted yet: call train(corpus) before find")
        counted = self._counts
        if counted is None or not counted.vocab:
            raise EmptyCorpusError("the corpus has no words to count")
        if counted.pairs()[0].shape[0] == 0:
            raise EmptyCorpusError(
                "the corpus has no two words in one piece: there are no skip-gram pairs")
        return counted, strong_skip_grams(counted, self.options.min_proba, self.options.min_pmi)

    def find(self, corpus: Any, *, remove_weak_grams: bool = False,
             backend: Literal["local", "dask"] = "local", scheduler: Any = None,
             partition_size: int = 2000, progress: bool = False) -> TemplateSet:
        """The templates of `corpus` (any iterable of texts, read once) from the strong
        skip-grams of the counts so far."""
        counted, strong = self._strong()
        found = self._chain(numbered(as_texts(corpus)), partition_size, dict(
            backend=backend, scheduler=scheduler, progress=progress), counted, strong)
        if remove_weak_grams:
            self._drop_weak()
        return found

    def find_spilled(self, folder: str, *, progress: bool = False) -> TemplateSet:
        """`find` over the batches `train(..., spill=folder)` saved (the same texts, tokenized
        once)."""
        counted, strong = self._strong()
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".npz"))
        return self._chain(files, 1, dict(progress=progress), counted, strong)

    def _chain(self, items: Any, size: int, run: dict, counted: SkipGramCounts,
               strong: np.ndarray) -> TemplateSet:
        from jiema.mapping import map_corpus

        opts = self.options
        settings = (self.tokenize, opts.window, opts.filtering, counted.vocab, strong)
        found = map_corpus(template_counter, settings, items, combine=_add_counters,
                           partition_size=size, **run) or Counter()
        if not found:
            raise EmptyCorpusError("find was given no words")
        keys = list(found)
        counts = np.array([found[k] for k in keys], dtype=np.int64)
        keep = (_logs(counts) - math.log(int(counts.sum()))) > math.log(opts.min_proba)
        vocab = counted.vocab
        result = {
            Template(tuple(None if i < 0 else vocab[i] for i in k)): int(c)
            for k, c, ok in zip(keys, counts.tolist(), keep.tolist(), strict=True) if ok
        }
        meta = {"window": str(opts.window), "min_proba": repr(opts.min_proba),
                "min_pmi": repr(opts.min_pmi), "filtering": str(opts.filtering)}
        return TemplateSet(result, meta=meta)

    def _drop_weak(self) -> None:
        counted = self._counts
        assert counted is not None
        keys, counts = counted.pairs()
        strong = (_logs(counts) - math.log(int(counts.sum()))) > math.log(self.options.min_proba)
        counted.pair_parts = [(keys[strong], counts[strong])]


def discover_templates(
    corpus: Any,
    tokenize: Any,
    options: TemplateOptions | None = None,
    *,
    backend: Literal["local", "dask"] = "local",
    scheduler: Any = None,
    partition_size: int = 2000,
    progress: bool = False,
    **kwargs: Any,
) -> TemplateSet:
    """Discover sentence templates in `corpus` (a re-iterable of texts) cut by `tokenize` (a
    `Tokenizer`, e.g. `WordTable.tokenizer()`, or any picklable function text -> words).

    Options as `TemplateOptions` or keywords (`window`, `min_proba`, `min_pmi`, `filtering`).
    The same as `TemplateFinder(tokenize, options).train(corpus).find(corpus)`; in-process the
    tokenized batches of the first pass are kept in a temporary folder for the second.
    """
    finder = TemplateFinder(tokenize, options, **kwargs)
    texts = as_corpus(corpus)
    run: dict[str, Any] = dict(backend=backend, scheduler=scheduler, progress=progress,
                               partition_size=partition_size)
    if backend != "local":
        return finder.train(texts, **run).find(texts, **run)
    with tempfile.TemporaryDirectory(prefix="jiema-templates-") as tmp:
        finder.train(texts, spill=tmp, **run)
        return finder.find_spilled(tmp, progress=progress)
