"""Preprocessing: luma gray, 2x upscale of small images, power transform rescaled to [0, 255].

The power transform `x -> x^r` (r = 2) spreads the light end of the gray scale and squeezes the
dark end, which separates pale backgrounds from one another and from text before layering.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# the flattened ground is estimated on a grid of about this many blocks along the short side
GROUND_GRID = 24


class PreprocessOptions(BaseModel):
    """How an image is prepared for layering."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    small_height: int = Field(64, ge=0, description="images lower than this are upscaled")
    upscale: int = Field(2, ge=1, le=4)
    #: UI text crops (12-20 px text, 20-46 px images) read better at 3x than 2x: screen set
    #: CER 12.32% -> 7.36% with 3x for every image under 64 px, but lines (images 40-90 px)
    #: 0.37% -> 0.90%; so only images under `tiny_height` get `tiny_upscale`.
    tiny_height: int = Field(40, ge=0, description="images lower than this are upscaled by "
                                                   "tiny_upscale instead")
    tiny_upscale: int = Field(3, ge=1, le=4)
    power: float = Field(2.0, gt=0)
    flatten: bool = Field(False, description="subtract a smooth estimate of the ground (a "
                                             "gradient) before the power transform")
    flatten_window: float = Field(0.55, gt=0, le=1, description="median window of the ground "
                                                                "estimate, x the shorter side")


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """`Y = 0.299 R + 0.587 G + 0.114 B` as float32 in [0, 255]; a 2-D input is returned as is."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32, copy=False)
    return rgb[..., :3].astype(np.float32) @ LUMA


def upscale_small(gray: np.ndarray, small_height: int = 64, factor: int = 2) -> tuple[
        np.ndarray, int]:
    """Bilinear `factor`x upscale when the image is lower than `small_height` (a two-level image
    stays two-level: `snapped_to_bilevel`); returns the image and the scale applied (1 or
    `factor`), so boxes can be mapped back to the input."""
    if factor == 1 or gray.shape[0] >= small_height:
        return gray, 1
    from PIL import Image

    img = Image.fromarray(gray.astype(np.float32, copy=False), mode="F")
    size = (gray.shape[1] * factor, gray.shape[0] * factor)
    up = np.asarray(img.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    levels = np.unique(gray)
    if len(levels) == 2:  # bilevel: `snapped_to_bilevel` says why
        return snapped_to_bilevel(up, float(levels[0]), float(levels[1])), factor
    return up, factor


def snapped_to_bilevel(up: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """A bilinear upscale of a two-level image (text drawn without antialiasing, such as a
    font's bitmap strike at 12-16 px) set back to its two levels at their midpoint. Left
    interpolated, a 1-px stroke becomes a 1-px core with lighter flanks, which layering puts in
    two layers: the core of a digit's bar, cut off from its stems at the corners, is too small to
    join the line, and both readers saw 6980 as broken sticks. Snapped, it is a solid stroke
    `factor` px wide with smooth diagonals. Dev screen renders (seeds 103, 211, 307, 401, 509;
    60 a set, about 10% of them bilevel): 54 -> 51 errors with the span chooser, 62 -> 57 with
    the rules (nearest-neighbour upscaling of those: 64; bicubic or Lanczos for every image:
    lines and screen worse)."""
    return np.where(up < (lo + hi) / 2.0, lo, hi).astype(np.float32)


def power_transform(gray: np.ndarray, power: float = 2.0) -> np.ndarray:
    """`x^power` on [0, 1], then stretched to span [0, 255]; uint8. A flat image maps to 0."""
    x = np.asarray(gray, dtype=np.float32) / 255.0
    y = np.power(np.clip(x, 0.0, 1.0), power, dtype=np.float32)
    lo, hi = float(y.min()), float(y.max())
    if hi - lo < 1e-6:
        return np.zeros(y.shape, dtype=np.uint8)
    return ((y - lo) * (255.0 / (hi - lo)) + 0.5).astype(np.uint8)


def flatten_background(gray: np.ndarray, window: float = 0.55) -> np.ndarray:
    """`gray` minus a smooth estimate of its ground, shifted back to the ground's median level.

    The ground is the median over windows of `window` x the shorter side: text covers less than
    half of any such window, so the median is the ground under it, whatever the text's polarity;
    a gradient then becomes one flat level that layering can separate from the text. Computed
    on block means (about 24 blocks across the shorter side), then upsampled: a few ms."""
    from PIL import Image
    from scipy.ndimage import median_filter

    H, W = gray.shape
    block = max(1, int(round(min(H, W) / GROUND_GRID)))
    h, w = -(-H // block), -(-W // block)
    padded = np.pad(gray, ((0, h * block - H), (0, w * block - W)), mode="edge")
    small = padded.reshape(h, block, w, block).mean(axis=(1, 3), dtype=np.float32)
    size = max(3, int(round(window * min(h, w))) | 1)
    ground = median_filter(small, size=size, mode="nearest")
    up = Image.fromarray(ground.astype(np.float32), mode="F").resize(
        (w * block, h * block), Image.Resampling.BILINEAR)
    ground_full = np.asarray(up, dtype=np.float32)[:H, :W]
    return np.clip(gray - ground_full + float(np.median(ground)), 0.0, 255.0)


def preprocess(rgb: np.ndarray, options: PreprocessOptions | None = None) -> tuple[np.ndarray, int]:
    """RGB (or gray) array -> (uint8 transformed gray, upscale factor)."""
    opts = options or PreprocessOptions()
    gray = to_gray(rgb)
    factor = opts.tiny_upscale if gray.shape[0] < opts.tiny_height else opts.upscale
    gray, scale = upscale_small(gray, opts.small_height, factor)
    if opts.flatten:
        gray = flatten_background(gray, opts.flatten_window)
    return power_transform(gray, opts.power), scale
