"""Each found line read both ways — glyphs cut and classified, and whole by the CTC line
recogniser — and the two readings merged: aligned glyph by glyph, by character and by place
(`glyph_alignment`; dev renders seeds 103/211/307 with `ocr_real_dev` 293 -> 288 errors, seeds
1201/1303 167 -> 162, against difflib's characters alone), where they agree the
cut glyphs are kept, and where they differ the span whose reader is surer of it (the higher mean
per-character confidence; on a tie, the cut span), or, where the two spans are as long, the
surer glyph of each pair (the news screenshot's 力量。 read 力量囗 and 力显。: the cut span's mean
won with 量 0.97 and 囗 0.49 against 显 0.39 and 。 0.99; dev renders, seeds 103/211/307, 457 ->
448 errors, no set worse by more than one; `ocr_real_dev` 1.85% -> 1.73%). A span only the
cut reader saw is kept when it is sure enough of it (`ALONE_CUT_KEEP`); one only the line
recogniser saw is left out (on the dev renders below, keeping those above a confidence of
0.5-0.95 did no better anywhere and added marks to clean lines: lines 0.46% -> 0.58%), unless
it is punctuation the recogniser is sure of (`ALONE_WHOLE_MARK_KEEP`).

By default a fitted model decides every differing span instead of the rules above
(`span_choice`, fitted by `benchmarks/ocr_span_choice.py`): each reader's confidence misleads
where that reader fails in its own way, and the model also weighs how much each reader's
candidates vouch for the other's characters, the character LM across the span and how much
of the line the two agree on. Dev renders (60 images a set, all five sets), rules -> chooser:
1,075 -> 931 errors on eight seeds (103-1031), each with the chooser fitted on the other
seven, and 224 -> 189 on seeds 613 / 727 with the shipped one (fitted on the eight);
`ocr_real_dev` 16 -> 13 errors. A chooser fitted on the plugin's own training lines
(`synth_lines`, 800 lines) did worse than the rules on the dev pages (299 -> 326 on the first
three seeds): those lines are the line recogniser's training data, where it is surer than on
anything else. The rules stay for `span_chooser: none`.

Why both: the two fail on different lines, and often on different parts of one line. Cutting
wins on clean renders in its training fonts, the line recogniser where cutting breaks: small
screen text, tight or proportional glyphs, a character whose parts stand apart (the shared news
screenshot's 化 cut as 亻 + 匕, the 匕 read with 改: `深讹做荜` for `深化改革`, all else right).
Choosing whole lines kept such a line's cut reading, since its mean confidence was still the
higher one. Dev renders (seed 103, LM on; screen, photo and benchmark-style lines, 80 each, and
80 JPEG'd pages of 3-6 lines of 13-18 px text), CER surer-line -> merged spans:
screen 6.16 -> 5.78%, photo 8.56 -> 7.95%, lines 0.46 -> 0.46%, pages 9.97 -> 9.03%. Measured
only, never tuned on: `../shared/data/ocr_real_dev` 6.43% -> 1.98%. A margin in favour of
either reader (-0.1 to 0.2) moved the dev sets by under 0.15 points either way, so there is none.

The line recogniser reads first, and the cut reader takes its text as a hint: a glyph the
classifier is unsure of but whose best candidate the recogniser has at that place is not cut
again (`pipeline.OcrReader.cut`). On the news screenshot that classifies 1,845 crops instead of
2,855 (1.75 -> 1.51 s). Dev renders (seeds 103 and 211, 60 each; errors with / without):
pages 437/443 and 390/396, photo 29/27 and 30/29, screen equal and 37/36; the real images the same.
Counting agreement only above a top probability of 0.2-0.35 kept the photo loss and saved less.
"""

from __future__ import annotations

import itertools
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .analysis import analyse
from .glyph_alignment import aligned_opcodes
from .results import GlyphResult, LineResult, OcrResult, copies_to_read, line_of, surest
from .span_choice import SpanChooser, span_features
from .text_rules import (
    PAIRED_MARKS,
    capitals_among_capitals,
    circles_among_chinese_numerals,
    is_hanzi,
    lone_bars_as_one,
    middle_dots_among_latin,
)

