"""The training lexicon an FCN model carries: each word of two or more characters in its training
text, with its wordness (the share of that string's occurrences in the text that are this word).

A convolutional tagger does not remember every rare word it was trained on; the lexicon does.
Decoding uses it as the start of the hard-decoding list, factor `LEXICON_BASE ** wordness`, so a
word that is nearly always a word there (经济, 梅里雪山) is pulled hard, and one that is usually
two words (就是 in 就是说 vs 就 是) barely at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

# Chosen on the PD 1998-01 dev split with the training split's lexicon (never the PKU test).
# pd98-fcn when it was one network: dev F without the lexicon .9631; every word at a flat 100
# .9679; base**wordness with base 30 / 100 / 300 / 1000 / 1e4 / 1e5: .9675 / .9691 / .9694 / .9698
# / .9699 / .9703. 1000 is where the gain levels off; larger bases override the network more for
# little. The 3-network pd98-fcn, base 100 / 300 / 1000 / 3000 / 1e4: .9725 / .9726 /
# .9725 / .9721 / .9718 (flat).
LEXICON_BASE = 1000.0
TEXT_KEY, WORDNESS_KEY = "lexicon.text", "lexicon.wordness"


def count_lexicon(lines: Iterable[list[str]]) -> dict[str, float]:
    """Word -> wordness over segmented lines (lists of words); one-character words are left out."""
    from jiema.text import Dictionary, DictionaryMatcher

    lines = [words for words in lines if words]
    as_word = Counter(w for words in lines for w in words if len(w) > 1)
    if not as_word:
        return {}
    dictionary = Dictionary.from_words(as_word)
    matcher = DictionaryMatcher(dictionary)
    occurs = np.zeros(dictionary.vocab_size + 1, dtype=np.int64)
    for words in lines:
        _, _, ids = matcher.find("".join(words))
        np.add.at(occurs, ids, 1)
    return {
        w: min(1.0, n / max(int(occurs[dictionary.id_of(w)]), n)) for w, n in as_word.items()
    }


def lexicon_tensors(wordness: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The lexicon as two tensors for a model file: UTF-8 words joined by newlines, and float16
    wordness in the same order."""
    words = sorted(wordness)
    if any("\n" in w for w in words):
        raise ValueError("a lexicon word may not contain a newline")
    text = np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8).copy()
    return {
        TEXT_KEY: text,
        WORDNESS_KEY: np.array([wordness[w] for w in words], dtype=np.float16),
    }


def lexicon_from_tensors(text: np.ndarray, wordness: np.ndarray) -> dict[str, float]:
    words = bytes(np.asarray(text, dtype=np.uint8)).decode("utf-8").split("\n") if text.size else []
    if len(words) != wordness.shape[0]:
        raise ValueError(f"lexicon has {len(words)} words but {wordness.shape[0]} wordness values")
    return dict(zip(words, np.asarray(wordness, dtype=np.float64).tolist(), strict=True))


def lexicon_factors(wordness: Mapping[str, float], base: float = LEXICON_BASE) -> dict[str, float]:
    """Hard-decoding factors of a lexicon: `base ** wordness`."""
    return {w: float(base**r) for w, r in wordness.items()}
