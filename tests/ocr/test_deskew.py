"""Straightening skewed photos: the measured skew, the filled rotation, boxes mapped back."""

from __future__ import annotations

import numpy as np
import pytest
from jiema_ocr.analysis import analyse
from jiema_ocr.deskew import (
    MIN_SKEW_DEGREES,
    box_to_input,
    box_to_turned,
    rotate_filled,
    skew_angle,
)
from jiema_ocr.options import OcrOptions
from PIL import Image


def marks(h: int = 160, w: int = 640, ink: int = 40, ground: int = 230) -> np.ndarray:
    """A row of 14 H-like marks (a text line without fonts)."""
    g = np.full((h, w), ground, np.uint8)
    for k in range(14):
        x0 = 30 + k * 42
        g[60:100, x0:x0 + 5] = ink
        g[60:100, x0 + 25:x0 + 30] = ink
        g[78:83, x0:x0 + 30] = ink
    return g


def tilted(gray: np.ndarray, degrees: float) -> np.ndarray:
    return np.asarray(Image.fromarray(gray).rotate(degrees, Image.Resampling.BICUBIC,
                                                   expand=True, fillcolor=230))


@pytest.mark.parametrize("degrees", [-7.0, -3.0, 2.5, 5.0])
def test_the_skew_of_a_tilted_row_is_measured_to_a_step(degrees: float) -> None:
    assert skew_angle(tilted(marks(), degrees)) == pytest.approx(-degrees, abs=0.5)


def test_level_and_slightly_skewed_and_blank_images_are_left_alone() -> None:
    assert skew_angle(marks()) == 0.0
    assert skew_angle(tilted(marks(), MIN_SKEW_DEGREES / 2)) == 0.0
    assert skew_angle(np.full((50, 80), 128, np.uint8)) == 0.0
    assert skew_angle(np.zeros((2, 2), np.uint8)) == 0.0


def test_rotation_fills_the_opened_corners_with_the_ground() -> None:
    rgb = np.repeat(np.full((60, 200), 200, np.uint8)[..., None], 3, axis=2)
    out = rotate_filled(rgb, 6.0)
    assert out.shape[0] > 60 and out.shape[1] > 200 and out.dtype == np.uint8
    assert np.abs(out.astype(int) - 200).max() <= 2  # no dark wedges for layering to find


def test_boxes_map_back_to_the_input() -> None:
    shape, degrees = (160, 640), 5.0
    turned_shape = rotate_filled(np.zeros((*shape, 3), np.uint8), degrees).shape[:2]
    box = (100, 50, 180, 90)
    there = box_to_turned(box, degrees, shape, turned_shape)
    back = box_to_input(there, degrees, turned_shape, shape)
    # the bounding box of a turned box is larger: the round trip contains the box, a little wider
    assert back[0] <= box[0] and back[1] <= box[1] and back[2] >= box[2] and back[3] >= box[3]
    assert back[2] - back[0] < 1.3 * (box[2] - box[0])
    assert box_to_input((0, 0, *turned_shape[::-1]), degrees, turned_shape, shape) == (
        0, 0, shape[1], shape[0])  # clipped to the input


def test_a_tilted_line_is_found_whole_after_straightening_and_boxed_in_input_pixels() -> None:
    gray = tilted(marks(), 5.0)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    found = analyse(rgb, OcrOptions())
    assert found.rotation == pytest.approx(-5.0, abs=0.5)
    assert [len(ln.components) for ln in found.lines] == [14]
    assert analyse(rgb, OcrOptions(deskew=False)).lines == []  # the stages alone lose it
    # a line box on the straightened image maps into the input, over the tilted row's ink
    x0, y0, x1, y1 = box_to_input(found.lines[0].box, found.rotation, found.rgb.shape[:2],
                                  gray.shape)
    ink = gray[y0:y1, x0:x1] < 128
    assert ink.sum() >= 0.95 * (gray < 128).sum()
    assert analyse(np.repeat(marks()[..., None], 3, axis=2), OcrOptions()).rotation == 0.0


def test_a_reading_on_a_straightened_image_is_reported_in_input_pixels() -> None:
    from jiema_ocr.results import GlyphResult, LineResult, OcrResult

    gray = tilted(marks(), 5.0)
    found = analyse(np.repeat(gray[..., None], 3, axis=2), OcrOptions())
    box = found.lines[0].box
    reading = OcrResult([LineResult(box, "H", 0.9, [GlyphResult(box, "H", 0.9, [])])])
    mapped = found.in_input(reading)
    want = box_to_input(box, found.rotation, found.rgb.shape[:2], gray.shape)
    assert mapped.lines[0].box == want and mapped.lines[0].glyphs[0].box == want
    assert reading.lines[0].box == box  # the reading itself is not changed
    level = analyse(np.repeat(marks()[..., None], 3, axis=2), OcrOptions())
    assert level.in_input(reading) is reading
