"""Preprocessing: luma weights, 2x upscale of small images (3x of tiny ones), power transform
onto [0, 255]."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("PIL")
from jiema_ocr.preprocess import (  # noqa: E402
    PreprocessOptions,
    power_transform,
    preprocess,
    to_gray,
    upscale_small,
)


def test_gray_uses_luma_weights():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    gray = to_gray(rgb)
    np.testing.assert_allclose(gray[0], [0.299 * 255, 0.587 * 255, 0.114 * 255,
                                         0.299 * 10 + 0.587 * 20 + 0.114 * 30], rtol=1e-5)


def test_small_images_are_upscaled_twice():
    small = np.zeros((20, 50), dtype=np.float32)
    out, scale = upscale_small(small, small_height=64)
    assert scale == 2 and out.shape == (40, 100)
    big = np.zeros((100, 50), dtype=np.float32)
    out, scale = upscale_small(big, small_height=64)
    assert scale == 1 and out.shape == (100, 50)


def test_bilevel_images_stay_bilevel_with_solid_strokes():
    # a 1-px stroke drawn without antialiasing: bilinear 3x would make a 1-px core with lighter
    # flanks (which layering splits); snapped, it is 3 px of the ink level
    small = np.full((20, 30), 234.0, dtype=np.float32)
    small[10, 5:25] = 79.0
    out, scale = upscale_small(small, small_height=64, factor=3)
    assert scale == 3 and set(np.unique(out).tolist()) == {79.0, 234.0}
    assert (out[29:33, 30] == 79.0).sum() == 3 and (out[:, 30] == 79.0).sum() == 3
    # an image with antialiased edges (three levels or more) is interpolated as before
    small[11, 5:25] = 150.0
    out, _ = upscale_small(small, small_height=64, factor=3)
    assert len(np.unique(out)) > 3


def test_power_transform_is_x_squared_stretched():
    gray = np.array([[0, 127.5, 255]], dtype=np.float32)
    out = power_transform(gray, 2.0)
    assert out.dtype == np.uint8
    assert out[0, 0] == 0 and out[0, 2] == 255 and abs(int(out[0, 1]) - 64) <= 1
    assert (power_transform(np.full((3, 3), 77.0), 2.0) == 0).all()  # flat: no division by 0


@settings(deadline=None, max_examples=40)
@given(st.lists(st.floats(0, 255), min_size=2, max_size=40))
def test_power_transform_is_monotonic_and_spans_the_range(values):
    x = np.sort(np.array(values, dtype=np.float32))[None, :]
    y = power_transform(x, 2.0).astype(int)[0]
    assert (np.diff(y) >= 0).all()
    if x.max() - x.min() > 1:
        assert y.min() == 0 and y.max() == 255


def test_preprocess_returns_uint8_and_scale():
    rgb = np.full((10, 30, 3), 200, dtype=np.uint8)
    rgb[3:7, 5:25] = 0
    gray, scale = preprocess(rgb)  # a tiny image (UI text): 3x
    assert gray.dtype == np.uint8 and scale == 3 and gray.shape == (30, 90)
    gray, scale = preprocess(rgb, PreprocessOptions(tiny_height=0, upscale=1))
    assert scale == 1 and gray.shape == (10, 30)


@pytest.mark.parametrize(("height", "scale"), [(20, 3), (39, 3), (40, 2), (63, 2), (64, 1)])
def test_tiny_images_are_upscaled_more_than_small_ones(height: int, scale: int) -> None:
    rgb = np.full((height, 50, 3), 200, dtype=np.uint8)
    gray, got = preprocess(rgb)
    assert got == scale and gray.shape == (height * scale, 50 * scale)


def test_flattening_turns_a_gradient_ground_into_one_level():
    from jiema_ocr.preprocess import flatten_background

    ramp = np.tile(np.linspace(60.0, 220.0, 300, dtype=np.float32), (60, 1))
    text = ramp.copy()
    text[20:40, 100:104] -= 50.0  # a dark stroke on the ramp
    flat = flatten_background(text)
    ground = np.delete(flat, np.s_[95:110], axis=1)
    assert float(ground.std()) < 8.0  # was ~46 on the ramp
    stroke = flat[20:40, 100:104].mean()
    assert float(np.median(ground)) - stroke > 40.0  # the stroke keeps its contrast
    assert flatten_background(np.full((30, 80), 90.0, np.float32)).max() == 90.0


def test_flatten_option_is_used():
    from jiema_ocr.preprocess import PreprocessOptions, preprocess

    rgb = np.tile(np.linspace(60, 220, 200).astype(np.uint8)[None, :, None], (80, 1, 3))
    rgb[30:50, 90:96] = 10  # a dark stroke

    def ground_spread(gray):  # the ground's spread against the stroke's contrast
        ground = np.delete(gray.astype(float), np.s_[85:101], axis=1)
        return ground.std() / (np.median(ground) - gray[30:50, 90:96].mean())

    plain, _ = preprocess(rgb)
    flat, _ = preprocess(rgb, PreprocessOptions(flatten=True))
    assert ground_spread(plain) > 0.5 and ground_spread(flat) < 0.1
