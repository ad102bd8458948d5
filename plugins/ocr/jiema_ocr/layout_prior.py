"""The layout prior: candidates re-weighted by where a glyph sits in its line and how big it is.

Once a crop is scaled up to the classifier's input, a quote looks like a comma, 。 like o and
O like 0; their place and size in the text band tell them apart.
"""

from __future__ import annotations

from .bar_shapes import BARS, bar_posterior
from .classifier import MIN_PROB
from .cutting import CutGraph, tall_band
from .results import Box

# Marks whose place in the line tells them apart from look-alikes once a crop is scaled up to
# the classifier's input: quotes sit high (a comma is a low apostrophe), 。/o are small and O/0
# tall, and a tiny glyph is punctuation or a dot, not a hanzi.
HIGH_MARKS = frozenset("‘’“”'\"`^°")
SMALL_CHARS = frozenset("，。、．.,;；:：·•'\"‘’“”`^°-—－～~_…丶o")
TALL_CHARS = frozenset("0OQDCGUIl1|（）()[]{}【】《》〈〉「」『』")
# radicals that print like 、 / ) \ or like half a character (亻 of 化, 纟 of 纪), and never
# stand alone in running text (none of them occurs in a month of the People's Daily)
RARE_LOOKALIKES = frozenset("丶丿乀乁亅亻氵扌讠纟钅饣忄犭阝刂冫礻衤彳丬卩廴辶宀冖亠疒艹夂攵灬彡"
                            "匚凵勹冂厶廾尢屮巛彐")
FULL_WIDTH_BARS = frozenset("一—")
BAR_SET = frozenset(BARS)
MAX_BAR_THICKNESS = 0.35  # of the band: thicker, the glyph is no lone bar
RING_LIKE = frozenset("。oO0°·.•○〇")

# Places and sizes in the text band, x its height (positions from its top). Set by hand while
# developing on rendered lines; no per-value error counts were recorded.
IMPOSSIBLE_PENALTY = 0.02  # an impossible candidate keeps this share of its probability
QUOTE_MAX_CENTRE = 0.42  # a quote sits high: its centre above this (lower: a comma)
DOT_SIZED = 0.4  # a glyph smaller than this on its longer side is a dot or a mark, no hanzi
SMALL_RING_MAX_HEIGHT = 0.42  # 。 is at most this tall ...
LATIN_O_HEIGHT = (0.36, 0.62)  # ... while a Latin o spans the x-height
CAPITAL_MIN_HEIGHT = 0.5  # @, digits, capitals and brackets are at least this tall
MIDDLE_DOT_CENTRE = (0.25, 0.72)  # the middle dot is centred (a faded comma sits lower)
# a full stop sits on the baseline: a dot centred higher is no . (dev renders, seeds 1201 / 1303 /
# 103 / 211 / 307, all sets: 340 -> 329 errors; as · alone, without the comma: 338)
PERIOD_MIN_CENTRE = 0.72
UNDERSCORE_MIN_CENTRE = 0.75  # _ sits at the bottom
FULL_BAR_MIN_WIDTH = 0.85  # 一 and — span the em; a shorter bar is a minus sign
ZERO_MAX_ASPECT = 0.75  # width / height: the digit 0 is at most this wide ...
LETTER_O_MIN_ASPECT = 0.72  # ... and the letter O at least this wide
DEGREE_MAX_SIZE = 0.45  # a ring this small ...
DEGREE_MAX_CENTRE = 0.35  # ... raised this high is a degree sign
# text_band: segments this tall (x the line's height) are full-height glyphs; the band is the
# upper quartile of their extents (dev: 98 -> 96 errors against the median)
FULL_HEIGHT_SEGMENT = 0.8
BAND_PERCENTILE = 75.0


def text_band(graph: CutGraph) -> tuple[float, float] | None:
    """Top and bottom of the line's full-height glyphs (None when there are none): the upper
    quartile of their extents, not the median, since a glyph broken into pieces (the three
    strokes of 二) counts once per piece and would pull a median in (dev: 98 -> 96 errors)."""
    return tall_band(graph.segments, FULL_HEIGHT_SEGMENT * graph.line_height, outer=BAND_PERCENTILE)


