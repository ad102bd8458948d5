"""The reader's results: glyphs, lines and images read, as plain data (`to_dict` for JSON).

Kept apart from the pipeline so that other readers (`line_ctc`) build the same results without
the glyph-cutting machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]
Candidates = list[list[tuple[str, float]]]


@dataclass
class GlyphResult:
    box: Box  # in input-image pixels
    char: str
    confidence: float
    candidates: list[tuple[str, float]]


@dataclass
class LineResult:
    box: Box
    text: str
    confidence: float
    glyphs: list[GlyphResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "glyphs": [
                {"box": list(g.box), "char": g.char, "confidence": round(g.confidence, 4),
                 "candidates": [[c, round(p, 5)] for c, p in g.candidates]}
                for g in self.glyphs
            ],
        }


@dataclass
class OcrResult:
    lines: list[LineResult]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float | None:
        confs = [g.confidence for line in self.lines for g in line.glyphs]
        return float(np.mean(confs)) if confs else None


def is_latin(ch: str) -> bool:
    """An ASCII letter or digit."""
    return ch.isascii() and ch.isalnum()


def with_spaces(glyphs: list[GlyphResult], em: float, gap: float) -> str:
    """The glyph characters, with a space where two Latin/digit glyphs stand apart."""
    out = []
    for k, g in enumerate(glyphs):
        if k and is_latin(g.char) and is_latin(glyphs[k - 1].char):
            if g.box[0] - glyphs[k - 1].box[2] > gap * em:
                out.append(" ")
        out.append(g.char)
    return "".join(out)


def line_of(glyphs: list[GlyphResult], em: float, gap: float) -> LineResult:
    """A line made of these glyphs (some of a line's, or two readings' merged): their bounding
    box, their text with spaces as `with_spaces` puts them, their mean confidence."""
    box = (min(g.box[0] for g in glyphs), min(g.box[1] for g in glyphs),
           max(g.box[2] for g in glyphs), max(g.box[3] for g in glyphs))
    return LineResult(box, with_spaces(glyphs, em, gap),
                      float(np.mean([g.confidence for g in glyphs])), glyphs)


def moved(result: OcrResult, move: Callable[[Box], Box]) -> OcrResult:
    """`result` with every line and glyph box passed through `move` (to another frame)."""
    lines = [replace(line, box=move(line.box),
                     glyphs=[replace(g, box=move(g.box)) for g in line.glyphs])
             for line in result.lines]
    return OcrResult(lines, result.timings)


def copies_to_read(line: Any) -> list[Any]:
    """A found line's copies to read (`regions.TextLine.copies`); a line from another stage
    that has none is read alone."""
    copies = getattr(line, "copies", None)
    return copies() if callable(copies) else [line]


def surest(readings: Iterable[LineResult | None]) -> LineResult | None:
    """The reading of highest mean confidence (the first on a tie), None when there is none:
    how a reader chooses between the copies of one line (`regions.TextLine.copies`)."""
    best: LineResult | None = None
    for reading in readings:
        if reading is not None and (best is None or reading.confidence > best.confidence):
            best = reading
    return best
