"""A stand-in glyph classifier for the pipeline tests: nearest template over a small alphabet.

It has the `CharClassifier.topk` interface (uint8 dark-on-light crops of any size in, top-k
`(char, probability)` out), so the image stages and the pipeline are tested without a trained CNN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SIDE = 24


def _normalise(crop: np.ndarray) -> np.ndarray:
    from PIL import Image

    ink = 1.0 - crop.astype(np.float32) / 255.0
    ys, xs = np.nonzero(ink > 0.5)
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    if ys.size == 0:
        return out.ravel()
    ink = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = ink.shape
    scale = (SIDE - 2) / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = Image.fromarray((ink * 255).astype(np.uint8)).resize((nw, nh), Image.Resampling.BILINEAR)
    y0, x0 = (SIDE - nh) // 2, (SIDE - nw) // 2
    out[y0: y0 + nh, x0: x0 + nw] = np.asarray(img, dtype=np.float32) / 255.0
    v = out.ravel() - out.mean()
    return v / (np.linalg.norm(v) + 1e-6)


class TemplateClassifier:
    def __init__(self, alphabet: str, font, size: int = 40, sharpness: float = 40.0) -> None:
        from jiema_ocr.synth import _pil_font
        from PIL import Image, ImageDraw

        self.labels = [ch for ch in dict.fromkeys(alphabet) if not ch.isspace()]
        pil_font = _pil_font(font.path, font.index, size)
        rows = []
        for ch in self.labels:
            img = Image.new("L", (size * 2, size * 2), 255)
            ImageDraw.Draw(img).text((size, size), ch, fill=0, font=pil_font, anchor="mm")
            rows.append(_normalise(np.asarray(img)))
        self.templates = np.stack(rows)
        self.sharpness = sharpness
        self.calls = 0

    def topk(self, glyphs: Sequence[np.ndarray], k: int = 5) -> list[list[tuple[str, float]]]:
        self.calls += len(glyphs)
        out = []
        for g in glyphs:
            sims = self.templates @ _normalise(np.asarray(g))
            p = np.exp(self.sharpness * (sims - sims.max()))
            p /= p.sum()
            order = np.argsort(-p)[:k]
            out.append([(self.labels[i], float(p[i])) for i in order])
        return out


class UnusedClassifier:
    """A classifier for tests of what the reader does with lines already read: it needs no font,
    and fails the test if the reader asks it for anything."""

    def topk(self, glyphs: Sequence[np.ndarray], k: int = 5) -> list[list[tuple[str, float]]]:
        raise AssertionError("the classifier was not expected to be called")
