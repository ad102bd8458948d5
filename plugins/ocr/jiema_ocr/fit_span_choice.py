"""Fitting the span chooser (`span_choice.SpanChooser`) on images whose text is known.

Each image is read both ways (`read_both`); every span where the two readings differ is
labelled by trying it both ways, every other span as the confidence rules have it, and keeping
the label of the way with fewer errors against the image's text (a span whose choice
changes nothing teaches nothing and is left out). A model with one tanh hidden layer
(`HIDDEN_UNITS`; logistic with none) and an L2 penalty is fitted to the labelled spans by L-BFGS
on standardised features.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jiema.errors import InvalidInputError, JiemaError

from .cer import cer_text, edit_distance
from .glyph_alignment import aligned_opcodes
from .results import LineResult, surest
from .span_choice import FEATURES, SpanChooser, span_features
from .surer_reader import (
    ALONE_CUT_KEEP,
    ALONE_WHOLE_MARK_KEEP,
    _is_mark,
    _length_margin,
    _mean_confidence,
    differing_spans,
    merged_reading,
)

L2_PENALTY = 3.0  # on standardised features, against the summed log-loss. With HIDDEN_UNITS:
# decisive spans of dev renders (seeds 103-509, 1201, 1303; five sets; each seed held out from its
# fit) picked wrong at units/L2 16/1, 32/1, 32/3, 32/10, 64/3: 156 / 141 / 136 / 141 / 139.
# The logistic chooser's (session 23, seeds 103 / 211 / 307 held out by seed) at 0.01 / 0.1 /
# 0.3 / 1 / 10 / 30: 273 / 273 / 275 / 281 / 289 / 299 errors
HIDDEN_UNITS = 32  # tanh units of the chooser (0: logistic); see L2_PENALTY. Logistic on the same
# features: 166 spans picked wrong; without the width features 181, the shipped logistic 177
MAX_ITERATIONS = 3000  # L-BFGS iterations: the hidden layer's fit on 3,663 spans converged at 1,683


def _rule_whole(cut: list[Any], whole: list[Any]) -> bool:
    """Whether the confidence rules (`surer_reader.merged_reading` without a chooser) keep the
    line recogniser's side of a span (a lone cut span dropped counts as the other side kept)."""
    if not cut:
        return (all(_is_mark(g.char) for g in whole)
                and _mean_confidence(whole) >= ALONE_WHOLE_MARK_KEEP)
    if not whole:
        return _mean_confidence(cut) <= ALONE_CUT_KEEP
    return (_mean_confidence(whole) + _length_margin(whole, cut)) > _mean_confidence(cut)


class _Fixed:
    """A stand-in chooser that answers with given decisions, in the order it is asked."""

    def __init__(self, decisions: np.ndarray) -> None:
        self.decisions = decisions

    def whole_odds(self, features: np.ndarray) -> np.ndarray:
        return np.where(self.decisions[:len(features)], 1.0, -1.0)


