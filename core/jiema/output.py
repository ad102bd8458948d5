"""The output convention every reading command follows (OCR, captcha, segment, plugins).

Plain text by default; `--jsonl` prints one JSON object per input with at least `file`, `text`,
`confidence` and `error` (null when fine). A bad input does not stop the run: its record carries
the error, the others are still read, and the exit status is non-zero at the end. Results go to
stdout only; progress (tqdm) and logs go to stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click

log = logging.getLogger("jiema.output")

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2  # click's status for a usage error (bad flag, unknown model, --out = an input)


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
    inputs: Iterable[str], read_one: Callable[[str], ReadResult], *, progress: bool | None = None,
    jobs: int = 1, make_reader: Callable[[], Callable[[str], ReadResult]] | None = None,
) -> Iterable[Record]:
    """Read every input, turning an exception into that input's error record. The empty path
    is an error record without a call to `read_one` (as a path it would be the current
    folder). With `jobs` > 1 and `make_reader` (a picklable callable building a `read_one` in
    another process), `jobs - 1` worker processes read beside this one (`jiema.batch`); the
    records still come in input order."""
    from functools import partial

    from tqdm import tqdm

    from .batch import read_batch

    items = [str(item) for item in inputs]
    # disable=None: a progress bar only when stderr is a terminal
    bar = tqdm(total=len(items), file=sys.stderr,
               disable=None if progress is None else not progress, unit="input", leave=False)
    made = partial(_made_safe, make_reader) if make_reader is not None else None
    try:
        for _, record in read_batch(items, partial(_read_safely, read_one), made, jobs):
            bar.update()
            yield record
    finally:
        bar.close()


def _read_safely(read_one: Callable[[str], ReadResult], name: str) -> Record:
    if name == "":  # Path("") is the current folder: never what was meant
        return Record(name, error="InvalidInputError: empty path")
    try:
        return as_record(name, read_one(name))
    except Exception as exc:  # one bad input must not stop the run
        log.debug("reading %s failed", name, exc_info=True)
        return Record(name, error=describe_error(exc, name))


def _made_safe(make_reader: Callable[[], Callable[[str], ReadResult]]
               ) -> Callable[[str], Record]:
    """A worker's reader (`jiema.batch`), its failures turned into records as here."""
    from functools import partial

    return partial(_read_safely, make_reader())


def describe_error(exc: BaseException, file: str | None = None) -> str:
    """Why one input failed, as one line `Type: reason` that does not repeat the input's name
    (the record or the message around it names it): `FileNotFoundError: No such file or
    directory`, `InputDecodeError: invalid UTF-8 (...) at byte offset 3`."""
    from .errors import InputDecodeError

    if isinstance(exc, InputDecodeError):
        message = f"{exc.reason} at byte offset {exc.offset}"
    elif isinstance(exc, OSError) and exc.strerror:
        where = os.fsdecode(exc.filename) if exc.filename is not None else file
        message = exc.strerror if where == file else f"{where}: {exc.strerror}"
    else:
        message = str(exc)
    if file and message.startswith(f"{file}: "):
        message = message[len(file) + 2:]
    message = " ".join(message.split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def shown_name(file: str) -> str:
    """An input's name in a message; the empty path shows as ''."""
    return file if file else "''"


class Reporter:
    """Writes records the convention's way and keeps the exit status: with `--jsonl` every
    record goes to `out`; in plain mode a good one is printed as `plain` says and a bad one is
    one line on `err` (`jiema: FILE: reason`)."""

    def __init__(
        self, *, jsonl: bool, out: IO[str] | None = None, err: IO[str] | None = None
    ) -> None:
        self.jsonl = jsonl
        self.out = out if out is not None else sys.stdout  # looked up now: CliRunner swaps it
        self.err = err if err is not None else sys.stderr
        self.failed = 0

    def write(self, record: Record, plain: str | None = None) -> None:
        """Report one record; `plain` is its plain-mode text (None: print nothing)."""
        if not record.ok:
            self.failed += 1
        if self.jsonl:
            self.out.write(record.to_json() + "\n")
        elif record.ok:
            if plain is not None:
                self.out.write(plain + "\n")
        else:
            self.err.write(f"jiema: {shown_name(record.file)}: {record.error}\n")
            self.err.flush()

    def finish(self, total: int | None = None, what: str = "input(s)") -> int:
        """The closing summary on `err` (only when something failed) and the exit status."""
        self.out.flush()
        if self.failed:
            of = f" of {total}" if total is not None else ""
            self.err.write(f"jiema: {self.failed}{of} {what} failed\n")
        return EXIT_SOME_FAILED if self.failed else EXIT_OK


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
    jobs: int = 1,
    make_reader: Callable[[], Callable[[str], ReadResult]] | None = None,
) -> int:
    """Read every input and print its result; returns the exit status (0: all read, 1: some
    failed). Errors go into the record with `--jsonl`, to stderr in plain mode. `jobs` and
    `make_reader`: as in `read_all`."""
    items = list(inputs)
    many = len(items) > 1
    reporter = Reporter(jsonl=jsonl, out=out, err=err)
    for record in read_all(items, read_one, progress=progress, jobs=jobs,
                           make_reader=make_reader):
        line = None
        if record.ok and not jsonl:
            line = plain_format(record) if plain_format else default_plain_format(record, many=many)
        reporter.write(record, line)
        reporter.out.flush()
    return reporter.finish(len(items))


