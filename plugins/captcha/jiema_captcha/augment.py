"""Strong, cheap augmentation of a training batch, so a few hundred labelled captchas train a
reader: each image gets its own crop that keeps every character, a small rotation and shear,
an elastic warp, a gray-level (colour) jitter, blur and noise, all drawn from one seeded torch
generator (a resumed run draws the same). Works on the `(B, 1, H, W)` ink-positive floats of
`preprocess.ink`, in one `grid_sample`, so it costs a small part of a training step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Largest rotation (degrees) and horizontal shear (x shift per unit of height): captcha
#: generators tilt their characters about this much, and more would rotate a tall letter into
#: its neighbour.
MAX_ROTATION = 6.0
MAX_SHEAR = 0.25
#: Extra scale per axis, and how far the content may shift, as fractions: the crop is drawn
#: inside the image around its ink box (`ink_boxes`), so no character is cut off.
MAX_SCALE = 0.12
#: Elastic warp: a coarse grid of random pixel displacements (rows x columns, standard
#: deviation in pixels of the network input), smoothed by bilinear upsampling; half the images.
ELASTIC_GRID = (3, 8)
ELASTIC_PIXELS = 0.8
ELASTIC_SHARE = 0.5
#: Gray-level jitter: the ink's contrast times [1 - x, 1 + x] and a gamma of exp(+-x); the
#: network standardises each image, so brightness itself changes nothing.
CONTRAST_JITTER = 0.4
GAMMA_JITTER = 0.4
#: Gaussian pixel noise up to this standard deviation (ink runs 0..1), and salt-and-pepper dots
#: on up to this share of the pixels.
MAX_NOISE = 0.08
MAX_DOTS = 0.02
#: Share of images blurred by a 3x3 box (a thin font drawn soft).
BLUR_SHARE = 0.25
#: A column or row belongs to the ink box when its ink exceeds this share of the image's
#: largest column / row ink (noise lines and dots stay below it).
INK_BOX_LEVEL = 0.15


def ink_boxes(images: np.ndarray) -> np.ndarray:
    """Per uint8 `(N, H, W)` image, its ink box `(x0, x1, y0, y1)` in normalised [-1, 1]
    coordinates: the columns and rows whose ink reaches INK_BOX_LEVEL of the busiest one."""
    ink = 255.0 - images.astype(np.float32)
    ink -= np.median(ink, axis=(1, 2), keepdims=True)  # the background, if not white
    np.clip(ink, 0, None, out=ink)
    out = np.empty((images.shape[0], 4), dtype=np.float32)
    for axis, (lo, hi) in ((1, (0, 1)), (2, (2, 3))):  # columns (sum over rows), then rows
        prof = ink.sum(axis=axis)
        n = prof.shape[1]
        busy = prof >= INK_BOX_LEVEL * prof.max(axis=1, keepdims=True).clip(min=1e-6)
        first = busy.argmax(axis=1)
        last = n - 1 - busy[:, ::-1].argmax(axis=1)
        out[:, lo] = 2 * first / n - 1
        out[:, hi] = 2 * (last + 1) / n - 1
    return out


def augment(x: Any, boxes: Any, generator: Any) -> Any:
    """`(B, 1, H, W)` ink floats and their ink boxes `(B, 4)` -> augmented floats, same shape."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    b, _, h, w = x.shape

    def uniform(lo: float, hi: float, *shape: int) -> Any:
        return lo + (hi - lo) * torch.rand(*(shape or (b,)), generator=generator)

    # crop: a window [c - half, c + half] per axis that holds the ink box [lo, hi] and, when
    # it zooms in, lies inside the image (zooming out fills with the border's pixels)
    bx = torch.as_tensor(boxes, dtype=torch.float32)
    crops = []
    for lo_i, hi_i in ((0, 1), (2, 3)):
        lo, hi = bx[:, lo_i], bx[:, hi_i]
        half = torch.maximum(uniform(1 - MAX_SCALE, 1 + MAX_SCALE), (hi - lo) / 2)
        slack = (1 - half).abs()
        c_lo = torch.maximum(hi - half, -slack)
        c_hi = torch.minimum(lo + half, slack)
        mid = (lo + hi) / 2
        c_lo, c_hi = torch.where(c_lo <= c_hi, c_lo, mid), torch.where(c_lo <= c_hi, c_hi, mid)
        crops.append((c_lo + (c_hi - c_lo) * uniform(0, 1), half))
    (cx, sx), (cy, sy) = crops
    # rotation after a horizontal shear, in pixels: M = R @ [[1, shear], [0, 1]], carried
    # into normalised coordinates (x spans w pixels, y spans h)
    angle = uniform(-MAX_ROTATION, MAX_ROTATION) * math.pi / 180
    shear = uniform(-MAX_SHEAR, MAX_SHEAR)
    cos, sin = torch.cos(angle), torch.sin(angle)
    aspect = w / h
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = sx * cos
    theta[:, 0, 1] = sx * (cos * shear - sin) / aspect
    theta[:, 1, 0] = sy * sin * aspect
    theta[:, 1, 1] = sy * (sin * shear + cos)
    theta[:, 0, 2] = cx
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False)
    gh, gw = ELASTIC_GRID
    field = torch.randn(b, 2, gh, gw, generator=generator) * ELASTIC_PIXELS
    field = field * (torch.rand(b, 1, 1, 1, generator=generator) < ELASTIC_SHARE)
    field = F.interpolate(field, size=(h, w), mode="bilinear", align_corners=True)
    scale = torch.tensor([2.0 / w, 2.0 / h]).view(1, 2, 1, 1)
    grid = grid + (field * scale).permute(0, 2, 3, 1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # gray-level jitter on the ink (0 = paper), then blur and noise
    contrast = uniform(1 - CONTRAST_JITTER, 1 + CONTRAST_JITTER).view(b, 1, 1, 1)
    gamma = torch.exp(uniform(-GAMMA_JITTER, GAMMA_JITTER)).view(b, 1, 1, 1)
    out = out.clamp(0, 1).pow(gamma) * contrast
    blur = (torch.rand(b, generator=generator) < BLUR_SHARE).view(b, 1, 1, 1)
    out = torch.where(blur, F.avg_pool2d(out, 3, stride=1, padding=1,
                                         count_include_pad=False), out)
    sigma = uniform(0, MAX_NOISE).view(b, 1, 1, 1)
    out = out + sigma * torch.randn(out.shape, generator=generator)
    dots = torch.rand(out.shape, generator=generator) < uniform(0, MAX_DOTS).view(b, 1, 1, 1)
    salt = torch.rand(out.shape, generator=generator) < 0.5
    return torch.where(dots, salt.float(), out)
