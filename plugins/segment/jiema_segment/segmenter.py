"""Dictionary-mode word segmentation: a word DAG from a dictionary, best path by Viterbi.

Each line's lattice has one edge per dictionary occurrence (unigram log-probability), a whole
edge for every digit/Latin run, and a single-character edge for every character nothing else
covers; `jiema.viterbi` picks the best path. Matching runs on width-normalised text; the words
returned are slices of the original text, so `"".join(words) == text` always holds.

Many lines are decoded in one lattice, joined by `\\n`: no dictionary word or run contains a
newline, so every path passes through it and the joint best path is the best path of each line.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
from jiema.errors import InvalidInputError, JiemaError
from jiema.text import Dictionary, DictionaryMatcher
from jiema.text.dictionary import check_entry

from .fcn.settings import Precision

if TYPE_CHECKING:
    from .fcn.word_lattice import EditedWordList, WordList

Mode = Literal["dict", "fcn"]
MODES = ("dict", "fcn")
# characters per joint lattice: big enough to amortise per-call overhead, small enough for memory
BATCH_CHARS = 1 << 16
_WHITESPACE = re.compile(r"(\s+)")
# FCN mode: edits of the user's words (add_word, del_word, load_hard) since their automaton was
# built go in a small second automaton, until they number more than this or a tenth of the list;
# then the whole is rebuilt (a 50k-word list takes about 0.2 s).
_REBUILD_EDITS = 1000


class ModeNotAvailableError(JiemaError, NotImplementedError):
    """A segment mode that is planned but not shipped in this version."""


# Whether `jiema segment` and `cut()` use the neural tagger out of the box: only when its measured
# F on the PKU test (benchmarks/segment_sighan.py) beats dictionary mode's.
FCN_IS_DEFAULT = True


def default_mode() -> Mode:
    """`fcn` when it is the measured better mode, its model ships and torch is installed."""
    if FCN_IS_DEFAULT:
        import importlib.util

        from .fcn.tagger import model_path_default

        if model_path_default().is_file() and importlib.util.find_spec("torch") is not None:
            return "fcn"
    return "dict"


def check_mode(mode: str) -> None:
    """`dict` and `fcn` exist; anything else is a typo."""
    if mode not in MODES:
        raise InvalidInputError(
            f"unknown segment mode {mode!r}; expected one of {', '.join(MODES)}"
        )


class Segmenter:
    """Cuts text into words with a dictionary (`mode="dict"`, the shipped `pd98-dict` by default)
    or with the neural tagger (`mode="fcn"`, the shipped `pd98-fcn-fast`, `model="pd98-fcn"` for
    the ensemble it was distilled from, or `model=PATH`).

    `dictionary`: a `jiema.text.Dictionary`, a path to a jieba-format dictionary file (`word
    [freq] [tag]`), a dictionary model (.safetensors), or None for the shipped default.
    `user_dict`: an optional jieba-format file whose words are added (a missing frequency is
    suggested so the word comes out whole). Thread-safe for reading; `add_word`/`del_word`
    change the dictionary for every later call.

    FCN mode: `hard` is the user's word list (a file, lines, or a mapping word -> factor; line
    formats in `jiema_segment.word_lists`: `word`, `word,factor`, `word<TAB>factor`, jieba's
    `word freq [tag]`); a plain word gets `hard_default`, a plain single character none. A
    `user_dict` is read the same way. Decoding (fcn.word_lattice) is a word lattice over the
    tagger's log-probabilities where a user's word with a factor above 1 comes out whole wherever
    no other user word conflicts, and below 1 splits; `add_word`/`del_word` edit the user's words.
    Built-in words nudge the tagger where no user word overlaps them: with `lexicon` (the
    default) the model's training lexicon (fcn.lexicon: factor 1000 ** wordness), with
    `builtin_words` (the default) the shipped words newer than the training text
    (models/modern-words.txt: 二维码, 微信, ...). `precision`: the
    networks' arithmetic, "float32", "bfloat16", or "auto" (bfloat16 where the CPU has it
    natively: faster, same accuracy as measured in fcn.tagger). `networks`: decode with only the
    first that many networks of an ensemble model (faster; for CPUs without native bfloat16).
    """

    def __init__(
        self,
        dictionary: Dictionary | str | os.PathLike | None = None,
        *,
        user_dict: str | os.PathLike | Iterable[str] | None = None,
        mode: Mode = "dict",
        model: str | os.PathLike | None = None,
        hard: str | os.PathLike | Iterable[str] | Mapping[str, float] | None = None,
        hard_default: float | None = None,
        builtin_words: bool = True,
        lexicon: bool = True,
        precision: Precision = "auto",
        networks: int | None = None,
    ) -> None:
        check_mode(mode)
        self.mode = mode
        # guards the hard list's state: its automaton is built lazily, on the first cut, and a
        # thread must never see it half built (it would decode without the list)
        self._lock = threading.RLock()
        if mode == "fcn":
            if dictionary is not None:
                raise InvalidInputError(
                    "mode='fcn' takes model=PATH, not a dictionary (user words: user_dict/hard)"
                )
            from .fcn.tagger import (
                BUILTIN_WORDS_FACTOR,
                DEFAULT_HARD_FACTOR,
                SHIPPED_MODELS,
                FCNTagger,
                builtin_words_path,
                model_path_default,
                shipped_model_path,
            )

            path = model if model is not None else model_path_default()
            if model in SHIPPED_MODELS and not os.path.exists(model):  # by name: "pd98-fcn"
                path = shipped_model_path(model)
            if model is None and not os.path.isfile(path):
                raise ModeNotAvailableError(
                    f"segment mode 'fcn' needs a model: none is shipped at {path}; pass "
                    "model=PATH (from `jiema train segment`) or use mode='dict'"
                )
            self.tagger = FCNTagger.load(path, precision, networks)
            self.hard_default = DEFAULT_HARD_FACTOR if hard_default is None else hard_default
            # word -> factor, two tiers (fcn.word_lattice): the built-in words (the model's
            # lexicon, the post-1998 words) and the user's, which outrank them where they overlap.
            # Decoding finds them with automata built lazily; the user's edits since its
            # automaton was built go in a small second one.
            self._builtin_words: dict[str, float] = {}
            self._user_words: dict[str, float] = {}
            self._builtin: WordList | None = None
            self._user: WordList | EditedWordList | None = None
            self._user_base: WordList | None = None
            self._base_words: dict[str, float] | None = None
            self._edited: set[str] = set()
            if lexicon and self.tagger.lexicon:
                from .fcn.lexicon import lexicon_factors

                self._builtin_words.update(lexicon_factors(self.tagger.lexicon))
            if builtin_words:
                from jiema.text.dictionary import load_weighted_words

                from .fcn.word_lattice import LIST_WEIGHT

                # the tagger never saw these words (post-1998), so, like the user's, their factor
                # counts LIST_WEIGHT times; unweighted, 支付宝 came out 支付 宝 and 微信号 微 信号.
                # A user's word still silences them where it overlaps.
                modern = load_weighted_words(builtin_words_path(), BUILTIN_WORDS_FACTOR)
                self._builtin_words.update(
                    {w: f**LIST_WEIGHT for w, f in modern.items()}
                )
            if hard is not None:
                self.load_hard(hard)
            if user_dict is not None:
                self.load_user_dict(user_dict)
            return
        if hard is not None:
            raise InvalidInputError("hard-decoding lists (hard=...) need mode='fcn'")
        if precision != "auto" or networks is not None:
            raise InvalidInputError("precision and networks are for mode='fcn' (the neural tagger)")
        self.dictionary = _as_dictionary(dictionary)
        self.matcher = DictionaryMatcher(self.dictionary)
        if user_dict is not None:
            self.load_user_dict(user_dict)

    def load_hard(
        self, source: str | os.PathLike | Iterable[str] | Mapping[str, float]
    ) -> None:
        """FCN mode: add a word list (a file, lines, or a mapping word -> factor) to the user's
        words. Line formats: `jiema_segment.word_lists` (`word`, `word,factor`, `word<TAB>factor`,
        jieba's `word freq [tag]`); a plain word gets `hard_default`, one with a jieba frequency
        `factor_of_freq` (a single character neither), frequency 0 removes the word. Lines that
        fit no format are kept whole as words and counted on stderr."""
        self._need_fcn("hard-decoding lists")
        if isinstance(source, Mapping):
            words = {str(w): _as_factor(w, f) for w, f in source.items()}
            bad = [w for w, f in words.items() if not (np.isfinite(f) and f > 0)]
            if bad:
                raise InvalidInputError(
                    "hard-decoding factors must be finite and > 0; bad for: "
                    + ", ".join(bad[:5])
                )
            self._edit_user(words, ())
            return
        from .fcn.tagger import plain_word_factor
        from .word_lists import read_word_list

        entries, odd = read_word_list(source)
        if odd:
            name = os.fspath(source) if isinstance(source, str | os.PathLike) else "word list"
            sys.stderr.write(
                f"jiema: {name}: {odd} line(s) fit no word-list format; kept whole as words\n"
            )
        words, removed = {}, []
        for entry in entries:
            if entry.freq == 0:
                removed.append(entry.word)
                words.pop(entry.word, None)
            elif entry.freq is not None:  # a single character's says nothing, as a plain one
                words[entry.word] = plain_word_factor(
                    entry.word, self.factor_of_freq(entry.word, entry.freq))
            else:
                words[entry.word] = entry.factor or plain_word_factor(entry.word, self.hard_default)
        self._edit_user(words, removed)

    def factor_of_freq(self, word: str, freq: int) -> float:
        """FCN mode: the factor of a word given a jieba frequency: `hard_default * freq / F`, F
        the frequency at which dict mode cuts the word whole (the shipped dictionary's
        `suggest_freq`): at F the word counts as a plain list word, far below F it splits."""
        return self.hard_default * freq / max(_reference_dictionary().suggest_freq(word), 1)

    def _edit_user(self, words: Mapping[str, float], removed: Iterable[str]) -> None:
        with self._lock:
            for word in removed:
                self._user_words.pop(word, None)
                self._edited.add(word)
                if self._builtin_words.pop(word, None) is not None:
                    self._builtin = None
            self._user_words.update(words)
            self._edited.update(words)
            self._user = None

    def _need_fcn(self, what: str) -> None:
        if self.mode != "fcn":
            raise InvalidInputError(f"{what} need mode='fcn'")

    def _word_lists(self) -> tuple[WordList | EditedWordList | None, WordList | None]:
        """What decoding applies, the user's words and the built-in ones, their automata built
        once; after `add_word`, `del_word` or `load_hard` only a small automaton of the edited
        words is built (many edits rebuild the whole). Built under the lock, so threads cutting
        at once all get the complete lists."""
        from .fcn.word_lattice import EditedWordList, WordList

        with self._lock:
            if self._builtin is None:
                self._builtin = WordList(self._builtin_words)
            if self._user is None:
                base = self._base_words
                if base is None or len(self._edited) > max(_REBUILD_EDITS, len(base) // 10):
                    self._base_words = dict(self._user_words)
                    self._user_base = WordList(self._user_words)
                    self._edited = set()
                    self._user = self._user_base
                else:
                    edits = {w: self._user_words.get(w, 1.0) for w in self._edited}
                    assert self._user_base is not None
                    self._user = EditedWordList(self._user_base, edits)
            return self._user, self._builtin

    def load_user_dict(self, source: str | os.PathLike | Iterable[str]) -> None:
        """Add every entry of a jieba-format file (or lines); missing frequencies are suggested
        against this dictionary (so the word comes out whole), given ones are kept."""
        if not isinstance(source, str | os.PathLike):
            source = list(source)
        if self.mode == "fcn":  # a jieba-format user dictionary is a word list like any other
            self.load_hard(source)
            return
        user = Dictionary.load(source)  # validates the whole file, errors name the lines
        for word, (freq, tag) in _explicit_entries(source).items():
            if word in user:
                self.add_word(word, freq, tag)

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> int:
        """Add or update a word (`freq=None`: just enough to come out whole). Returns its id.

        FCN mode: the word joins the user's words with `hard_default`, or with a frequency its
        `factor_of_freq` (0 removes it, as `del_word`); returns -1."""
        if self.mode == "fcn":
            check_entry(word, freq, tag)  # the same words as dict mode, the same errors
            if freq == 0:
                self.del_word(word)
            else:
                factor = self.hard_default if freq is None else self.factor_of_freq(word, freq)
                self.load_hard({word: factor})
            return -1
        return self.matcher.add_word(word, freq, tag)

    def del_word(self, word: str) -> bool:
        """Remove a word; False if it was not in the dictionary (FCN: the hard list)."""
        if self.mode == "fcn":
            found = word in self._user_words or word in self._builtin_words
            self._edit_user({}, [word])
            return found
        return self.matcher.del_word(word)

    def cut(self, text: str) -> list[str]:
        """The words of `text`, in order; `"".join(result) == text`."""
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
        if "\n" in text:
            pieces = text.split("\n")
            out: list[str] = []
            for i, words in enumerate(self.cut_lines(pieces)):
                if i:
                    out.append("\n")
                out.extend(words)
            return out
        return next(iter(self.cut_lines([text])))

    def cut_lines(self, lines: Iterable[str]) -> Iterator[list[str]]:
        """The words of each line (no newlines inside), streaming, decoded in joint batches."""
        batch: list[str] = []
        size = 0
        for line in lines:
            batch.append(line)
            size += len(line) + 1
            if size >= BATCH_CHARS:
                yield from self._cut_batch(batch)
                batch, size = [], 0
        if batch:
            yield from self._cut_batch(batch)

    def _cut_batch(self, lines: list[str]) -> list[list[str]]:
        if self.mode == "fcn":
            return self._cut_batch_fcn(lines)
        import jiema

        text = "\n".join(lines)
        if not text:
            return [[] for _ in lines]
        lattice = self.matcher.lattice(text)
        path = jiema.viterbi(lattice)
        ends = lattice.ends[path.nodes]
        starts = np.concatenate(([0], ends[:-1]))
        words = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        out: list[list[str]] = [[]]
        for w in words:
            if w == "\n":
                out.append([])
            else:
                out[-1].append(w)
        return out

    def _cut_batch_fcn(self, lines: list[str]) -> list[list[str]]:
        """Each whitespace character is a word of its own (as in dict mode and jieba); the text
        between whitespace runs is tagged, every piece of every line in one batch."""
        from jiema.checkpoints import hold_threads

        from .fcn._torch import require_torch
        from .fcn.word_lattice import decode_words

        pieces = [_WHITESPACE.split(line) for line in lines]
        chunks = [p for parts in pieces for p in parts[::2] if p]
        user, builtin = self._word_lists()
        # the core's parallel Numba kernels set OpenMP's thread count, which is torch's, to
        # Numba's: put back the caller's (torch.set_num_threads) for the next forward pass
        threads = require_torch().get_num_threads()
        cut = iter(decode_words(chunks, self.tagger.log_probs(chunks), user, builtin,
                                self.hard_default))
        hold_threads(threads)
        out: list[list[str]] = []
        for parts in pieces:
            words: list[str] = []
            for i, part in enumerate(parts):
                if not part:
                    continue
                if i % 2:
                    words.extend(part)
                else:
                    words.extend(next(cut))
            out.append(words)
        return out

    def __call__(self, text: str) -> list[str]:
        return self.cut(text)

    # jieba's verbs -------------------------------------------------------------------------

    def lcut(self, text: str) -> list[str]:
        """jieba's name for `cut` (which already returns a list)."""
        return self.cut(text)

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """`(word, start, end)` for each word of `text`, character offsets (as jieba's
        `tokenize`, default mode); each whitespace character is a word too, as in `cut`."""
        return word_spans(self.cut(text))

    def cut_for_search(self, text: str) -> list[str]:
        """jieba's search-engine mode: each word, preceded by the known words of two and three
        characters inside it when it is longer (dictionary words in dict mode; the user's and
        built-in words in fcn mode)."""
        out: list[str] = []
        for word in self.cut(text):
            for n in (2, 3):
                if len(word) > n:
                    out.extend(
                        word[i : i + n] for i in range(len(word) - n + 1)
                        if self._knows(word[i : i + n])
                    )
            out.append(word)
        return out

    def _knows(self, word: str) -> bool:
        if self.mode == "fcn":
            return self._user_words.get(word, 1.0) > 1.0 or word in self._builtin_words
        return word in self.dictionary

    def load_userdict(self, source: str | os.PathLike | Iterable[str]) -> None:
        """jieba's name for `load_user_dict`."""
        self.load_user_dict(source)

    def suggest_freq(self, segment: str | tuple[str, ...], tune: bool = False) -> int:
        """jieba's `suggest_freq`: for a word (a str), the frequency at which it comes out whole;
        for pieces (a tuple), one at which their join splits into them. With `tune`, the word is
        added with it (fcn mode: a whole word gets `hard_default`, pieces' join 1 / hard_default).
        Frequencies are the dictionary's (fcn mode: the shipped one's)."""
        if isinstance(segment, str):
            pieces: tuple[str, ...] = (segment,)
        elif isinstance(segment, tuple) and all(isinstance(p, str) for p in segment):
            pieces = segment
        else:
            raise InvalidInputError(f"segment must be a str or a tuple of str, got {segment!r}")
        word = "".join(pieces)
        if not word:
            raise InvalidInputError("suggest_freq needs a non-empty word")
        dictionary = self.dictionary if self.mode == "dict" else _reference_dictionary()
        if len(pieces) == 1:
            freq = dictionary.suggest_freq(word)
        else:
            import math

            logp = sum(dictionary.log_prob(p) if p in dictionary else dictionary.oov_log_prob
                       for p in pieces)
            freq = max(int(math.exp(logp) * max(dictionary.total, 1)), 0)
            if word in dictionary:
                freq = min(freq, dictionary.freq(word))
        if tune:
            if self.mode == "dict" and freq == 0:
                self.del_word(word)  # as jieba: a frequency of 0 takes the word out
            elif self.mode == "dict":
                self.add_word(word, freq)
            else:
                factor = self.hard_default if len(pieces) == 1 else 1 / self.hard_default
                self.load_hard({word: factor})
        return freq


def word_spans(words: Iterable[str]) -> list[tuple[str, int, int]]:
    """`(word, start, end)` character offsets of consecutive words (which join to their text)."""
    out, at = [], 0
    for word in words:
        out.append((word, at, at + len(word)))
        at += len(word)
    return out


def _as_factor(word: object, factor: object) -> float:
    """A hard-decoding factor given in a mapping, as a float (a one-line error otherwise)."""
    try:
        return float(factor)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"hard-decoding factor of {word!r} must be a number, got {factor!r}"
        ) from None


