"""Held-out accuracy of a char classifier on freshly rendered glyphs (their own seed).

Goes through `CharClassifier.topk`, the inference path (normalising, fp16 weights as shipped),
so the figure is what users get on isolated glyphs, per font and overall.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..glyphs import FontFace, RenderOptions, default_fonts, render_glyph

HELD_OUT_SEED = 777_2026  # not a training seed: training draws from seed*1000+step streams


def evaluate_classifier(clf: Any, n: int = 3000, seed: int = HELD_OUT_SEED,
                        fonts: Sequence[FontFace] | None = None,
                        options: RenderOptions | None = None) -> dict[str, float]:
    """Top-1 / top-5 over `n` glyphs (uniform classes, each font in turn, both polarities,
    the training distortions), plus per-font top-1 and milliseconds per glyph."""
    faces = list(fonts) if fonts is not None else default_fonts()
    rng = np.random.default_rng(seed)
    labels = clf.charset.labels
    crops: list[np.ndarray] = []
    truth: list[str] = []
    font_of: list[int] = []
    pol: list[str] = []
    for i in range(n):
        face_i = i % len(faces)
        ch = labels[int(rng.integers(len(labels)))]
        if not faces[face_i].covers(ch):
            continue
        invert = bool(rng.random() < 0.5)
        crops.append(render_glyph(ch, faces[face_i], rng, options, invert=invert))
        truth.append(ch)
        font_of.append(face_i)
        pol.append("light" if invert else "dark")
    hits1 = np.zeros(len(crops), dtype=bool)
    hits5 = np.zeros(len(crops), dtype=bool)
    t0 = time.perf_counter()
    for polarity in ("dark", "light"):
        idx = [i for i, p in enumerate(pol) if p == polarity]
        got = clf.topk([crops[i] for i in idx], k=5, min_prob=0.0, polarity=polarity)
        for i, cands in zip(idx, got, strict=True):
            chars = [c for c, _ in cands]
            hits1[i] = chars[0] == truth[i]
            hits5[i] = truth[i] in chars
    ms = (time.perf_counter() - t0) * 1000 / max(len(crops), 1)
    out = {"top1": float(hits1.mean()), "top5": float(hits5.mean()), "n": float(len(crops)),
           "ms_per_glyph": ms}
    fonts_arr = np.asarray(font_of)
    for k, face in enumerate(faces):
        sel = fonts_arr == k
        if sel.any():
            out[f"top1[{face.name}]"] = float(hits1[sel].mean())
    return out