ALONE_CUT_KEEP = 0.3  # mean confidence above which glyphs only the cut reader saw are kept: the
# line recogniser drops characters far more often than cutting invents them (dev renders, 0.3-0.7)
ALONE_CUT_END_SIGN_KEEP = 0.6  # ... but ASCII signs at a line's end only this sure: a picture's
# edge or a shadow read as ' or . (a shop sign's 母婴生活馆'); dev renders (seeds 103, 211, 307,
# 60 a set) 622 -> 621 errors in all, no set worse
ALONE_WHOLE_MARK_KEEP = 0.6  # Chinese punctuation only the line recogniser saw is kept this sure
# of it. First set at 0.8 with the first line model: dev renders (seeds 103 / 211, 60 a set)
# pages 117 -> 106 / 215 -> 208 errors, screen 33 -> 33 / 27 -> 26, photo 29 -> 29 / 30 -> 29,
# lines 10 -> 11 / 7 -> 7. With the line model of session 21 (seeds 103 / 211 / 307, all five
# sets summed) 0.5 / 0.6 / 0.8 / 0.9 -> 481 / 476 / 481 / 487 errors (0.6: pages -5, no set
# worse; `ocr_real_dev` the same)
LONGER_SPAN_MARGIN = 0.1  # of two differing spans of unlike length, the longer wins by this
# much less mean confidence: a reader drops characters more often than it makes them up. Dev
# renders (seeds 103, 211, 307; 60 a set) with the session-21 / session-22 line models, margins
# 0 / 0.1 / 0.2: 447 / 443 / 447 and 296 / 286 / 288 errors (favouring the shorter span by
# 0.1: 313); `ocr_real_dev` the same with either model

UNSURE_EXTRA_BELOW = 0.3  # the line recogniser's span that wins against a shorter cut span
# leaves out its glyphs this unsure, as many as it is longer: the recogniser puts a 0.15-0.25
# guess (良, 使) into a span whose cut reading is garbage. Dev renders (seeds 103, 211, 307)
# with session 21's / this session's line model at 0 / 0.2 / 0.3: 442 / 439 / 443 and
# 285 / 286 / 283 errors; `ocr_real_dev` with this session's model 2.10 / 1.85 / 1.73%


class SurerReader:
    """Reads images like `pipeline.OcrReader`; both readers share the image stages (those of
    the cut-and-classify reader) and its odd-line filter."""

    def __init__(self, cut_reader: Any, line_reader: Any,
                 chooser: SpanChooser | None = None) -> None:
        self.cut_reader = cut_reader
        self.line_reader = line_reader
        self.chooser = chooser
        self.options = cut_reader.options
        self.stages = cut_reader.stages

    @property
    def decoder(self) -> Any:
        """The LM decoder the two halves share (the cut-and-classify half's)."""
        return getattr(self.cut_reader, "decoder", None)

    def __call__(self, source: Any) -> OcrResult:
        return self.read(source)

    def read(self, source: Any) -> OcrResult:
        """An `OcrResult` for one image (path, bytes, PIL image or array)."""
        timings: dict[str, float] = {}
        return self.read_analysis(analyse(source, self.options, timings, self.stages), timings)

    def read_analysis(self, analysis: Any, timings: dict[str, float] | None = None
                      ) -> OcrResult:
        timings = {} if timings is None else timings
        readings = [[self.both(analysis, c, timings) for c in copies_to_read(line)]
                    for line in analysis.lines]
        return analysis.in_input(OcrResult(self.merged_lines(readings), timings))

    def merged_lines(self, readings: list[list[tuple[LineResult | None, LineResult | None,
                                                      float]]]) -> list[LineResult]:
        """An image's lines from each found line's copies read both ways (`both`): each copy
        merged, the surest copy kept, then the cut reader's odd-line filter."""
        out, agreed = [], []
        for copies in readings:
            merged = [(self.merge(*copy), _agree(copy[0], copy[1])) for copy in copies]
            best = surest(m for m, _ in merged)
            if best is not None:
                out.append(best)
                if any(m is best and same for m, same in merged):
                    agreed.append(best)
        return self.cut_reader.drop_odd_lines(out, agreed)

    def both(self, analysis: Any, line: Any, timings: dict[str, float] | None = None
             ) -> tuple[LineResult | None, LineResult | None, float]:
        """One line read both ways: the cut reading, the whole reading, and the em (pixels)
        that places the spaces of a merged text."""
        timings = {} if timings is None else timings
        t0 = time.perf_counter()
        whole = self.line_reader.read_line(analysis, line)
        timings["recognise"] = timings.get("recognise", 0.0) + time.perf_counter() - t0
        cut = self.cut_reader.read_line(analysis, line, timings,
                                        whole.text if whole is not None else None)
        em = ((cut.box[3] - cut.box[1]) * self.options.cutting.em_per_height
              if cut is not None else 0.0)
        return cut, whole, em

    def merge(self, cut: LineResult | None, whole: LineResult | None, em: float
              ) -> LineResult | None:
        """The two readings of a line merged (by the chooser where there is one), with the
        merged text's rules."""
        lm = getattr(self.decoder, "lm", None)
        merged = merged_reading(cut, whole, em, self.options.space_gap, self.chooser, lm)
        if merged is not None and self.options.text_rules:
            merged = _merged_text_rules(merged, em, self.options.space_gap)
        return merged if merged is not None and vouched_for(cut, whole, merged) else None


