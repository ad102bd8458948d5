"""Sentence templates: word sequences with `[X]` slots, and a counted set of them."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from jiema.errors import InvalidInputError

__all__ = ["SLOT", "Template", "TemplateSet"]

SLOT = "[X]"
_HEADER = "# jiema templates v1"


@dataclass(frozen=True)
class Template:
    """A template: `words` holds words and `None` for slots (never two slots in a row).

    `str()` gives nlp-zero's display without spaces (`[X]可以[X]吗`); `key()` the space-separated
    file form (`[X] 可以 [X] 吗`). The empty template stands for the parse of an empty sentence."""

    words: tuple[str | None, ...]

    def __post_init__(self) -> None:
        for a, b in zip(self.words, self.words[1:], strict=False):
            if a is None and b is None:
                raise InvalidInputError("a template cannot have two slots in a row")

    @classmethod
    def of_words(cls, words: tuple[str, ...]) -> Template:
        """A template of literal words only (no slots, so nothing to check): the parser's
        stand-in for a span no template covers."""
        t = object.__new__(cls)
        object.__setattr__(t, "words", words)
        return t

    @classmethod
    def parse(cls, text: str) -> Template:
        """From the file form: words and `[X]` separated by spaces."""
        parts = text.split()
        if not parts:
            raise InvalidInputError(f"empty template {text!r}")
        return cls(tuple(None if p == SLOT else p for p in parts))

    @property
    def literals(self) -> tuple[str, ...]:
        return tuple(w for w in self.words if w is not None)

    @property
    def length(self) -> int:
        """Number of words that are not slots (nlp-zero `Template.length`)."""
        return len(self.literals)

    def is_trivial(self) -> bool:
        """One word between two slots (nlp-zero's rule): it says nothing about structure."""
        return len(self.words) == 3 and self.words[0] is None and self.words[2] is None

    def key(self) -> str:
        return " ".join(SLOT if w is None else w for w in self.words)

    def __str__(self) -> str:
        return "".join(SLOT if w is None else w for w in self.words)

    def __iter__(self) -> Iterator[str | None]:
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)


@dataclass
class TemplateSet:
    """Templates with counts, as `jiema discover templates` writes them. `words` names the word
    table (jieba format) the templates were discovered with, for tokenizing parsed sentences."""

    counts: dict[Template, int]
    words: str | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, t: object) -> bool:
        return t in self.counts

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def most_common(self, *, trivial: bool = True) -> list[tuple[Template, int]]:
        items = [(t, c) for t, c in self.counts.items() if trivial or not t.is_trivial()]
        return sorted(items, key=lambda tc: -tc[1])

    def log_probs(self) -> dict[Template, float]:
        """log(count) - log(total) per template: the parser's template scores."""
        log_total = math.log(self.total)
        return {t: math.log(c) - log_total for t, c in self.counts.items()}

    def dumps(self) -> str:
        lines = [_HEADER + "\n"]
        if self.words:
            lines.append(f"# words: {self.words}\n")
        for key, value in self.meta.items():
            lines.append(f"# {key}: {value}\n")
        for t, c in self.most_common():
            lines.append(f"{c}\t{t.key()}\t{'trivial' if t.is_trivial() else ''}".rstrip() + "\n")
        return "".join(lines)

    def save(self, path: str | os.PathLike) -> None:
        """Text file: `count<TAB>template[<TAB>trivial]` per line, most frequent first."""
        from jiema.atomic import write_text

        write_text(path, self.dumps())

    @classmethod
    def load(cls, path: str | os.PathLike) -> TemplateSet:
        from jiema.corpus import read_lines
        from jiema.errors import DictionaryFormatError

        counts: dict[Template, int] = {}
        words = None
        meta: dict[str, str] = {}
        for rec in read_lines(path):
            text = rec.text
            if not text.strip():
                continue
            if text.startswith("#"):
                key, sep, value = text[1:].strip().partition(": ")
                if sep and key == "words":
                    words = value
                elif sep:
                    meta[key] = value
                continue
            fields = text.split("\t")
            try:
                count = int(fields[0])
                template = Template.parse(fields[1])
                if count <= 0:
                    raise ValueError
            except (ValueError, IndexError, InvalidInputError):
                raise DictionaryFormatError(
                    f"{rec.file}: line {rec.line}: expected 'count<TAB>template' with a positive "
                    f"count, got {text[:60]!r}") from None
            counts[template] = counts.get(template, 0) + count
        if not counts:
            raise InvalidInputError(f"{path}: no templates in the file")
        if words is not None and not os.path.isabs(words):
            words = os.path.join(os.path.dirname(os.fspath(path)), words)
        return cls(counts, words, meta)
