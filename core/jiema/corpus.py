"""Streaming corpus readers: lines with their file, number and byte offset; segmented corpora.

Reading commands must name the exact place of a bad byte and may not load a large corpus into
memory, so files are read in binary, line by line, and each line is decoded strictly as UTF-8.
Only `\\n` and `\\r\\n` end a line (a lone `\\r` stays in the text). A UTF-8 BOM is dropped at
the start of a file only.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Literal, NamedTuple

from .errors import InputDecodeError, InvalidInputError

__all__ = ["Line", "STDIN", "read_lines", "read_segmented", "parse_pd_line",
           "parse_pd_tagged_line", "parse_bakeoff_line"]

STDIN = "-"
STDIN_NAME = "<stdin>"

Source = str | os.PathLike | IO[bytes]
Sources = Source | Iterable[Source]


class Line(NamedTuple):
    """One input line. `line` counts from 1; `offset` is the byte offset where the line starts in
    its file (a leading BOM included). `error` is set only with `errors="record"`: then `text` is
    "" and `error` is the `InputDecodeError` (bad byte) or `OSError` (file could not be opened;
    `line` 0)."""

    file: str
    line: int
    text: str
    offset: int = 0
    error: Exception | None = None


def _iter_sources(sources: Sources) -> Iterator[Source]:
    if isinstance(sources, str | os.PathLike) or hasattr(sources, "read"):
        yield sources  # type: ignore[misc]
    else:
        yield from sources  # type: ignore[misc]


def _source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        return STDIN_NAME if path == STDIN else str(path)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _binary(stream: IO) -> IO[bytes]:
    if isinstance(stream, io.TextIOBase):
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            raise InvalidInputError(
                "read_lines needs a binary stream (to report byte offsets); got a text stream "
                "without a .buffer"
            )
        return buffer
    return stream


def read_lines(
    sources: Sources, *, errors: Literal["strict", "record"] = "strict"
) -> Iterator[Line]:
    """Yield every line of every source, in order, without its line end.

    `sources`: a path, `"-"` (standard input, read as bytes), a binary file object, or an
    iterable of these. Memory stays bounded by the longest line. A line that is not valid UTF-8
    raises `InputDecodeError(file, offset)` with the byte offset of the first bad byte in the
    file; with `errors="record"` it is yielded as a `Line` whose `error` is set, and reading
    goes on (an unopenable file likewise gives one record with the `OSError`).
    """
    if errors not in ("strict", "record"):
        raise InvalidInputError(f"errors must be 'strict' or 'record', got {errors!r}")
    for source in _iter_sources(sources):
        if isinstance(source, bytes | bytearray):
            raise InvalidInputError(
                f"a source must be a path, '-' or a binary stream, got bytes {bytes(source)[:40]!r}"
            )
        name = _source_name(source)
        if isinstance(source, str | os.PathLike):
            if os.fspath(source) == STDIN:
                yield from _read_stream(sys.stdin.buffer, name, errors)
                continue
            try:
                handle = open(source, "rb")
            except OSError as exc:
                if errors == "strict":
                    raise
                yield Line(name, 0, "", 0, exc)
                continue
            with handle:
                yield from _read_stream(handle, name, errors)
        else:
            yield from _read_stream(_binary(source), name, errors)


def _read_stream(stream: IO[bytes], name: str, errors: str) -> Iterator[Line]:
    offset = 0
    for number, raw in enumerate(stream, 1):
        start = offset
        offset += len(raw)
        body = raw
        if body.endswith(b"\n"):
            body = body[:-2] if body.endswith(b"\r\n") else body[:-1]
        skip = 0
        if number == 1 and body.startswith(codecs.BOM_UTF8):
            skip = len(codecs.BOM_UTF8)
            body = body[skip:]
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            err = InputDecodeError(name, start + skip + exc.start, f"invalid UTF-8 ({exc.reason})")
            if errors == "strict":
                raise err from None
            yield Line(name, number, "", start, err)
            continue
        yield Line(name, number, text, start)


# --- segmented corpora ----------------------------------------------------------------------

_FIELD_SPLIT = re.compile(r"[ \t]+")
_PD_DATE_ID = re.compile(r"^\d{8}(?:-\d+)+/m$")
_PD_TOKEN = re.compile(r"/[A-Za-z]+(?:\][A-Za-z]+)?$")
_PD_CLOSE = re.compile(r"^(.+)\]([A-Za-z]+)$")


def _fields(text: str) -> list[str]:
    """Split on ASCII spaces and tabs only: a full-width space U+3000 can be part of a word."""
    return [f for f in _FIELD_SPLIT.split(text.strip(" \t")) if f]


def parse_bakeoff_line(text: str) -> list[str]:
    """A SIGHAN bakeoff line: words separated by ASCII spaces/tabs."""
    return _fields(text)


def parse_pd_line(
    text: str, *, compounds: Literal["inner", "whole"] = "inner", where: str = "<line>"
) -> list[str]:
    """A People's Daily 1998 line `19980101-01-001-001/m  迈向/v  充满/v ...` -> its words.

    The leading document id (`\\d{8}-…/m`) is dropped, tags are dropped (the text after the last
    `/` of each token). A bracketed compound `[中央/n  人民/n  广播/vn  电台/n]nt` gives its inner
    words (`compounds="inner"`, the PKU segmentation standard) or one word
    `中央人民广播电台` (`compounds="whole"`). A token with no `word/tag` form, or an unbalanced
    bracket, raises InvalidInputError naming `where` and the token.
    """
    return [word for word, _ in parse_pd_tagged_line(text, compounds=compounds, where=where)]


def parse_pd_tagged_line(
    text: str, *, compounds: Literal["inner", "whole"] = "inner", where: str = "<line>"
) -> list[tuple[str, str]]:
    """`parse_pd_line` with each word's part-of-speech tag: `(word, tag)` pairs. A compound read
    whole takes the tag after its closing bracket (`[中央/n ...]nt` -> `("中央...", "nt")`)."""
    tokens = _fields(text)
    if tokens and _PD_DATE_ID.match(tokens[0]):
        tokens = tokens[1:]
    words: list[tuple[str, str]] = []
    compound: list[tuple[str, str]] | None = None
    for token in tokens:
        tok = token
        opens = tok.startswith("[") and not tok.startswith("[/")
        if opens:
            if compound is not None:
                raise InvalidInputError(f"{where}: nested '[' in People's Daily token {token!r}")
            compound = []
            tok = tok[1:]
        closing = _PD_CLOSE.match(tok) if compound is not None else None
        if closing:
            tok = closing.group(1)
        word, sep, tag = tok.rpartition("/")
        if not sep or not word or not tag:
            raise InvalidInputError(
                f"{where}: People's Daily token {token!r} is not of the form word/tag"
            )
        if compound is not None:
            compound.append((word, tag))
            if closing:
                whole = ("".join(w for w, _ in compound), closing.group(2))
                words.extend(compound if compounds == "inner" else [whole])
                compound = None
        else:
            words.append((word, tag))
    if compound is not None:
        raise InvalidInputError(
            f"{where}: '[' compound is not closed by ']tag' before the line ends"
        )
    return words


def _looks_pd(text: str) -> bool:
    tokens = _fields(text)
    return bool(tokens) and all(_PD_TOKEN.search(t) for t in tokens)


def read_segmented(
    sources: Sources,
    fmt: Literal["auto", "pd", "bakeoff"] = "auto",
    *,
    compounds: Literal["inner", "whole"] = "inner",
) -> Iterator[list[str]]:
    """Yield the words of each non-blank line of segmented corpora, streaming.

    `fmt="pd"`: People's Daily `word/tag` lines (see `parse_pd_line`); `"bakeoff"`: words
    separated by spaces; `"auto"`: decided per file from its first non-blank line (People's
    Daily when every token ends in `/tag`). Blank lines (and lines with no words) are skipped.
    """
    if fmt not in ("auto", "pd", "bakeoff"):
        raise InvalidInputError(f"fmt must be 'auto', 'pd' or 'bakeoff', got {fmt!r}")
    if compounds not in ("inner", "whole"):
        raise InvalidInputError(f"compounds must be 'inner' or 'whole', got {compounds!r}")
    current_file: str | None = None
    file_fmt = fmt
    for rec in read_lines(sources):
        if rec.file != current_file:
            current_file, file_fmt = rec.file, fmt
        if not rec.text.strip():
            continue
        if file_fmt == "auto":
            file_fmt = "pd" if _looks_pd(rec.text) else "bakeoff"
        if file_fmt == "pd":
            words = parse_pd_line(rec.text, compounds=compounds, where=f"{rec.file}:{rec.line}")
        else:
            words = parse_bakeoff_line(rec.text)
        if words:
            yield words
