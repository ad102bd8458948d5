"""Character bigram language model for OCR decoding, counted from a segmented corpus.

The model's vocabulary is the characters *seen* in the corpus plus `<unk>` (every other
character): the core's `BigramModel` stores a full unigram back-off row for each id never seen as
a predecessor, so keeping unseen charset characters out of the vocabulary is what keeps the model
sparse. Lines are joined end to end when counting so that every seen character is a predecessor.

What is shipped is the *counts* (uint16 ids, uint32 counts; ~8 bytes a pair) in safetensors, with a
card giving the vocabulary and the smoothing; `load_lm` rebuilds the CSR model with
`jiema.BigramModel.from_counts` (add-alpha below a count threshold), so alpha and threshold stay
adjustable without recounting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from jiema import BigramModel
from jiema.errors import InvalidValueError, ModelFileError

from .charset import normalize_char

UNK = "<unk>"
COMPONENT = "ocr.char_bigram.v1"
TASK = "ocr"
DEFAULT_LM = "pd98-char-bigram"
MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_ALPHA = 0.1
DEFAULT_THRESHOLD = 1.0


@dataclass(frozen=True, eq=False)
class CharCounts:
    """Unigram and bigram counts over `labels` (index = id; `labels[0]` is `<unk>`)."""

    labels: list[str]
    unigram: np.ndarray  # (V,) counts
    prev: np.ndarray  # (nnz,) ids
    next: np.ndarray  # (nnz,) ids
    counts: np.ndarray  # (nnz,) pair counts


def count_chars(lines: Iterable[str], min_count: int = 1) -> CharCounts:
    """Count characters and adjacent pairs over `lines` (each normalised with `normalize_char`,
    whitespace dropped, lines joined end to end). Characters seen fewer than `min_count` times
    become `<unk>`."""
    chunks: list[np.ndarray] = []
    index: dict[str, int] = {}
    for line in lines:
        line_ids = [index.setdefault(normalize_char(ch), len(index))
                    for ch in line if not ch.isspace()]
        if line_ids:
            chunks.append(np.asarray(line_ids, dtype=np.int64))
    seq = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    raw_labels = list(index)
    raw_uni = np.bincount(seq, minlength=len(raw_labels))
    keep = np.flatnonzero(raw_uni >= min_count)
    keep = keep[np.argsort([raw_labels[i] for i in keep], kind="stable")]  # stable ids by char
    remap = np.zeros(len(raw_labels), dtype=np.int64)  # 0 = <unk>
    remap[keep] = np.arange(1, keep.size + 1)
    labels = [UNK, *(raw_labels[i] for i in keep)]
    ids = remap[seq]
    v = len(labels)
    unigram = np.bincount(ids, minlength=v).astype(np.float64)
    keys, counts = np.unique(ids[:-1] * v + ids[1:], return_counts=True)
    return CharCounts(labels, unigram, keys // v, keys % v, counts.astype(np.float64))


@dataclass(frozen=True, eq=False)
class CharLM:
    """A `BigramModel` over its own character vocabulary; characters outside it are `<unk>`."""

    labels: list[str]
    model: BigramModel
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.labels) != self.model.vocab_size:
            raise InvalidValueError(
                f"{len(self.labels)} labels for a bigram model of vocabulary "
                f"{self.model.vocab_size}"
            )
        object.__setattr__(self, "_index", {ch: i for i, ch in enumerate(self.labels)})

    @classmethod
    def from_counts(cls, counts: CharCounts, alpha: float = DEFAULT_ALPHA,
                    threshold: float = DEFAULT_THRESHOLD) -> CharLM:
        model = BigramModel.from_counts(counts.unigram, counts.prev, counts.next, counts.counts,
                                        alpha=alpha, threshold=threshold)
        return cls(list(counts.labels), model)

    @property
    def unk_id(self) -> int:
        return self._index.get(UNK, 0)

    def ids(self, chars: Sequence[str]) -> np.ndarray:
        """LM ids of characters (`<unk>`'s id for one the model has never seen)."""
        unk = self.unk_id
        return np.asarray([self._index.get(normalize_char(c), unk) for c in chars],
                          dtype=np.int64)

    def logprob(self, prev: str, next: str) -> float:
        p, n = self.ids([prev, next])
        return float(self.model.logprob(p, n))

    @lru_cache(maxsize=8)  # noqa: B019 - a handful of weights per model, freed with it
    def weighted(self, weight: float) -> BigramModel:
        """The model with every log-probability multiplied by `weight` (the LM weight)."""
        if weight == 1.0:
            return self.model
        m = self.model
        return BigramModel(m.vocab_size, m.indptr, m.indices, m.logp * weight,
                           m.row_default * weight, m.start * weight)


# ---------------------------------------------------------------- files


def save_counts(counts: CharCounts, path: str | os.PathLike[str], *, name: str,
                alpha: float, threshold: float, training_data: str = "",
                licence: str = "") -> Path:
    """Write the counts compactly (safetensors) with a model card beside them."""
    from jiema.models import ModelCard, provenance, save_model

    v = len(counts.labels)
    id_dtype = np.uint16 if v <= np.iinfo(np.uint16).max else np.uint32
    tensors = {
        "unigram": counts.unigram.astype(np.uint32),
        "prev": counts.prev.astype(id_dtype),
        "next": counts.next.astype(id_dtype),
        "counts": counts.counts.astype(np.uint32),
    }
    card = ModelCard(
        name=name, component=COMPONENT, task=TASK,
        description="Character bigram counts; load_lm smooths them (add-alpha below a count "
                    "threshold) into a sparse jiema.BigramModel.",
        vocabulary_size=v, labels=list(counts.labels),
        hyperparameters={"alpha": alpha, "threshold": threshold, "pairs": int(counts.prev.size),
                         "characters": int(counts.unigram.sum())},
        training_data=training_data, licence=licence, **provenance(),
    )
    out = Path(path).with_suffix(".safetensors")
    out.parent.mkdir(parents=True, exist_ok=True)
    weights, _ = save_model(tensors, card, out)
    return weights


def load_counts(path_or_name: str | os.PathLike[str] = DEFAULT_LM
                ) -> tuple[CharCounts, dict[str, Any]]:
    """The counts of an LM file (path, card, or shipped name) and its card's hyperparameters."""
    from jiema.models import find_model_files, load_tensors

    path = Path(path_or_name)
    if not path.exists():
        shipped = MODELS_DIR / f"{path_or_name}.json"
        if not shipped.is_file():
            raise ModelFileError(f"no OCR language model {str(path_or_name)!r}: not a file and "
                                 f"not a shipped model in {MODELS_DIR}")
        path = shipped
    weights, card = find_model_files(path)
    if card.component != COMPONENT or not card.labels:
        raise ModelFileError(f"{weights} is a {card.component!r} model, expected {COMPONENT!r}")
    t = load_tensors(weights)
    missing = [k for k in ("unigram", "prev", "next", "counts") if k not in t]
    if missing:
        raise ModelFileError(f"{weights} lacks {missing}")
    counts = CharCounts(list(card.labels), t["unigram"].astype(np.float64),
                        t["prev"].astype(np.int64), t["next"].astype(np.int64),
                        t["counts"].astype(np.float64))
    return counts, dict(card.hyperparameters)


def load_lm(path_or_name: str | os.PathLike[str] = DEFAULT_LM, *, alpha: float | None = None,
            threshold: float | None = None) -> CharLM:
    """A CharLM from a counts file (path, card, or shipped name); alpha/threshold default to
    the card's."""
    counts, hp = load_counts(path_or_name)
    return CharLM.from_counts(
        counts,
        alpha=float(hp.get("alpha", DEFAULT_ALPHA)) if alpha is None else alpha,
        threshold=float(hp.get("threshold", DEFAULT_THRESHOLD)) if threshold is None else threshold,
    )


def text_counts(chars: Sequence[str], path_or_name: str | os.PathLike[str] = DEFAULT_LM
                ) -> np.ndarray:
    """How often each of `chars` occurs in an LM's training text (0 where never; characters
    are normalised as the LM counted them, so 1 finds the text's full-width digit one)."""
    counts, _ = load_counts(path_or_name)
    index = {ch: i for i, ch in enumerate(counts.labels) if ch != UNK}
    return np.asarray([counts.unigram[index[c]] if (c := normalize_char(ch)) in index else 0.0
                       for ch in chars], dtype=np.float64)


@lru_cache(maxsize=1)
def load_default_lm() -> CharLM:
    """The shipped character bigram model (People's Daily 1998-01, with English letter pairs
    from `english_text`; loaded once)."""
    return load_lm(DEFAULT_LM)


def corpus_lines(sources: Sequence[str], fmt: str = "auto") -> Iterable[str]:
    """Each line of segmented corpora with its words joined (People's Daily or bakeoff)."""
    from jiema.corpus import read_segmented

    for words in read_segmented(list(sources), fmt):  # type: ignore[arg-type]
        yield "".join(words)


def train_lm(sources: Sequence[str], out: str | os.PathLike[str], *, name: str = DEFAULT_LM,
             alpha: float = DEFAULT_ALPHA, threshold: float = DEFAULT_THRESHOLD,
             min_count: int = 1, fmt: str = "auto", training_data: str = "",
             licence: str = "") -> tuple[Path, dict[str, Any]]:
    """Count `sources` and write the LM; returns the weights path and a short summary."""
    counts = count_chars(corpus_lines(sources, fmt), min_count=min_count)
    CharLM.from_counts(counts, alpha, threshold)  # fail now, not at load, on bad settings
    weights = save_counts(counts, out, name=name, alpha=alpha, threshold=threshold,
                          training_data=training_data or ", ".join(Path(s).name for s in sources),
                          licence=licence)
    return weights, {"vocabulary": len(counts.labels), "pairs": int(counts.prev.size),
                     "characters": int(counts.unigram.sum()),
                     "bytes": weights.stat().st_size}
