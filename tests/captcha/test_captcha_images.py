"""Input handling: every kind of source, odd modes, and clear errors for bad inputs."""

from __future__ import annotations

import io

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")
from jiema_captcha.images import ImageInputError, load_image  # noqa: E402
from jiema_captcha.preprocess import to_gray_small  # noqa: E402


def png_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def sample_rgb() -> object:
    arr = np.full((60, 160, 3), 240, dtype=np.uint8)
    arr[20:40, 30:130] = (20, 60, 120)
    return Image.fromarray(arr, "RGB")


def test_sources_bytes_path_pil_array_agree(tmp_path) -> None:
    image = sample_rgb()
    data = png_bytes(image)
    path = tmp_path / "c.png"
    path.write_bytes(data)
    want = to_gray_small(image, 32, 96)
    for source in (data, bytearray(data), str(path), path, image, np.asarray(image)):
        assert np.array_equal(to_gray_small(load_image(source), 32, 96), want)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "1", "CMYK", "I;16"])
def test_modes_are_read_as_gray(mode: str) -> None:
    image = sample_rgb()
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    else:
        converted = image.convert(mode)
    gray = to_gray_small(load_image(png_bytes(converted) if mode != "CMYK" else converted), 32, 96)
    assert gray.shape == (32, 96) and gray.dtype == np.uint8
    assert gray[16, 48] < 128 < gray[2, 2]  # ink dark, background light


def test_transparent_background_is_white() -> None:
    arr = np.zeros((60, 160, 4), dtype=np.uint8)  # fully transparent black
    arr[20:40, 30:130] = (0, 0, 0, 255)
    gray = to_gray_small(load_image(arr), 32, 96)
    assert gray[2, 2] == 255 and gray[16, 48] == 0


def test_float_and_gray_arrays() -> None:
    gray = to_gray_small(load_image(np.ones((60, 160)) * 0.5), 30, 80)
    assert abs(int(gray[5, 5]) - 128) <= 1
    one_channel = load_image(np.zeros((10, 10, 1), dtype=np.uint8))  # (H, W, 1): gray
    assert one_channel.size == (10, 10) and np.asarray(one_channel.convert("L")).max() == 0
    rgb = np.asarray(sample_rgb())
    want = to_gray_small(load_image(rgb), 32, 96)
    for floats in (rgb / 255.0, rgb.astype(np.float32)):  # [0, 1] and [0, 255] scales
        assert np.abs(to_gray_small(load_image(floats), 32, 96).astype(int) - want).max() <= 1


@pytest.mark.parametrize(
    "source, message",
    [
        (b"", "empty file"),
        (b"this is not an image at all", "not an image"),
        (np.zeros((0, 5), dtype=np.uint8), "zero-size"),
        (np.zeros((4, 4, 2), dtype=np.uint8), "not an image"),
        (np.array([[np.nan]]), "NaN"),
        (12345, "expected a path"),
    ],
)
def test_bad_inputs_say_what_is_wrong(source, message: str) -> None:
    with pytest.raises(ImageInputError, match=message):
        load_image(source)


def test_truncated_png() -> None:
    data = png_bytes(sample_rgb())
    with pytest.raises(ImageInputError, match="truncated|not an image"):
        load_image(data[: len(data) // 2])


def test_huge_image_is_refused_before_decoding() -> None:
    big = png_bytes(Image.new("1", (6000, 5000)))  # 30 MP, a few KB of PNG
    with pytest.raises(ImageInputError, match="over the cap"):
        load_image(big)
    with pytest.raises(ImageInputError, match="over the cap"):
        load_image(png_bytes(sample_rgb()), max_pixels=100)


def test_ink_normalised_crops_to_the_text_and_darkens_light_ink() -> None:
    from jiema_captcha.preprocess import CROP_MARGIN, ink_normalised

    # dark text in a light band of a larger black-barred canvas, as multicolour captchas draw:
    # the band is a panel (mostly unlike the canvas), the text is looked for inside it
    canvas = np.zeros((120, 200), dtype=np.uint8)
    canvas[40:80] = 200
    canvas[50:70, 30:150:4] = 20
    out = ink_normalised(canvas)
    assert out.shape == (20 + 2 * CROP_MARGIN, 117 + 2 * CROP_MARGIN)  # strokes 30..146
    assert out[0, 0] == 200 and out.min() == 20  # the band's ground and its dark text
    # light text on a dark ground is turned dark-on-light, uncropped where it fills the image
    light = np.full((30, 90), 10, dtype=np.uint8)
    for x in range(2, 88, 6):  # strokes: text covers less of its box than its ground does
        light[3:27, x:x + 2] = 230
    turned = ink_normalised(light)
    assert turned.shape == light.shape and turned[15, 2] == 25 and turned[15, 5] == 245
    # a blank image, or a dot too small to make a row of ink, is left as it is
    blank = np.full((30, 90), 128, dtype=np.uint8)
    assert np.array_equal(ink_normalised(blank), blank)


def test_to_gray_small_normalises_only_when_asked() -> None:
    arr = np.full((60, 160), 15, dtype=np.uint8)
    arr[20:40, 30:130:10] = 240  # light strokes on a dark ground
    image = Image.fromarray(arr, "L")
    plain = to_gray_small(image, 32, 96)
    assert plain[0, 0] == 15 and plain.max() > 100  # as it was
    normalised = to_gray_small(image, 32, 96, normalise=True)
    # cropped to the strokes (a margin of ground): all but the edges is stroke or gap
    assert normalised[0, 0] == 240 and normalised.min() < 100