def _agree(cut: LineResult | None, whole: LineResult | None) -> bool:
    """Whether both readers read a line, and read it alike with a letter, digit or hanzi."""
    return (cut is not None and whole is not None and cut.text == whole.text
            and any(ch.isalnum() for ch in cut.text))


#: A merged line with at most this many letters, digits and hanzi, none of which both readers
#: read, is not text: the edges of a picture beside a banner's lines, read as /冖、`、 by the cut
#: reader and 、 by the recogniser, or a shape's rim read by one of them alone. Dev renders
#: (seeds 103-509, 1201, 1303; 60 a set): banners 55 -> 45 and photo 103 -> 99 errors, screen and
#: lines unchanged, pages (three seeds) unchanged; allowing two: a banner's “咔嚓” (read “味” by
#: the recogniser) went too; `ocr_real_dev` 13 -> 12.
UNVOUCHED_MAX_CONTENT = 1


def vouched_for(cut: LineResult | None, whole: LineResult | None, merged: LineResult) -> bool:
    """Whether the merged reading of a line is text by `UNVOUCHED_MAX_CONTENT`: more letters,
    digits or hanzi than that, or one that both readers read (aligned as the merge aligns them,
    by character and place; difflib's characters alone gave the same dev figures, seeds 1201 /
    1303 with `ocr_real_dev`: 161 errors both)."""
    content = sum(ch.isalnum() for ch in merged.text)
    if content > UNVOUCHED_MAX_CONTENT:
        return True
    if cut is None or whole is None:
        return False
    opcodes, _ = aligned_opcodes(cut.glyphs, whole.glyphs)
    return any(g.char.isalnum() for op, i1, i2, _, _ in opcodes if op == "equal"
               for g in cut.glyphs[i1:i2])


def merged_reading(cut: LineResult | None, whole: LineResult | None, em: float = 0.0,
                   space_gap: float = 0.0, chooser: SpanChooser | None = None,
                   lm: Any = None) -> LineResult | None:
    """The two readings of one line merged span by span (see the module's docstring); `em`
    and `space_gap` place the spaces between Latin words of a merged text as the cut reader
    does. With a `chooser` (and the character `lm` its features use) it decides each differing
    span; without one, the confidence rules below do. A reading equal to the merge is returned
    as it is."""
    if cut is None or whole is None:
        return cut if whole is None else whole
    a, b = cut.glyphs, whole.glyphs
    opcodes, agreement = aligned_opcodes(a, b)
    chosen = (_chosen_spans(differing_spans(opcodes, a, b), agreement, chooser, lm)
              if chooser is not None else {})
    glyphs: list[GlyphResult] = []
    for k, (op, i1, i2, j1, j2) in enumerate(opcodes):
        cut_span, whole_span = a[i1:i2], b[j1:j2]
        if op == "equal":
            glyphs += cut_span
        elif k in chosen:
            glyphs += chosen[k]
        elif not cut_span:  # only the line recogniser saw it: mostly made up, left out ...
            if (all(_is_mark(g.char) for g in whole_span)
                    and _mean_confidence(whole_span) >= ALONE_WHOLE_MARK_KEEP):
                glyphs += whole_span  # ... but for marks it is sure of, which cutting glues
                # to a neighbour or loses (鹏、 cut as one glyph, 鹂)
        elif not whole_span:
            at_end = i1 == 0 or i2 == len(a)
            keep = (ALONE_CUT_END_SIGN_KEEP if at_end and all(_is_sign(g.char) for g in cut_span)
                    else ALONE_CUT_KEEP)
            if _mean_confidence(cut_span) > keep:
                glyphs += cut_span
        elif len(cut_span) == len(whole_span):  # glyph for glyph: the surer of each pair
            glyphs += [w if w.confidence > c.confidence else c
                       for c, w in zip(cut_span, whole_span, strict=True)]
        elif (_mean_confidence(whole_span) + _length_margin(whole_span, cut_span)
              > _mean_confidence(cut_span)
              or _digits_glued_into_a_letter(cut_span, whole_span, glyphs[-1:], a[i2:i2 + 1])):
            glyphs += _without_unsure_extras(whole_span, len(cut_span))
        else:
            glyphs += cut_span
    if chooser is not None:
        glyphs = _without_unsure_end_signs(glyphs, cut, whole)
    alike = {id(g) for op, i1, i2, j1, j2 in opcodes if op == "equal"
             for g in (*a[i1:i2], *b[j1:j2])}
    glyphs = _with_sure_ends(_with_paired_marks(glyphs, cut, whole), cut, whole, alike)
    glyphs = _with_gaps_filled(glyphs, cut, whole, alike, em)
    return _as_line(glyphs, cut, whole, em, space_gap)


