"""The glyph normaliser's kernel for uint8 crops, jitted: a page holds ~3,000 candidate glyph
crops, and the NumPy + Pillow version cost ~0.2 ms each, more than classifying them.

Bit for bit the same map as `glyphs.normalize_glyph`'s NumPy path (tested): the same
histogram order statistics, Otsu threshold and float32 arithmetic, and Pillow's BILINEAR
resize (a triangle filter widened when shrinking, fixed-point weights with 22 fraction bits,
two passes with uint8 between them) written out, which the NumPy path uses too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Pillow's fixed-point weights for 8-bit images (`Resample.c`: 32 - 8 - 2 bits).
_PRECISION_BITS = 22
POLARITY_CODES = {"dark": 0, "light": 1, "auto": 2}


@njit(cache=True)
def _kth(cum: np.ndarray, k: int) -> float:
    """The k-th smallest pixel (0-based): the first level whose cumulative count exceeds k."""
    for level in range(256):
        if cum[level] > k:
            return float(level)
    return 256.0


@njit(cache=True)
def _interpolated(cum: np.ndarray, q: float, lo: int, hi: int) -> float:
    """The q-quantile (linear interpolation) of the pixels with levels lo..hi-1; NaN if none."""
    base = cum[lo - 1] if lo > 0 else 0
    n = cum[hi - 1] - base
    if n <= 0:
        return np.nan
    pos = q * (n - 1)
    k = int(pos)
    v0 = _kth(cum, base + k)
    if pos == k:
        return v0
    v1 = _kth(cum, base + min(k + 1, n - 1))
    return v0 + (pos - k) * (v1 - v0)


@njit(cache=True)
def otsu_level(hist: np.ndarray) -> int:
    """Otsu's threshold level of a 256-bin histogram (the last level of the dark class; the
    first on ties), its float64 sums in a fixed order."""
    w0 = np.empty(256)
    m0 = np.empty(256)
    run_w = 0.0
    run_m = 0.0
    for i in range(256):
        run_w += float(hist[i])
        run_m += float(hist[i]) * float(i)
        w0[i] = run_w
        m0[i] = run_m
    best = -1.0
    arg = 0
    for i in range(256):
        w1 = w0[255] - w0[i]
        mu0 = m0[i] / max(w0[i], 1e-12)
        mu1 = (m0[255] - m0[i]) / max(w1, 1e-12)
        d = mu0 - mu1
        between = (w0[i] * w1) * (d * d)
        if between > best:
            best = between
            arg = i
    return arg


@njit(cache=True)
def _bilinear_weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's per-output first source pixel, source count and fixed-point weights."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = filterscale
    ksize = int(np.ceil(support)) * 2 + 1
    bounds = np.zeros((out_size, 2), np.int64)
    weights = np.zeros((out_size, ksize), np.int64)
    k = np.zeros(ksize)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        ss = 1.0 / filterscale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        ww = 0.0
        for x in range(xmax):
            t = abs((x + xmin - center + 0.5) * ss)
            w = 1.0 - t if t < 1.0 else 0.0
            k[x] = w
            ww += w
        for x in range(xmax):
            v = k[x] / ww if ww != 0.0 else k[x]
            weights[xx, x] = int(-0.5 + v * (1 << _PRECISION_BITS)) if v < 0 else int(
                0.5 + v * (1 << _PRECISION_BITS))
        bounds[xx, 0] = xmin
        bounds[xx, 1] = xmax
    return bounds, weights


@njit(cache=True)
def _clip8(acc: int) -> np.uint8:
    if acc >= (1 << _PRECISION_BITS << 8):
        return np.uint8(255)
    if acc <= 0:
        return np.uint8(0)
    return np.uint8(acc >> _PRECISION_BITS)


@njit(cache=True)
def _resize_rows(img: np.ndarray, out_w: int) -> np.ndarray:
    """Pillow's horizontal pass: each row resampled to `out_w` pixels."""
    h, w = img.shape
    bounds, weights = _bilinear_weights(w, out_w)
    out = np.empty((h, out_w), np.uint8)
    for y in range(h):
        for xx in range(out_w):
            acc = 1 << (_PRECISION_BITS - 1)
            x0 = bounds[xx, 0]
            for x in range(bounds[xx, 1]):
                acc += int(img[y, x0 + x]) * weights[xx, x]
            out[y, xx] = _clip8(acc)
    return out


