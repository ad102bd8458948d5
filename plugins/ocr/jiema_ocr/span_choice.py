"""Where the glyph reader and the line recogniser read a line differently, which span to keep:
a small fitted model (one hidden layer) over what both readings say of the span (each reader's
confidence, the lengths, the character classes, how much each reader's candidates vouch for the
other's characters, the character LM across the span's ends, how much of the line the two agree
on, how many characters each puts into the span's width).

Each reader's confidence alone misleads where a reader fails in its own way: the glyph reader is
sure of 猁 for 和 on a line whose cutting went wrong everywhere else, the line recogniser adds a
0.2-sure 良 between two words. The model is fitted (`fit_span_choice`) on lines whose text is
known, each differing span labelled by the reading that has fewer errors with it.

Where the glyphs stand counts too: how many characters each reading puts into the width the span
covers, and how wide its widest glyph is (the recogniser's one 评 over the width of 砰砰, the
cut reader's one 己 where 说纪 stand). With those and one hidden layer (`SpanChooser.hidden_*`)
the chooser picked the worse side of 136 decisive spans instead of 177 (the logistic chooser
without them), dev renders of seven seeds, each held out from its fit
(`fit_span_choice.HIDDEN_UNITS`).

Arrays in, arrays out: a line's spans are one feature matrix and one matrix product.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jiema.errors import InvalidValueError
from jiema.models import ModelCard, find_model_files, load_tensors, save_model

#: The features, in the order of a row of `span_features` (and of a fitted model's weights).
FEATURES = (
    "cut_mean", "whole_mean", "cut_min", "whole_min", "cut_length", "whole_length",
    "length_gain", "lm_gain", "agreement", "cut_vouched", "whole_vouched", "pair",
    "cut_empty", "whole_empty",
    "cut_digits", "whole_digits", "cut_latin", "whole_latin", "cut_marks", "whole_marks",
    "cut_hanzi", "whole_hanzi",
    "mean_gain", "log_mean_gain", "log_min_gain", "vouch_gain", "agreed_mean_gain",
    "span_width", "cut_per_width", "whole_per_width", "cut_widest", "whole_widest",
    "per_width_gain",
)
LM_GAIN_CLIP = 30.0  # nats: beyond this the LM's preference is already decisive, and an
# unknown character's floor probability would otherwise swamp every other feature
LOG_FLOOR = 1e-3  # confidences are floored here before their logs (an empty span has none)
MIN_SPAN_WIDTH = 0.3  # ems: a span's characters per em are counted over at least this width (a
# lone mark's box is a sliver of an em; the count per width would run into the hundreds)
COMPONENT = "ocr.span_choice.v1"
MODELS_DIR = Path(__file__).parent / "models"


def _char_class(ch: str) -> int:
    """0 digit, 1 Latin letter, 2 mark or sign, 3 anything else (hanzi, mostly)."""
    if ch.isascii() and ch.isdigit():
        return 0
    if ch.isascii() and ch.isalpha():
        return 1
    if unicodedata.category(ch)[0] in "PS":
        return 2
    return 3


def _lm_score(lm: Any, before: str, chars: Sequence[str], after: str) -> float:
    seq = ([before] if before else []) + list(chars) + ([after] if after else [])
    if lm is None or len(seq) < 2:
        return 0.0
    ids = lm.ids(seq)
    return float(sum(lm.model.logprob(p, n) for p, n in zip(ids[:-1], ids[1:], strict=True)))


def _vouched(span: Sequence[Any], other: Sequence[Any]) -> float:
    """The mean probability `other`'s candidates give to `span`'s characters, pair by pair
    (0 where the spans differ in length)."""
    if not span or len(span) != len(other):
        return 0.0
    return float(np.mean([dict(o.candidates).get(g.char, 0.0)
                          for g, o in zip(span, other, strict=True)]))


def _geometry(cut: Sequence[Any], whole: Sequence[Any]) -> list[float]:
    """The span's width in ems (the tallest glyph box of either side is the em: the line
    recogniser's boxes are as tall as the line), each side's characters per em of it, each
    side's widest glyph in ems, and the difference of the counts per em (whole minus cut)."""
    boxes = [g.box for g in (*cut, *whole)]
    if not boxes:
        return [0.0] * 6
    em = max(max(b[3] - b[1] for b in boxes), 1)
    width = (max(b[2] for b in boxes) - min(b[0] for b in boxes)) / em
    per = max(width, MIN_SPAN_WIDTH)
    widest = [max(((g.box[2] - g.box[0]) / em for g in side), default=0.0)
              for side in (cut, whole)]
    return [width, len(cut) / per, len(whole) / per, widest[0], widest[1],
            (len(whole) - len(cut)) / per]