def _as_line(glyphs: list[GlyphResult], cut: LineResult, whole: LineResult, em: float,
             space_gap: float) -> LineResult | None:
    if glyphs == cut.glyphs:
        return cut
    if glyphs == whole.glyphs:
        return whole
    return line_of(glyphs, em, space_gap) if glyphs else None


Span = tuple[list[GlyphResult], list[GlyphResult], str, str]  # cut, whole, before, after


def differing_spans(opcodes: Sequence[tuple[str, int, int, int, int]], a: list[GlyphResult],
                    b: list[GlyphResult]) -> dict[int, list[Span]]:
    """For each opcode where the readings differ, its spans: one, or one per pair where the two
    sides are as long (each pair is decided alone); either side may be empty. The agreed
    characters beside a span (none at a line's end or beside another span) are the LM's
    context."""
    out: dict[int, list[Span]] = {}
    for k, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            continue
        before = a[i1 - 1].char if k > 0 and opcodes[k - 1][0] == "equal" else ""
        after = a[i2].char if k + 1 < len(opcodes) and opcodes[k + 1][0] == "equal" else ""
        if i2 - i1 == j2 - j1:
            n = i2 - i1
            out[k] = [([c], [w], before if m == 0 else "", after if m == n - 1 else "")
                      for m, (c, w) in enumerate(zip(a[i1:i2], b[j1:j2], strict=True))]
        else:
            out[k] = [(a[i1:i2], b[j1:j2], before, after)]
    return out


def _chosen_spans(spans: dict[int, list[Span]], agreement: float, chooser: SpanChooser,
                  lm: Any) -> dict[int, list[GlyphResult]]:
    """Each opcode's glyphs as the chooser picks them, span by span (one matrix product); a
    winning recogniser's span longer than the cut one leaves out its unsure extra glyphs
    (`_without_unsure_extras`: 努 in 任务努越 for 任务越). Dev renders (seeds 103 / 211 / 307
    held out by seed, and 401 / 509): 281 -> 275 and 232 -> 231 errors; `ocr_real_dev` 15 ->
    13."""
    flat = [span for k in spans for span in spans[k]]
    if not flat:
        return {}
    x = np.stack([span_features(c, w, before, after, agreement, lm)
                  for c, w, before, after in flat])
    whole_wins = iter(chooser.whole_odds(x) > 0.0)
    return {k: [g for c, w, _, _ in spans[k]
                for g in (_without_unsure_extras(w, len(c)) if next(whole_wins) else c)]
            for k in spans}


def _merged_text_rules(line: LineResult, em: float, space_gap: float) -> LineResult:
    """The merged line with each lone bar between two hanzi read as 一
    (`text_rules.lone_bars_as_one`): dev renders (seeds 103, 211, 307, 60 a set) 621 -> 610
    errors in all, pages 404 -> 395, photo 124 -> 122, the rest equal; o, O or 0 among
    Chinese numerals as ○ (`text_rules.circles_among_chinese_numerals`): 286 -> 285, 443 -> 442
    with the older model; and lowercase look-alikes among capitals as capitals
    (`text_rules.capitals_among_capitals`): five seeds 351 -> 347; and a middle dot between
    Latin letters or digits as a full stop (`text_rules.middle_dots_among_latin`: dev renders
    unchanged, the benchmark's photo line m·jd.com)."""
    chars = [g.char for g in line.glyphs]
    bars, circles = lone_bars_as_one(chars), circles_among_chinese_numerals(chars)
    capitals = capitals_among_capitals(chars)
    stops = middle_dots_among_latin(chars)
    if not bars and not circles and not capitals and not stops:
        return line
    glyphs = list(line.glyphs)
    for k in bars:
        glyphs[k] = replace(glyphs[k], char="一")
    for k in circles:
        glyphs[k] = replace(glyphs[k], char="○")
    for k, capital in capitals.items():
        glyphs[k] = replace(glyphs[k], char=capital)
    for k in stops:
        glyphs[k] = replace(glyphs[k], char=".")
    return line_of(glyphs, em, space_gap)