@njit(cache=True)
def _resize_columns(img: np.ndarray, out_h: int) -> np.ndarray:
    """Pillow's vertical pass: each column resampled to `out_h` pixels (the same sums)."""
    return np.ascontiguousarray(_resize_rows(img.T, out_h).T)


@njit(cache=True)
def resize_bilinear(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """uint8 `img` resized as Pillow 13's `Image.resize((out_w, out_h), BILINEAR)` does: the
    vertical pass first when the height shrinks by more than twice what the width does (older
    Pillows always went horizontal first; the two orders differ by one level here and there)."""
    h, w = img.shape
    if out_h == h and out_w == w:
        return img.copy()
    if out_h == h:
        return _resize_rows(img, out_w)
    if out_w == w:
        return _resize_columns(img, out_h)
    if h - out_h > 0 and h - out_h > (w - out_w) * 2:
        return _resize_rows(_resize_columns(img, out_h), out_w)
    return _resize_columns(_resize_rows(img, out_w), out_h)


@njit(cache=True)
def ink_map_uint8(g: np.ndarray, size: int, polarity: int, level_q: float,
                  min_contrast: float, ink_threshold: float, margin: int) -> np.ndarray:
    """A 2-D uint8 crop as the `(size, size)` float32 ink map (see `glyphs.normalize_glyph`);
    `polarity` is a POLARITY_CODES value, `level_q` the ink level's quantile (0-1)."""
    out = np.zeros((size, size), np.float32)
    h, w = g.shape
    if h == 0 or w == 0:
        return out
    hist = np.zeros(256, np.int64)
    for y in range(h):
        for x in range(w):
            hist[g[y, x]] += 1
    cum = np.cumsum(hist)
    lo = _interpolated(cum, level_q, 0, 256)
    hi = _interpolated(cum, 1.0 - level_q, 0, 256)
    if hi - lo < min_contrast:
        return out
    threshold = otsu_level(hist)
    if polarity == 2:  # ink is the minority class of Otsu's split
        ink_dark = cum[threshold] / (h * w) <= 0.5
    else:
        ink_dark = polarity == 0
    cut = threshold + 1
    ground = _interpolated(cum, 0.5, cut, 256) if ink_dark else _interpolated(cum, 0.5, 0, cut)
    if ink_dark:
        bg = hi if np.isnan(ground) else ground
        contrast = bg - lo
        sign = np.float32(-1.0)
    else:
        bg = lo if np.isnan(ground) else ground
        contrast = hi - bg
        sign = np.float32(1.0)
    if contrast < min_contrast:
        return out
    bg32 = np.float32(bg)
    scale32 = np.float32(max(contrast, 1e-6))
    ink = np.empty((h, w), np.float32)
    top, bottom, left, right = h, -1, w, -1
    limit = np.float32(ink_threshold)
    for y in range(h):
        for x in range(w):
            v = np.float32(g[y, x])
            d = (v - bg32) if sign > 0 else (bg32 - v)
            v = np.float32(d / scale32)
            v = min(max(v, np.float32(0.0)), np.float32(1.0))
            ink[y, x] = v
            if v > limit:
                top = min(top, y)
                bottom = max(bottom, y)
                left = min(left, x)
                right = max(right, x)
    if bottom < 0:
        return out
    ih, iw = bottom - top + 1, right - left + 1
    img = np.empty((ih, iw), np.uint8)
    for y in range(ih):
        for x in range(iw):
            img[y, x] = np.uint8(ink[top + y, left + x] * np.float32(255.0))
    fit = (size - margin) / max(ih, iw)
    nh = max(1, int(np.rint(ih * fit)))
    nw = max(1, int(np.rint(iw * fit)))
    small = resize_bilinear(img, nh, nw)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    for y in range(nh):
        for x in range(nw):
            out[y0 + y, x0 + x] = np.float32(small[y, x]) / np.float32(255.0)
    return out