def _explicit_entries(
    source: str | os.PathLike | list[str],
) -> dict[str, tuple[int | None, str | None]]:
    """word -> (frequency or None when the line gives none, tag) for a validated user file."""
    if isinstance(source, str | os.PathLike):
        from jiema.corpus import read_lines

        lines: Iterable[str] = (rec.text for rec in read_lines(source))
    else:
        lines = source
    out: dict[str, tuple[int | None, str | None]] = {}
    for number, text in enumerate(lines):
        fields = (text.removeprefix("\ufeff") if number == 0 else text).split()
        if not fields or fields[0].startswith("#"):
            continue
        given = len(fields) > 1 and fields[1].isascii() and fields[1].isdigit()
        freq = int(fields[1]) if given else None
        tag = fields[-1] if len(fields) == 3 or (len(fields) == 2 and freq is None) else None
        out[fields[0]] = (freq, tag)
    return out


def _as_dictionary(dictionary: Dictionary | str | os.PathLike | None) -> Dictionary:
    from .dictionary_model import default_dictionary_path, load_dictionary_model

    if dictionary is None:
        return load_dictionary_model(default_dictionary_path())
    if isinstance(dictionary, Dictionary):
        return dictionary
    if isinstance(dictionary, str | os.PathLike):
        path = os.fspath(dictionary)
        if path.endswith((".safetensors", ".json")) or os.path.isdir(path):
            return load_dictionary_model(path)
        return Dictionary.load(path)
    raise InvalidInputError(
        "dictionary must be a Dictionary, a path to a jieba-format file or dictionary model, "
        f"or None; got {type(dictionary).__name__}"
    )