def label_image(readings: Sequence[tuple[LineResult | None, LineResult | None]],
                reference: str, lm: Any = None,
                norm: Callable[[str], str] = cer_text) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1: the line recogniser's span is right) of the decisive spans of
    one image (`readings`: its lines' cut and whole readings, in reading order). Every span
    starts as the confidence rules have it (`_rule_whole`); each is flipped alone and its line
    read again through `surer_reader.merged_reading`, so the labels hold for the merge as it
    runs."""
    lines = []
    for cut, whole in readings:
        x = np.zeros((0, len(FEATURES)))
        spans = []
        if cut is not None and whole is not None:
            opcodes, agreement = aligned_opcodes(cut.glyphs, whole.glyphs)
            spans = [sp for sps in differing_spans(opcodes, cut.glyphs,
                                                   whole.glyphs).values() for sp in sps]
            if spans:
                x = np.stack([span_features(c, w, before, after, agreement, lm)
                              for c, w, before, after in spans])
        lines.append((cut, whole, x, np.array([_rule_whole(c, w) for c, w, _, _ in spans]
                                              if len(x) else [], dtype=bool)))

    def line_text(cut: LineResult | None, whole: LineResult | None,
                  decisions: np.ndarray) -> str:
        merged = merged_reading(cut, whole, chooser=_Fixed(decisions))  # type: ignore[arg-type]
        return "".join(g.char for g in merged.glyphs) if merged is not None else ""

    texts = [line_text(cut, whole, decisions) for cut, whole, _, decisions in lines]
    ref = norm(reference)
    start = edit_distance(ref, norm("\n".join(texts)))
    rows, labels = [], []
    for n, (cut, whole, x, decisions) in enumerate(lines):
        for k in range(len(decisions)):  # each flipped alone: only its line is read again
            decisions[k] = not decisions[k]
            flipped_line = line_text(cut, whole, decisions)
            decisions[k] = not decisions[k]
            flipped = edit_distance(ref, norm("\n".join(
                texts[:n] + [flipped_line] + texts[n + 1:])))
            if flipped != start:
                rows.append(x[k])
                labels.append(decisions[k] if start < flipped else not decisions[k])
    return (np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES)),
            np.asarray(labels, dtype=np.float64))


def fit_chooser(x: np.ndarray, y: np.ndarray, l2: float = L2_PENALTY,
                hidden: int = HIDDEN_UNITS, seed: int = 0) -> SpanChooser:
    """A `SpanChooser` fitted to features `x` (n, len(FEATURES)) and 0/1 labels `y` by
    L-BFGS on the summed log-loss plus `l2` times half the squared weights (biases free):
    logistic with `hidden=0`, else with that many tanh units, their first weights drawn from
    `seed`."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(FEATURES) or len(x) != len(y) or len(x) < 2:
        raise ValueError(f"need two or more rows of {len(FEATURES)} features and a label each, "
                         f"got {x.shape} and {y.shape}")
    if not np.all((y == 0) | (y == 1)) or y.min() == y.max():
        raise ValueError("labels must be 0 and 1, both present")
    if hidden < 0:
        raise ValueError(f"hidden units must be 0 or more, got {hidden}")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    sign = 2.0 * y - 1.0
    n = len(FEATURES)
    units = hidden or n  # what the output weights weigh: hidden units, or the features

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        w1 = theta[:n * hidden].reshape(n, hidden)
        b1 = theta[n * hidden:(n + 1) * hidden]
        return w1, b1, theta[(n + 1) * hidden:-1], float(theta[-1])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w, b = unpack(theta)
        h = np.tanh(z @ w1 + b1) if hidden else z
        margin = sign * (h @ w + b)
        value = float(np.logaddexp(0.0, -margin).sum()
                      + 0.5 * l2 * (w @ w + np.sum(w1 * w1)))
        g = -sign * np.exp(-np.logaddexp(0.0, margin))  # d loss / d score
        grads = [h.T @ g + l2 * w, [g.sum()]]
        if hidden:
            gh = np.outer(g, w) * (1.0 - h * h)
            grads = [(z.T @ gh + l2 * w1).ravel(), gh.sum(axis=0), *grads]
        return value, np.concatenate(grads)

    rng = np.random.default_rng(seed)
    start = np.concatenate([rng.normal(0.0, n ** -0.5, n * hidden), np.zeros(hidden),
                            rng.normal(0.0, units ** -0.5, units) if hidden else np.zeros(n),
                            [0.0]])
    res = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITERATIONS})
    w1, b1, w, b = unpack(res.x)
    if not hidden:
        return SpanChooser(mean, scale, w.copy(), b)
    return SpanChooser(mean, scale, w.copy(), b, hidden_weights=w1.copy(),
                       hidden_bias=b1.copy())