def _without_unsure_end_signs(glyphs: list[GlyphResult], cut: LineResult, whole: LineResult
                              ) -> list[GlyphResult]:
    """A merged line without the ASCII signs at its ends that came from the cut reading, that
    the cut reader is under `ALONE_CUT_END_SIGN_KEEP` sure of, and that the line recogniser's
    reading does not end (or start) with: the rules' test for signs only the cut reader saw,
    kept where the chooser decides (it kept the shop sign's 生活馆'). Dev renders (seeds 103 /
    211 / 307 and 1201 / 1303) unchanged; `ocr_real_dev` 13 -> 12 errors."""
    def unsure_cut_sign(g: GlyphResult, recognised_end: GlyphResult | None) -> bool:
        return (_is_sign(g.char) and g.confidence < ALONE_CUT_END_SIGN_KEEP
                and any(g is c for c in cut.glyphs)
                and (recognised_end is None or recognised_end.char != g.char))

    w = whole.glyphs
    while glyphs and unsure_cut_sign(glyphs[-1], w[-1] if w else None):
        glyphs = glyphs[:-1]
    while glyphs and unsure_cut_sign(glyphs[0], w[0] if w else None):
        glyphs = glyphs[1:]
    return glyphs


#: Paired marks, opening to closing, that `_with_paired_marks` puts back.
PAIRED: dict[str, str] = {pair[0]: pair[1] for pair in PAIRED_MARKS}
#: Two glyphs whose columns overlap by more than this share of the narrower one stand in one
#: place (the recogniser's boxes are frame-rounded, so neighbours may touch).
SAME_PLACE_OVERLAP = 0.3
#: How sure a reader must be of a paired mark for `_with_paired_marks` to put it back: the cut
#: reader's 「」 round 花冈事件 (CityU text on a card) are 0.97-1.0.
PAIRED_MARK_KEEP = 0.6
#: ... and of the half an unmatched mark of the merged line waits for: 0.4-0.47 for the line-end ”
#: of 培训” (the cut reader's) and 通道” (the recogniser's), which the merge dropped. Dev renders
#: (seeds 1201 / 1303 / 103 / 211 / 307, all sets): 0.6 / 0.4 / 0.3 / 0.2 / 0.1 -> 345 / 343 /
#: 343 / 340 / 340 errors (pages and photo fewer, no set worse)
WAITED_MARK_KEEP = 0.2


def _with_paired_marks(glyphs: list[GlyphResult], cut: LineResult, whole: LineResult
                       ) -> list[GlyphResult]:
    """The merged glyphs with the paired marks one reader saw, surely, and the merge left out,
    where that pairs them: both halves of a pair the merged line lacks, or the half its
    unmatched other half waits for. The line recogniser learnt no 「」 from 1998 news and read
    「花冈事件」 as 花冈事件, and the merge followed it; it read （486）1873454 where the cut reader
    lost the ）, and the merge took its 6 but not the ）."""
    chars = [g.char for g in glyphs]

    def left_out(reading: LineResult, ch: str, keep: float = PAIRED_MARK_KEEP
                 ) -> list[GlyphResult]:
        """The reading's sure `ch` marks standing where the merged line has no glyph (where it
        holds another, a 」 read 』 or a 0 where the other read 6）, nothing goes back)."""
        return [g for g in reading.glyphs
                if g.char == ch and g.confidence >= keep
                and not any(g is t or _x_overlap(g, t) > SAME_PLACE_OVERLAP for t in glyphs)]

    added: list[GlyphResult] = []
    for o, c in PAIRED.items():
        n_open, n_close = chars.count(o), chars.count(c)
        if n_open == n_close == 0:
            for reading in (cut, whole):
                opens, closes = left_out(reading, o), left_out(reading, c)
                if (len(opens) == len(closes) == 1
                        and _centre(opens[0]) < _centre(closes[0])):
                    added += [opens[0], closes[0]]
                    break
        elif n_open == n_close + 1:  # an open mark waits for its close: one to its right
            at = _centre(glyphs[len(chars) - 1 - chars[::-1].index(o)])
            closes = [g for r in (cut, whole) for g in left_out(r, c, WAITED_MARK_KEEP)
                      if _centre(g) > at]
            if closes:
                added.append(max(closes, key=lambda g: g.confidence))
        elif n_close == n_open + 1:  # a close mark waits for its open: one to its left
            at = _centre(glyphs[chars.index(c)])
            opens = [g for r in (cut, whole) for g in left_out(r, o, WAITED_MARK_KEEP)
                     if _centre(g) < at]
            if opens:
                added.append(max(opens, key=lambda g: g.confidence))
    out = list(glyphs)
    for g in sorted(added, key=_centre):  # before the first glyph standing right of it
        at = next((k for k, h in enumerate(out) if _centre(h) > _centre(g)), len(out))
        out.insert(at, g)
    return out


