"""jiema_segment: Chinese word segmentation: dictionary mode, and the neural FCN mode (torch).

    >>> import jiema_segment
    >>> jiema_segment.cut("扫描二维码，关注微信号。")  # doctest: +SKIP
    >>> jiema_segment.cut("扫描二维码，关注微信号。", mode="fcn", hard=["微信号,10"])
"""

from __future__ import annotations

from .segmenter import ModeNotAvailableError, Segmenter, cut, default_segmenter

__all__ = ["ModeNotAvailableError", "Segmenter", "cut", "default_segmenter"]
