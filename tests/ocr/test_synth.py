"""Synthetic lines and banners: ground-truth text and character boxes that match the pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("fontTools")
from jiema_ocr.synth import font_covers, render_banner, render_line  # noqa: E402
from ocr_fonts import FONTS, needs_fonts  # noqa: E402


@needs_fonts
@pytest.mark.parametrize("dark_text", [True, False])
def test_line_boxes_cover_the_ink(dark_text):
    font = FONTS[0]
    s = render_line("电视 12月，川", font, 32, dark_text=dark_text, seed=3)
    line = s.lines[0]
    assert s.kind == "line" and line.text == "电视 12月，川"
    assert len(line.boxes) == 7  # the space has no box
    gray = s.image.astype(float).mean(axis=2)
    bg = np.median(gray)
    for x0, y0, x1, y1 in line.boxes:
        assert 0 <= x0 < x1 <= s.image.shape[1] and 0 <= y0 < y1 <= s.image.shape[0]
        assert np.abs(gray[y0:y1, x0:x1] - bg).max() > 60  # ink inside every box
    xs = [b[0] for b in line.boxes]
    assert xs == sorted(xs)
    # outside every box the line is background
    outside = np.ones(gray.shape, bool)
    for x0, y0, x1, y1 in line.boxes:
        outside[max(0, y0 - 2):y1 + 2, max(0, x0 - 2):x1 + 2] = False
    assert np.abs(gray[outside] - bg).max() < 40
    assert (bg > 128) == dark_text


@needs_fonts
def test_same_seed_same_image_noise_and_blur_change_it():
    a = render_line("中文", FONTS[0], 28, noise=8, blur=0.8, seed=5)
    b = render_line("中文", FONTS[0], 28, noise=8, blur=0.8, seed=5)
    c = render_line("中文", FONTS[0], 28, seed=5)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)


@needs_fonts
def test_banner_has_lines_and_a_picture_apart():
    s = render_banner(["双十一大促", "满299减50"], FONTS[-1], 30, seed=2)
    assert s.kind == "banner" and s.text == "双十一大促\n满299减50"
    assert s.picture is not None
    px0, py0, px1, py1 = s.picture
    for line in s.lines:
        x0, y0, x1, y1 = line.box
        assert x1 <= px0 or x0 >= px1  # text beside the picture, not on it
        assert len(line.boxes) == len(line.text)
    assert s.lines[0].box[3] <= s.lines[1].box[1]


@needs_fonts
def test_font_coverage():
    assert font_covers(FONTS[0], "中文 ABC 123，。")
    assert not font_covers(FONTS[0], "\U0001F600")
