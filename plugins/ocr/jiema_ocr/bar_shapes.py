"""Which horizontal bar a glyph is: 一, the em dash — or the hyphen / minus - (－).

Once a crop is scaled to the classifier's input the three differ only in stroke weight, and the
char CNN barely tells them apart (it favours — for all three). Where the bar sits in its line
does: its length, thickness and height relative to the band of the full-height glyphs. Per font
these are tight clusters, so each bar is a mixture of one Gaussian (diagonal) per font, measured
on renders of the four Debian CJK fonts by `benchmarks/bar_shapes.py`.
"""

from __future__ import annotations

import numpy as np

BARS = ("一", "—", "-")
# per bar, per font: (mean, sd) of (length, thickness, centre height), each / band height
_SHAPES: dict[str, list[tuple[tuple[float, float, float], tuple[float, float, float]]]] = {
    "一": [((0.948, 0.188, 0.495), (0.043, 0.025, 0.014)),
          ((0.956, 0.115, 0.451), (0.024, 0.040, 0.019)),
          ((0.928, 0.107, 0.453), (0.018, 0.025, 0.012)),
          ((0.946, 0.100, 0.456), (0.028, 0.030, 0.016))],
    "—": [((1.054, 0.047, 0.508), (0.076, 0.028, 0.019)),
          ((0.982, 0.061, 0.494), (0.091, 0.092, 0.018)),
          ((1.071, 0.111, 0.598), (0.025, 0.024, 0.014)),
          ((1.019, 0.057, 0.541), (0.099, 0.027, 0.019))],
    "-": [((0.770, 0.086, 0.509), (0.031, 0.031, 0.017)),
          ((0.742, 0.075, 0.486), (0.042, 0.032, 0.024)),
          ((0.792, 0.103, 0.496), (0.046, 0.029, 0.013)),
          ((0.475, 0.086, 0.559), (0.021, 0.027, 0.016))],
}
# x band height: 一 and — span the em (their clusters 0.93-1.07, sd <= 0.1), the hyphen of the
# four fonts 0.475-0.79; a proportional font's hyphen or minus is shorter still (0.27-0.29 on
# the dev screen set, read as — before). Dev renders (seeds 103 / 211 / 307, 60 a set), errors:
# screen 33 -> 31 / 26 -> 25 / 33 -> 33, photo 28 -> 23 / 29 -> 28 / 70 -> 70; pages, lines,
# banners and withheld unchanged
SHORT_BAR_MAX_LENGTH = 0.6
_MEANS = {b: np.array([m for m, _ in comps]) for b, comps in _SHAPES.items()}
_SDS = {b: np.array([s for _, s in comps]) for b, comps in _SHAPES.items()}


def mixture_log_likelihood(x: np.ndarray, means: np.ndarray, sds: np.ndarray) -> float:
    """Log-likelihood of `x` (d,) under an equal-weight mixture of diagonal Gaussians, one per
    row of `means` and `sds` (k, d), the constant term left out; -inf for no component."""
    from scipy.special import logsumexp

    if len(means) == 0:
        return float("-inf")
    z = (x - means) / sds
    per_component = -0.5 * (z ** 2).sum(axis=1) - np.log(sds).sum(axis=1)
    return float(logsumexp(per_component) - np.log(len(means)))


def bar_log_likelihoods(length: float, thickness: float, centre: float) -> np.ndarray:
    """Log-likelihood of the measured bar under each of `BARS` (fonts equally likely)."""
    x = np.array([length, thickness, centre])
    return np.array([mixture_log_likelihood(x, _MEANS[bar], _SDS[bar]) for bar in BARS])


def bar_posterior(length: float, thickness: float, centre: float) -> dict[str, float]:
    """How likely each of `BARS` is given only where the bar sits (equal priors). A bar
    shorter than SHORT_BAR_MAX_LENGTH is the hyphen: far from every measured cluster, the
    widest one (a font's em dash) would win the mixture."""
    if length < SHORT_BAR_MAX_LENGTH:
        return {bar: float(bar == "-") for bar in BARS}
    ll = bar_log_likelihoods(length, thickness, centre)
    p = np.exp(ll - ll.max())
    p /= p.sum()
    return dict(zip(BARS, (float(v) for v in p), strict=True))
