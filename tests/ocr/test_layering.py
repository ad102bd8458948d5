"""Layering: a Gaussian KDE of the 256-bin histogram, one layer per maximum, cuts at minima."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
from jiema_ocr.layering import (  # noqa: E402
    LayerOptions,
    find_layers,
    gray_histogram,
    kde_density,
    otsu_threshold,
)


def _image(levels_and_counts, seed=0, noise=3.0):
    rng = np.random.default_rng(seed)
    vals = np.concatenate([np.full(n, lv, dtype=np.float64) for lv, n in levels_and_counts])
    vals = np.clip(vals + rng.normal(0, noise, vals.shape), 0, 255)
    rng.shuffle(vals)
    return vals.astype(np.uint8).reshape(1, -1)


def test_kde_is_a_density_on_the_grid():
    hist = gray_histogram(_image([(50, 1000), (200, 3000)]))
    density, bw = kde_density(hist)
    assert density.shape == (256,) and abs(density.sum() - 1.0) < 1e-3
    assert 2.0 <= bw <= 12.0


def test_two_levels_give_two_layers_split_between_them():
    img = _image([(30, 800), (220, 5000)])
    layers = find_layers(img)
    assert layers.count == 2
    assert 30 < layers.minima[0] < 220
    assert abs(layers.maxima[0] - 30) <= 3 and abs(layers.maxima[1] - 220) <= 3
    lab = layers.label(img)
    assert (lab[img < 100] == 0).all() and (lab[img > 150] == 1).all()


def test_three_levels_and_no_fixed_count():
    layers = find_layers(_image([(20, 500), (120, 2000), (235, 4000)]))
    assert layers.count == 3
    assert 20 < layers.minima[0] < 120 < layers.minima[1] < 235


def test_light_on_dark_is_just_another_layer():
    dark_text = find_layers(_image([(20, 500), (230, 5000)]))
    light_text = find_layers(_image([(235, 500), (25, 5000)]))
    assert dark_text.count == light_text.count == 2
    assert light_text.fractions()[1] < 0.2 < light_text.fractions()[0]


def test_flat_image_is_one_layer():
    layers = find_layers(np.full((10, 10), 128, dtype=np.uint8))
    assert layers.count == 1 and layers.label(np.full((2, 2), 128, np.uint8)).max() == 0


def test_a_tail_without_a_maximum_is_split_by_otsu():
    # a dominant background and a long flat tail (thin anti-aliased strokes)
    rng = np.random.default_rng(1)
    levels = np.arange(35, 211)
    tail = np.repeat(levels, (211 - levels) // 8 + 1)  # fewer pixels the lighter: no maximum
    img = np.concatenate([np.clip(rng.normal(20, 4, 8000), 0, 255), tail]).astype(np.uint8)
    img = img[None, :]
    layers = find_layers(img, LayerOptions(otsu_fallback=True))
    assert layers.count == 2 and layers.minima[0] == otsu_threshold(gray_histogram(img))
    assert find_layers(img, LayerOptions(otsu_fallback=False)).count == 1


def test_shallow_dips_are_merged():
    img = _image([(100, 3000), (118, 3000)], noise=6.0)
    assert find_layers(img, LayerOptions(min_dip=0.0, otsu_fallback=False)).count == 2
    assert find_layers(img, LayerOptions(min_dip=0.5, otsu_fallback=False)).count == 1


def test_needs_uint8():
    with pytest.raises(TypeError):
        find_layers(np.zeros((2, 2), dtype=np.float32))


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 90), st.integers(160, 255), st.integers(200, 3000), st.integers(0, 100))
def test_two_well_separated_modes_are_always_split(lo, hi, n_small, seed):
    img = _image([(lo, n_small), (hi, 4000)], seed=seed, noise=2.0)
    layers = find_layers(img)
    lab = layers.label(img)
    assert layers.count >= 2
    assert set(np.unique(lab[img <= lo + 8])).isdisjoint(np.unique(lab[img >= hi - 8]))