@functools.lru_cache(maxsize=1)
def _reference_dictionary() -> Dictionary:
    """The shipped dictionary, which gives jieba frequencies their meaning in fcn mode."""
    return _as_dictionary(None)


_DEFAULTS: dict[str, Segmenter] = {}
_DEFAULTS_LOCK = threading.Lock()  # threads asking at once share one default, built once


def default_segmenter(mode: Mode | None = None) -> Segmenter:
    """One shared Segmenter per mode over the shipped model, built on first use (mode None:
    `default_mode()`)."""
    mode = mode or default_mode()
    check_mode(mode)
    with _DEFAULTS_LOCK:
        seg = _DEFAULTS.get(mode)
        if seg is None:
            seg = _DEFAULTS[mode] = Segmenter(mode=mode)
        return seg


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """`(word, start, end)` for each word, by the default segmenter (jieba's `tokenize`)."""
    return default_segmenter().tokenize(text)


def lcut(text: str) -> list[str]:
    """The words of `text` by the default segmenter (jieba's `lcut`)."""
    return default_segmenter().cut(text)


def cut_for_search(text: str) -> list[str]:
    """jieba's search-engine mode with the default segmenter (`Segmenter.cut_for_search`)."""
    return default_segmenter().cut_for_search(text)


lcut_for_search = cut_for_search