#: A letter, digit or hanzi one reader is this sure of, standing beyond the merged line's first
#: or last glyph, goes back (`_with_sure_ends`).
SURE_END_KEEP = 0.9


def _with_sure_ends(glyphs: list[GlyphResult], cut: LineResult, whole: LineResult,
                    aligned: set[int]) -> list[GlyphResult]:
    """The merged glyphs with the letters, digits and hanzi that one reader alone read, surely
    (`SURE_END_KEEP`), beyond the merged line's ends: the ink the other reader trimmed as
    unsure or never reached. On a photographed line the cut reader's last segment held the
    slash's top and the 7 of 3℃／7 (unread, trimmed), and the recogniser's 7 at 1.0 was left
    out as seen by it alone; the recogniser read ￥1602.00 and stopped, and the cut reader's 起
    at 0.95 after it went with the span the recogniser won. `aligned`: the ids of the glyphs
    the two readings read alike (one of each such pair is in the merged line already)."""
    if not glyphs:
        return glyphs
    left, right = min(g.box[0] for g in glyphs), max(g.box[2] for g in glyphs)

    def beyond(reading: list[GlyphResult], outside: Any) -> list[GlyphResult]:
        run = list(itertools.takewhile(outside, reading))
        return run if run and all(g.char.isalnum() and g.confidence >= SURE_END_KEEP
                                  and id(g) not in aligned for g in run) else []

    heads = [beyond(r.glyphs, lambda g: g.box[2] <= left) for r in (cut, whole)]
    tails = [beyond(r.glyphs[::-1], lambda g: g.box[0] >= right)[::-1] for r in (cut, whole)]
    # one reader alone: where both read past the end they disagree on what is there
    head = heads[0] or heads[1] if not (heads[0] and heads[1]) else []
    tail = tails[0] or tails[1] if not (tails[0] and tails[1]) else []
    return head + glyphs + tail if head or tail else glyphs


#: Two hanzi of the merged line whose centres stand this many ems apart or more have a glyph's
#: room between them (hanzi are set an em apart).
GAP_EMS = 1.6
#: How sure a reader must be of a hanzi it read in such a gap for `_with_gaps_filled` to put it
#: there: ink stands there, so a guess costs no more than leaving it out.
GAP_GLYPH_KEEP = 0.2
#: The width of a letter or digit beside hanzi, x em (half-width forms in CJK fonts are 0.5-0.6
#: em): a hanzi and a digit whose centres stand 1.75 em apart have a hanzi's room between them.
#: Filling beside letters and digits too: dev renders (five seeds, all sets) 346 -> 345 (photo
#: -1), the poster probes the same or better (seed 2031's 1.21 -> 1.18%).
HALF_WIDTH_EMS = 0.55


