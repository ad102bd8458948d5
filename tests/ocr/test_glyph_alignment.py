"""Aligning the two readings of a line by character and by place."""

from __future__ import annotations

import difflib

from jiema_ocr.glyph_alignment import aligned_opcodes
from jiema_ocr.results import GlyphResult


def _glyphs(text: str, spans: list[tuple[int, int]]) -> list[GlyphResult]:
    return [GlyphResult((x0, 0, x1, 12), ch, 0.9, [(ch, 0.9)])
            for ch, (x0, x1) in zip(text, spans, strict=True)]


def test_like_characters_pair_where_they_stand() -> None:
    # 价￥399 cut, 价999 recognised: the recogniser's first 9 stands on the cut 3
    cut = _glyphs("价￥399", [(0, 12), (14, 22), (24, 32), (34, 42), (44, 52)])
    whole = _glyphs("价999", [(2, 10), (26, 30), (35, 41), (46, 50)])
    ops, agreement = aligned_opcodes(cut, whole)
    assert ops == [("equal", 0, 1, 0, 1), ("replace", 1, 3, 1, 2), ("equal", 3, 5, 2, 4)]
    assert agreement == 2 * 3 / 9
    # by characters alone the two 9s pair with the recogniser's first two, one 9 left over
    chars = difflib.SequenceMatcher(None, "价￥399", "价999", autojunk=False).get_opcodes()
    assert chars[-1][0] == "insert"


def test_readings_in_one_place_align_as_difflib_does() -> None:
    spans = [(10 * k, 10 * k + 8) for k in range(5)]
    cut, whole = _glyphs("电柳机顶盒", spans), _glyphs("电视机顶盒", spans)
    ops, agreement = aligned_opcodes(cut, whole)
    want = difflib.SequenceMatcher(None, "电柳机顶盒", "电视机顶盒", autojunk=False)
    assert ops == want.get_opcodes() and agreement == want.ratio()
    assert aligned_opcodes(cut, []) == ([("delete", 0, 5, 0, 0)], 0.0)
    assert aligned_opcodes([], whole) == ([("insert", 0, 0, 0, 5)], 0.0)
    assert aligned_opcodes(cut, cut) == ([("equal", 0, 5, 0, 5)], 1.0)