#: Inputs from which `--jobs` defaults to one process per core. A worker's start-up (importing
#: torch, loading the models: ~5 s of a core for OCR) is repaid only by a batch that outlasts
#: it, such as 8 pages at ~1 s each; below this the other cores are left alone.
AUTO_JOBS_MIN_INPUTS = 8


def jobs_for(requested: int | None, n_inputs: int) -> int:
    """Processes to read `n_inputs` with: `requested` (`--jobs`), else one per available core
    (`jiema.batch.available_cores`) from AUTO_JOBS_MIN_INPUTS inputs on; never more than the
    inputs."""
    from .batch import available_cores

    if requested is None:
        requested = available_cores() if n_inputs >= AUTO_JOBS_MIN_INPUTS else 1
    return max(1, min(requested, n_inputs))


def exit_with(status: int) -> None:
    """End a click command with `status` (what `run_reading_command` returned)."""
    if status:
        click.get_current_context().exit(status)


# ------------------------------------------------------ outputs vs inputs
def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file: `os.path.samefile` when both exist (symlinks, hard
    links), else the same path once resolved."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        try:
            return Path(a).resolve() == Path(b).resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return False


def refuse_input_as_output(
    output: str | os.PathLike[str] | None,
    inputs: Iterable[str | os.PathLike[str] | None],
    *,
    option: str = "--out",
) -> None:
    """A usage error (exit 2) when `output` names one of the run's inputs: writing it would
    destroy the input before (or while) it is read. Call it before anything is read."""
    if output is None or os.fspath(output) in ("", "-"):
        return
    for source in inputs:
        if source is None or os.fspath(source) in ("", "-"):
            continue
        if same_file(output, source):
            raise click.UsageError(
                f"{option} {os.fspath(output)} is also an input ({os.fspath(source)}); "
                "write the result to a new file"
            )


# ----------------------------------------------------------- click options
def jsonl_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--jsonl`: one JSON object per input (file, text, confidence, error, ...)."""
    return click.option(
        "--jsonl",
        is_flag=True,
        help="Print one JSON object per input (file, text, confidence, error) instead of text.",
    )(func)


def jobs_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--jobs N`: read the inputs in N processes (`read_all`'s `jobs`)."""
    return click.option(
        "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
        help="Read the inputs in N processes, one thread each: this one and N-1 workers, "
             "which start (load the models) while this one reads (default: one per CPU core "
             "from 8 inputs on, else 1).",
    )(func)


def inputs_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """`FILE...`: one or more inputs (read errors become records, not crashes)."""
    return click.argument("inputs", nargs=-1, required=True, metavar="FILE...")(func)


def resolve_model_choice(
    engine: Any, value: str, components: Sequence[str] | None = None, *,
    what: str = "model",
) -> Any:
    """`--model VALUE` as a `ModelSpec`, or a `click.BadParameter` (a usage error, exit 2)
    that says which of these it is: an unknown name (listing the valid models of
    `components` only), a path that does not exist, a path that is not a jiema model file, or
    a model of another task."""
    from .errors import JiemaError

    models = engine.models
    valid = sorted(n for n, m in models.items() if components is None or m.component in components)
    choices = f"valid {what}s: {', '.join(valid) or 'none'}"
    if value not in models:
        path = Path(value)
        if path.exists():
            try:
                spec = engine.resolve_model(path)
            except JiemaError as exc:
                reason = describe_error(exc, value).split(": ", 1)[-1]
                reason = reason.removeprefix(f"{value} is not a model: ")
                raise click.BadParameter(f"not a jiema model file: {value} ({reason})") from None
        elif any(sep in value for sep in ("/", os.sep, ".safetensors", ".json")):
            raise click.BadParameter(f"no such model file: {value}") from None
        else:
            raise click.BadParameter(
                f"unknown {what} {value!r}; {choices} (or a path to a model file)"
            ) from None
    else:
        try:
            spec = engine.resolve_model(value)
        except JiemaError as exc:
            raise click.BadParameter(str(exc)) from None
    if components is not None and spec.component not in components:
        task = spec.card.task if spec.card is not None else "?"
        raise click.BadParameter(
            f"{value} is a model of component {spec.component} (task {task}), not one this "
            f"option takes; {choices}"
        )
    return spec


def choice_implied_by_model(
    model: Any, choices: Mapping[str, str], given: str | None, flag: str
) -> str | None:
    """The choice (a mode, a reader kind) that `--model` implies through its component, looked
    up in `choices` (component -> choice), or `given`; a `flag` value that contradicts the model
    is a usage error naming both (exit status 2)."""
    implied = choices.get(model.component) if model is not None else None
    if given is not None and implied is not None and given != implied:
        wanted = ", ".join(c for c, choice in choices.items() if choice == given)
        raise click.BadParameter(
            f"{model.name} is a {implied} model (component {model.component}); it does not go "
            f"with {flag} {given}, which takes component {wanted}",
            param_hint="--model")
    return given or implied


def model_option(
    default: str | None = None, *, component: str | Sequence[str] | None = None,
    help: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--model NAME_OR_PATH`, resolved to a `ModelSpec` through the command's Engine: a
    registered name or a path; an unknown name, a file that is not a model or a model of
    another component is a usage error listing the valid names (of `component` only, if given;
    one component name or several). The parameter is None when neither given nor defaulted."""
    components = (component,) if isinstance(component, str) else component

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        from .cli import get_engine

        return resolve_model_choice(get_engine(ctx), value, components)

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
