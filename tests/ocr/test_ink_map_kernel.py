"""The jitted glyph normaliser: Pillow's BILINEAR resize written out, and the uint8 kernel
against the NumPy path it replaced for uint8 crops."""

from __future__ import annotations

import numpy as np
import PIL
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema_ocr.glyphs import normalize_glyph
from jiema_ocr.ink_map_kernel import resize_bilinear
from PIL import Image

#: Pillow 13 runs the vertical pass first when the height shrinks most, as the kernel does;
#: older Pillows differ from it by one gray level at a few pixels.
PILLOW_SAME_ORDER = int(PIL.__version__.split(".")[0]) >= 13


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.integers(1, 50), st.integers(1, 50),
       st.integers(0, 2**31 - 1))
def test_resize_is_pillows_bilinear(h: int, w: int, out_h: int, out_w: int, seed: int) -> None:
    img = np.random.default_rng(seed).integers(0, 256, (h, w)).astype(np.uint8)
    ours = resize_bilinear(img, out_h, out_w)
    pillow = np.asarray(Image.fromarray(img).resize((out_w, out_h), Image.Resampling.BILINEAR))
    assert ours.shape == (out_h, out_w) and ours.dtype == np.uint8
    if PILLOW_SAME_ORDER:
        assert np.array_equal(ours, pillow)
    else:
        assert np.abs(ours.astype(int) - pillow).max() <= 1


def test_resize_shrinking_height_most_runs_the_vertical_pass_first() -> None:
    # 60x20 -> 10x18: the height loses 50 rows, the width 2, so the columns go first; a
    # horizontal-first resize gives other values on this image
    img = np.random.default_rng(3).integers(0, 256, (60, 20)).astype(np.uint8)
    from jiema_ocr.ink_map_kernel import _resize_columns, _resize_rows

    vertical_first = _resize_rows(_resize_columns(img, 10), 18)
    horizontal_first = _resize_columns(_resize_rows(img, 18), 10)
    assert not np.array_equal(vertical_first, horizontal_first)
    assert np.array_equal(resize_bilinear(img, 10, 18), vertical_first)


@pytest.mark.parametrize("polarity", ["dark", "light", "auto"])
def test_kernel_matches_the_numpy_path_on_glyph_like_crops(polarity: str) -> None:
    # glyph-like crops (two levels plus noise): the uint8 kernel and the float path agree
    # exactly; a float crop takes its percentiles by sorting, which can differ from the
    # histogram in the last bits, so noise crops are held to one gray level
    rng = np.random.default_rng(11)
    exact = 0
    for i in range(300):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        crop = np.where(rng.random((h, w)) < rng.uniform(0.1, 0.6), rng.integers(0, 90),
                        rng.integers(150, 256)) + rng.integers(-9, 10, (h, w))
        crop = np.clip(crop, 0, 255).astype(np.uint8)
        fast = normalize_glyph(crop, polarity=polarity)  # type: ignore[arg-type]
        slow = normalize_glyph(crop.astype(np.float32), polarity=polarity)  # type: ignore[arg-type]
        assert np.abs(fast - slow).max() <= 1 / 255 + 1e-6, i
        exact += np.array_equal(fast, slow)
    assert exact >= 295


def test_non_contiguous_uint8_crop_reads_like_its_copy() -> None:
    img = np.full((30, 40), 230, np.uint8)
    img[5:25, 10:18] = 10
    view = img[:, ::2]  # a strided view: the kernel takes any layout
    assert np.array_equal(normalize_glyph(view), normalize_glyph(np.ascontiguousarray(view)))


def _numpy_glyph_crop(gray, line, box, margin, near_ink):
    """The NumPy definition `crops.glyph_crop`'s kernel replaced (kept here as its spec)."""
    from jiema_ocr.crops import INK_CEILING

    lx, ly = line.box[0], line.box[1]
    x0, y0, x1, y1 = box
    mh, mw = line.mask.shape
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(mw, x1 + margin), min(mh, y1 + margin)
    keep = np.zeros((cy1 - cy0, cx1 - cx0), dtype=bool)
    keep[y0 - cy0:y1 - cy0 + 1, max(x0 - cx0 - 1, 0):x1 - cx0 + 1] = True
    ink = keep & line.mask[cy0:cy1, cx0:cx1]
    keep &= near_ink[cy0:cy1, cx0:cx1]
    crop = gray[ly + cy0:ly + cy1, lx + cx0:lx + cx1].astype(np.float32)
    text, bg = line.text_level, line.background_level
    if abs(bg - text) < 1:
        bg = text + 1
    norm = (crop - text) * (255.0 / (bg - text))
    norm[~keep] = 255.0
    norm[ink] = np.minimum(norm[ink], INK_CEILING)
    return np.clip(norm, 0, 255).astype(np.uint8)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(0, 6), st.booleans())
def test_glyph_crop_kernel_matches_its_numpy_definition(seed: int, margin: int,
                                                         light: bool) -> None:
    from types import SimpleNamespace

    from jiema_ocr.crops import dilate, glyph_crop

    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(4, 40, 2))
    gray = rng.integers(0, 256, (h + 10, w + 12)).astype(np.uint8)
    mask = rng.random((h, w)) < 0.3
    text, bg = (float(rng.uniform(150, 250)), float(rng.uniform(0, 100))) if light else (
        float(rng.uniform(0, 100)), float(rng.uniform(150, 250)))
    if seed % 7 == 0:
        bg = text + 0.5  # no contrast: the ground is taken one level past the ink
    line = SimpleNamespace(box=(5, 4, 5 + w, 4 + h), mask=mask, text_level=text,
                           background_level=bg)
    xa, xb = sorted(int(v) for v in rng.integers(0, w + 1, 2))
    ya, yb = sorted(int(v) for v in rng.integers(0, h + 1, 2))
    box = (xa, ya, max(xb, xa + 1), max(yb, ya + 1))
    near = dilate(mask)
    want = _numpy_glyph_crop(gray, line, box, margin, near)
    got = glyph_crop(gray, line, box, margin, near)  # type: ignore[arg-type]
    assert got.dtype == np.uint8 and np.array_equal(got, want)
    assert np.array_equal(glyph_crop(gray, line, box, margin), want)  # type: ignore[arg-type]
