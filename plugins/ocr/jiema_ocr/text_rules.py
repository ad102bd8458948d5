"""Text rules: what the character bigram LM cannot tell apart, settled by the candidates and the
place of a glyph (，/. ，/、 一/— -/— 0/O 1/l, “ cut in two, specks at a line's ends).

Each rule is a small pure function over the decoded text or the candidates, so each can be
tested alone; `OcrOptions.text_rules` turns them all off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from .layout_prior import FULL_WIDTH_BARS
from .results import Box, Candidates, LineResult, is_latin

# classes that are drawn shapes: inside text they are marks (●, 二○○○年), but a line of
# nothing else is a picture (a banner's circle or triangle)
SHAPES = frozenset("○●△▲")


def has_word(line: LineResult) -> bool:
    """Whether a line holds a hanzi, a digit or a letter, not only marks and shapes."""
    return any(ch.isalnum() for ch in line.text)


def only_shapes(line: LineResult) -> bool:
    text = line.text.replace(" ", "")
    return bool(text) and all(ch in SHAPES for ch in text)


def lone_dashes_as_one(text: str, cands: Candidates) -> str:
    """The text with each — read between two hanzi turned into 一 where that is a candidate:
    the dash is printed doubled (——); in a month of the People's Daily (2,167 dashes, 1,123
    of them followed by another) a lone one hardly occurs, while a character bigram after a
    rare — looks likelier than one after the common 一. At a line's end the dash may be half
    of a —— broken across lines, so it stays."""
    out = list(text)
    for k in range(1, len(out) - 1):
        if (out[k] == "—" and "一" in dict(cands[k]) and is_hanzi(out[k - 1])
                and is_hanzi(out[k + 1])):
            out[k] = "一"
    return "".join(out)


LONE_BARS = frozenset("—-－")  # dash, hyphen and full-width hyphen, all read where 一 is printed


def lone_bars_as_one(chars: Sequence[str]) -> list[int]:
    """Indices of the bars (—, -, －) read between two hanzi, one bar alone: each is 一 (see
    `lone_dashes_as_one`). For a merged reading, whose glyphs come from either reader: the line
    recogniser reads 一 as a bar too, and its candidates need not hold 一 (这-制度, —项)."""
    return [k for k in range(1, len(chars) - 1)
            if chars[k] in LONE_BARS and is_hanzi(chars[k - 1]) and is_hanzi(chars[k + 1])]


ROUND_ZEROS = frozenset("oO0○〇")  # what both readers make of ○, the zero of 二○○一年
CHINESE_NUMERALS = frozenset("○〇一二三四五六七八九十")


def circles_among_chinese_numerals(chars: Sequence[str]) -> list[int]:
    """Indices of the o, O and 0 read in a run of round marks beside a Chinese numeral and
    beside no Latin letter or digit: each is ○ (二○○○年 read 二oo年 by both readers)."""
    out: list[int] = []
    for k, j in _runs(chars, lambda ch: ch in ROUND_ZEROS):
        around = [chars[i] for i in (k - 1, j) if 0 <= i < len(chars)]
        if (any(c in CHINESE_NUMERALS for c in around)
                and not any(is_latin(c) for c in around)):
            out += [i for i in range(k, j) if chars[i] != "○"]
    return out


def _runs(chars: Sequence[str], inside: Callable[[str], bool]) -> Iterator[tuple[int, int]]:
    """(start, end) of each longest run of `chars` that are all `inside`."""
    k = 0
    while k < len(chars):
        if not inside(chars[k]):
            k += 1
            continue
        j = k
        while j < len(chars) and inside(chars[j]):
            j += 1
        yield k, j
        k = j


#: Paired marks, each opening one before its closing one: the synth text sets stretches in them,
#: and the merge puts back those one reader saw.
PAIRED_MARKS = ("「」", "『』", "“”", "‘’", "《》", "〈〉", "（）", "()", "【】", "[]")


#: Lowercase letters drawn as their capitals are, smaller (and l, drawn as I): their case is
#: the letter's height, which a reader gets wrong at screen sizes.
CAPITAL_LOOK_ALIKES = {"c": "C", "o": "O", "s": "S", "v": "V", "w": "W", "x": "X", "z": "Z",
                       "l": "I"}


def middle_dots_among_latin(chars: Sequence[str]) -> list[int]:
    """Indices of the middle dots (·) read between two ASCII letters or digits: there the dot
    is a full stop (m.jd.com, 53.62); the name dot of Chinese text (菲德尔·卡斯特罗) stands
    between hanzi, and a small . low in a photographed line reads · as readily."""
    return [k for k in range(1, len(chars) - 1)
            if chars[k] == "·" and is_latin(chars[k - 1]) and is_latin(chars[k + 1])]


def capitals_among_capitals(chars: Sequence[str]) -> dict[int, str]:
    """Index -> capital for each lowercase look-alike (`CAPITAL_LOOK_ALIKES`) in a Latin word
    whose other letters are all capitals: IT read lT, VIP read vIP, LOOK read LooK."""
    out: dict[int, str] = {}
    for k, j in _runs(chars, lambda ch: ch.isascii() and ch.isalpha()):
        odd = [i for i in range(k, j) if not chars[i].isupper()]
        if (j - k >= 2 and odd and len(odd) < j - k
                and all(chars[i] in CAPITAL_LOOK_ALIKES for i in odd)):
            out.update({i: CAPITAL_LOOK_ALIKES[chars[i]] for i in odd})
    return out


def minus_before_digits(text: str, cands: Candidates) -> str:
    """The text with a lone — or 一 right before a digit turned back into the minus sign the
    classifier read best (晴－8℃): the bigram LM prefers the common — there. A dash read best
    stays (20时—1月3日 is a range)."""
    out = list(text)
    for k in range(len(out) - 1):
        if (out[k] in FULL_WIDTH_BARS and out[k + 1].isdigit() and cands[k]
                and cands[k][0][0] == "-" and (k == 0 or out[k - 1] not in FULL_WIDTH_BARS)):
            out[k] = "-"
    return "".join(out)


def finish_text(text: str, cands: Candidates) -> str:
    """The decoded text after the rules for what a character bigram cannot tell apart."""
    text = minus_before_digits(lone_dashes_as_one(text, cands), cands)
    return dots_between_hanzi_as_commas(zeros_among_letters(digits_among_digits(text, cands)))


QUOTE_HALVES = {"‘": "“", "’": "”"}


def paired_quotes(boxes: list[Box], cands: Candidates, em: float
                   ) -> tuple[list[Box], Candidates]:
    """Two glyphs read as the same single quote (‘ ‘ or ’ ’) side by side within an em are the
    two marks of one double quote (“ or ”), cut apart."""
    out_b: list[Box] = []
    out_c: Candidates = []
    k = 0
    while k < len(boxes):
        if k + 1 < len(boxes) and cands[k] and cands[k + 1]:
            a, b = cands[k][0], cands[k + 1][0]
            box = (boxes[k][0], min(boxes[k][1], boxes[k + 1][1]), boxes[k + 1][2],
                   max(boxes[k][3], boxes[k + 1][3]))
            if a[0] == b[0] and a[0] in QUOTE_HALVES and box[2] - box[0] <= em:
                out_b.append(box)
                out_c.append([(QUOTE_HALVES[a[0]], min(a[1], b[1]))])
                k += 2
                continue
        out_b.append(boxes[k])
        out_c.append(cands[k])
        k += 1
    return out_b, out_c


# ，。、 and the dots print at most 0.4 of the text band (measured on fresh renders, all four
# fonts: 99th percentile 0.37, largest 0.39); something read as one of them at an end of the
# line and much bigger is the edge of a banner's picture beside the text
DOT_MARKS = frozenset("，。、．.,·丶")
MAX_DOT_SIZE = 0.5


def without_oversized_edge_dots(boxes: list[Box], cands: Candidates,
                                 band: tuple[float, float] | None, min_prob: float,
                                 vouched: tuple[str, str] = ("", "")
                                 ) -> tuple[list[Box], Candidates]:
    """The glyphs without those at either end read best as a dot mark but too big for one,
    and without the unsure ones (`min_prob`) outside them (a speck beside the picture); an
    unsure end glyph that `vouched` vouches for stays (see `trim_unsure_ends`), an oversized
    dot never (a banner picture's bits read ，. were kept before its line: ，.r、覆盖全国)."""
    if band is None:
        return boxes, cands
    line_h = max(band[1] - band[0], 1.0)

    def oversized_dot(box: Box, c: Sequence[tuple[str, float]]) -> bool:
        size = max(box[3] - box[1], box[2] - box[0]) / line_h
        return bool(c) and c[0][0] in DOT_MARKS and size > MAX_DOT_SIZE

    def oversized_dot_or_unsure(box: Box, c: Sequence[tuple[str, float]]) -> bool:
        return not _is_sure(c, min_prob) or oversized_dot(box, c)

    if boxes:
        vouched = (vouched[0] if not oversized_dot(boxes[0], cands[0]) else "",
                   vouched[1] if not oversized_dot(boxes[-1], cands[-1]) else "")
    return _trim_ends(boxes, cands, oversized_dot_or_unsure, vouched)


# a . whose middle-dot candidate reaches this share of its probability may be · rather than ，
MIDDLE_DOT_RIVAL = 0.5


def dots_may_be_commas(cands: Candidates) -> Candidates:
    """Candidates where a glyph read best as . (and not nearly as well as the name dot ·) has
    ， at the same probability: the small comma of a Ming face at body size prints as a dot
    (or 、), and the LM should choose, as it does for the other look-alikes."""
    out = []
    for c in cands:
        if c and c[0][0] == "." and dict(c).get("·", 0.0) < MIDDLE_DOT_RIVAL * c[0][1]:
            c = [*(x for x in c if x[0] != "，"), ("，", c[0][1])]
        out.append(c)
    return out


def dots_between_hanzi_as_commas(text: str) -> str:
    """The text with each . between two hanzi turned into ，: Chinese text never sets a full
    stop as a dot (。 is a ring), while a small comma whose tail faded prints as one."""
    out = list(text)
    for k in range(1, len(out) - 1):
        if out[k] == "." and is_hanzi(out[k - 1]) and is_hanzi(out[k + 1]):
            out[k] = "，"
    return "".join(out)


DIGIT_LOOKALIKES = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}
UNIT_SIGNS = frozenset("℃°％%")


