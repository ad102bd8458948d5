"""Word discovery (nlp-zero `Word_Finder`): strong pairs, glued candidates, minimum-entropy
pruning. Counting runs through `jiema.mapping.map_corpus` (in-process or Dask)."""

from __future__ import annotations

import math
import operator
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from jiema.errors import InvalidInputError

from .corpus import EmptyCorpusError, as_corpus, as_texts, numbered
from .options import WordOptions

__all__ = ["WordFinder", "WordTable", "discover_words", "strong_pair_keys"]


@dataclass
class WordTable:
    """The discovered words with counts (single characters included), the strong pairs that
    glued them and the options used."""

    counts: dict[str, int]
    strong_pairs: list[str] = field(default_factory=list)
    options: WordOptions = field(default_factory=WordOptions)
    char_keys: np.ndarray | None = field(default=None, repr=False)
    char_counts: np.ndarray | None = field(default=None, repr=False)
    pair_keys: np.ndarray | None = field(default=None, repr=False)
    pair_counts: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    def chars(self) -> dict[str, int]:
        """Character counts of the first pass (empty for a loaded table)."""
        if self.char_keys is None or self.char_counts is None:
            return {}
        return dict(zip(map(chr, self.char_keys.tolist()), self.char_counts.tolist(), strict=True))

    def pairs(self) -> dict[str, int]:
        """Adjacent-pair counts of the first pass (empty for a loaded table)."""
        from .charcodes import BITS

        if self.pair_keys is None or self.pair_counts is None:
            return {}
        mask = (1 << BITS) - 1
        return {chr(k >> BITS) + chr(k & mask): c
                for k, c in zip(self.pair_keys.tolist(), self.pair_counts.tolist(), strict=True)}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def most_common(self) -> list[tuple[str, int]]:
        """(word, count), highest count first, ties in table order."""
        return sorted(self.counts.items(), key=lambda wc: -wc[1])

    def dumps(self) -> str:
        """jieba dictionary format: `word count` per line, highest count first."""
        return "".join(f"{w} {c}\n" for w, c in self.most_common() if not w.isspace())

    def save(self, path: str | os.PathLike) -> None:
        """Write the jieba-format dictionary (usable by `jiema segment --user-dict` and the
        segment plugin's dictionary mode)."""
        words = [w for w in self.counts if any(ch.isspace() for ch in w) or w.startswith("#")]
        if words:
            raise InvalidInputError(
                f"{len(words)} word(s) hold whitespace or start with '#', which the jieba format "
                f"cannot store: {words[:5]!r} (discover with filtering on)"
            )
        from jiema.atomic import write_text

        write_text(path, self.dumps())

    @classmethod
    def load(cls, path: str | os.PathLike) -> WordTable:
        """Read a jieba-format dictionary (`word count [tag]`); words without a count get 1."""
        from jiema.text import Dictionary

        d = Dictionary.load(path)
        return cls({w: max(e.freq, 1) for w, e in d.items()})

    def tokenizer(self, **kwargs: Any) -> Any:
        """A `Tokenizer` over this table (nlp-zero `export_tokenizer`)."""
        from .tokenizer import Tokenizer

        return Tokenizer(self.counts, **kwargs)


def _logs(values: np.ndarray) -> np.ndarray:
    """math.log of each value (via its distinct values): bit-identical to nlp-zero's logs."""
    uniq, inverse = np.unique(values, return_inverse=True)
    table = np.array([math.log(v) if v else -100.0 for v in uniq.tolist()], dtype=np.float64)
    return table[inverse].reshape(values.shape)


def strong_pair_keys(
    chars: tuple[np.ndarray, np.ndarray], pairs: tuple[np.ndarray, np.ndarray],
    min_proba: float, min_pmi: float,
) -> np.ndarray:
    """Sorted keys of pairs with log P(pair) > log(min_proba) and PMI > min_pmi, computed in the
    same floating-point order as nlp-zero."""
    from .charcodes import BITS

    char_keys, char_counts = chars
    pair_keys, pair_counts = pairs
    if pair_keys.shape[0] == 0:
        return pair_keys
    log_min = math.log(min_proba)
    lp = _logs(pair_counts) - math.log(int(pair_counts.sum()))
    lc = _logs(char_counts) - math.log(int(char_counts.sum()))
    first = lc[np.searchsorted(char_keys, pair_keys >> BITS)]
    second = lc[np.searchsorted(char_keys, pair_keys & ((1 << BITS) - 1))]
    keep = (lp > log_min) & (((lp - first) - second) > min_pmi)
    return pair_keys[keep]


