"""The neural (FCN) mode of jiema_segment: a gated-convolution SBME tagger decoded by Viterbi.

Nothing here imports torch at import time: `network` (the only torch module) is imported inside
the functions that build, train or run a model, and a missing torch raises MissingExtraError.
"""

from __future__ import annotations

from .settings import FCNSettings, TrainOptions
from .vocab import TAGS, CharVocab, tags_for_words, words_from_tags

__all__ = [
    "TAGS",
    "CharVocab",
    "FCNSettings",
    "TrainOptions",
    "tags_for_words",
    "words_from_tags",
]
