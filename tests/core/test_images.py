"""Reading images: every supported form in, RGB uint8 out; bad input is a clear ImageReadError."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")
from jiema.images import ImageReadError, ImageTooLargeError, read_rgb  # noqa: E402
from PIL import Image  # noqa: E402


def _png_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_png_bytes_path_pil_and_array_agree(tmp_path):
    arr = np.zeros((5, 7, 3), dtype=np.uint8)
    arr[1:3, 2:5] = (200, 10, 30)
    img = Image.fromarray(arr)
    path = tmp_path / "a.png"
    img.save(path)
    for source in (path, str(path), _png_bytes(img), img, arr):
        out = read_rgb(source)
        assert out.dtype == np.uint8 and out.shape == (5, 7, 3)
        np.testing.assert_array_equal(out, arr)


def test_gray_and_float_arrays():
    gray = np.array([[0, 128], [255, 7]], dtype=np.uint8)
    out = read_rgb(gray)
    assert out.shape == (2, 2, 3) and (out[..., 0] == gray).all()
    unit = np.array([[0.0, 0.5], [1.0, 0.25]])
    assert read_rgb(unit)[0, 1, 0] == 128
    assert read_rgb(np.ones((2, 2), dtype=bool))[0, 0, 0] == 255


def test_rgba_is_composited_over_white():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)  # opaque black
    rgba[0, 1] = (0, 0, 0, 0)  # transparent
    out = read_rgb(_png_bytes(Image.fromarray(rgba, "RGBA")))
    assert tuple(out[0, 0]) == (0, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)


def test_palette_with_transparency():
    img = Image.new("P", (4, 4), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.putpixel((1, 1), 1)
    out = read_rgb(_png_bytes(img, transparency=0))
    assert tuple(out[0, 0]) == (255, 255, 255)  # palette entry 0 is transparent
    assert tuple(out[1, 1]) == (0, 0, 255)


def test_cmyk_jpeg():
    img = Image.new("CMYK", (8, 8), (0, 0, 0, 255))  # full black ink
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    out = read_rgb(buf.getvalue())
    assert out.shape == (8, 8, 3) and out.max() < 40


def test_sixteen_bit_png_keeps_its_range():
    arr = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16")
    out = read_rgb(_png_bytes(img))
    assert out[0, 0, 0] == 0 and out[0, 1, 0] == 255 and abs(int(out[1, 0, 0]) - 128) <= 1
    assert read_rgb(arr)[0, 1, 0] == 255


@pytest.mark.parametrize("data", [b"not an image at all", b"%PDF-1.4\n..."])
def test_not_an_image(data):
    with pytest.raises(ImageReadError, match="not an image"):
        read_rgb(data)


def test_empty_and_zero_size():
    with pytest.raises(ImageReadError, match="empty"):
        read_rgb(b"")
    with pytest.raises(ImageReadError, match="zero-size"):
        read_rgb(np.zeros((0, 5), dtype=np.uint8))


def test_truncated_file(tmp_path):
    rng = np.random.default_rng(0)
    data = _png_bytes(Image.fromarray(rng.integers(0, 255, (60, 60, 3), dtype=np.uint8)))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated|broken"):
        read_rgb(path)


def test_gigapixel_header_is_refused_before_decoding():
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0"))
            + _chunk(b"IEND", b""))
    with pytest.raises(ImageTooLargeError, match="pixels"):
        read_rgb(data)


def test_cap_is_configurable():
    arr = np.zeros((20, 20), dtype=np.uint8)
    with pytest.raises(ImageTooLargeError, match="over the cap of 100"):
        read_rgb(arr, max_pixels=100)
    assert read_rgb(arr, max_pixels=400).shape == (20, 20, 3)


def test_bad_array_shapes_and_values():
    with pytest.raises(ImageReadError, match="shape"):
        read_rgb(np.zeros((2, 2, 2), dtype=np.uint8))
    with pytest.raises(ImageReadError, match="NaN"):
        read_rgb(np.array([[np.nan, 0.0]]))
    with pytest.raises(ImageReadError, match="expected a path"):
        read_rgb(12345)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        read_rgb(tmp_path / "nope.png")


def test_pillow_bomb_limit_reads_as_our_cap():
    # larger than Pillow's own decompression-bomb limit: refused at open, with our cap named
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")
    with pytest.raises(ImageTooLargeError, match=r"2,500,000,000 pixels is over the cap of 40"):
        read_rgb(data)


def test_exif_orientation_is_applied():
    arr = np.full((20, 60, 3), 255, np.uint8)
    arr[:, :10] = 0  # a dark band at the left of the upright picture
    img = Image.fromarray(arr).rotate(90, expand=True)  # stored sideways: 60 x 20
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view"
    buf = io.BytesIO()
    img.save(buf, format="PNG", exif=exif)
    out = read_rgb(buf.getvalue())
    assert out.shape == (20, 60, 3)
    assert out[:, :10].mean() < 60 and out[:, 20:].mean() > 200
