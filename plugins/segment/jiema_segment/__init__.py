"""jiema_segment: Chinese word segmentation (dictionary mode; the neural mode comes later).

    >>> import jiema_segment
    >>> jiema_segment.cut("扫描二维码，关注微信号。")  # doctest: +SKIP
"""

from __future__ import annotations

from .segmenter import ModeNotAvailableError, Segmenter, cut, default_segmenter

__all__ = ["ModeNotAvailableError", "Segmenter", "cut", "default_segmenter"]
