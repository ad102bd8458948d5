"""Captcha inputs -> PIL images: bytes, a path, a PIL image or a NumPy array.

Every odd input is settled here once: grayscale, palette, 16-bit and RGBA images all work
(transparency goes over white later), while a file that is not an image, is truncated, has zero
size or more pixels than the cap is an `ImageInputError` naming the input and what was expected.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from jiema.errors import InvalidInputError, require

#: More pixels than this is refused before decoding (captchas are tiny; 25 MP is a photo).
MAX_PIXELS = 25_000_000

ImageInput = str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray | Any


class ImageInputError(InvalidInputError):
    """The input is not a readable image, or is too large."""


def load_image(source: ImageInput, *, max_pixels: int = MAX_PIXELS) -> Any:
    """A decoded PIL image of any mode (the reader converts it to grayscale)."""
    pil = require("PIL.Image", "captcha", "reading captcha images")
    if isinstance(source, np.ndarray):
        return _from_array(source, pil, max_pixels)
    if isinstance(source, pil.Image):
        _check_size(source.size, "<PIL image>", max_pixels)
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), "<bytes>"
    elif isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        if not name:  # Path("") is the current folder
            raise ImageInputError("empty path: expected an image file")
        data = Path(name).read_bytes()  # a missing file is the CLI's one-line OSError
    else:
        raise ImageInputError(
            f"cannot read a captcha from a {type(source).__name__}: expected bytes, a path, "
            "a PIL image or a NumPy array"
        )
    if not data:
        raise ImageInputError(f"{name}: empty file (0 bytes), expected an image")
    try:
        image = pil.open(io.BytesIO(data))  # header only: the size is known before decoding
    except pil.DecompressionBombError as exc:
        raise ImageInputError(f"{name}: image too large ({exc})") from None
    except (pil.UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageInputError(
            f"{name}: not an image ({type(exc).__name__}); expected PNG, JPEG, GIF, BMP, WebP ..."
        ) from None
    _check_size(image.size, name, max_pixels)
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageInputError(f"{name}: broken or truncated image data ({exc})") from None
    return image


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageInputError(f"{name}: zero-size image ({width}x{height})")
    if width * height > max_pixels:
        raise ImageInputError(
            f"{name}: {width}x{height} = {width * height:,} pixels is over the cap of "
            f"{max_pixels:,} (a captcha is a few thousand)"
        )


def _from_array(arr: np.ndarray, pil: Any, max_pixels: int) -> Any:
    """`(H, W)` gray, `(H, W, 3)` RGB or `(H, W, 4)` RGBA; uint8, uint16, or floats in [0, 1]
    (or in [0, 255]: a float array with any value above 1 is taken as 0..255)."""
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ImageInputError(
            f"<array>: shape {arr.shape} is not an image; expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    _check_size((arr.shape[1], arr.shape[0]), "<array>", max_pixels)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageInputError("<array>: NaN or infinite pixel values")
        scale = 255.0 if arr.size and float(arr.max()) <= 1.0 else 1.0  # [0, 1] or [0, 255]
        arr = np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8)
    elif arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype != np.uint8:
        if arr.dtype.kind not in "iub":
            raise ImageInputError(f"<array>: dtype {arr.dtype} is not a pixel type")
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[arr.shape[2] if arr.ndim == 3 else 2]
    return pil.fromarray(np.ascontiguousarray(arr), mode=mode)
