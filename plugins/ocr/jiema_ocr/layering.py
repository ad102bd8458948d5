"""Layering: split a gray image into layers of similar gray level, one per density maximum.

A Gaussian kernel density estimate of the gray levels, evaluated on the 256-bin histogram (a
weighted KDE: cost independent of the pixel count), has one maximum per dominant gray level —
background(s), text, pictures. Each maximum is a layer; the boundaries sit at the density minima
between maxima. No number of clusters is fixed and nothing assumes the text is dark: light text
on a dark ground is simply another layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

LEVELS = 256


class LayerOptions(BaseModel):
    """Bandwidth = `smoothing` x the weighted standard deviation of the gray levels (the scalar
    bandwidth rule of `scipy.stats.gaussian_kde`), at least `min_bandwidth` gray levels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    smoothing: float = Field(0.2, gt=0)
    min_bandwidth: float = Field(2.0, gt=0)
    max_bandwidth: float = Field(12.0, gt=0)
    min_peak: float = Field(0.002, ge=0, description="drop maxima below this x the highest")
    min_mass: float = Field(0.003, ge=0, description="drop layers with fewer pixels (share)")
    min_dip: float = Field(
        0.15, ge=0, lt=1,
        description="merge two maxima whose separating minimum is above (1 - min_dip) x the "
                    "lower maximum",
    )
    refine_dominant: float = Field(
        0.6, gt=0, le=1, description="a layer with this share of the pixels is layered again "
                                     "with its own bandwidth (1: never)")
    otsu_fallback: bool = Field(
        True, description="split a one-maximum image in two at Otsu's threshold"
    )


@dataclass(frozen=True)
class Layers:
    """The KDE and the layers it defines. `boundaries[k]` is the last gray level of layer k."""

    histogram: np.ndarray  # (256,) pixel counts
    density: np.ndarray  # (256,) KDE, sums to 1
    bandwidth: float
    maxima: np.ndarray  # gray level of each layer's maximum, ascending
    minima: np.ndarray  # boundaries between consecutive layers (len(maxima) - 1)

    @property
    def count(self) -> int:
        return len(self.maxima)

    def lookup(self) -> np.ndarray:
        """(256,) gray level -> layer index."""
        levels = np.arange(LEVELS)
        return np.searchsorted(self.minima, levels, side="left").astype(np.int32)

    def label(self, gray: np.ndarray) -> np.ndarray:
        """Layer index of every pixel of a uint8 image."""
        return self.lookup()[gray]

    def mask(self, gray: np.ndarray, layer: int) -> np.ndarray:
        lut = self.lookup() == layer
        return lut[gray]

    def fractions(self) -> np.ndarray:
        """Share of the pixels in each layer."""
        edges = np.concatenate([[0], self.minima + 1, [LEVELS]])
        total = max(float(self.histogram.sum()), 1.0)
        return np.array([self.histogram[a:b].sum() / total for a, b in zip(edges[:-1], edges[1:],
                                                                           strict=True)])


def gray_histogram(gray: np.ndarray) -> np.ndarray:
    if gray.dtype != np.uint8:
        raise TypeError(f"layering needs a uint8 image, got {gray.dtype}")
    return np.bincount(gray.ravel(), minlength=LEVELS).astype(np.float64)


def kde_density(histogram: np.ndarray, options: LayerOptions | None = None) -> tuple[
        np.ndarray, float]:
    """Gaussian KDE of the gray levels on the 256-level grid, from the histogram as weights."""
    from scipy.ndimage import gaussian_filter1d

    opts = options or LayerOptions()
    hist = np.asarray(histogram, dtype=np.float64)
    total = hist.sum()
    if total <= 0:
        return np.zeros(LEVELS), opts.min_bandwidth
    levels = np.arange(LEVELS, dtype=np.float64)
    mean = float(hist @ levels) / total
    std = float(np.sqrt(hist @ (levels - mean) ** 2 / total))
    bandwidth = float(np.clip(opts.smoothing * std, opts.min_bandwidth, opts.max_bandwidth))
    density = gaussian_filter1d(hist / total, bandwidth, mode="constant", truncate=4.0)
    return density, bandwidth


def find_layers(gray: np.ndarray, options: LayerOptions | None = None) -> Layers:
    """Layers of a uint8 gray image (see the module docstring)."""
    opts = options or LayerOptions()
    hist = gray_histogram(gray)
    density, bandwidth = kde_density(hist, opts)
    maxima, minima = _extrema(density, opts)
    if len(maxima) == 1 and opts.otsu_fallback:
        maxima, minima = _split_single(hist, density, int(maxima[0]))
    elif opts.refine_dominant < 1.0:
        maxima, minima = _refine_dominant(hist, maxima, minima, opts)
    return Layers(hist, density, bandwidth, maxima, minima)