def digits_among_digits(text: str, cands: Candidates) -> str:
    """The text with a letter that looks like a digit (O, l, I, |) turned into that digit
    where it is a candidate and it stands beside a digit or before a unit sign (℃ ％), with
    no Latin letter beside it: the bigram LM cannot tell them apart there (the rare O makes an
    unseen pair look likelier than the common 0 does)."""
    out = list(text)
    changed = True
    while changed:
        changed = False
        for k, ch in enumerate(out):
            digit = DIGIT_LOOKALIKES.get(ch)
            if digit is None or digit not in dict(cands[k]):
                continue
            left = out[k - 1] if k > 0 else ""
            right = out[k + 1] if k + 1 < len(out) else ""
            if _is_latin_letter(left) or _is_latin_letter(right):
                continue
            if left.isdigit() or right.isdigit() or right in UNIT_SIGNS:
                out[k] = digit
                changed = True
    return "".join(out)


LETTER_ZEROS = frozenset("0○〇")  # what a reader makes of the letter o or O between letters


def zeros_among_letters(text: str) -> str:
    """The text with a run of zeros or circles between two Latin letters turned into the
    letter O (LOOK read as L00K), or o beside a lowercase letter (Google read G○○gle): 0 and O
    share their probability in the decoder, and the bigram LM, knowing letter pairs but no
    words, can still take the common digit; the char CNN reads a screen font's round o as the
    numeral ○."""
    out = list(text)
    for k, end in _runs(text, lambda ch: ch in LETTER_ZEROS):
        if (k > 0 and end < len(out) and _is_latin_letter(out[k - 1])
                and _is_latin_letter(out[end])):
            o = "o" if out[k - 1].islower() or out[end].islower() else "O"
            out[k:end] = o * (end - k)
    return "".join(out)


