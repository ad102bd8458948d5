"""Glyph cutting on hand-built masks (no fonts needed) and on rendered lines."""

from __future__ import annotations

import numpy as np
import pytest
from jiema_ocr.cutting import (
    CutOptions,
    best_cut,
    column_segments,
    cut_graph,
    cut_line,
    join_dash_runs,
    split_wide,
)

H = 40  # line height of the hand-built masks


def _mask(pieces, width=None):
    """pieces: (x0, x1, y0, y1) filled rectangles."""
    width = width or max(p[1] for p in pieces) + 4
    m = np.zeros((H, width), dtype=bool)
    for x0, x1, y0, y1 in pieces:
        m[y0:y1, x0:x1] = True
    return m


def test_column_segments():
    m = _mask([(2, 5, 0, 40), (8, 10, 10, 20)])
    segs = column_segments(m)
    assert [(s.x0, s.x1, s.y0, s.y1) for s in segs] == [(2, 5, 0, 40), (8, 10, 10, 20)]
    assert column_segments(np.zeros((5, 5), bool)) == []


def test_three_tall_strokes_make_one_glyph_like_chuan():
    # 川: three tall narrow strokes within one em (em ~ 42 px here)
    m = _mask([(0, 4, 0, 40), (16, 20, 2, 38), (32, 36, 0, 40)])
    assert len(cut_line(m)) == 1
    # 州: five column runs, the dots between the strokes
    m = _mask([(0, 12, 2, 40), (14, 19, 13, 24), (21, 25, 2, 38), (27, 32, 13, 23),
               (34, 38, 0, 40)])
    assert (0, 5) in [(i, j) for i, j, _ in cut_graph(m).groups]


def test_left_right_parts_merge_but_square_glyphs_stay_apart():
    # 明 (short left part, tall right part), then two square glyphs with a normal gap
    m = _mask([(0, 14, 6, 34), (17, 38, 0, 40), (46, 86, 0, 40), (94, 134, 0, 40)])
    boxes = cut_line(m)
    assert [(b[0], b[2]) for b in boxes] == [(0, 38), (46, 86), (94, 134)]


def test_short_narrow_glyphs_stay_apart():
    # digits: short, narrow, small gaps, beside a full-height hanzi that sets the line height
    m = _mask([(0, 40, 0, 40), (48, 64, 10, 38), (70, 86, 10, 38), (92, 108, 10, 38)])
    boxes = cut_line(m)
    assert len(boxes) == 4


def test_touching_glyphs_are_split_near_the_expected_width():
    m = _mask([(0, 84, 0, 40)])
    m[:, 41:43] = False
    m[5:8, 41:43] = True  # a thin bridge between two glyphs
    graph = cut_graph(m)
    assert len(graph.segments) == 2
    assert abs(graph.segments[0].x1 - 42) <= 2


def test_split_wide_keeps_narrow_segments():
    m = _mask([(0, 30, 0, 40)])
    segs = column_segments(m)
    assert split_wide(m, segs, em=42.0) == (segs, [0])


def test_low_wide_segments_are_split_softly():
    # two touching digits (low, about one em together) beside a full-height character
    m = _mask([(0, 40, 0, 40), (48, 88, 10, 38)])
    m[10:38, 67:69] = False
    m[20:22, 67:69] = True  # where they touch
    graph = cut_graph(m)
    assert len(graph.segments) == 3 and abs(graph.segments[1].x1 - 68) <= 2
    assert best_cut(graph) == [(0, 1), (1, 3)]  # geometry alone keeps the wide glyph whole

    def digits_read_well(i, j):
        return 5.0 if (i, j) == (1, 3) else 0.0

    assert best_cut(graph, digits_read_well) == [(0, 1), (1, 2), (2, 3)]


def _ring(m, x0, x1, y0, y1, t=4):
    m[y0:y1, x0:x1] = True
    m[y0 + t:y1 - t, x0 + t:x1 - t] = False


def test_touching_round_glyphs_are_also_split_in_their_middle():
    # 00 blurred together: the lightest columns lie inside the bowls, not where they touch,
    # so the middle is offered too and the halves there cost what one digit alone costs
    m = np.zeros((H, 100), dtype=bool)
    m[0:40, 0:40] = True  # a full-height character sets the line height
    _ring(m, 46, 68, 8, 38)
    _ring(m, 66, 88, 8, 38)
    graph = cut_graph(m)
    boxes = {(graph.box(i, j)[0], graph.box(i, j)[2]): (i, j, cost)
             for i, j, cost in graph.groups}
    first, second, pair = boxes[(46, 67)], boxes[(67, 88)], boxes[(46, 88)]
    assert first[2] == second[2] == CutOptions().narrow_cost  # like one digit standing alone
    assert pair[2] > first[2]  # a low pair about an em wide may well be two glyphs

    def digits_read_well(i, j):
        return 0.1 if (i, j) in (first[:2], second[:2]) else 1.0

    assert best_cut(graph, digits_read_well)[1:] == [first[:2], second[:2]]


