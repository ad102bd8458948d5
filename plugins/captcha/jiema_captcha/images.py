"""Captcha inputs: whatever `jiema.images` reads (bytes, a path, a PIL image or a NumPy array),
under a captcha's pixel cap. The reader converts the image to gray itself.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from jiema.images import ImageReadError, ImageSource, read_image

#: More pixels than this is refused before decoding (captchas are tiny; 25 MP is a photo).
MAX_PIXELS = 25_000_000

ImageInput: TypeAlias = ImageSource
#: A captcha input that is not a readable image; the core's image error under its captcha name.
ImageInputError = ImageReadError


def load_image(source: ImageInput, *, max_pixels: int = MAX_PIXELS) -> Any:
    """A decoded, upright PIL image of any mode (see `jiema.images.read_image`)."""
    return read_image(source, max_pixels=max_pixels)
