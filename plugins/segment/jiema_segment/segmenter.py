"""Dictionary-mode word segmentation: a word DAG from a dictionary, best path by Viterbi.

Each line's lattice has one edge per dictionary occurrence (unigram log-probability), a whole
edge for every digit/Latin run, and a single-character edge for every character nothing else
covers; `jiema.viterbi` picks the best path. Matching runs on width-normalised text; the words
returned are slices of the original text, so `"".join(words) == text` always holds.

Many lines are decoded in one lattice, joined by `\\n`: no dictionary word or run contains a
newline, so every path passes through it and the joint best path is the best path of each line.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
from jiema.errors import InvalidInputError, JiemaError
from jiema.text import Dictionary, DictionaryMatcher
from jiema.text.dictionary import check_entry

from .fcn.settings import Precision

if TYPE_CHECKING:
    from .fcn.tagger import HardDictionary, HardLayers

Mode = Literal["dict", "fcn"]
MODES = ("dict", "fcn")
# characters per joint lattice: big enough to amortise per-call overhead, small enough for memory
BATCH_CHARS = 1 << 16
_WHITESPACE = re.compile(r"(\s+)")
# FCN mode: edits of the hard list (add_word, del_word, load_hard) since its automaton was built
# go in a small second automaton, until they number more than this or a tenth of the list;
# then the whole is rebuilt (the shipped lexicon alone, 52k words, takes about 0.2 s).
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
    or with the neural tagger (`mode="fcn"`, the shipped `pd98-fcn` or `model=PATH`).

    `dictionary`: a `jiema.text.Dictionary`, a path to a jieba-format dictionary file (`word
    [freq] [tag]`), a dictionary model (.safetensors), or None for the shipped default.
    `user_dict`: an optional jieba-format file whose words are added (a missing frequency is
    suggested so the word comes out whole). Thread-safe for reading; `add_word`/`del_word`
    change the dictionary for every later call.

    FCN mode: `hard` is a hard-decoding word list (`word,factor` lines, a file, or a mapping
    word -> factor; plain words get `hard_default`, except single characters, which get none: a
    list's single characters say nothing); a `user_dict` (jieba format) is added to it the same
    way. `add_word`/`del_word` edit that list (`add_word` gives any word `hard_default`). With
    `builtin_words` (the default) the list starts with the shipped words newer than the training
    text (models/modern-words.txt: 二维码, 微信, ...); a user factor for one of them replaces it.
    With `lexicon` (the default) it starts, before those, with the model's training lexicon
    (fcn.lexicon: its words of two or more characters, factor 1000 ** wordness), if it has one;
    a plain list word that the lexicon holds keeps the lexicon's factor. `precision`: the
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
                FCNTagger,
                builtin_words_path,
                model_path_default,
            )

            path = model if model is not None else model_path_default()
            if model is None and not os.path.isfile(path):
                raise ModeNotAvailableError(
                    f"segment mode 'fcn' needs a model: none is shipped at {path}; pass "
                    "model=PATH (from `jiema train segment`) or use mode='dict'"
                )
            self.tagger = FCNTagger.load(path, precision, networks)
            self.hard_default = DEFAULT_HARD_FACTOR if hard_default is None else hard_default
            # word -> factor: the hard list as edited; decoding applies `_hard`, built lazily
            # as the automaton of `_base_words` plus a small one for the words edited since
            self._hard_words: dict[str, float] = {}
            self._hard: HardDictionary | HardLayers | None = None
            self._hard_base: HardDictionary | None = None
            self._base_words: dict[str, float] | None = None
            self._edited: set[str] = set()
            self._lexicon: dict[str, float] = {}
            if lexicon and self.tagger.lexicon:
                from .fcn.lexicon import lexicon_factors

                self._lexicon = lexicon_factors(self.tagger.lexicon)
                self._hard_words.update(self._lexicon)
            if builtin_words:
                from jiema.text.dictionary import load_weighted_words

                self._hard_words.update(
                    load_weighted_words(builtin_words_path(), BUILTIN_WORDS_FACTOR)
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
        """FCN mode: add a hard-decoding list (`word,factor` lines; plain words get the default)."""
        from jiema.text.dictionary import load_weighted_words

        self._need_fcn("hard-decoding lists")
        if isinstance(source, Mapping):
            words = {str(w): _as_factor(w, f) for w, f in source.items()}
            bad = [w for w, f in words.items() if not (np.isfinite(f) and f > 0)]
            if bad:
                raise InvalidInputError(
                    "hard-decoding factors must be finite and > 0; bad for: "
                    + ", ".join(bad[:5])
                )
        else:
            words = load_weighted_words(source, self._plain_factor)
        with self._lock:
            self._hard_words.update(words)
            self._edited.update(words)
            self._hard = None

    def _plain_factor(self, word: str) -> float:
        """A plain list word's factor: the lexicon's, if the model's lexicon holds the word (it
        knows how often the string is a word); otherwise `hard_default`, or none for a single
        character (`fcn.tagger.plain_word_factor`)."""
        from .fcn.tagger import plain_word_factor

        known = self._lexicon.get(word)
        return known if known is not None else plain_word_factor(word, self.hard_default)

    def _need_fcn(self, what: str) -> None:
        if self.mode != "fcn":
            raise InvalidInputError(f"{what} need mode='fcn'")

    def _hard_dictionary(self) -> HardDictionary | HardLayers | None:
        """What decoding applies: the list's automaton, built once, and, after `add_word`,
        `del_word` or `load_hard`, a small one that turns each edited word's built factor into
        its new one (log factors add). Many edits rebuild the whole. Built under the lock, so
        threads cutting at once all get the complete list."""
        with self._lock:
            if self._hard is None:
                self._hard = self._build_hard_dictionary()
            return self._hard

    def _build_hard_dictionary(self) -> HardDictionary | HardLayers | None:
        from .fcn.tagger import HardDictionary, HardLayers

        base = self._base_words
        ratios: dict[str, float] | None = None
        if base is not None and len(self._edited) <= max(_REBUILD_EDITS, len(base) // 10):
            now = {w: (self._hard_words.get(w, 1.0), base.get(w, 1.0)) for w in self._edited}
            ratios = {w: new / old for w, (new, old) in now.items() if new != old}
            if not all(np.isfinite(r) and r > 0 for r in ratios.values()):
                ratios = None  # a ratio out of float range: rebuild instead
        if ratios is None:
            self._base_words = dict(self._hard_words)
            self._hard_base = HardDictionary(self._hard_words) if self._hard_words else None
            self._edited = set()
            ratios = {}
        edits = HardDictionary(ratios) if ratios else None
        layers = [h for h in (self._hard_base, edits) if h is not None]
        return layers[0] if len(layers) == 1 else HardLayers(layers) if layers else None

    def load_user_dict(self, source: str | os.PathLike | Iterable[str]) -> None:
        """Add every entry of a jieba-format file (or lines); missing frequencies are suggested
        against this dictionary (so the word comes out whole), given ones are kept."""
        if not isinstance(source, str | os.PathLike):
            source = list(source)
        if self.mode == "fcn":  # a jieba-format user dictionary is a hard-decoding list
            self.load_hard({w: self._plain_factor(w) for w in Dictionary.load(source)})
            return
        user = Dictionary.load(source)  # validates the whole file, errors name the lines
        for word, (freq, tag) in _explicit_entries(source).items():
            if word in user:
                self.add_word(word, freq, tag)

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> int:
        """Add or update a word (`freq=None`: just enough to come out whole). Returns its id.

        FCN mode: the word joins the hard-decoding list with the default factor (returns -1)."""
        if self.mode == "fcn":
            check_entry(word, freq, tag)  # the same words as dict mode, the same errors
            self.load_hard({word: self.hard_default})
            return -1
        return self.matcher.add_word(word, freq, tag)

    def del_word(self, word: str) -> bool:
        """Remove a word; False if it was not in the dictionary (FCN: the hard list)."""
        if self.mode == "fcn":
            with self._lock:
                found = self._hard_words.pop(word, None) is not None
                self._edited.add(word)
                self._hard = None
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
        pieces = [_WHITESPACE.split(line) for line in lines]
        chunks = [p for parts in pieces for p in parts[::2] if p]
        cut = iter(self.tagger.cut_lines(chunks, self._hard_dictionary()))
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
