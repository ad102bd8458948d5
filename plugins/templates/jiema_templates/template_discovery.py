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

from .charcodes import FILTER_SPLIT, PUNCT_SPLIT
from .corpus import EmptyCorpusError, as_corpus, numbered
from .options import TemplateOptions
from .template import Template, TemplateSet

__all__ = ["discover_templates", "SkipGramCounts", "strong_skip_grams"]

_COMPACT_AT = 1 << 21
_LOW = (1 << 32) - 1


def _pieces(text: str, filtering: bool) -> list[str]:
    return [s for s in (FILTER_SPLIT if filtering else PUNCT_SPLIT).split(text) if s]


def _tokenize_batch(tokenize: Any, batch: list[tuple[int, str]], filtering: bool
                    ) -> list[list[str]]:
    pieces = [p for _, text in batch for p in _pieces(text, filtering)]
    many = getattr(tokenize, "cut_many", None)
    if many is not None:
        return many(pieces)
    return [list(tokenize(p)) for p in pieces]


def _encode(pieces: list[list[str]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(local vocabulary, token ids, piece lengths) of tokenized pieces."""
    index: dict[str, int] = {}
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    total = int(lengths.sum())
    ids = np.fromiter((index.setdefault(w, len(index)) for p in pieces for w in p),
                      dtype=np.int64, count=total)
    return list(index), ids, lengths


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
        vocab, ids, lengths = _encode(_tokenize_batch(tokenize, batch, filtering))
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
            _count_templates(*_encode(_tokenize_batch(tokenize, batch, filtering)), out)
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
        order = np.lexsort((b, a))
        a, b = a[order], b[order]
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
        # chains: from every word with outgoing but no incoming strong pair
        adj: dict[int, list[int]] = {}
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            adj.setdefault(x, []).append(y)
        idl = ids.tolist()
        memo: dict[int, list[tuple[int, ...]]] = {}

        def chains(x: int) -> list[tuple[int, ...]]:
            got = memo.get(x)
            if got is None:
                nxt = adj.get(x)
                got = [(x,)] if nxt is None else [(x, *c) for y in nxt for c in chains(y)]
                memo[x] = got
            return got

        for s in np.flatnonzero(~has_in & has_out).tolist():
            lo, hi = int(first[s]), int(last[s])
            for path in chains(s):
                t: list[int] = [-1] if path[0] != lo else []
                t.append(idl[path[0]])
                for p, q in zip(path, path[1:], strict=False):
                    if q - p > 1:
                        t.append(-1)
                    t.append(idl[q])
                if path[-1] != hi:
                    t.append(-1)
                out[tuple(t)] += 1

    return count


def _add_counters(a: Counter, b: Counter) -> Counter:
    a.update(b)
    return a


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
    """
    from jiema.mapping import map_corpus

    if options is not None and kwargs:
        raise InvalidInputError("give options or keyword options, not both")
    opts = options if options is not None else TemplateOptions(**kwargs)
    if not callable(tokenize) and not hasattr(tokenize, "cut_many"):
        raise InvalidInputError(f"tokenize must be callable, got {type(tokenize).__name__}")
    texts = as_corpus(corpus)
    run = dict(backend=backend, scheduler=scheduler, progress=progress)
    with tempfile.TemporaryDirectory(prefix="jiema-templates-") as tmp:
        spill = tmp if backend == "local" else None
        counted = map_corpus(skip_gram_counter, (tokenize, opts.window, opts.filtering, spill),
                             numbered(texts), combine=operator.add,
                             partition_size=partition_size, **run)
        if counted is None or not counted.vocab:
            raise EmptyCorpusError("the corpus has no words to count")
        if counted.pairs()[0].shape[0] == 0:
            raise EmptyCorpusError(
                "the corpus has no two words in one piece: there are no skip-gram pairs")
        strong = strong_skip_grams(counted, opts.min_proba, opts.min_pmi)
        settings = (tokenize, opts.window, opts.filtering, counted.vocab, strong)
        if spill is not None:
            items: Any = sorted(os.path.join(tmp, f) for f in os.listdir(tmp))
            size = 1
        else:
            items, size = numbered(texts), partition_size
        found = map_corpus(template_counter, settings, items, combine=_add_counters,
                           partition_size=size, **run) or Counter()
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


