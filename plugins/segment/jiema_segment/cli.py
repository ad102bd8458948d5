"""`jiema segment`, `jiema train dictionary` and `jiema eval segment`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from jiema.cli import pass_engine
from jiema.output import EXIT_OK, EXIT_SOME_FAILED, Record, exit_with


def add_commands(cli: click.Group) -> None:
    cli.add_command(segment_command)
    cli.commands["train"].add_command(train_dictionary_command)
    cli.commands["eval"].add_command(eval_segment_command)


def _segmenter(engine: Any, mode: str, user_dict: str | None) -> Any:
    from .segmenter import Segmenter, check_mode

    check_mode(mode)
    seg = engine.build(engine.task_config("segment")["segmenter"])  # a fresh one per build
    if not isinstance(seg, Segmenter):
        raise click.UsageError("the configured segment component does not take a user dictionary")
    if user_dict is not None:
        seg.load_user_dict(user_dict)
    return seg


@click.command("segment")
@click.argument("inputs", nargs=-1, metavar="[FILE...|-]")
@click.option("--mode", type=click.Choice(["dict", "fcn"]), default="dict", show_default=True,
              help="dict: dictionary word lattice (fcn, the neural tagger, is not yet available).")
@click.option("--user-dict", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A jieba-format user dictionary (word [freq] [tag]) to add.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the result here instead of standard output.")
@click.option("--delimiter", default=" ", show_default=True, help="Between words.")
@click.option("--jsonl", is_flag=True,
              help="One JSON object per input line: file, line, text, confidence, error, words.")
@pass_engine
def segment_command(
    engine: Any,
    inputs: tuple[str, ...],
    mode: str,
    user_dict: str | None,
    out_path: str | None,
    delimiter: str,
    jsonl: bool,
) -> None:
    """Cut each line of FILE (or standard input, `-`) into words.

    Exactly one output line per input line, streaming; an empty line stays empty. Whitespace in
    the input is not a word: it separates words and never appears in the output. Invalid UTF-8
    stops the run with the file name and byte offset (with --jsonl it becomes that line's record).
    """
    seg = _segmenter(engine, mode, user_dict)
    sources = list(inputs) or ["-"]
    out = open(out_path, "w", encoding="utf-8", newline="\n") if out_path else sys.stdout
    try:
        status = _stream(seg, sources, out, delimiter, jsonl)
    finally:
        if out_path:
            out.close()
    exit_with(status)


def _stream(seg: Any, sources: list[str], out: Any, delimiter: str, jsonl: bool) -> int:
    from jiema.corpus import read_lines

    failed = 0
    records = read_lines(sources, errors="record" if jsonl else "strict")
    pending: list[Any] = []

    def flush() -> Iterator[tuple[Any, list[str] | None]]:
        good = [rec for rec in pending if rec.error is None]
        cut = iter(seg.cut_lines(rec.text for rec in good))
        for rec in pending:
            yield rec, (next(cut) if rec.error is None else None)
        pending.clear()

    def emit(rec: Any, words: list[str] | None) -> None:
        nonlocal failed
        if words is not None:
            words = [w for w in words if not w.isspace()]
        if jsonl:
            if words is None:
                failed += 1
                record = Record(rec.file, error=f"{type(rec.error).__name__}: {rec.error}",
                                extra={"line": rec.line})
            else:
                record = Record(rec.file, text=delimiter.join(words),
                                extra={"line": rec.line, "words": words})
            out.write(record.to_json() + "\n")
        else:
            out.write(delimiter.join(words or ()) + "\n")

    size = 0
    try:
        for rec in records:
            pending.append(rec)
            size += len(rec.text)
            if size >= 1 << 16:
                for item in flush():
                    emit(*item)
                out.flush()
                size = 0
    finally:  # a bad byte (strict mode) still leaves every line before it written
        for item in flush():
            emit(*item)
        out.flush()
    if failed:
        sys.stderr.write(f"jiema: {failed} input line(s) could not be read\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK


@click.command("dictionary")
@click.option("--corpus", "corpora", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Segmented corpus: People's Daily word/tag lines or bakeoff (space-separated). "
                   "Repeat for several.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Output: a jieba-format text file (word freq), or a .safetensors dictionary "
                   "model (with its JSON card beside it).")
@click.option("--format", "fmt", type=click.Choice(["auto", "pd", "bakeoff"]), default="auto",
              show_default=True)
@click.option("--name", default=None, help="Model name for the card (.safetensors output).")
@click.option("--training-data", default="", help="What the corpus is, for the model card.")
@click.option("--licence", default="", help="The corpus licence, for the model card.")
def train_dictionary_command(
    corpora: tuple[str, ...], out_path: str, fmt: str, name: str | None, training_data: str,
    licence: str,
) -> None:
    """Count the words of segmented corpora into a word-frequency dictionary."""
    from jiema.models import ModelCard

    from .dictionary_model import (
        COMPONENT,
        TASK,
        count_words,
        dictionary_from_counts,
        save_dictionary_model,
    )

    counts = count_words(corpora, fmt)  # type: ignore[arg-type]
    dictionary = dictionary_from_counts(counts)
    out = Path(out_path)
    if out.suffix == ".safetensors":
        card = ModelCard(
            name=name or out.stem, component=COMPONENT, task=TASK,
            description="Word unigram frequencies for dictionary-mode segmentation.",
            training_data=training_data or ", ".join(Path(c).name for c in corpora),
            licence=licence,
            hyperparameters={"format": fmt, "compounds": "inner", "total": dictionary.total},
        )
        save_dictionary_model(dictionary, out, card)
    else:
        dictionary.save(out)
    click.echo(f"{len(dictionary)} words, total frequency {dictionary.total} -> {out}", err=True)


@click.command("segment")
@click.option("--gold", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Gold segmentation, words separated by spaces.")
@click.option("--words", "words_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Training word list (one word a line) deciding what is OOV.")
@click.argument("pred", type=click.Path(exists=True, dir_okay=False))
def eval_segment_command(gold: str, words_path: str, pred: str) -> None:
    """Score PRED like the SIGHAN bakeoff `score` script: P, R, F, OOV rate/recall, IV recall."""
    from .score import score_files

    click.echo(score_files(gold, words_path, pred).summary(), nl=False)
