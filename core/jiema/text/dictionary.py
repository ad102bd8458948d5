"""Word dictionaries in jieba's file format, with stable vocabulary ids and log-probabilities.

File format (jieba's `dict.txt` / user dictionaries), UTF-8, one entry per line::

    word [freq] [tag]

Fields are separated by whitespace, so a word never contains whitespace. `freq` is a
non-negative integer written in ASCII digits. With two fields, a second field that starts with
an ASCII letter is a tag (`云计算 n`, as jieba's user dictionaries allow) and anything else must
be the frequency. A missing frequency is suggested (see `Dictionary.suggest_freq`). Blank lines
and a UTF-8 BOM at the start are ignored; a line whose first character is `#` is a comment
(so a word beginning with `#` can live in a Dictionary but cannot be saved to a file). When a
word appears twice, the later line wins (a missing tag keeps the earlier one); its id is the
one it got first.

Ids are positions in `words` and stay stable for the life of a Dictionary: `del_word` leaves a
hole (frequency 0, log-probability -inf, not `in` the dictionary) and re-adding the word gives
its old id back. Loading a file numbers its words 0, 1, ... in file order.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ..errors import DictionaryFormatError, InvalidInputError, UnknownNameError

__all__ = ["Dictionary", "Entry", "load_weighted_words", "MAX_LISTED_PROBLEMS"]

MAX_LISTED_PROBLEMS = 20
_FREQ = re.compile(r"^[0-9]+$")
_HAS_SPACE = re.compile(r"\s")


class Entry(NamedTuple):
    """What a dictionary holds for one word."""

    id: int
    freq: int
    tag: str | None


def _raise_problems(name: str, problems: list[tuple[int, str]], expected: str) -> None:
    """One DictionaryFormatError listing the first MAX_LISTED_PROBLEMS bad lines, plus a count."""
    if not problems:
        return
    shown = problems[:MAX_LISTED_PROBLEMS]
    lines = [f"  line {number}: {what}" for number, what in shown]
    if len(problems) > len(shown):
        lines.append(f"  ... and {len(problems) - len(shown)} more malformed line(s)")
    plural = "s" if len(problems) != 1 else ""
    err = DictionaryFormatError(
        f"{name}: {len(problems)} malformed line{plural} (expected {expected}):\n"
        + "\n".join(lines)
    )
    err.file = name  # type: ignore[attr-defined]
    err.problems = problems  # type: ignore[attr-defined]
    raise err


def _numbered_lines(
    source: str | os.PathLike | Iterable[str],
) -> tuple[str, Iterator[tuple[int, str]]]:
    """(name, (line number, text)) from a path (strict UTF-8, see jiema.corpus) or str lines."""
    if isinstance(source, str | os.PathLike):
        from ..corpus import read_lines

        name = os.fspath(source)
        return str(name), ((rec.line, rec.text) for rec in read_lines(source))

    def from_lines() -> Iterator[tuple[int, str]]:
        for number, text in enumerate(source, 1):
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")

    return "<lines>", from_lines()


def _snippet(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _parse_dictionary_line(text: str) -> tuple[str, int | None, str | None] | str:
    """The entry on a line, or a string saying what is wrong with it."""
    fields = text.split()
    if len(fields) > 3:
        return f"too many fields ({len(fields)}): {_snippet(text)}"
    word = fields[0]
    freq: int | None = None
    tag: str | None = None
    if len(fields) == 3:
        freq_field, tag = fields[1], fields[2]
    elif len(fields) == 2:
        second = fields[1]
        if second[0].isascii() and second[0].isalpha():
            freq_field, tag = None, second
        else:
            freq_field = second
    else:
        freq_field = None
    if freq_field is not None:
        if not _FREQ.match(freq_field):
            return f"frequency {freq_field!r} is not a non-negative integer: {_snippet(text)}"
        freq = int(freq_field)
    return word, freq, tag


def check_entry(word: object, freq: object = None, tag: object = None) -> None:
    """What `add_word` accepts, checked once for every segmenter mode: a non-empty word without
    whitespace, a non-negative integer frequency or None, a tag without whitespace or None."""
    if not isinstance(word, str) or not word:
        raise InvalidInputError(f"a dictionary word must be a non-empty string, got {word!r}")
    if _HAS_SPACE.search(word):
        raise InvalidInputError(
            f"dictionary words cannot contain whitespace (the file format splits on it): {word!r}"
        )
    if tag is not None and (not isinstance(tag, str) or not tag or _HAS_SPACE.search(tag)):
        raise InvalidInputError(f"a tag must be a non-empty string without whitespace, got {tag!r}")
    if freq is not None and (
        isinstance(freq, bool) or not isinstance(freq, int | np.integer) or freq < 0
    ):
        raise InvalidInputError(f"freq must be a non-negative integer or None, got {freq!r}")


class Dictionary:
    """word -> (frequency, tag), with stable ids and log-probabilities `log(freq / total)`.

    `total` is the sum of the frequencies of the words present. A frequency of 0 is allowed and
    scores like 1 (jieba's rule), so every present word has a finite log-probability.
    """

    def __init__(self, entries: Iterable[tuple[str, int | None, str | None]] | None = None) -> None:
        self._words: list[str] = []
        self._freqs: list[int] = []
        self._tags: list[str | None] = []
        self._live: list[bool] = []
        self._ids: dict[str, int] = {}
        self._total = 0
        self._version = 0
        self._arrays: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None
        for word, freq, tag in entries or ():
            self.add_word(word, freq, tag)

    # --- construction and files -------------------------------------------------------------

    @classmethod
    def from_words(cls, words: Iterable[str], freq: int = 1) -> Dictionary:
        """Every word with the same frequency (a plain word list for matching)."""
        return cls((word, freq, None) for word in words)

    @classmethod
    def load(
        cls, source: str | os.PathLike | Iterable[str], *, comments: bool = True
    ) -> Dictionary:
        """Read a jieba-format dictionary from a path or from lines of text.

        Every malformed line is reported in one DictionaryFormatError (file name, line numbers,
        the first 20 listed). Bytes that are not UTF-8 raise InputDecodeError with the byte offset.
        """
        name, lines = _numbered_lines(source)
        entries: list[tuple[str, int | None, str | None]] = []
        problems: list[tuple[int, str]] = []
        for number, text in lines:
            if not text.strip() or (comments and text.startswith("#")):
                continue
            parsed = _parse_dictionary_line(text)
            if isinstance(parsed, str):
                problems.append((number, parsed))
            else:
                entries.append(parsed)
        _raise_problems(name, problems, "'word [freq] [tag]' with freq a non-negative integer")
        d = cls()
        d._add_parsed(entries)
        return d

    @classmethod
    def loads(cls, text: str, *, comments: bool = True) -> Dictionary:
        """`load` from a string holding the whole file."""
        return cls.load(text.splitlines(), comments=comments)

    def dumps(self) -> str:
        """The file text: present words in id order, `word freq` or `word freq tag` per line."""
        unsaveable = [w for w in self if w.startswith("#")]
        if unsaveable:
            raise DictionaryFormatError(
                f"{len(unsaveable)} word(s) start with '#' and would read back as comments: "
                f"{', '.join(map(repr, unsaveable[:MAX_LISTED_PROBLEMS]))}"
            )
        out = []
        for i, word in enumerate(self._words):
            if self._live[i]:
                tag = self._tags[i]
                fields = (word, str(self._freqs[i]), tag) if tag else (word, str(self._freqs[i]))
                out.append(" ".join(fields) + "\n")
        return "".join(out)

    def save(self, path: str | os.PathLike) -> None:
        """Write the jieba-format file (UTF-8, `\\n` line ends); `load` reads back the same words,
        frequencies and tags (ids become compact if words were deleted)."""
        from ..atomic import write_text

        write_text(path, self.dumps())

    # --- editing ----------------------------------------------------------------------------

    def _add_parsed(self, entries: list[tuple[str, int | None, str | None]]) -> None:
        """`add_word` for entries the file parser already checked; the fast path for big files."""
        ids, words, freqs, tags, live = self._ids, self._words, self._freqs, self._tags, self._live
        for word, freq, tag in entries:
            i = ids.get(word)
            if freq is None or i is not None:  # suggestions and duplicates: the general path
                self.add_word(word, freq, tag)
                continue
            ids[word] = len(words)
            words.append(word)
            freqs.append(freq)
            tags.append(tag)
            live.append(True)
            self._total += freq
        self._version += 1

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> int:
        """Add or update a word and return its id.

        `freq=None` uses `suggest_freq(word)`: just enough for the word to beat its best split
        into dictionary pieces, and never less than its current frequency (jieba's rule), so
        an added word is found as one token. `tag=None` keeps an existing tag.
        """
        check_entry(word, freq, tag)
        freq = self.suggest_freq(word) if freq is None else int(freq)
        i = self._ids.get(word)
        if i is None:
            i = len(self._words)
            self._ids[word] = i
            self._words.append(word)
            self._freqs.append(freq)
            self._tags.append(tag)
            self._live.append(True)
        else:
            if self._live[i]:
                self._total -= self._freqs[i]
            self._live[i] = True
            self._freqs[i] = freq
            if tag is not None:
                self._tags[i] = tag
        self._total += freq
        self._version += 1
        return i

    def del_word(self, word: str) -> bool:
        """Remove a word (its id stays reserved for it); False if it was not present."""
        i = self._ids.get(word)
        if i is None or not self._live[i]:
            return False
        self._live[i] = False
        self._total -= self._freqs[i]
        self._freqs[i] = 0
        self._version += 1
        return True

    def suggest_freq(self, word: str) -> int:
        """The smallest frequency at which `word` as one token outscores its best split into two
        or more pieces under the current dictionary (a character that is not a word counts as
        frequency 1), and at least its current frequency (1 for a new word).

        `floor(P(best split) * total) + 1`, like jieba's `suggest_freq(word, tune=False)`.
        """
        current = self.freq(word) if word in self else 1
        n = len(word)
        if n < 2:
            return max(current, 1)
        log_total = math.log(max(self._total, 1))
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] == -math.inf:
                continue
            for j in range(i + 1, n + 1 if i > 0 else n):
                piece = word[i:j]
                k = self._ids.get(piece)
                if k is not None and self._live[k]:
                    score = math.log(max(self._freqs[k], 1)) - log_total
                elif j == i + 1:
                    score = -log_total
                else:
                    continue
                if best[i] + score > best[j]:
                    best[j] = best[i] + score
        split = int(math.exp(best[n]) * max(self._total, 1)) + 1
        return max(split, current)

    # --- lookup -----------------------------------------------------------------------------

    def __contains__(self, word: object) -> bool:
        i = self._ids.get(word)  # type: ignore[call-overload]
        return i is not None and self._live[i]

    def __len__(self) -> int:
        """Number of words present (deleted ones excluded); see `vocab_size` for the id range."""
        return len(self._ids) - self._live.count(False)

    def __iter__(self) -> Iterator[str]:
        """Present words in id order."""
        return (w for w, live in zip(self._words, self._live, strict=True) if live)

    def __repr__(self) -> str:
        return f"Dictionary({len(self)} words, total={self._total})"

    def items(self) -> Iterator[tuple[str, Entry]]:
        """(word, Entry) for present words in id order."""
        for i, word in enumerate(self._words):
            if self._live[i]:
                yield word, Entry(i, self._freqs[i], self._tags[i])

    def get(self, word: str) -> Entry | None:
        i = self._ids.get(word)
        if i is None or not self._live[i]:
            return None
        return Entry(i, self._freqs[i], self._tags[i])

    def id_of(self, word: str) -> int:
        """The id of a present word; UnknownNameError (a KeyError) otherwise."""
        i = self._ids.get(word)
        if i is None or not self._live[i]:
            raise UnknownNameError(f"{word!r} is not in the dictionary ({len(self)} words)")
        return i

    def freq(self, word: str) -> int:
        return self._freqs[self.id_of(word)]

    def tag(self, word: str) -> str | None:
        return self._tags[self.id_of(word)]

    def log_prob(self, word: str) -> float:
        """`log(max(freq, 1) / total)` for a present word, -inf for any other."""
        i = self._ids.get(word)
        if i is None or not self._live[i]:
            return -math.inf
        return math.log(max(self._freqs[i], 1)) - math.log(max(self._total, 1))

    @property
    def total(self) -> int:
        """Sum of the frequencies of present words."""
        return self._total

    @property
    def vocab_size(self) -> int:
        """Size of the id range (present + deleted words): the length of the id-indexed arrays."""
        return len(self._words)

    @property
    def version(self) -> int:
        """Bumped by every edit, so caches (a matcher's automaton) know when to rebuild."""
        return self._version

    @property
    def oov_log_prob(self) -> float:
        """The log-probability of a frequency-1 word, `-log(total)`: jieba's score for unknowns."""
        return -math.log(max(self._total, 1))

    def _present(self) -> tuple[list[int], list[str]]:
        """(ids, words) of present words in id order, for bulk consumers such as the matcher."""
        ids = [i for i, live in enumerate(self._live) if live]
        return ids, [self._words[i] for i in ids]

    def _cached_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._arrays is None or self._arrays[0] != self._version:
            words = np.array(self._words, dtype=object)
            freqs = np.array(self._freqs, dtype=np.int64)
            live = np.array(self._live, dtype=bool)
            logp = np.full(len(self._words), -np.inf)
            logp[live] = np.log(np.maximum(freqs[live], 1)) - math.log(max(self._total, 1))
            for a in (words, freqs, logp):
                a.setflags(write=False)
            self._arrays = (self._version, words, freqs, logp)
        return self._arrays[1], self._arrays[2], self._arrays[3]

    @property
    def words(self) -> np.ndarray:
        """Read-only object array id -> word (deleted ids keep their word)."""
        return self._cached_arrays()[0]

    @property
    def freqs(self) -> np.ndarray:
        """Read-only int64 array id -> frequency (0 for deleted ids)."""
        return self._cached_arrays()[1]

    def log_probs(self) -> np.ndarray:
        """Read-only float64 array id -> `log_prob` (-inf for deleted ids); cached per version."""
        return self._cached_arrays()[2]


def load_weighted_words(
    source: str | os.PathLike | Iterable[str],
    default: float | Callable[[str], float],
    *,
    comments: bool = True,
) -> dict[str, float]:
    """Read a `word,multiplier` list (e.g. `科学空间,10`); a line with no comma is the word
    with the caller's `default` multiplier (a number, or a function of the word).

    Spaces around fields are stripped; multipliers are finite positive numbers; blank lines, a
    BOM and (with `comments`) `#` lines are ignored; a repeated word takes its last multiplier.
    Malformed lines (empty word, bad or non-positive multiplier, more than one comma) are all
    reported in one DictionaryFormatError; non-UTF-8 bytes raise InputDecodeError.
    """
    name, lines = _numbered_lines(source)
    out: dict[str, float] = {}
    problems: list[tuple[int, str]] = []
    for number, text in lines:
        stripped = text.strip()
        if not stripped or (comments and stripped.startswith("#")):
            continue
        fields = [f.strip() for f in stripped.split(",")]
        if len(fields) > 2:
            problems.append((number, f"too many fields ({len(fields)}): {_snippet(text)}"))
            continue
        word = fields[0]
        if not word:
            problems.append((number, f"empty word: {_snippet(text)}"))
            continue
        if len(fields) == 1:
            out[word] = float(default(word) if callable(default) else default)
            continue
        try:
            value = float(fields[1])
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            problems.append(
                (
                    number,
                    f"multiplier {fields[1]!r} is not a finite positive number: {_snippet(text)}",
                )
            )
            continue
        out[word] = value
    _raise_problems(name, problems, "'word' or 'word,multiplier' with a positive multiplier")
    return out
