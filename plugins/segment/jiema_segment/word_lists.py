"""Reading users' word lists as users have them, for fcn mode's `--hard-dict` and user dictionaries.

One line, one word; what may follow it (checked on the raw line, in this order):

* `word<TAB>factor`: a tab separates a factor (the last tab on the line);
* `word,factor`: the last ASCII comma, followed by a number, separates a factor, unless it is a
  thousands separator (a digit before it and exactly three digits after, to the end of the
  line): `4,200` and `10,560,770` are words, as is `17,092亿`; give such a word a factor with a
  tab;
* `word freq [tag]` (jieba's user dictionaries): a last space-separated field of ASCII digits is
  a frequency, optionally followed by a tag of ASCII letters; `word tag` with a tag of one to three
  lower-case ASCII letters (`云计算 n`) after a word that does not end in a Latin letter. Frequency
  0 removes the word, as in jieba;
* anything else is the word, spaces (U+3000 too) and commas included.

A line whose factor is not a finite number above 0 (`词,-1`, `词<TAB>x`) fits no format: it is
kept whole as a word and counted, so a run reports it and goes on. Blank lines, `#` comments and
a BOM are skipped.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["ListEntry", "read_word_list"]

_THOUSANDS = re.compile(r"[0-9],[0-9]{3}$")
_FREQ = re.compile(r"[0-9]+$")
_TAG = re.compile(r"[A-Za-z]+$")
_SHORT_TAG = re.compile(r"[a-z]{1,3}$")


class ListEntry(NamedTuple):
    """One word: its factor (None: the list's default), or a jieba frequency (0: remove it)."""

    word: str
    factor: float | None = None
    freq: int | None = None


def _factor(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def parse_list_line(text: str) -> tuple[ListEntry, bool]:
    """The entry on one (non-blank) line, and whether the line fit a format."""
    line = text.strip()
    if "\t" in line:
        word, _, value = line.rpartition("\t")
        factor = _factor(value)
        if factor is None or not word.strip():
            return ListEntry(line), False
        return ListEntry(word.strip(), factor), True
    if "," in line and not _THOUSANDS.search(line):
        word, _, value = line.rpartition(",")
        factor = _factor(value)
        if factor is not None and word.strip():
            return ListEntry(word.strip(), factor), True
        if _is_number(value):
            return ListEntry(line), False  # `词,-1`, `词,0`: a factor that is not one
    fields = line.split(" ")
    if len(fields) >= 3 and _FREQ.match(fields[-2]) and _TAG.match(fields[-1]):
        word = " ".join(fields[:-2]).strip()
        if word:
            return ListEntry(word, freq=int(fields[-2])), True
    if len(fields) >= 2 and _FREQ.match(fields[-1]):
        word = " ".join(fields[:-1]).strip()
        if word:
            return ListEntry(word, freq=int(fields[-1])), True
    if len(fields) == 2 and _SHORT_TAG.match(fields[1]) and not _TAG.search(fields[0][-1:]):
        return ListEntry(fields[0]), True
    return ListEntry(line), True


def _is_number(value: str) -> bool:
    """A comma's right side that was meant as a factor (a number, valid or not)."""
    try:
        float(value.strip())
    except ValueError:
        return False
    return True


def read_word_list(source: str | os.PathLike | Iterable[str]) -> tuple[list[ListEntry], int]:
    """The entries of a word list (a path, strict UTF-8, or lines) and the number of lines that
    fit no format (kept whole as words)."""
    from jiema.text.dictionary import _numbered_lines

    _, lines = _numbered_lines(source)
    entries: list[ListEntry] = []
    odd = 0
    for _, text in lines:
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        entry, fits = parse_list_line(text)
        entries.append(entry)
        odd += not fits
    return entries, odd
