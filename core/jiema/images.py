"""Reading images, for every task that reads them (OCR, captchas, a plugin's own): bytes,
paths, PIL images or NumPy arrays in; a checked PIL image (`read_image`) or an RGB uint8 array
(`read_rgb`) out.

Everything odd a user may hand in is settled here, once, so the later stages see one thing:
CMYK, palette and 16-bit images are converted, transparency is laid over white, the EXIF
orientation of a photo is applied, and a file that is not an image, is truncated, has zero size
or is larger than a cap is a one-line `ImageReadError` that names the input and says what was
expected. Pillow comes with the `images` extra (which `ocr` and `captcha` include).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInputError, require

#: Images with more pixels than this are refused (a gigapixel scan would take minutes and GBs).
MAX_PIXELS = 40_000_000


class ImageReadError(InvalidInputError):
    """The input is not a readable image (or is too large to read)."""


class ImageTooLargeError(ImageReadError):
    """The image has more pixels than the cap."""


ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray | Any


def read_rgb(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The image as a `(H, W, 3)` uint8 RGB array (transparency composited over white).

    >>> read_rgb(np.array([[0.0, 1.0]])).tolist()
    [[[0, 0, 0], [255, 255, 255]]]
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, max_pixels)
    pil = _pillow()
    if isinstance(source, pil.Image):
        name = "<PIL image>"
        _check_size(source.size, name, max_pixels)
        return _pil_to_rgb(source, name)
    return _pil_to_rgb(*_read_pil(source, pil, max_pixels))


def read_image(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> Any:
    """The image as a decoded, size-checked, upright PIL image in the mode it came in (a caller
    that wants gray or RGB converts it; `read_rgb` does that with transparency over white)."""
    pil = _pillow()
    if isinstance(source, np.ndarray):
        return pil.fromarray(_array_to_rgb(source, max_pixels), mode="RGB")
    if isinstance(source, pil.Image):
        _check_size(source.size, "<PIL image>", max_pixels)
        return source
    return _read_pil(source, pil, max_pixels)[0]


def _pillow() -> Any:
    return require("PIL.Image", "images", "reading images")


def _read_pil(source: ImageSource, pil: Any, max_pixels: int) -> tuple[Any, str]:
    """Bytes or a path -> (decoded upright PIL image, the name errors give it)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), "<bytes>"
    elif isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        if not name:  # Path("") is the current folder
            raise ImageReadError("empty path: expected an image file")
        data = Path(name).read_bytes()  # OSError (missing, a folder) is the CLI's one-liner
    else:
        raise ImageReadError(
            f"cannot read an image from a {type(source).__name__}: expected a path, bytes, "
            "a PIL image or a NumPy array"
        )
    return _decode(data, name, pil, max_pixels), name


def _decode(data: bytes, name: str, pil: Any, max_pixels: int) -> Any:
    if not data:
        raise ImageReadError(f"{name}: empty file (0 bytes), expected an image")
    try:
        img = pil.open(io.BytesIO(data))  # reads the header only
    except pil.DecompressionBombError as exc:  # Pillow's own cap, far above ours
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "the image"
        raise ImageTooLargeError(
            f"{name}: {size} is over the cap of {max_pixels:,}; scale it down or crop the "
            "text first"
        ) from None
    except (pil.UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageReadError(
            f"{name}: not an image Pillow can read ({type(exc).__name__}); expected PNG, JPEG, "
            "BMP, TIFF, GIF, WebP ..."
        ) from None
    _check_size(img.size, name, max_pixels)
    try:
        img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"{name}: broken or truncated image data ({exc})") from None
    return _upright(img)


def _upright(img: Any) -> Any:
    """A photo as it is meant to be seen: the EXIF orientation (a phone held sideways) applied."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the pixels
        return img
    if orientation in (None, 1):
        return img
    from PIL import ImageOps

    return ImageOps.exif_transpose(img)


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageReadError(f"{name}: zero-size image ({width}x{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}x{height} = {width * height:,} pixels is over the cap of "
            f"{max_pixels:,}; scale it down or crop the text first"
        )


def _pil_to_rgb(img: Any, name: str) -> np.ndarray:
    """Any Pillow mode to RGB: 16-bit/32-bit/float gray rescaled, alpha laid over white."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        return _array_to_rgb(arr, None, name=name)
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA")
    elif mode == "LA":
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        rgba = np.asarray(img, dtype=np.float32)
        return _over_white(rgba[..., :3], rgba[..., 3] / 255.0)
    if img.mode != "RGB":  # CMYK, L, 1, YCbCr, LAB, HSV
        try:
            img = img.convert("RGB")
        except (ValueError, OSError) as exc:
            raise ImageReadError(f"{name}: cannot convert mode {mode} to RGB ({exc})") from None
    return np.array(img, dtype=np.uint8)


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    out = rgb * alpha[..., None] + 255.0 * (1.0 - alpha[..., None])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _array_to_rgb(arr: np.ndarray, max_pixels: int | None, name: str = "<array>") -> np.ndarray:
    """2-D gray, or `(H, W, C)` with C in 1/3/4; uint8, uint16, bool or float (0..1 or 0..255)."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageReadError(
            f"{name}: array of shape {arr.shape} is not an image; expected (H, W), (H, W, 3) "
            "or (H, W, 4)"
        )
    if max_pixels is not None:
        _check_size((arr.shape[1], arr.shape[0]), name, max_pixels)
    elif arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageReadError(f"{name}: zero-size image ({arr.shape[1]}x{arr.shape[0]})")
    data = _to_unit_range(arr, name)
    if data.ndim == 2:
        data = np.repeat(data[..., None], 3, axis=2)
    if data.shape[2] == 4:
        return _over_white(data[..., :3] * 255.0, data[..., 3])
    return np.clip(data * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _to_unit_range(arr: np.ndarray, name: str) -> np.ndarray:
    """Values scaled to [0, 1] by the dtype's range (uint16 by 65535; 32-bit ints by their max)."""
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating):
        data = arr.astype(np.float64)
        if not np.isfinite(data).all():
            raise ImageReadError(f"{name}: image array holds NaN or infinity")
        lo, hi = float(data.min()), float(data.max())
        if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
            return data.astype(np.float32)
        if lo >= 0.0 and hi <= 255.0:
            return (data / 255.0).astype(np.float32)
        if lo >= 0.0 and hi <= 65535.0:
            return (data / 65535.0).astype(np.float32)
        span = hi - lo if hi > lo else 1.0  # 32-bit or signed data: stretch what is there
        return ((data - lo) / span).astype(np.float32)
    raise ImageReadError(f"{name}: image array dtype {arr.dtype} is not numeric")