def test_three_dots_in_a_row_make_one_ellipsis_but_two_apart_marks_do_not():
    # 妈叫…: the dots of … are about an em wide together, wider than a quote's two marks
    m = _mask([(0, 40, 0, 40), (46, 52, 18, 24), (59, 65, 18, 24), (72, 78, 18, 24)])
    assert best_cut(cut_graph(m)) == [(0, 1), (1, 4)]
    # two marks as far apart, or dots at different heights, stay apart
    assert best_cut(cut_graph(_mask([(0, 40, 0, 40), (46, 52, 2, 8), (72, 78, 2, 8)]))) == [
        (0, 1), (1, 2), (2, 3)]
    m = _mask([(0, 40, 0, 40), (46, 52, 2, 8), (59, 65, 18, 24), (72, 78, 32, 38)])
    assert (1, 4) not in [(i, j) for i, j, _ in cut_graph(m).groups]


def test_a_dash_run_broken_by_noise_is_cut_into_em_wide_dashes():
    # 地———挪: one 3-em bar at mid-height (em = 42 px), broken twice, a speck in one break
    bar = [(46, 90, 18, 22), (91, 93, 19, 21), (95, 130, 18, 22), (133, 172, 18, 22)]
    m = _mask([(0, 40, 0, 40), *bar, (176, 216, 0, 40)])
    boxes = cut_line(m)
    assert len(boxes) == 5
    assert [b[0] for b in boxes[1:4]] == [46, 88, 130] and boxes[3][2] == 172
    # a lone 一 (under 1.6 em), a bar at the top of the line, or a row of specks is left alone
    for pieces in ([(46, 84, 18, 22)], [(46, 172, 2, 6)],
                   [(46 + 8 * k, 50 + 8 * k, 18, 22) for k in range(16)]):
        segs = column_segments(_mask([(0, 40, 0, 40), *pieces, (176, 216, 0, 40)]))
        assert join_dash_runs(segs, 42.0, 40.0) == segs


def test_extra_cost_can_override_geometry():
    m = _mask([(0, 4, 0, 40), (16, 20, 2, 38), (32, 36, 0, 40)])
    graph = cut_graph(m)
    assert best_cut(graph) == [(0, 3)]

    def prefer_singles(i, j):
        return 0.0 if j - i == 1 else 10.0

    assert best_cut(graph, prefer_singles) == [(0, 1), (1, 2), (2, 3)]


def test_every_partition_is_covered_and_ordered():
    rng = np.random.default_rng(0)
    pieces, x = [], 0
    for _ in range(12):
        w = int(rng.integers(3, 30))
        pieces.append((x, x + w, int(rng.integers(0, 15)), int(rng.integers(25, 40))))
        x += w + int(rng.integers(2, 12))
    m = _mask(pieces)
    graph = cut_graph(m, CutOptions())
    cut = best_cut(graph)
    assert cut[0][0] == 0 and cut[-1][1] == len(graph.segments)
    assert all(a[1] == b[0] for a, b in zip(cut[:-1], cut[1:], strict=True))


def test_empty_mask():
    assert cut_line(np.zeros((10, 10), bool)) == []


pytest.importorskip("PIL")
pytest.importorskip("fontTools")
from jiema_ocr.synth import render_line  # noqa: E402
from ocr_fonts import FONTS, needs_fonts  # noqa: E402


@needs_fonts
@pytest.mark.parametrize("font_index", range(4))
def test_rendered_split_characters_cut_right(font_index):
    from jiema_ocr.layering import find_layers
    from jiema_ocr.preprocess import preprocess
    from jiema_ocr.regions import find_lines

    if font_index >= len(FONTS):
        pytest.skip("font not installed")
    s = render_line("川明好收", FONTS[font_index], 36, seed=1)
    gray, scale = preprocess(s.image)
    (line,) = find_lines(gray, find_layers(gray))
    boxes = cut_line(line.mask)
    assert len(boxes) == 4
    for (x0, _, x1, _), gt in zip(boxes, s.lines[0].boxes, strict=True):
        a, b = (x0 + line.box[0]) / scale, (x1 + line.box[0]) / scale
        assert abs(a - gt[0]) <= 2 and abs(b - gt[2]) <= 2


def test_a_full_height_segment_a_little_over_an_em_may_be_cut_by_recognition():
    # a glyph touching the left part of the next one (也 + the 亻 of 们) by a thin stroke:
    # one segment 1.1 em wide; its halves are offered, the whole stays the geometric choice
    m = _mask([(0, 29, 0, 40), (31, 46, 0, 40)])
    m[:, 29:31] = False
    m[20:22, 29:31] = True  # the touching stroke
    graph = cut_graph(m)
    assert [(s.x0, s.x1) for s in graph.segments] == [(0, 29), (29, 46)]
    assert [graph.box(i, j)[::2] for i, j in best_cut(graph)] == [(0, 46)]
    halves = best_cut(graph, lambda i, j: 5.0 if j - i == 2 else 0.0)
    assert halves == [(0, 1), (1, 2)]
    off = cut_graph(m, CutOptions(tall_soft_split=None))
    assert len(off.segments) == 1


def test_split_at_keeps_the_whole_segment_at_its_cost():
    from jiema_ocr.cutting import split_at

    m = _mask([(0, 40, 0, 40), (44, 80, 0, 40)])
    graph = cut_graph(m)
    split = split_at(graph, m, [60, 200])  # 200 is outside every segment
    assert [(s.x0, s.x1) for s in split.segments] == [(0, 40), (44, 60), (60, 80)]
    assert split.parents == [0, 1, 1]
    costs = {(i, j): c for i, j, c in split.groups}
    assert costs[(1, 3)] == pytest.approx(dict(((i, j), c) for i, j, c in graph.groups)[(1, 2)])
    assert best_cut(split) == [(0, 1), (1, 3)]