def add_word(word: str, freq: int | None = None, tag: str | None = None) -> int:
    """Add a word to the default segmenter (jieba's `add_word`; changes every later call)."""
    return default_segmenter().add_word(word, freq, tag)


def del_word(word: str) -> bool:
    """Remove a word from the default segmenter (jieba's `del_word`)."""
    return default_segmenter().del_word(word)


def load_userdict(source: str | os.PathLike | Iterable[str]) -> None:
    """Add a user dictionary to the default segmenter (jieba's `load_userdict`)."""
    default_segmenter().load_user_dict(source)


def suggest_freq(segment: str | tuple[str, ...], tune: bool = False) -> int:
    """jieba's `suggest_freq` on the default segmenter (`Segmenter.suggest_freq`)."""
    return default_segmenter().suggest_freq(segment, tune)


def cut(
    text: str,
    mode: Mode | None = None,
    user_dict: str | os.PathLike | Iterable[str] | None = None,
    hard: str | os.PathLike | Iterable[str] | Mapping[str, float] | None = None,
) -> list[str]:
    """Cut `text` into words (mode None: `default_mode()`). `mode="dict"`: the shipped
    dictionary; `mode="fcn"`: the shipped neural tagger (needs torch), with `hard` as a
    hard-decoding list. With `user_dict` (a
    jieba-format file) or `hard`, a fresh Segmenter is built for this call."""
    mode = mode or default_mode()
    check_mode(mode)
    if user_dict is None and hard is None:
        return default_segmenter(mode).cut(text)
    return Segmenter(mode=mode, user_dict=user_dict, hard=hard).cut(text)