def _refine_dominant(hist: np.ndarray, maxima: np.ndarray, minima: np.ndarray,
                     opts: LayerOptions) -> tuple[np.ndarray, np.ndarray]:
    """Look again inside a layer holding most of the pixels, with a bandwidth from its own
    spread: a bright picture widens the global bandwidth enough to hide dim text in a dark
    ground (and the other way round)."""
    edges = [0, *(int(m) + 1 for m in minima), LEVELS]
    total = max(float(hist.sum()), 1.0)
    out_max, out_min = list(maxima), list(minima)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        part = np.zeros_like(hist)
        part[a:b] = hist[a:b]
        if part.sum() < opts.refine_dominant * total:
            continue
        sub_opts = opts.model_copy(update={"min_mass": opts.min_mass * total / part.sum()})
        density, _ = kde_density(part, sub_opts)
        sub_max, sub_min = _extrema(density, sub_opts)
        if len(sub_max) > 1:
            out_max = [m for i, m in enumerate(out_max) if i != k] + list(sub_max)
            out_min = out_min + list(sub_min)
        break  # at most one layer holds most of the pixels
    return np.array(sorted(out_max), dtype=np.int64), np.array(sorted(out_min), dtype=np.int64)


def otsu_threshold(histogram: np.ndarray) -> int:
    """The gray level maximising the between-class variance (the last level of the dark class)."""
    p = histogram / max(histogram.sum(), 1.0)
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(LEVELS))
    between = (mu[-1] * omega - mu) ** 2 / np.maximum(omega * (1.0 - omega), 1e-12)
    between[omega >= 1.0 - 1e-12] = 0.0
    return int(np.argmax(between))


def _split_single(hist: np.ndarray, density: np.ndarray, peak: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """One maximum and a long tail (thin light strokes are mostly anti-aliased edge pixels, so
    their gray levels form a shoulder, not a peak): split at Otsu's threshold and let the tail's
    densest level stand for its maximum."""
    t = otsu_threshold(hist)
    lo, hi = (0, t + 1) if peak > t else (t + 1, LEVELS)
    if hi - lo < 1 or hist[lo:hi].sum() <= 0:
        return np.array([peak]), np.zeros(0, dtype=np.int64)
    other = lo + int(np.argmax(density[lo:hi]))
    return np.array(sorted([peak, other]), dtype=np.int64), np.array([t], dtype=np.int64)


def _extrema(density: np.ndarray, opts: LayerOptions) -> tuple[np.ndarray, np.ndarray]:
    d = density
    if d.max() <= 0:
        return np.array([0]), np.zeros(0, dtype=np.int64)
    padded = np.concatenate([[-1.0], d, [-1.0]])
    # a maximum: higher than the left neighbour, not lower than the right (plateaus count once)
    is_max = (padded[1:-1] > padded[:-2]) & (padded[1:-1] >= padded[2:])
    peaks = [int(i) for i in np.flatnonzero(is_max) if d[i] >= opts.min_peak * d.max()]
    if not peaks:
        peaks = [int(np.argmax(d))]
    merged = True
    while merged and len(peaks) > 1:  # merge the shallowest dip first, until all are deep
        merged = False
        dips = []
        for a, b in zip(peaks[:-1], peaks[1:], strict=True):
            low = float(d[a:b + 1].min())
            dips.append(1.0 - low / min(d[a], d[b]))
        k = int(np.argmin(dips))
        if dips[k] < opts.min_dip:
            a, b = peaks[k], peaks[k + 1]
            peaks.pop(k + 1 if d[a] >= d[b] else k)
            merged = True
    while True:  # a layer holding almost no pixels is a bump in a tail, not a layer
        minima = [a + int(np.argmin(d[a:b + 1]))
                  for a, b in zip(peaks[:-1], peaks[1:], strict=True)]
        if len(peaks) < 2:
            break
        edges = [0, *(m + 1 for m in minima), LEVELS]
        mass = [float(d[a:b].sum()) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        k = int(np.argmin(mass))
        if mass[k] >= opts.min_mass:
            break
        peaks.pop(k)
    return np.array(peaks, dtype=np.int64), np.array(minima, dtype=np.int64)