def label_samples(samples: Iterable[tuple[list[tuple[Any, Any]], str]], lm: Any = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """`label_image` over `(readings, text)` samples, the rows stacked."""
    labelled = [label_image(readings, text, lm) for readings, text in samples]
    return (np.concatenate([x for x, _ in labelled]) if labelled else np.zeros((0, len(FEATURES))),
            np.concatenate([y for _, y in labelled]) if labelled else np.zeros(0))


def fit_labelled(x: np.ndarray, y: np.ndarray, l2: float = L2_PENALTY,
                 hidden: int = HIDDEN_UNITS) -> tuple[SpanChooser, dict[str, float]]:
    """`fit_chooser`, and how often the fitted model and the surer span (higher mean
    confidence) pick the better side on the fitting spans themselves."""
    chooser = fit_chooser(x, y, l2, hidden)
    picked = chooser.whole_odds(x) > 0
    surer = x[:, FEATURES.index("mean_gain")] > 0
    return chooser, {"spans": int(len(y)), "fitted_right": float(np.mean(picked == y)),
                     "surer_right": float(np.mean(surer == y))}


def fit_on(samples: Iterable[tuple[list[tuple[Any, Any]], str]], lm: Any = None,
           l2: float = L2_PENALTY, hidden: int = HIDDEN_UNITS
           ) -> tuple[SpanChooser, dict[str, float]]:
    """A chooser fitted on `(readings, text)` samples (`label_samples`, `fit_labelled`)."""
    return fit_labelled(*label_samples(samples, lm), l2, hidden)


# ------------------------------------------------------------------ reading images to fit on

#: How many bad rows a labelled folder's error names before it says how many more there are.
BAD_ROWS_SHOWN = 5


def read_both(reader: Any, image: Any) -> list[list[tuple[Any, Any, float]]]:
    """Each found line's copies, each read both ways by a `surer_reader.SurerReader`: per line
    a list of (cut, whole, em)."""
    from .analysis import analyse
    from .results import copies_to_read

    analysis = analyse(image, reader.options, {}, reader.stages)
    return [[reader.both(analysis, c) for c in copies_to_read(line)] for line in analysis.lines]


def fitting_readings(lines: list[list[tuple[Any, Any, float]]]) -> list[tuple[Any, Any]]:
    """Per line, the (cut, whole) readings of the copy the confidence rules would keep (the
    surest merged copy, as `SurerReader.merged_lines` keeps it)."""
    out = []
    for copies in lines:
        merged = [merged_reading(cut, whole, em) for cut, whole, em in copies]
        best = surest(merged)
        if best is not None:
            cut, whole, _ = copies[next(k for k, m in enumerate(merged) if m is best)]
            out.append((cut, whole))
    return out


def _one_error(bad: list[str]) -> Exception:
    """One error naming the first `BAD_ROWS_SHOWN` problems and how many more there are."""
    more = f" (and {len(bad) - BAD_ROWS_SHOWN} more)" if len(bad) > BAD_ROWS_SHOWN else ""
    return InvalidInputError("; ".join(bad[:BAD_ROWS_SHOWN]) + more)


def labelled_folder(folder: str | Path) -> list[tuple[Path, str]]:
    """(image path, text) from `folder/labels.tsv` (`jiema.label_table`: `FILE<TAB>TEXT` per
    image, a literal `\\n` between text lines); every bad row named in one error."""
    from jiema.errors import InputDecodeError
    from jiema.label_table import LABELS_FILE, read_label_table

    folder = Path(folder)
    path = folder / LABELS_FILE
    if not path.is_file():
        raise InvalidInputError(f"{folder} has no {LABELS_FILE} (FILE<TAB>TEXT per image)")
    try:
        table = read_label_table(path)
    except InputDecodeError as err:
        raise InvalidInputError(f"{path} is not UTF-8 text ({err.reason} at byte "
                                f"{err.offset})") from err
    bad = [(n, f"{LABELS_FILE} line {n}: no FILE<TAB>TEXT") for n, _ in table.malformed]
    items = []
    for row in table.rows:
        if not row.label.strip():
            bad.append((row.line, f"{LABELS_FILE} line {row.line}: no FILE<TAB>TEXT"))
        elif not (folder / row.file).is_file():
            bad.append((row.line, f"{LABELS_FILE} line {row.line}: {row.file} does not exist"))
        else:
            items.append((folder / row.file, "\n".join(row.label.split("\\n"))))
    if bad:
        raise _one_error([message for _, message in sorted(bad)])
    if not items:
        raise InvalidInputError(f"{path} lists no images")
    return items


def fit_folder(folder: str | Path, reader: Any, l2: float = L2_PENALTY, progress: bool = True,
               hidden: int = HIDDEN_UNITS) -> tuple[SpanChooser, dict[str, float]]:
    """A chooser fitted on a labelled folder (`labelled_folder`), read by `reader` (a
    `surer_reader.SurerReader` of the readers the chooser is for); the scores also count the
    images. An image that cannot be read is named in one error with the others."""
    from tqdm import tqdm

    items = labelled_folder(folder)
    samples, bad = [], []
    for path, text in tqdm(items, desc="read both ways", unit="image", disable=not progress):
        try:
            samples.append((fitting_readings(read_both(reader, str(path))), text))
        except (JiemaError, OSError) as err:
            bad.append(f"{path.name}: {err}")
    if bad:
        raise _one_error(bad)
    lm = getattr(reader.decoder, "lm", None)
    try:
        chooser, scores = fit_on(samples, lm, l2, hidden)
    except ValueError as err:
        raise InvalidInputError(f"{len(items)} image(s) gave too few spans where the two "
                                f"readers differ to fit on ({err}): label more images") from err
    return chooser, {**scores, "images": float(len(items))}
