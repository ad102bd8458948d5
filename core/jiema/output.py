"""The output convention every reading command follows (OCR, captcha, segment, plugins).

Plain text by default; `--jsonl` prints one JSON object per input with at least `file`, `text`,
`confidence` and `error` (null when fine). A bad input does not stop the run: its record carries
the error, the others are still read, and the exit status is non-zero at the end. Results go to
stdout only; progress (tqdm) and logs go to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import click

log = logging.getLogger("jiema.output")

EXIT_OK = 0
EXIT_SOME_FAILED = 1


@dataclass
class Record:
    """The result of reading one input. `extra` keys are added to the JSON object."""

    file: str
    text: str | None = None
    confidence: float | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        clash = set(self.extra) & {"file", "text", "confidence", "error"}
        if clash:
            raise ValueError(f"extra keys {sorted(clash)} would overwrite the standard keys")
        return {
            "file": self.file,
            "text": self.text,
            "confidence": self.confidence,
            "error": self.error,
            **self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=_jsonable)


ReadResult = Record | str | tuple[str, float | None] | Mapping[str, Any]


def as_record(file: str, result: ReadResult) -> Record:
    """What `read_one` may return: a Record, the text, `(text, confidence)`, or a mapping with
    `text`, optional `confidence` and extra keys."""
    if isinstance(result, Record):
        return result
    if isinstance(result, str):
        return Record(file, text=result)
    if isinstance(result, tuple):
        text, confidence = result
        return Record(file, text=text, confidence=None if confidence is None else float(confidence))
    if isinstance(result, Mapping):
        standard = ("file", "text", "confidence", "error")
        extra = {k: v for k, v in result.items() if k not in standard}
        conf = result.get("confidence")
        return Record(
            file,
            text=result.get("text"),
            confidence=None if conf is None else float(conf),
            error=result.get("error"),
            extra=extra,
        )
    raise TypeError(
        f"read_one must return a Record, a str, (text, confidence) or a mapping; "
        f"got {type(result).__name__}"
    )


def read_all(
    inputs: Iterable[str], read_one: Callable[[str], ReadResult], *, progress: bool | None = None
) -> Iterable[Record]:
    """Read every input, turning an exception into that input's error record."""
    from tqdm import tqdm

    items = list(inputs)
    # disable=None: a progress bar only when stderr is a terminal
    bar = tqdm(items, file=sys.stderr, disable=None if progress is None else not progress,
               unit="input", leave=False)
    for item in bar:
        name = str(item)
        try:
            yield as_record(name, read_one(item))
        except Exception as exc:  # one bad input must not stop the run
            log.debug("reading %s failed", name, exc_info=True)
            yield Record(name, error=f"{type(exc).__name__}: {exc}")


def default_plain_format(record: Record, *, many: bool) -> str:
    """The text alone for one input; `file<TAB>text` when several inputs are read."""
    text = record.text or ""
    return f"{record.file}\t{text}" if many else text


def run_reading_command(
    inputs: Iterable[str],
    read_one: Callable[[str], ReadResult],
    *,
    jsonl: bool = False,
    plain_format: Callable[[Record], str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    progress: bool | None = None,
) -> int:
    """Read every input and print its result; returns the exit status (0: all read, 1: some
    failed). Errors go into the record with `--jsonl`, to stderr in plain mode."""
    items = list(inputs)
    out = out if out is not None else sys.stdout  # looked up now: CliRunner swaps it
    err = err if err is not None else sys.stderr
    many = len(items) > 1
    failed = 0
    for record in read_all(items, read_one, progress=progress):
        if not record.ok:
            failed += 1
        if jsonl:
            out.write(record.to_json() + "\n")
        elif record.ok:
            line = plain_format(record) if plain_format else default_plain_format(record, many=many)
            out.write(line + "\n")
        else:
            err.write(f"jiema: {record.file}: {record.error}\n")
        out.flush()
    if failed:
        err.write(f"jiema: {failed} of {len(items)} input(s) failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK


def exit_with(status: int) -> None:
    """End a click command with `status` (what `run_reading_command` returned)."""
    if status:
        click.get_current_context().exit(status)


# ----------------------------------------------------------- click options
def jsonl_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--jsonl`: one JSON object per input (file, text, confidence, error, ...)."""
    return click.option(
        "--jsonl",
        is_flag=True,
        help="Print one JSON object per input (file, text, confidence, error) instead of text.",
    )(func)


def inputs_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """`FILE...`: one or more inputs (read errors become records, not crashes)."""
    return click.argument("inputs", nargs=-1, required=True, metavar="FILE...")(func)


def model_option(
    default: str | None = None, *, component: str | None = None, help: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--model NAME_OR_PATH`, resolved to a `ModelSpec` through the command's Engine: a
    registered name or a path; an unknown name is a usage error listing the valid names (for
    `component` only, if given). The parameter is None when neither given nor defaulted."""

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        from .cli import get_engine
        from .errors import JiemaError

        engine = get_engine(ctx)
        try:
            spec = engine.resolve_model(value)
        except JiemaError as exc:
            if component is not None and value not in engine.models:
                valid = sorted(n for n, m in engine.models.items() if m.component == component)
                raise click.BadParameter(
                    f"unknown model {value!r}; valid models: {', '.join(valid) or 'none'} "
                    "(or a path to a .safetensors file / model folder)"
                ) from None
            raise click.BadParameter(str(exc)) from None
        if component is not None and spec.component != component:
            raise click.BadParameter(
                f"model {value!r} is for component {spec.component!r}, not {component!r}"
            )
        return spec

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--model",
            "model",
            default=default,
            metavar="NAME|PATH",
            callback=resolve,
            help=help or "A registered model name (see `jiema models`) or a path to a model.",
        )(func)

    return decorate


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return value.tolist()
    if hasattr(value, "model_dump"):
        return value.model_dump()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
