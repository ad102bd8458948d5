"""Counting a word dictionary from segmented corpora, and storing it as a jiema model.

A dictionary model is a safetensors file (so it registers and loads like every other jiema
model, with its JSON card beside it) holding two tensors: `words`, the UTF-8 bytes of the words
joined by `\\n` (uint8), and `freqs` (int32), one per word. Nothing is unpickled.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
from jiema.errors import ModelFileError
from jiema.models import ModelCard, find_model_files, load_tensors, save_model
from jiema.text import Dictionary

COMPONENT = "segment.dict.v1"
TASK = "segment"
DEFAULT_MODEL = "pd98-dict"
MODELS_DIR = Path(__file__).parent / "models"


def count_words(
    corpora: Iterable[str | os.PathLike],
    fmt: Literal["auto", "pd", "bakeoff"] = "auto",
    *,
    progress: bool | None = None,
) -> Counter[str]:
    """Word counts over segmented corpora (People's Daily `word/tag` or bakeoff spaces), with a
    tqdm bar (lines) on stderr."""
    from jiema.corpus import read_segmented
    from tqdm import tqdm

    counts: Counter[str] = Counter()
    lines = read_segmented([os.fspath(c) for c in corpora], fmt)
    disable = None if progress is None else not progress  # None: a bar only on a terminal
    bar = tqdm(lines, file=sys.stderr, unit=" lines", disable=disable)
    for words in bar:
        counts.update(words)
    return counts


def dictionary_from_counts(counts: Counter[str]) -> Dictionary:
    """A Dictionary with the most frequent words first (ties by word, so output is stable)."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Dictionary((w, int(c), None) for w, c in ordered if not any(ch.isspace() for ch in w))


def save_dictionary_model(
    dictionary: Dictionary, weights: str | os.PathLike, card: ModelCard
) -> tuple[Path, Path]:
    """Write `dictionary` as `weights` (.safetensors) plus its card."""
    words = list(dictionary)
    blob = "\n".join(words).encode("utf-8")
    freqs = np.array([dictionary.freq(w) for w in words], dtype=np.int32)
    tensors = {"words": np.frombuffer(blob, dtype=np.uint8).copy(), "freqs": freqs}
    card = card.model_copy(update={"vocabulary_size": len(words)})
    return save_model(tensors, card, weights)


def load_dictionary_model(path: str | os.PathLike) -> Dictionary:
    """The Dictionary stored in a dictionary model (a .safetensors file, its card, or a folder)."""
    weights, card = find_model_files(path)
    if card.component != COMPONENT:
        raise ModelFileError(
            f"{weights} is a model for component {card.component!r}, not a dictionary "
            f"({COMPONENT!r})"
        )
    tensors = load_tensors(weights)
    try:
        words = tensors["words"].tobytes().decode("utf-8").split("\n")
        freqs = tensors["freqs"]
    except (KeyError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"{weights}: a dictionary model needs tensors 'words' (UTF-8 uint8) and 'freqs': {exc}"
        ) from None
    if len(words) != len(freqs):
        raise ModelFileError(
            f"{weights}: {len(words)} words but {len(freqs)} frequencies; expected one each"
        )
    return Dictionary(zip(words, freqs.tolist(), [None] * len(words), strict=True))


def default_dictionary_path() -> Path:
    return MODELS_DIR / f"{DEFAULT_MODEL}.safetensors"
