"""Images to network input: grayscale, resized to the model's input size, uint8 until the
network normalises it (a training pool of uint8 is 4x smaller than float)."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_gray(image: Any) -> np.ndarray:
    """A PIL image (any mode) -> `(H, W)` uint8 grayscale at its own size (transparent =
    white)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16/32-bit: scale, do not clip
        arr = np.asarray(image, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.0
        image = Image.fromarray(
            (arr * (255.0 / top) if top > 255 else np.clip(arr, 0, 255)).astype(np.uint8), "L"
        )
    return np.asarray(image.convert("L"), dtype=np.uint8)


def resize_gray(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """`(H, W)` uint8 -> `(height, width)` uint8 (bilinear, as every reader input is made)."""
    from PIL import Image

    small = Image.fromarray(gray, "L").resize(
        (width, height), Image.Resampling.BILINEAR, reducing_gap=2.0
    )
    return np.asarray(small, dtype=np.uint8)


def to_gray_small(image: Any, height: int, width: int) -> np.ndarray:
    """A PIL image (any mode) -> `(height, width)` uint8 grayscale (transparent = white)."""
    return resize_gray(to_gray(image), height, width)


def ink(batch: Any) -> Any:
    """uint8 `(B, H, W)` (numpy or torch) -> float32 torch `(B, 1, H, W)` in [0, 1], ink
    positive (white paper is 0)."""
    import torch

    x = torch.as_tensor(np.array(batch, dtype=np.float32, copy=True))
    return ((255.0 - x) / 255.0).unsqueeze(1)


def standardise(x: Any) -> Any:
    """Each `(1, H, W)` image to zero mean and unit variance (captcha colours vary per image)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    std = x.std(dim=(1, 2, 3), keepdim=True)
    return (x - mean) / (std + 1e-2)


def normalise(batch: Any) -> Any:
    """uint8 `(B, H, W)` (numpy or torch) -> float32 torch `(B, 1, H, W)`: ink positive, each
    image scaled to zero mean and unit variance; what the network reads."""
    return standardise(ink(batch))
