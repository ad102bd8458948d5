"""`jiema discover words`, `jiema discover templates` and `jiema parse`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click
from jiema.cli import core_group
from jiema.output import Record, Reporter, describe_error, exit_with, refuse_input_as_output

_CORPUS = click.argument("corpus", nargs=-1, required=True, metavar="CORPUS...",
                         type=click.Path(dir_okay=False, allow_dash=True))


def add_commands(cli: click.Group) -> None:
    group = core_group(cli, "discover")
    group.add_command(discover_words_command)
    group.add_command(discover_templates_command)
    cli.add_command(parse_command)


def _scale_options(func: Any) -> Any:
    func = click.option("--quiet", is_flag=True, help="No progress bars.")(func)
    func = click.option("--partition-size", type=click.IntRange(min=1), default=2000,
                        show_default=True, help="Lines per counting batch.")(func)
    func = click.option("--scheduler", default=None,
                        help="Dask scheduler address (with --backend dask; default: a local "
                             "cluster).")(func)
    func = click.option("--backend", type=click.Choice(["local", "dask"]), default="local",
                        show_default=True, help="Count in this process or on Dask.")(func)
    return func


def _pair_options(min_proba: float, min_proba_help: str, min_pmi: float,
                  no_filtering_help: str) -> Callable[[Any], Any]:
    """`--min-proba`, `--min-pmi` and `--no-filtering`: how strong a pair must be, and which
    text is counted (the defaults and help differ between the finders)."""
    def apply(func: Any) -> Any:
        func = click.option("--no-filtering", is_flag=True, help=no_filtering_help)(func)
        func = click.option("--min-pmi", type=click.FloatRange(min=0), default=min_pmi,
                            show_default=True, help="Least pointwise mutual information "
                            "(natural log) of a strong pair.")(func)
        return click.option("--min-proba", default=min_proba, show_default=True,
                            type=click.FloatRange(0, 1, min_open=True, max_open=True),
                            help=min_proba_help)(func)

    return apply


def _echo(msg: str) -> None:
    click.echo(msg, err=True)


@click.command("words")
@_CORPUS
@_pair_options(1e-7, "Least probability of a strong pair and of a kept candidate word.", 1.0,
               "Count whole lines (default: only runs of CJK U+4E00..U+9FA5 and ASCII "
               "letters/digits).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the dictionary here (default: standard output).")
@_scale_options
def discover_words_command(corpus: tuple[str, ...], min_proba: float, min_pmi: float,
                           no_filtering: bool, out_path: str | None, backend: str,
                           scheduler: str | None, partition_size: int, quiet: bool) -> None:
    """Discover the words of CORPUS files (raw text, one document a line; `-` for stdin).

    nlp-zero's Word_Finder with its defaults: glue characters at strong pairs, prune by
    minimum entropy. Writes `word count` lines (jieba dictionary format, most frequent first),
    single characters included: usable as `jiema segment --mode dict --user-dict`."""
    from .corpus import FileCorpus
    from .options import WordOptions
    from .words import discover_words

    refuse_input_as_output(out_path, corpus)
    opts = WordOptions(min_proba=min_proba, min_pmi=min_pmi, filtering=not no_filtering)
    table = discover_words(FileCorpus(corpus), opts, backend=backend,  # type: ignore[arg-type]
                           scheduler=scheduler, partition_size=partition_size,
                           progress=not quiet)
    if out_path:
        table.save(out_path)
    else:
        sys.stdout.write(table.dumps())
    multi = sum(len(w) > 1 for w in table.counts)
    _echo(f"{len(table)} words ({multi} of two or more characters), "
          f"{len(table.strong_pairs)} strong pairs" + (f" -> {out_path}" if out_path else ""))


@click.command("templates")
@_CORPUS
@click.option("--words", "words_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Word table (jieba format, from `jiema discover words`) to "
                                 "tokenize with; default: discover it first with its defaults.")
@click.option("--window", type=click.IntRange(1, 64), default=5, show_default=True,
              help="Skip-gram window in words.")
@_pair_options(1e-5, "Least probability of a strong skip-gram pair and of a kept template.", 2.0,
               "Cut lines only at 。，、！？ and spaces (default: at every character that is not "
               "CJK U+4E00..U+9FA5 or an ASCII letter/digit).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Templates file (default: standard output).")
@click.option("--words-out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Without --words: also save the discovered word table here.")
@_scale_options
def discover_templates_command(corpus: tuple[str, ...], words_path: str | None, window: int,
                               min_proba: float, min_pmi: float, no_filtering: bool,
                               out_path: str | None, words_out: str | None, backend: str,
                               scheduler: str | None, partition_size: int, quiet: bool) -> None:
    """Discover sentence templates in CORPUS files (nlp-zero's Template_Finder).

    Lines are cut into words with the --words table (or one discovered first with nlp-zero's
    defaults and saved beside --out as NAME.words.txt); word pairs within --window words that
    are frequent and strongly associated are chained into templates, [X] marking the gaps.
    Writes `count<TAB>template[<TAB>trivial]` lines (most frequent first; `trivial`: one word
    between two slots), words separated by spaces; the header names the word table for
    `jiema parse`."""
    from .corpus import FileCorpus
    from .options import TemplateOptions
    from .template_discovery import discover_templates
    from .words import WordTable, discover_words

    if words_path is None and words_out is None and out_path is not None:
        words_out = os.path.splitext(out_path)[0] + ".words.txt"
    refuse_input_as_output(out_path, [*corpus, words_path])
    refuse_input_as_output(words_out, [*corpus, out_path], option="--words-out")
    texts = FileCorpus(corpus)
    run: dict[str, Any] = dict(backend=backend, scheduler=scheduler,
                               partition_size=partition_size, progress=not quiet)
    if words_path is not None:
        table = WordTable.load(words_path)
    else:
        table = discover_words(texts, **run)
        if words_out:
            table.save(words_out)
            _echo(f"{len(table)} words -> {words_out}")
        words_path = words_out
    opts = TemplateOptions(window=window, min_proba=min_proba, min_pmi=min_pmi,
                           filtering=not no_filtering)
    found = discover_templates(texts, table.tokenizer(), opts, **run)
    if words_path is not None:
        base = os.path.dirname(os.path.abspath(out_path)) if out_path else os.getcwd()
        found.words = os.path.relpath(os.path.abspath(words_path), base)
    if out_path:
        found.save(out_path)
    else:
        sys.stdout.write(found.dumps())
    trivial = sum(t.is_trivial() for t in found.counts)
    _echo(f"{len(found)} templates ({trivial} trivial)" + (f" -> {out_path}" if out_path else ""))


@click.command("parse")
@click.argument("sentences", nargs=-1, metavar="[SENTENCE...]")
@click.option("--templates", "templates_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Templates file from `jiema discover templates`.")
@click.option("--words", "words_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Word table to tokenize with (default: the one the templates file names).")
@click.option("--null-score", type=click.FloatRange(max=0), default=-20.0, show_default=True,
              help="Log-score of each extra word in a span no template covers.")
@click.option("--input", "inputs", multiple=True, type=click.Path(allow_dash=True),
              help="Read sentences from this file, one a line (`-`: stdin); repeatable. "
                   "Without SENTENCE and --input, standard input is read.")
@click.option("--tree", is_flag=True, help="Print nlp-zero's indented tree under each sentence.")
@click.option("--nested", is_flag=True, help="Bracket the slots' own structure too.")
@click.option("--render", "render_path", type=click.Path(dir_okay=False, writable=True),
              default=None, help="Draw the parse as a picture (PNG/SVG/PDF; one sentence only; "
                                 "needs matplotlib, the `ocr` extra).")
@click.option("--jsonl", is_flag=True,
              help="One JSON object per sentence: file, text (bracketed), error, tree, score.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def parse_command(sentences: tuple[str, ...], templates_path: str, words_path: str | None,
                  null_score: float, inputs: tuple[str, ...], tree: bool, nested: bool,
                  render_path: str | None, jsonl: bool, quiet: bool) -> None:
    """Parse sentences into nested templates: `鸡蛋可以吃吗` -> `(鸡蛋)可以(吃)吗`.

    Each sentence is cut with the word table, then covered by the templates of `jiema discover
    templates` so that the total log-probability is highest, recursing into the slots (a span
    no template covers scores --null-score per extra word). Prints the sentence with each
    slot in parentheses, one line per sentence (--nested: slots bracketed inside too). A file
    that cannot be read is one line on standard error (with --jsonl, its record) and the
    other sentences are still parsed (exit status 1)."""
    from jiema.corpus import read_lines

    from .parser import Parser
    from .template import TemplateSet
    from .words import WordTable

    refuse_input_as_output(render_path, [*inputs, templates_path, words_path],
                           option="--render")
    templates = TemplateSet.load(templates_path)
    words = words_path or templates.words
    if words is None:
        raise click.UsageError(f"{templates_path} names no word table; pass --words")
    parser = Parser(templates, WordTable.load(words).tokenizer(), null_score=null_score)
    items: list[tuple[str, str | None, Exception | None]] = [("<arg>", s, None) for s in sentences]
    if inputs or not sentences:
        for rec in read_lines(list(inputs) or ["-"], errors="record"):
            items.append((rec.file, rec.text if rec.error is None else None, rec.error))
    if render_path is not None and len(items) != 1:
        raise click.UsageError(f"--render draws one sentence; got {len(items)}")
    good = [text for _, text, err in items if err is None and text is not None]
    trees = iter(parser.parse_many(good, progress=not quiet and len(good) > 1))
    reporter = Reporter(jsonl=jsonl)
    for file, text, err in items:
        if err is not None or text is None:
            reporter.write(Record(file, error=describe_error(err or ValueError("no text"), file)))
            continue
        t = next(trees)
        shown = t.bracketed(nested)
        reporter.write(Record(file, text=shown, extra={"tree": t.to_dict(), "score": t.score,
                                                       "sentence": text}),
                       shown + ("\n" + t.plot() if tree else ""))
        if render_path is not None:
            t.render(render_path)
            _echo(f"tree drawn -> {render_path}")
    exit_with(reporter.finish(what="input(s)"))
