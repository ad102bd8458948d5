"""jiema_segment: Chinese word segmentation: dictionary mode, and the neural FCN mode (torch).

    >>> import jiema_segment
    >>> jiema_segment.cut("扫描二维码，关注微信号。")  # doctest: +SKIP
    >>> jiema_segment.cut("扫描二维码，关注微信号。", mode="fcn", hard=["微信号,10"])

jieba's verbs work on one default segmenter, `jiema_segment.dt` (built on first use): `lcut`,
`tokenize`, `cut_for_search`, `add_word`, `del_word`, `load_userdict`, `suggest_freq`.
"""

from __future__ import annotations

from typing import Any

from .segmenter import (
    ModeNotAvailableError,
    Segmenter,
    add_word,
    cut,
    cut_for_search,
    default_segmenter,
    del_word,
    lcut,
    lcut_for_search,
    load_userdict,
    suggest_freq,
    tokenize,
)

__all__ = [
    "ModeNotAvailableError", "Segmenter", "add_word", "cut", "cut_for_search",
    "default_segmenter", "del_word", "dt", "lcut", "lcut_for_search", "load_userdict",
    "suggest_freq", "tokenize",
]


def __getattr__(name: str) -> Any:
    if name == "dt":  # jieba's default Tokenizer: the default segmenter, built on first use
        return default_segmenter()
    raise AttributeError(f"module 'jiema_segment' has no attribute {name!r}")