def layout_prior(cands: list[tuple[str, float]], box: Box, band: tuple[float, float] | None,
                 penalty: float = IMPOSSIBLE_PENALTY) -> list[tuple[str, float]]:
    """Candidates re-weighted by where the glyph sits in the line and how big it is:
    impossible ones are multiplied by `penalty`, then the list is renormalised and re-sorted."""
    if band is None or not cands:
        return cands
    top, bottom = band
    line_h = max(bottom - top, 1.0)
    height, width = box[3] - box[1], box[2] - box[0]
    h = height / line_h
    size = max(box[3] - box[1], box[2] - box[0]) / line_h
    center = ((box[1] + box[3]) / 2 - top) / line_h
    bar = cands[0][0] in BAR_SET and h < MAX_BAR_THICKNESS
    if bar:
        cands = _bars_by_shape(cands, width / line_h, h, center)
    out = []
    for ch, p in cands:
        ok = True
        if ch in HIGH_MARKS and center > QUOTE_MAX_CENTRE:
            ok = False
        elif size < DOT_SIZED and ch not in SMALL_CHARS and not ch.isascii():
            ok = False  # a dot-sized glyph is no hanzi
        elif (ch == "。" and h > SMALL_RING_MAX_HEIGHT
              or ch == "o" and not LATIN_O_HEIGHT[0] <= h <= LATIN_O_HEIGHT[1]):
            ok = False  # 。 is smaller than a Latin o
        elif ch == "@" and h < CAPITAL_MIN_HEIGHT:
            ok = False  # as tall as a capital, never the size of 。
        elif ch == "·" and not MIDDLE_DOT_CENTRE[0] <= center <= MIDDLE_DOT_CENTRE[1]:
            ok = False  # the middle dot is centred; a comma whose tail faded sits low
        elif ch == "." and center < PERIOD_MIN_CENTRE:
            # a centred dot is a middle dot (吐逊江·热介甫) or a Ming comma that prints as a dot
            # (老人，当他): both as likely as the dot, for the LM to choose; never a full stop
            out += [("·", p), ("，", p)]
            continue
        elif ch == "_" and center < UNDERSCORE_MIN_CENTRE:
            ok = False
        elif ch in FULL_WIDTH_BARS and width < FULL_BAR_MIN_WIDTH * line_h and not bar:
            ok = False  # 一 and the em dash span the em; a minus sign is shorter
        elif ch in TALL_CHARS and h < CAPITAL_MIN_HEIGHT:
            ok = False
        elif (ch == "0" and width > ZERO_MAX_ASPECT * height
              or ch == "O" and width < LETTER_O_MIN_ASPECT * height):
            ok = False  # the digit is narrower than the letter
        elif ch in RARE_LOOKALIKES:
            ok = False
        out.append((ch, p if ok else p * penalty))
    if size < DEGREE_MAX_SIZE and center < DEGREE_MAX_CENTRE and cands[0][0] in RING_LIKE:
        # a small ring raised to the top of the line is a degree sign (the C of ℃ follows);
        # it is no class of the char model, so its ring-like look-alikes stand for it
        ring = sum(p for ch, p in cands if ch in RING_LIKE)
        out = [("°", ring)] + [(ch, p) for ch, p in out if ch not in RING_LIKE]
    if len({ch for ch, _ in out}) < len(out):  # a mark listed twice (· for the dot and ·
        # as the classifier read it): the likelier once
        best: dict[str, float] = {}
        for ch, p in out:
            best[ch] = max(p, best.get(ch, 0.0))
        out = list(best.items())
    total = sum(p for _, p in cands)
    new_total = sum(p for _, p in out) or 1.0
    scale = total / new_total
    return sorted(((ch, min(1.0, p * scale)) for ch, p in out), key=lambda c: -c[1])


def _bars_by_shape(cands: list[tuple[str, float]], length: float, thickness: float,
                   centre: float) -> list[tuple[str, float]]:
    """The probability the classifier gives the bars (一 — -) together, shared out among them
    by where this one sits (`bar_shapes`): the classifier cannot tell them apart."""
    mass = sum(p for ch, p in cands if ch in BAR_SET)
    shares = bar_posterior(length, thickness, centre)
    others = [(ch, p) for ch, p in cands if ch not in BAR_SET]
    bars = [(ch, mass * q) for ch, q in shares.items() if mass * q >= MIN_PROB]
    return sorted(others + bars, key=lambda c: -c[1])