def _is_latin_letter(ch: str) -> bool:
    """A Latin letter, but none of those that look like a digit (l in ll℃ is one of a pair)."""
    return ch.isascii() and ch.isalpha() and ch not in DIGIT_LOOKALIKES


def is_hanzi(ch: str) -> bool:
    """Whether `ch` is a CJK unified ideograph of the basic block (every GB2312 hanzi is)."""
    return "\u4e00" <= ch <= "\u9fff"


def trim_unsure_ends(boxes: list[Box], cands: Candidates, min_prob: float,
                     vouched: tuple[str, str] = ("", "")) -> tuple[list[Box], Candidates]:
    """The glyphs without those at either end whose best candidate is below `min_prob`.

    `vouched`: the first and last characters of another reader's text of the line. An end glyph
    that has its end's character among its candidates is text, however unsure: the news
    screenshot's line-final 完, 14 px and JPEG'd, was 浣 0.10, 皖, 完 0.05 to the classifier
    and 完 to the line recogniser, and was cut off."""
    return _trim_ends(boxes, cands, lambda _, c: not _is_sure(c, min_prob), vouched)


def _is_sure(c: Sequence[tuple[str, float]], min_prob: float) -> bool:
    return bool(c) and c[0][1] >= min_prob


def _trim_ends(boxes: list[Box], cands: Candidates,
               drop: Callable[[Box, Sequence[tuple[str, float]]], bool],
               vouched: tuple[str, str] = ("", "")) -> tuple[list[Box], Candidates]:
    """The glyphs without the run at either end for which `drop` holds; the outermost glyph at
    an end is kept when it has that end's `vouched` character among its candidates."""
    if not boxes:
        return boxes, cands

    def vouched_for(k: int, ch: str) -> bool:
        return bool(ch) and any(c == ch for c, _ in cands[k])

    lo, hi = 0, len(boxes)
    if not vouched_for(0, vouched[0]):
        while lo < hi and drop(boxes[lo], cands[lo]):
            lo += 1
    if not (hi == len(boxes) and vouched_for(hi - 1, vouched[1])):
        while hi > lo and drop(boxes[hi - 1], cands[hi - 1]):
            hi -= 1
    return boxes[lo:hi], cands[lo:hi]