def _with_gaps_filled(glyphs: list[GlyphResult], cut: LineResult, whole: LineResult,
                      aligned: set[int], em: float) -> list[GlyphResult]:
    """The merged glyphs with the room for a glyph between two hanzi, letters or digits
    (`GAP_EMS` less an em, past their own widths) filled by the hanzi one reader read there
    (the surer reader's, as many as the room holds): the recogniser read 创新驱动 as 创新动
    where the cut reader had 驱 (0.28) in a span whose rest it read badly, and the merge took
    the recogniser's span; 转阴4℃ read 转4℃ where the cut reader had 阴."""
    if em <= 0 or len(glyphs) < 2:
        return glyphs

    def width(ch: str) -> float:
        return 1.0 if is_hanzi(ch) else HALF_WIDTH_EMS

    def letter_or_hanzi(ch: str) -> bool:
        return is_hanzi(ch) or ch.isascii() and ch.isalnum()

    out: list[GlyphResult] = [glyphs[0]]
    for g in glyphs[1:]:
        p = out[-1]
        if (letter_or_hanzi(p.char) and letter_or_hanzi(g.char)
                and (is_hanzi(p.char) or is_hanzi(g.char))):  # between letters: a space
            half_p, half_g = width(p.char) * em / 2, width(g.char) * em / 2
            free = (_centre(g) - _centre(p) - half_p - half_g) / em
            if free >= GAP_EMS - 1.0:
                lo, hi = _centre(p) + half_p, _centre(g) - half_g
                found = [[h for h in r.glyphs if lo <= _centre(h) <= hi and is_hanzi(h.char)
                          and h.confidence >= GAP_GLYPH_KEEP and id(h) not in aligned]
                         for r in (cut, whole)]
                best = max(found, key=lambda f: (float(np.mean([h.confidence for h in f]))
                                                 if f else -1.0))
                out += best[:max(1, int(round(free + 1.0)) - 1)]
        out.append(g)
    return out


def _centre(g: GlyphResult) -> float:
    return (g.box[0] + g.box[2]) / 2.0


def _x_overlap(a: GlyphResult, b: GlyphResult) -> float:
    """How much two glyphs' columns overlap, as a share of the narrower one."""
    inter = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    return max(inter, 0) / max(min(a.box[2] - a.box[0], b.box[2] - b.box[0]), 1)


def _without_unsure_extras(span: list[GlyphResult], other_length: int) -> list[GlyphResult]:
    """The line recogniser's span that won against a shorter cut span, without its glyphs under
    `UNSURE_EXTRA_BELOW`, the least sure first, at most as many as it has glyphs more."""
    extra = len(span) - other_length
    if extra <= 0:
        return span
    unsure = sorted((g.confidence, k) for k, g in enumerate(span)
                    if g.confidence < UNSURE_EXTRA_BELOW)
    drop = {k for _, k in unsure[:extra]}
    return [g for k, g in enumerate(span) if k not in drop]


def _length_margin(whole_span: list[GlyphResult], cut_span: list[GlyphResult]) -> float:
    """What the line recogniser's span gains (or loses) against the cut span for its length."""
    if len(whole_span) == len(cut_span):
        return 0.0
    return LONGER_SPAN_MARGIN if len(whole_span) > len(cut_span) else -LONGER_SPAN_MARGIN


def _digits_glued_into_a_letter(cut_span: list[GlyphResult], whole_span: list[GlyphResult],
                                before: list[GlyphResult], after: list[GlyphResult]) -> bool:
    """Whether the cut reader read touching digits as one letter that the line recogniser
    reads as more digits, beside a digit (2000 cut as 2, m, 0 and read sure of m: proportional
    fonts set 00 tight). Dev renders (seeds 103, 211, 307, 60 a set) 476 -> 472 errors, no set
    worse; without the length test 5G, which the recogniser read 50, was lost too."""
    def digit(ch: str) -> bool:
        return ch.isascii() and ch.isdigit()

    return (len(whole_span) > len(cut_span)
            and any(digit(g.char) for g in before + after)
            and all(digit(g.char) for g in whole_span)
            and all(g.char.isascii() and g.char.isalpha() for g in cut_span))


def _is_mark(ch: str) -> bool:
    """Chinese punctuation (、，。《》 and the like: Unicode category P*, not ASCII). ASCII marks
    are not: the line recogniser puts a sure `.` between a hanzi and a digit that are not
    (电视机.12月 on a rendered line)."""
    return not ch.isascii() and unicodedata.category(ch).startswith("P")


def _is_sign(ch: str) -> bool:
    """An ASCII mark or symbol (' . - ~), neither a letter nor a digit."""
    return ch.isascii() and not ch.isalnum() and not ch.isspace()


def _mean_confidence(glyphs: list[GlyphResult]) -> float:
    return float(np.mean([g.confidence for g in glyphs]))
