"""Straighten a skewed photo of text before layering: a line tilted by a few degrees drifts by
more than its own height across a wide image, and line finding, which links glyphs standing
side by side at one height, then finds it in pieces or not at all.

The skew is the angle whose row profile of edge pixels is sharpest (text rows pile their edges
into few rows only when the rows run straight); it is corrected only when that profile is
clearly sharper than the image's own, so screenshots and straight scans are left untouched.
Boxes found on the straightened image are mapped back to the input's pixels.
"""

from __future__ import annotations

import math

import numpy as np

from .results import Box

#: Skews searched, either way: photos of notices and signs are held within this.
MAX_SKEW_DEGREES = 10.0
#: Search step; the reading does not change within a quarter degree.
SKEW_STEP_DEGREES = 0.25
#: A smaller skew costs no reading, and leaving it keeps straight images byte-identical.
MIN_SKEW_DEGREES = 1.0
#: The straightened edge-row profile must be this much sharper (sum of squared row counts) than
#: the image as it is. Measured: photographed lines 1.2-1.8; the shared shop sign (a curved
#: title beside a picture) 1.08; the news and subtitle screenshots 1.00.
MIN_SHARPNESS_GAIN = 1.15
#: Edge pixels: this quantile of the gradient magnitude, and at least MIN_EDGE gray levels.
EDGE_QUANTILE = 0.9
MIN_EDGE = 8.0
#: Fewer edge pixels than this: nothing to measure a skew on.
MIN_EDGE_PIXELS = 50
#: The skew is measured on the image shrunk to about this longer side (a few ms).
MEASURE_SIDE = 800
#: The corners a rotation opens are filled with the image blurred by this x its longer side,
#: so they continue the ground instead of drawing new edges that layering would take for ink.
FILL_BLUR = 0.05


def skew_angle(gray: np.ndarray) -> float:
    """Degrees to rotate `gray` by (counter-clockwise, as `rotate_filled`) to make its text rows
    level; 0.0 when the image is level or no skew is clearly sharper."""
    step = max(1, math.ceil(max(gray.shape) / MEASURE_SIDE))
    g = np.asarray(gray, dtype=np.float32)[::step, ::step]
    if min(g.shape) < 3:
        return 0.0
    mag = np.abs(np.diff(g, axis=0))[:, :-1] + np.abs(np.diff(g, axis=1))[:-1, :]
    level = max(float(np.quantile(mag, EDGE_QUANTILE)), MIN_EDGE)
    ys, xs = np.nonzero(mag > level)
    if ys.size < MIN_EDGE_PIXELS:
        return 0.0
    xs = xs - xs.mean()
    angles = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + SKEW_STEP_DEGREES / 2,
                       SKEW_STEP_DEGREES)
    sharpness = np.array([_row_sharpness(ys, xs, a) for a in angles])
    best = int(np.argmax(sharpness))
    angle = float(angles[best])
    level_sharpness = _row_sharpness(ys, xs, 0.0)
    if abs(angle) < MIN_SKEW_DEGREES or sharpness[best] < MIN_SHARPNESS_GAIN * level_sharpness:
        return 0.0
    return angle


def _row_sharpness(ys: np.ndarray, xs: np.ndarray, degrees: float) -> float:
    rows = np.round(ys - xs * math.tan(math.radians(degrees))).astype(np.int64)
    counts = np.bincount(rows - rows.min()).astype(np.float64)
    return float((counts ** 2).sum())


def rotate_filled(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """`rgb` (H, W, C) uint8 rotated counter-clockwise by `degrees`, enlarged to hold all of it;
    the opened corners continue the blurred ground."""
    from scipy.ndimage import gaussian_filter, rotate

    src = np.asarray(rgb, dtype=np.float32)
    turned = rotate(src, degrees, axes=(1, 0), reshape=True, order=1, mode="constant",
                    cval=0.0)
    weight = rotate(np.ones(src.shape[:2], np.float32), degrees, axes=(1, 0), reshape=True,
                    order=1, mode="constant", cval=0.0)
    sigma = FILL_BLUR * max(turned.shape[:2])
    ground = gaussian_filter(turned, (sigma, sigma, 0)) / np.maximum(
        gaussian_filter(weight, sigma), 1e-6)[..., None]
    out = turned + (1.0 - weight[..., None]) * ground
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)



def box_to_input(box: Box, degrees: float, turned_shape: tuple[int, int],
                 input_shape: tuple[int, int]) -> Box:
    """A box on the image `rotate_filled` made from an `input_shape` image, as the input's
    pixels: the bounding box of its corners turned back, clipped to the input."""
    return _turn_box(box, -degrees, turned_shape, input_shape)


def box_to_turned(box: Box, degrees: float, input_shape: tuple[int, int],
                  turned_shape: tuple[int, int]) -> Box:
    """The inverse of `box_to_input` (for drawing input boxes over the straightened image)."""
    return _turn_box(box, degrees, input_shape, turned_shape)


def _turn_box(box: Box, degrees: float, from_shape: tuple[int, int],
              to_shape: tuple[int, int]) -> Box:
    """Corners of `box` rotated counter-clockwise by `degrees` about the centre of a
    `from_shape` image, placed about the centre of a `to_shape` one (scipy's `rotate` with
    reshape keeps the centres together)."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    fy, fx = (from_shape[0] - 1) / 2, (from_shape[1] - 1) / 2
    ty, tx = (to_shape[0] - 1) / 2, (to_shape[1] - 1) / 2
    x0, y0, x1, y1 = box
    xs, ys = [], []
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        dx, dy = x - fx, y - fy
        xs.append(tx + dx * c + dy * s)
        ys.append(ty - dx * s + dy * c)
    h, w = to_shape
    return (min(max(0, math.floor(min(xs))), w), min(max(0, math.floor(min(ys))), h),
            min(max(0, math.ceil(max(xs))), w), min(max(0, math.ceil(max(ys))), h))
