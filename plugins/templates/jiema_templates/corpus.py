"""Corpora for discovery: re-iterable sources of texts, read twice (count, then glue/chain)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from jiema.errors import InvalidInputError

__all__ = ["FileCorpus", "as_corpus", "as_texts", "numbered", "EmptyCorpusError"]


class EmptyCorpusError(InvalidInputError):
    """The corpus gives nothing to count."""


class FileCorpus:
    """The lines of files (or `-`), streamed through `jiema.corpus.read_lines` on every pass:
    invalid UTF-8 raises InputDecodeError with the file and byte offset. Standard input can be
    read only once, so it is kept in memory when given."""

    def __init__(self, paths: Iterable[str | os.PathLike]) -> None:
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise EmptyCorpusError("no corpus files given")
        self._stdin: list[str] | None = None

    def __iter__(self) -> Iterator[str]:
        from jiema.corpus import read_lines

        for path in self.paths:
            if path == "-":
                if self._stdin is None:
                    self._stdin = [rec.text for rec in read_lines("-")]
                yield from self._stdin
            else:
                for rec in read_lines(path):
                    yield rec.text

    def __repr__(self) -> str:
        return f"FileCorpus({self.paths!r})"


def as_texts(corpus: Any) -> Iterable[str]:
    """Check that `corpus` is an iterable of texts to read once (not one string)."""
    if isinstance(corpus, str):
        raise InvalidInputError(
            "corpus must be an iterable of texts, not one string (wrap it in a list, or use "
            "FileCorpus([path]) for a file)"
        )
    if not isinstance(corpus, Iterable):
        raise InvalidInputError(f"corpus must be an iterable of texts, got {type(corpus).__name__}")
    return corpus


def as_corpus(corpus: Any) -> Iterable[str]:
    """Check that `corpus` can be read twice: a list/tuple of texts, a FileCorpus, or any
    re-iterable object (not a one-shot iterator or generator)."""
    as_texts(corpus)
    if iter(corpus) is corpus:
        raise InvalidInputError(
            "discovery reads the corpus twice; give a list of texts, a FileCorpus, or another "
            "re-iterable object, not a one-shot iterator"
        )
    return corpus


def numbered(corpus: Iterable[str]) -> Iterator[tuple[int, str]]:
    for i, text in enumerate(corpus):
        if not isinstance(text, str):
            raise InvalidInputError(f"corpus item {i} is {type(text).__name__}, expected str")
        yield i, text
