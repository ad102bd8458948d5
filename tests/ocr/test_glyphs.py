"""Rendered training glyphs and the glyph normaliser (fonts: skip when none is installed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema_ocr.charset import default_charset
from jiema_ocr.glyphs import (
    GlyphSampler,
    RenderOptions,
    default_fonts,
    normalize_glyph,
    render_clean,
    render_glyph,
)

FONTS = default_fonts()
needs_fonts = pytest.mark.skipif(
    not FONTS, reason="no Debian CJK font installed (fonts-wqy-*, fonts-arphic-*)"
)


def _box(h: int, w: int, y0: int, x0: int, bh: int, bw: int, ink: int = 0,
         bg: int = 230) -> np.ndarray:
    img = np.full((h, w), bg, dtype=np.uint8)
    img[y0: y0 + bh, x0: x0 + bw] = ink
    img[y0 + bh // 3: y0 + bh // 3 + 2, x0: x0 + bw] = bg  # a gap so it is not a solid block
    return img


def test_blank_and_empty_crops_normalise_to_zeros() -> None:
    assert not normalize_glyph(np.full((30, 20), 200, np.uint8)).any()
    assert not normalize_glyph(np.zeros((0, 5), np.uint8)).any()
    assert normalize_glyph(np.full((1, 1), 7, np.uint8)).shape == (40, 40)


def test_normalised_glyph_ignores_polarity_margin_and_position() -> None:
    a = normalize_glyph(_box(40, 40, 5, 8, 20, 12))
    b = normalize_glyph(255 - _box(40, 40, 5, 8, 20, 12), polarity="light")
    b_auto = normalize_glyph(255 - _box(40, 40, 5, 8, 20, 12), polarity="auto")
    c = normalize_glyph(_box(70, 50, 30, 3, 20, 12))  # other margins, other place
    assert a.dtype == np.float32 and a.shape == (40, 40)
    assert 0.0 <= a.min() and a.max() <= 1.0 and a.max() > 0.9
    np.testing.assert_allclose(a, b, atol=0.02)
    np.testing.assert_allclose(a, b_auto, atol=0.02)
    np.testing.assert_allclose(a, c, atol=0.02)
    # the aspect ratio is kept: a tall box stays tall and is centred
    ys, xs = np.nonzero(a > 0.5)
    assert ys.max() - ys.min() > 1.4 * (xs.max() - xs.min())
    assert abs((xs.min() + xs.max()) / 2 - 19.5) <= 1


def test_rgb_crop_is_read_as_gray() -> None:
    gray = _box(30, 30, 4, 4, 20, 20)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    np.testing.assert_allclose(normalize_glyph(rgb), normalize_glyph(gray), atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.integers(0, 255), st.integers(0, 255))
def test_normalise_any_crop_stays_in_range(h: int, w: int, a: int, b: int) -> None:
    rng = np.random.default_rng(h * 61 + w)
    crop = np.where(rng.random((h, w)) < 0.3, a, b).astype(np.uint8)
    out = normalize_glyph(crop)
    assert out.shape == (40, 40) and np.isfinite(out).all()
    assert 0.0 <= out.min() and out.max() <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.integers(1, 50), st.integers(0, 2**31 - 1),
       st.sampled_from(["dark", "light", "auto"]))
def test_uint8_histogram_path_equals_the_sorting_path(h: int, w: int, seed: int,
                                                      polarity: str) -> None:
    # a uint8 crop takes its percentiles and medians from a histogram; a float crop of the same
    # values sorts pixels (np.percentile / np.median): the ink maps must be identical
    rng = np.random.default_rng(seed)
    crop = rng.integers(0, 256, (h, w)).astype(np.uint8)
    if seed % 2:  # a glyph-like crop: two levels plus noise
        crop = np.where(rng.random((h, w)) < 0.3, 20, 235) + rng.integers(-9, 10, (h, w))
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    fast = normalize_glyph(crop, polarity=polarity)  # type: ignore[arg-type]
    slow = normalize_glyph(crop.astype(np.float64), polarity=polarity)  # type: ignore[arg-type]
    assert np.array_equal(fast, slow)


@needs_fonts
def test_render_glyph_is_a_seeded_uint8_crop() -> None:
    face = FONTS[0]
    one = render_glyph("电", face, np.random.default_rng(7))
    two = render_glyph("电", face, np.random.default_rng(7))
    assert one.dtype == np.uint8 and one.ndim == 2 and min(one.shape) >= 6
    np.testing.assert_array_equal(one, two)


@needs_fonts
def test_clean_and_distorted_renderings_normalise_alike() -> None:
    face = FONTS[0]
    clean = normalize_glyph(render_clean("国", face, 48))
    calm = RenderOptions(max_rotation=0, max_shear=0, blur_prob=0, lowres_prob=0, max_noise=0,
                         max_gradient=0, clip_prob=0, bold_prob=0, thin_prob=0,
                         min_size=48, max_size=48)
    other = normalize_glyph(render_glyph("国", face, np.random.default_rng(1), calm, invert=True),
                            polarity="light")
    assert np.abs(clean - other).mean() < 0.05
    different = normalize_glyph(render_clean("一", face, 48))
    assert np.abs(clean - different).mean() > 0.1


@needs_fonts
def test_sampler_batches_cover_the_requested_classes() -> None:
    cs = default_charset()
    sampler = GlyphSampler(cs, FONTS[:1], classes=range(5))
    x, y = sampler.sample(16, np.random.default_rng(0))
    assert x.shape == (16, 1, 40, 40) and x.dtype == np.float32
    assert set(y.tolist()) <= set(range(5))
    assert (x.reshape(16, -1).max(axis=1) > 0.5).all()  # every glyph has ink


@needs_fonts
def test_sampler_draws_classes_by_weight() -> None:
    cs = default_charset()
    sampler = GlyphSampler(cs, FONTS[:1], classes=range(4), weights=[0, 3, 1, 0])
    _, y = sampler.sample(400, np.random.default_rng(0))
    assert set(y.tolist()) == {1, 2}
    assert 250 < (y == 1).sum() < 350  # 3:1
    with pytest.raises(ValueError, match="4 classes"):
        GlyphSampler(cs, FONTS[:1], classes=range(4), weights=[1, 1])
    with pytest.raises(ValueError, match="not all 0"):
        GlyphSampler(cs, FONTS[:1], classes=range(4), weights=[0, 0, 0, 0])


def test_class_variants_are_the_code_points_that_fold_into_a_class() -> None:
    from jiema_ocr.glyphs import class_variants

    cs = default_charset()
    v = {cs.label(i): chars for i, chars in class_variants(cs).items()}
    assert v["/"] == ["／"] and v["-"] == ["－"] and v["7"] == ["７"] and v["，"] == [","]
    assert "国" not in v and "℃" not in v  # hanzi and the symbols have no other form


@needs_fonts
def test_sampler_draws_full_width_forms_of_a_class() -> None:
    cs = default_charset()
    face = next(f for f in FONTS if f.covers("／"))
    slash = cs.id("/")
    assert slash is not None
    calm = RenderOptions(max_rotation=0, max_shear=0, blur_prob=0, lowres_prob=0, max_noise=0,
                         max_gradient=0, clip_prob=0, bold_prob=0, thin_prob=0, invert_prob=0,
                         min_size=48, max_size=48)
    wide, narrow = (normalize_glyph(render_clean(c, face, 48)) for c in "／/")
    assert np.abs(wide - narrow).mean() > 0.02  # the two forms really differ in this font

    def forms(prob: float) -> set[str]:
        sampler = GlyphSampler(cs, [face], RenderOptions(**{**calm.model_dump(),
                                                             "variant_prob": prob}),
                               classes=[slash])
        x, y = sampler.sample(40, np.random.default_rng(3))
        assert (y == slash).all()
        return {"／" if np.abs(g[0] - wide).mean() < np.abs(g[0] - narrow).mean() else "/"
                for g in x}

    assert forms(0.5) == {"／", "/"}
    assert forms(0.0) == {"/"}


@needs_fonts
def test_every_charset_character_is_in_some_font() -> None:
    sampler = GlyphSampler()
    assert len(sampler.classes) == len(default_charset())


def test_tight_crop_of_a_boxed_character_keeps_its_polarity() -> None:
    img = np.full((30, 30), 240, dtype=np.uint8)  # a frame touching every edge, like 国 cut tight
    img[:3], img[-3:], img[:, :3], img[:, -3:] = 0, 0, 0, 0
    img[14:16, 6:24] = 0
    for polarity in ("dark", "auto"):
        out = normalize_glyph(img, polarity=polarity)  # type: ignore[arg-type]
        assert out[11, 20] < 0.1 and out[3, 20] > 0.9 and out[20, 20] > 0.9
    with pytest.raises(ValueError, match="polarity"):
        normalize_glyph(img, polarity="up")  # type: ignore[arg-type]


def test_font_list_can_be_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIEMA_OCR_FONTS", "")
    assert default_fonts(dirs=("/nonexistent",)) == []
    with pytest.raises(FileNotFoundError, match="no CJK font"):
        GlyphSampler(fonts=[])
