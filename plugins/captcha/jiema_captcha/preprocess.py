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


#: gray levels from the ground's that count as ink (JPEG ringing and speckle stay under it)
INK_LEVELS = 12
#: rows and columns with at least this share of ink pixels are inside the text's extent (a
#: stray dot in a wide margin is not)
INK_SHARE = 0.01
#: ground kept around the text's extent, px of the image
CROP_MARGIN = 4
#: an extent more than this share unlike the canvas is a panel, not ink (strokes cover less)
PANEL_SHARE = 0.5


def ink_normalised(gray: np.ndarray) -> np.ndarray:
    """`(H, W)` uint8 -> the same cropped to the extent of what differs from the canvas (the
    border's median gray), then turned dark-on-light where that ink is lighter than its ground
    (the median gray along the edge of its extent: strokes cross it only here and there).

    Captchas of unseen generators differ most in these two ways: text in a band of a larger
    canvas, or light text on a dark ground; a reader trained on others reads them as its own
    once both are undone (a `normalise_input` model's inputs, in training and reading). Where
    what differs from the canvas is mostly not ink but a panel (a band of another colour), the
    text is looked for again inside the panel, against the panel's own ground."""
    ink = _far_from(gray, _edge_median(gray))
    rows = np.flatnonzero(ink.mean(axis=1) >= INK_SHARE)
    cols = np.flatnonzero(ink.mean(axis=0) >= INK_SHARE)
    if not (rows.size and cols.size):
        tight = gray
    else:
        h, w = gray.shape
        tight = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        inside = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        if tight.shape != gray.shape and inside.mean() > PANEL_SHARE and min(tight.shape) > 2:
            return ink_normalised(tight)
        gray = gray[max(0, rows[0] - CROP_MARGIN):min(h, rows[-1] + CROP_MARGIN + 1),
                    max(0, cols[0] - CROP_MARGIN):min(w, cols[-1] + CROP_MARGIN + 1)]
    ground = _edge_median(tight)
    ink = _far_from(tight, ground)
    lighter = bool(ink.any()) and float(tight[ink].mean()) > ground
    return np.ascontiguousarray(255 - gray if lighter else gray)


def _edge_median(gray: np.ndarray) -> float:
    """The median gray of the image's outermost rows and columns."""
    return float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))


def _far_from(gray: np.ndarray, level: float) -> np.ndarray:
    """The pixels more than `INK_LEVELS` gray levels from `level`."""
    return np.abs(gray.astype(np.float32) - level) > INK_LEVELS


def to_gray_small(image: Any, height: int, width: int, normalise: bool = False) -> np.ndarray:
    """A PIL image (any mode) -> `(height, width)` uint8 grayscale (transparent = white),
    `ink_normalised` first where `normalise` asks for it."""
    gray = to_gray(image)
    return resize_gray(ink_normalised(gray) if normalise else gray, height, width)


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