class WordFinder:
    """Word discovery in steps, as nlp-zero's `Word_Finder`: `train` adds the character and
    adjacent-pair counts of some texts (call it as often as you like, e.g. per file), `find`
    glues and prunes the texts it is given with the counts so far and returns a `WordTable`.

    Where nlp-zero breaks: its `find` replaces the counts by plain dicts (with
    `remove_weak_pairs=True`, its default, an empty one), so training more afterwards raises
    KeyError. Here `find` leaves the counts as they were, unless `remove_weak_pairs=True`, which
    does what nlp-zero meant: it drops the pairs at or below `min_proba` to save memory (later
    results then count those pairs from zero). `chars()` and `pairs()` show the counts."""

    def __init__(self, options: WordOptions | None = None, **kwargs: Any) -> None:
        if options is not None and kwargs:
            raise InvalidInputError("give options or keyword options, not both")
        self.options = options if options is not None else WordOptions(**kwargs)
        self._counts: Any = None
        self._trained = False

    def train(self, corpus: Any, *, backend: Literal["local", "dask"] = "local",
              scheduler: Any = None, partition_size: int = 2000,
              progress: bool = False) -> WordFinder:
        """Count the characters and adjacent pairs of `corpus` (any iterable of texts, read
        once), adding to the counts so far; returns the finder."""
        from jiema.mapping import map_corpus

        from .counting import pair_counter

        counted = map_corpus(pair_counter, self.options.filtering, numbered(as_texts(corpus)),
                             backend=backend, scheduler=scheduler,
                             partition_size=partition_size, progress=progress,
                             combine=operator.add)
        if counted is not None:
            self._counts = counted if self._counts is None else self._counts + counted
        self._trained = True
        return self

    def _arrays(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        empty = np.zeros(0, dtype=np.int64)
        if self._counts is None:
            return (empty, empty), (empty, empty)
        return self._counts.chars(), self._counts.pairs()

    def chars(self) -> dict[str, int]:
        """Character counts so far."""
        keys, counts = self._arrays()[0]
        return WordTable({}, char_keys=keys, char_counts=counts).chars()

    def pairs(self) -> dict[str, int]:
        """Adjacent-pair counts so far."""
        keys, counts = self._arrays()[1]
        return WordTable({}, pair_keys=keys, pair_counts=counts).pairs()

    def find(self, corpus: Any, *, remove_weak_pairs: bool = False,
             backend: Literal["local", "dask"] = "local", scheduler: Any = None,
             partition_size: int = 2000, progress: bool = False) -> WordTable:
        """Glue `corpus` (any iterable of texts, read once) at the strong pairs of the counts so
        far, count the candidates, prune them; the words table."""
        from jiema.mapping import map_corpus

        from .charcodes import BITS
        from .counting import PairCounts, word_counter
        from .pruning import prune_words

        opts = self.options
        if not self._trained:
            raise EmptyCorpusError("nothing counted yet: call train(corpus) before find")
        chars, pairs = self._arrays()
        if chars[0].shape[0] == 0:
            raise EmptyCorpusError("the corpus has no characters to count" + (
                " (after keeping only CJK U+4E00..U+9FA5 and ASCII letters/digits)"
                if opts.filtering else ""))
        if pairs[0].shape[0] == 0:
            raise EmptyCorpusError(
                "the corpus has no two adjacent characters (every piece is one character long): "
                "there are no pairs to find words with")
        texts = as_texts(corpus)
        strong = strong_pair_keys(chars, pairs, opts.min_proba, opts.min_pmi)
        glued = map_corpus(word_counter, (opts.filtering, strong), numbered(texts),
                           backend=backend, scheduler=scheduler, partition_size=partition_size,
                           progress=progress, combine=operator.add)
        if glued is None:
            raise EmptyCorpusError("find was given no texts")
        table = glued.table()
        if not table:
            raise EmptyCorpusError("find was given no characters to glue")
        table.sort(key=operator.itemgetter(2))  # reading order of first occurrence
        counts = np.array([c for _, c, _ in table], dtype=np.int64)
        keep = (_logs(counts) - math.log(int(counts.sum()))) > math.log(opts.min_proba)
        words = [w for (w, _, _), k in zip(table, keep.tolist(), strict=True) if k]
        kept = counts[keep].tolist()
        order = sorted(range(len(words)), key=lambda i: -len(words[i]))
        pruned = prune_words(words, kept, order)
        mask = (1 << BITS) - 1
        pair_words = [chr(k >> BITS) + chr(k & mask) for k in strong.tolist()]
        result = WordTable(pruned, pair_words, opts, chars[0], chars[1], pairs[0], pairs[1])
        if remove_weak_pairs:
            weak = (_logs(pairs[1]) - math.log(int(pairs[1].sum()))) <= math.log(opts.min_proba)
            self._counts = PairCounts([chars], [(pairs[0][~weak], pairs[1][~weak])])
        return result


def discover_words(
    corpus: Any,
    options: WordOptions | None = None,
    *,
    backend: Literal["local", "dask"] = "local",
    scheduler: Any = None,
    partition_size: int = 2000,
    progress: bool = False,
    **kwargs: Any,
) -> WordTable:
    """Discover words in `corpus` (a re-iterable of texts, e.g. a list or `FileCorpus`).

    Options as `WordOptions` or keywords (`min_proba`, `min_pmi`, `filtering`). The corpus is
    streamed twice in batches of `partition_size` lines; `backend="dask"` counts on Dask
    (`scheduler`: None for a local cluster, an address or a Client) with identical results.
    The same as `WordFinder(options).train(corpus).find(corpus)`.
    """
    finder = WordFinder(options, **kwargs)
    texts = as_corpus(corpus)
    run: dict[str, Any] = dict(backend=backend, scheduler=scheduler,
                               partition_size=partition_size, progress=progress)
    return finder.train(texts, **run).find(texts, **run)