def span_features(cut: Sequence[Any], whole: Sequence[Any], before: str, after: str,
                  agreement: float, lm: Any = None) -> np.ndarray:
    """One row of `FEATURES` (float64) for a differing span: the glyph reader's glyphs `cut`
    and the line recogniser's `whole` (`results.GlyphResult`s; either may be empty), the agreed
    characters `before` and `after` it ('' at a line's end), the share of the line the two
    agree on, and the `language_model.CharLM` (None: no LM evidence)."""
    cc = np.array([g.confidence for g in cut], dtype=np.float64)
    wc = np.array([g.confidence for g in whole], dtype=np.float64)
    mc, mw = (float(cc.mean()) if cc.size else 0.0), (float(wc.mean()) if wc.size else 0.0)
    nc, nw = (float(cc.min()) if cc.size else 0.0), (float(wc.min()) if wc.size else 0.0)
    lm_gain = float(np.clip(_lm_score(lm, before, [g.char for g in whole], after)
                            - _lm_score(lm, before, [g.char for g in cut], after),
                            -LM_GAIN_CLIP, LM_GAIN_CLIP))
    cut_vouched, whole_vouched = _vouched(cut, whole), _vouched(whole, cut)
    classes_c = np.bincount([_char_class(g.char) for g in cut], minlength=4) / max(len(cut), 1)
    classes_w = np.bincount([_char_class(g.char) for g in whole], minlength=4) / max(len(whole), 1)
    row = [mc, mw, nc, nw, len(cut), len(whole), len(whole) - len(cut), lm_gain, agreement,
           cut_vouched, whole_vouched, float(len(cut) == len(whole) == 1),
           float(not cut), float(not whole)]
    for k in range(4):
        row += [classes_c[k], classes_w[k]]
    row += [mw - mc, np.log(mw + LOG_FLOOR) - np.log(mc + LOG_FLOOR),
            np.log(nw + LOG_FLOOR) - np.log(nc + LOG_FLOOR), whole_vouched - cut_vouched,
            (mw - mc) * agreement]
    return np.asarray(row + _geometry(cut, whole), dtype=np.float64)


@dataclass(frozen=True)
class SpanChooser:
    """A fitted model of the log-odds that the line recogniser's span is the right one, over
    standardised features (`mean`, `scale`): logistic (`weights` over the features, plus
    `bias`), or with one tanh hidden layer (`hidden_weights` (features x units) and
    `hidden_bias`; `weights` then weigh the units). Stored as a model: safetensors (the arrays)
    and a card whose `labels` are `FEATURES`."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    card: ModelCard | None = None
    hidden_weights: np.ndarray | None = None
    hidden_bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(FEATURES)
        for name in ("mean", "scale"):
            value = getattr(self, name)
            if value.shape != (n,):
                raise InvalidValueError(f"span chooser {name} must hold {n} numbers, "
                                        f"got shape {value.shape}")
        if not np.all(self.scale > 0):
            raise InvalidValueError("span chooser scales must be positive")
        if (self.hidden_weights is None) != (self.hidden_bias is None):
            raise InvalidValueError("a span chooser's hidden layer needs both its weights and "
                                    "its biases")
        units = n
        if self.hidden_weights is not None and self.hidden_bias is not None:
            units = len(self.hidden_bias)
            if self.hidden_weights.shape != (n, units) or self.hidden_bias.shape != (units,):
                raise InvalidValueError(f"span chooser hidden weights must be {n} x units and "
                                        f"its biases one per unit, got shapes "
                                        f"{self.hidden_weights.shape} and "
                                        f"{self.hidden_bias.shape}")
        if self.weights.shape != (units,):
            raise InvalidValueError(f"span chooser weights must hold {units} numbers, "
                                    f"got shape {self.weights.shape}")

    def whole_odds(self, features: np.ndarray) -> np.ndarray:
        """Log-odds for each row of `features` (n, len(FEATURES)) that the whole-line span wins."""
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if x.shape[1] != len(FEATURES):
            raise InvalidValueError(f"span features need {len(FEATURES)} columns, "
                                    f"got {x.shape[1]}")
        z = (x - self.mean) / self.scale
        if self.hidden_weights is not None:
            z = np.tanh(z @ self.hidden_weights + self.hidden_bias)
        return z @ self.weights + self.bias

    def save(self, weights: str | os.PathLike[str], card: ModelCard) -> Path:
        """Write the model (`weights`: a .safetensors path) and `card` beside it."""
        card = card.model_copy(update={"component": COMPONENT, "task": "ocr",
                                       "labels": list(FEATURES)})
        arrays = {"mean": self.mean, "scale": self.scale, "weights": self.weights,
                  "bias": np.array([self.bias])}
        if self.hidden_weights is not None and self.hidden_bias is not None:
            arrays |= {"hidden_weights": self.hidden_weights, "hidden_bias": self.hidden_bias}
        path, _ = save_model(arrays, card, weights)
        return path

    @classmethod
    def load(cls, path_or_name: str | os.PathLike[str]) -> SpanChooser:
        """A chooser from its model files (safetensors, card or folder), or by the name of one
        shipped in the package."""
        path = Path(path_or_name)
        if not path.suffix and not path.exists():
            path = MODELS_DIR / f"{path_or_name}.safetensors"
            if not path.is_file():
                raise InvalidValueError(f"no span chooser {path_or_name!r} is shipped, and no "
                                        "such file exists")
        elif not path.exists():
            raise InvalidValueError(f"span chooser {path} does not exist")
        weights, card = find_model_files(path)
        if card.component != COMPONENT or card.labels != list(FEATURES):
            raise InvalidValueError(f"{weights} is no {COMPONENT} model with this version's "
                                    "features: fit it again (benchmarks/ocr_span_choice.py)")
        t = load_tensors(weights)
        try:
            hidden = [t[k].astype(np.float64) if k in t else None
                      for k in ("hidden_weights", "hidden_bias")]
            return cls(t["mean"].astype(np.float64), t["scale"].astype(np.float64),
                       t["weights"].astype(np.float64), float(t["bias"][0]), card, *hidden)
        except KeyError as err:
            raise InvalidValueError(f"{weights} lacks the span chooser's {err}") from err
