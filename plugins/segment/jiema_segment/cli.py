"""`jiema segment`, `jiema train dictionary`, `jiema train segment` and `jiema eval segment`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from jiema.cli import core_group, pass_engine
from jiema.cli_options import corpus_option, run_folder_options
from jiema.output import (
    Record,
    Reporter,
    choice_implied_by_model,
    describe_error,
    exit_with,
    model_option,
    refuse_input_as_output,
)

from .dictionary_model import COMPONENT as DICT_COMPONENT
from .fcn.augment import SWAP_SHARE
from .fcn.tagger import COMPONENT as FCN_COMPONENT
from .fcn.tagger import DEFAULT_HARD_FACTOR

#: The mode a model of each component decodes in: `--model` implies `--mode`.
MODE_OF_COMPONENT = {DICT_COMPONENT: "dict", FCN_COMPONENT: "fcn"}
SEGMENTED_CORPUS = ("Segmented corpus: People's Daily word/tag lines or bakeoff (space-separated). "
                    "Repeat for several.")


def add_commands(cli: click.Group) -> None:
    cli.add_command(segment_command)
    core_group(cli, "train").add_command(train_dictionary_command)
    core_group(cli, "train").add_command(train_segment_command)
    core_group(cli, "train").add_command(train_segment_lexicon_command)
    core_group(cli, "train").add_command(train_segment_ensemble_command)
    core_group(cli, "train").add_command(train_segment_swaps_command)
    core_group(cli, "eval").add_command(eval_segment_command)


def _stage(
    engine: Any, mode: str, user_dict: str | None, hard_dict: str | None = None,
    hard_default: float | None = None, model: Any = None,
    builtin_words: bool | None = None, lexicon: bool | None = None,
    precision: str | None = None, networks: int | None = None,
) -> Any:
    """The segmenter stage the command runs: the configured one, with the command's flags
    applied (a flag replaces the configured option). `model` is a resolved `ModelSpec` of
    `mode`'s component, or None. Paths are made absolute, so the same stage builds the same
    segmenter in this process and on Dask workers."""
    import dataclasses

    from .dictionary_model import DEFAULT_MODEL
    from .fcn.tagger import FCN_MODEL
    from .plugin import DictOptions, FCNOptions
    from .segmenter import check_mode

    check_mode(mode)
    stage = engine.task_config("segment")["segmenter"]
    if mode == "fcn":
        if stage.component == FCN_COMPONENT:
            options = stage.options.model_dump()
            spec = stage.model
        elif stage.component == DICT_COMPONENT:
            options = {}
            spec = engine.resolve_model(FCN_MODEL) if FCN_MODEL in engine.models else None
        else:
            raise click.UsageError("--mode fcn: the configured segmenter is not jiema's")
        if model is not None:
            spec = model
        for key, value in (("hard_dict", hard_dict), ("hard_default", hard_default),
                           ("user_dict", user_dict), ("builtin_words", builtin_words),
                           ("lexicon", lexicon), ("precision", precision),
                           ("networks", networks)):
            if value is not None:
                options[key] = value
        options["hard_dict"] = _absolute(options.get("hard_dict"))
        options["user_dict"] = _absolute(options.get("user_dict"))
        return dataclasses.replace(stage, component=FCN_COMPONENT, model=spec,
                                   options=FCNOptions(**options))
    for flags, value in (("--hard-dict needs", hard_dict),
                         ("--builtin-words/--no-builtin-words need", builtin_words),
                         ("--lexicon/--no-lexicon need", lexicon),
                         ("--precision needs", precision), ("--networks needs", networks)):
        if value is not None:
            raise click.UsageError(f"{flags} --mode fcn")
    if stage.component == DICT_COMPONENT:
        options, spec = stage.options.model_dump(), stage.model
    elif stage.component == FCN_COMPONENT:
        options, spec = {}, engine.resolve_model(DEFAULT_MODEL)
    else:
        raise click.UsageError("--mode dict: the configured segmenter is not jiema's")
    if model is not None:
        spec = model
    if user_dict is not None:
        options["user_dict"] = user_dict
    options["user_dict"] = _absolute(options.get("user_dict"))
    return dataclasses.replace(stage, component=DICT_COMPONENT, model=spec,
                               options=DictOptions(**options))


def _absolute(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path is not None else None


def _build_cutter(stage: Any) -> Any:
    """Runs on a Dask worker (or here): the stage's segmenter, as a batch -> words function."""
    from jiema import default_engine

    seg = default_engine().build(stage)
    return lambda lines: list(seg.cut_lines(lines))


@click.command("segment")
@click.argument("inputs", nargs=-1, metavar="[FILE...|-]")
@click.option("--mode", type=click.Choice(["dict", "fcn"]), default=None,
              help="dict: dictionary word lattice; fcn: the neural tagger (needs torch). "
                   "Default: the mode of --model if given, else fcn when torch is installed "
                   "and dict without it.")
@model_option(None, component=tuple(MODE_OF_COMPONENT),
              help="A registered model name or a path: an fcn model (default pd98-fcn-fast, "
                   "one network; pd98-fcn: the five-network ensemble it was distilled from, "
                   "slower) or a dictionary model (default pd98-dict); the model's kind picks "
                   "the mode.")
@click.option("--user-dict", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A jieba-format user dictionary (word [freq] [tag]) to add "
                   "(fcn mode: read as a --hard-dict list).")
@click.option("--hard-dict", type=click.Path(exists=True, dir_okay=False), default=None,
              help="fcn mode: the user's word list; its words come out whole wherever no other "
                   "listed word conflicts, and outrank the built-in words. One word a line: "
                   "`word`, `word,factor` (科学空间,10), `word<TAB>factor`, or jieba's `word freq "
                   "[tag]` (freq 0 removes the word). Only an ASCII comma or a tab separates a "
                   "factor, and a thousands separator does not (4,200 and 17,092亿 are words); "
                   "words may hold spaces. A factor below 1 splits the word. A line that fits "
                   "no format is kept as a word and counted on stderr.")
@click.option("--hard-default", type=click.FloatRange(min=0, min_open=True), default=None,
              help="fcn mode: factor of plain words of two or more characters in --hard-dict "
                   f"/ --user-dict (default: {DEFAULT_HARD_FACTOR:g}); a jieba frequency f gives "
                   "this x f / (the frequency at which dict mode cuts the word whole).")
@click.option("--builtin-words/--no-builtin-words", default=None,
              help="fcn mode: start the hard-decoding list with the shipped words newer than "
                   "the 1998 training text (二维码, 微信, ...; on by default).")
@click.option("--lexicon/--no-lexicon", default=None,
              help="fcn mode: start the hard-decoding list with the model's training lexicon "
                   "(its words, factor 1000 ** how often the string is that word there; on by "
                   "default).")
@click.option("--precision", type=click.Choice(["auto", "float32", "bfloat16"]), default=None,
              help="fcn mode: the networks' arithmetic; auto (the default): bfloat16 where the "
                   "CPU has it natively (AVX512-BF16, AMX; faster, same accuracy), else float32. "
                   "Name one for output that does not depend on the CPU (a mixed Dask cluster).")
@click.option("--networks", type=click.IntRange(min=1), default=None,
              help="fcn mode: decode with only the first N networks of an ensemble model "
                   "(default: all; the pd98-fcn ensemble has 5). Faster, a little less "
                   "accurate: for CPUs without native bfloat16, where pd98-fcn's 5 run at about "
                   "0.6x the speed.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the result here instead of standard output.")
@click.option("--delimiter", default=" ", show_default=True, help="Between words.")
@click.option("--tokens", is_flag=True,
              help="Print each word as word/start/end, character offsets in its line (read "
                   "from the right: a word may hold a /); with --jsonl, a tokens field.")
@click.option("--jsonl", is_flag=True,
              help="One JSON object per input line: file, line, text, confidence, error, words.")
@click.option("--dask", "use_dask", is_flag=True,
              help="Decode on Dask (a local cluster unless --scheduler): for large corpora; "
                   "the output is identical. Needs the `dask` extra.")
@click.option("--scheduler", default=None, metavar="ADDR",
              help="Dask scheduler address (e.g. tcp://host:8786); implies --dask. Workers need "
                   "jiema installed and the model and word-list paths readable.")
@click.option("--block-chars", type=click.IntRange(min=1), default=None,
              help="Characters decoded per block (default 64k, or 4M with --dask): memory "
                   "stays bounded by a block.")
@pass_engine
def segment_command(
    engine: Any,
    inputs: tuple[str, ...],
    mode: str | None,
    model: Any,
    user_dict: str | None,
    hard_dict: str | None,
    hard_default: float | None,
    builtin_words: bool | None,
    lexicon: bool | None,
    precision: str | None,
    networks: int | None,
    out_path: str | None,
    delimiter: str,
    tokens: bool,
    jsonl: bool,
    use_dask: bool,
    scheduler: str | None,
    block_chars: int | None,
) -> None:
    """Cut each line of FILE (or standard input, `-`) into words.

    Exactly one output line per input line, streaming; an empty line stays empty. Whitespace in
    the input is not a word: it separates words and never appears in the output. A file that
    cannot be read is reported in one line on standard error and the other files are still
    cut (exit status 1); invalid UTF-8 names the byte offset and skips the rest of that file
    (with --jsonl each bad line becomes its record and the next lines are still cut). --out
    is written to a temporary file renamed at the end, and may not be one of the inputs.
    """
    from jiema.atomic import atomic_open

    from .segmenter import default_mode

    mode = choice_implied_by_model(model, MODE_OF_COMPONENT, mode, "--mode") or default_mode()
    sources = list(inputs) or ["-"]
    model_files = [model.path, model.card_path] if model is not None else []
    refuse_input_as_output(out_path, [*sources, user_dict, hard_dict, *model_files])
    stage = _stage(engine, mode, user_dict, hard_dict, hard_default, model, builtin_words,
                   lexicon, precision, networks)
    blocks = block_chars or (1 << 22 if use_dask or scheduler else 1 << 16)
    with _cutter(engine, stage, use_dask or scheduler is not None, scheduler) as cut:
        if out_path is None:
            status = _stream(cut, sources, sys.stdout, delimiter, jsonl, blocks, tokens)
        else:
            with atomic_open(out_path) as out:
                status = _stream(cut, sources, out, delimiter, jsonl, blocks, tokens)
    exit_with(status)


@contextlib.contextmanager
def _cutter(engine: Any, stage: Any, use_dask: bool, scheduler: str | None) -> Iterator[Any]:
    """A lines -> words function: the segmenter here, or `map_corpus` on a Dask client."""
    if not use_dask:
        seg = engine.build(stage)
        yield lambda lines: list(seg.cut_lines(lines))
        return
    from jiema.errors import require
    from jiema.mapping import map_corpus

    distributed = require("distributed", "dask", "jiema segment --dask")
    cluster = None
    if scheduler is None:
        import logging

        cluster = distributed.LocalCluster(
            processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
    client = distributed.Client(cluster if cluster is not None else scheduler)
    try:
        yield lambda lines: map_corpus(
            _build_cutter, stage, lines, backend="dask", scheduler=client,
            partition_size=2000, progress=False,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stream(
    cut: Any, sources: list[str], out: Any, delimiter: str, jsonl: bool, block_chars: int,
    tokens: bool = False,
) -> int:
    """Cut every line of `sources` in blocks and write them; returns the exit status. A bad
    line is a record with --jsonl; in plain mode it is one line on stderr and the rest of its
    file is skipped (its output would no longer line up with the input)."""
    from jiema.corpus import read_lines
    from tqdm import tqdm

    from .segmenter import word_spans

    reporter = Reporter(jsonl=jsonl, out=out)
    pending: list[Any] = []
    skipping: tuple[str, int] | None = None  # (file, bad line) whose rest plain mode skips

    def flush() -> Iterator[tuple[Any, list[str] | None]]:
        good = [rec for rec in pending if rec.error is None]
        cut_words = iter(cut([rec.text for rec in good]))
        for rec in pending:
            yield rec, (next(cut_words) if rec.error is None else None)
        pending.clear()

    def emit(rec: Any, words: list[str] | None) -> None:
        if words is None:
            where = f" (line {rec.line})" if rec.line and not jsonl else ""
            record = Record(rec.file, error=describe_error(rec.error, rec.file) + where,
                            extra={"line": rec.line})
            reporter.write(record)
            return
        spans = [t for t in word_spans(words) if not t[0].isspace()]
        words = [w for w, _, _ in spans]
        extra: dict[str, Any] = {"line": rec.line, "words": words}
        if tokens:
            extra["tokens"] = [list(t) for t in spans]
            plain = delimiter.join(f"{w}/{a}/{b}" for w, a, b in spans)
        else:
            plain = delimiter.join(words)
        reporter.write(Record(rec.file, text=delimiter.join(words), extra=extra), plain)

    size = 0
    # a bar on stderr when it is a terminal (tqdm disables itself otherwise)
    bar = tqdm(unit="line", file=sys.stderr, disable=None, mininterval=1.0, leave=False)
    try:
        for rec in read_lines(sources, errors="record"):
            if skipping is not None:
                if rec.file == skipping[0] and rec.line > skipping[1]:
                    continue
                skipping = None
            if rec.error is not None and not jsonl:
                skipping = (rec.file, rec.line)
            pending.append(rec)
            size += len(rec.text)
            if size >= block_chars:
                bar.update(len(pending))
                for item in flush():
                    emit(*item)
                out.flush()
                size = 0
    finally:
        bar.update(len(pending))
        for item in flush():
            emit(*item)
        out.flush()
        bar.close()
    return reporter.finish(what="input line(s)" if jsonl else "input(s)")


def _refuse_model_output(out: str, inputs: Any) -> None:
    """`--out` (a model file, or a text file) and the card written beside a model may not be
    an input or an input's card."""
    from jiema.models import card_path_for

    sources = [p for path in inputs for p in (path, card_path_for(path))]
    refuse_input_as_output(out, sources)
    if out.endswith(".safetensors"):
        refuse_input_as_output(card_path_for(out), sources, option="--out's card")


@click.command("dictionary")
@corpus_option(SEGMENTED_CORPUS)
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
    from jiema.models import ModelCard, provenance

    from .dictionary_model import (
        COMPONENT,
        TASK,
        count_words,
        dictionary_from_counts,
        save_dictionary_model,
    )

    _refuse_model_output(out_path, corpora)
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
            **provenance(),
        )
        save_dictionary_model(dictionary, out, card)
    else:
        dictionary.save(out)
    click.echo(f"{len(dictionary)} words, total frequency {dictionary.total} -> {out}", err=True)


@click.command("segment")
@corpus_option(SEGMENTED_CORPUS)
@run_folder_options("Run folder: checkpoints (last, best) and the exported model.",
                    "Continue from the run folder's last checkpoint.", default="runs/segment-fcn")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--dim", type=click.IntRange(min=4), default=128, show_default=True)
@click.option("--layers", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--kernel", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--dilations", default="1,2,4", show_default=True, help="Cycled over the layers.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.1,
              show_default=True)
@click.option("--bigram-dim", type=click.IntRange(min=0), default=0, show_default=True,
              help="Width of the character-bigram embedding (0: characters only).")
@click.option("--min-bigram-count", type=click.IntRange(min=1), default=3, show_default=True,
              help="Rarer bigrams share the UNK bigram embedding.")
@click.option("--unk-dropout", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              show_default=True, help="Share of training characters shown as UNK per batch.")
@click.option("--bigram-unk-dropout", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              show_default=True, help="Share of training bigrams shown as UNK per batch.")
@click.option("--batch-chars", type=click.IntRange(min=16), default=4000, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3,
              show_default=True)
@click.option("--lr-schedule", type=click.Choice(["constant", "cosine"]), default="constant",
              show_default=True, help="cosine: decay per epoch from --lr to --lr/20.")
@click.option("--dev-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.05,
              show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=3, show_default=True,
              help="Stop after this many epochs without a better dev F.")
@click.option("--checkpoint-minutes", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True)
@click.option("--max-lines", type=click.IntRange(min=1), default=None,
              help="Use only the first N corpus lines.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds initialisation, batch order and dropout masks (ensemble members differ "
                   "by seed).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch CPU threads (default: torch's choice).")
@click.option("--teacher", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Distil: an FCN model (e.g. the pd98-fcn ensemble) whose S/B/M/E "
                   "probabilities on the training split are soft targets (computed once into "
                   "OUT/teacher.npz).")
@click.option("--teacher-weight", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of the loss that is cross-entropy to the teacher (the rest: gold tags).")
@click.option("--extra-corpus", "extra_corpora", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="More segmented lines to train on (distilled too, with --teacher), not counted "
                   "into the vocabularies, the dev split or the lexicon: e.g. the word-swapped "
                   "lines of `jiema train segment-swaps`. Repeatable.")
@click.option("--init", "init_model", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Start from an FCN model trained on the same split: same-shape tensors are "
                   "copied, narrower character embeddings take its principal components.")
@click.option("--name", default="segment-fcn", show_default=True, help="Exported model name.")
@click.option("--half", is_flag=True, help="Store the exported weights as float16 (half size).")
@click.option("--training-data", default=None, help="What the corpus is, for the model card.")
@click.option("--licence", default=None, help="The corpus licence, for the model card.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--allow-research-data", is_flag=True,
              help="Allow corpora under an icwb2 folder (SIGHAN bakeoff data is research-only: "
                   "models trained on it must not ship).")
def train_segment_command(
    corpora: tuple[str, ...], out_dir: str, epochs: int, resume: bool, dim: int, layers: int,
    kernel: int, dilations: str, dropout: float, bigram_dim: int, min_bigram_count: int,
    unk_dropout: float, bigram_unk_dropout: float, batch_chars: int, lr: float,
    lr_schedule: str, dev_fraction: float, patience: int,
    checkpoint_minutes: float, max_lines: int | None, seed: int, threads: int | None,
    teacher: str | None, teacher_weight: float, extra_corpora: tuple[str, ...],
    init_model: str | None, name: str, half: bool,
    training_data: str | None, licence: str | None, quiet: bool,
    allow_research_data: bool,
) -> None:
    """Train the FCN S/B/M/E tagger; export the best dev-F network as OUT/NAME.safetensors.

    Each network of the shipped pd98-fcn: --corpus peoples_daily_199801.txt --dim 96 --layers 5
    --dilations 1,2,4,8,1 --bigram-dim 32 --min-bigram-count 3 --lr-schedule cosine
    --dev-fraction 0.03 --patience 8 --half --epochs 10 --seed S (dev F 0.962-0.964; about 2.5
    min an epoch on 2 idle cores); seeds 0-4 joined by `jiema train segment-ensemble`."""
    research = [c for c in (*corpora, *extra_corpora) if "icwb2" in Path(c).resolve().parts]
    if research and not allow_research_data:
        raise click.UsageError(
            f"{', '.join(research)}: SIGHAN bakeoff (icwb2) data is for research only; "
            "pass --allow-research-data to train on it anyway (never ship such a model)"
        )
    from .fcn import FCNSettings, TrainOptions
    from .fcn.train import DEFAULT_LICENCE, DEFAULT_TRAINING_DATA, Trainer, export_model

    try:
        dil = tuple(int(d) for d in dilations.split(","))
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers, got {dilations!r}",
                                 param_hint="--dilations") from exc
    settings = FCNSettings(dim=dim, layers=layers, kernel=kernel, dilations=dil, dropout=dropout,
                           bigram_dim=bigram_dim)
    options = TrainOptions(
        epochs=epochs, batch_chars=batch_chars, lr=lr, dev_fraction=dev_fraction,
        min_bigram_count=min_bigram_count, unk_dropout=unk_dropout,
        bigram_unk_dropout=bigram_unk_dropout, lr_schedule=lr_schedule,  # type: ignore[arg-type]
        patience=patience, checkpoint_minutes=checkpoint_minutes, max_lines=max_lines,
        seed=seed, threads=threads, teacher=teacher, teacher_weight=teacher_weight,
        extra_corpora=extra_corpora, init=init_model,
    )
    trainer = Trainer(list(corpora), out_dir, settings, options, resume=resume,
                      log=lambda s: click.echo(s, err=True))
    if resume and trainer.epoch:
        trainer.options.epochs = epochs  # a resumed run may be given more epochs
    scores = trainer.run(progress=not quiet)
    weights, card = export_model(
        out_dir, Path(out_dir) / f"{name}.safetensors", name=name, half=half,
        training_data=training_data if training_data is not None else DEFAULT_TRAINING_DATA
        if any("peoples_daily" in Path(c).name for c in corpora)
        else ", ".join(Path(c).name for c in corpora),
        licence=licence if licence is not None else DEFAULT_LICENCE
        if any("peoples_daily" in Path(c).name for c in corpora) else "",
    )
    shown = ", ".join(f"{k}={v:.4f}" for k, v in scores.items())
    click.echo(f"best: {shown} -> {weights} (+ {card.name})", err=True)


@click.command("segment-lexicon")
@click.option("--model", "model_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="An exported FCN model (.safetensors) without a lexicon, or to replace it.")
@corpus_option("The corpus (or corpora, in order) the model was trained on.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the model with its lexicon (.safetensors; card beside it).")
def train_segment_lexicon_command(model_path: str, corpora: tuple[str, ...], out: str) -> None:
    """Add the training lexicon to an FCN model exported before models carried one.

    The corpus is split as the model's card says it was in training (dev lines stay out); every
    word of two or more characters is stored with its wordness. `jiema train segment` adds it
    itself. The shipped pd98-fcn: --model pd98-fcn.safetensors --corpus
    peoples_daily_199801.txt."""
    from .fcn.train import add_lexicon

    _refuse_model_output(out, [model_path, *corpora])
    weights, words = add_lexicon(model_path, list(corpora), out)
    click.echo(f"{words} lexicon words -> {weights}", err=True)


@click.command("segment-swaps")
@click.option("--corpus", "corpus", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A People's Daily word/tag corpus (the one `jiema train segment` trains on).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the lines (words separated by spaces, a line each).")
@click.option("--share", type=click.FloatRange(0, 1), default=SWAP_SHARE, show_default=True,
              help="Chance that each swappable word of a line is swapped.")
@click.option("--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="Swapped copies of each training line.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--dev-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.03,
              show_default=True,
              help="Leave out the dev lines of a `jiema train segment` run with this "
                   "--dev-fraction.")
def train_segment_swaps_command(
    corpus: str, out: str, share: float, copies: int, seed: int, dev_fraction: float
) -> None:
    """Write word-swapped copies of a tagged corpus's training lines, for --extra-corpus.

    Each swappable word (not punctuation, auxiliaries or particles) is replaced, with chance
    --share, by a word of the same part of speech and length from the corpus: the line keeps its
    segmentation and grammar, and its words meet neighbours they never had, as in new text. A
    student distilled on them too (`jiema train segment --teacher ... --extra-corpus OUT`) learns
    its teacher beyond the training lines. The shipped pd98-fcn-fast: see its card."""
    import numpy as np
    from jiema.atomic import atomic_path
    from jiema.errors import InvalidInputError

    from .fcn.augment import swap_words, tagged_lines
    from .fcn.train import split_dev

    _refuse_model_output(out, [corpus])
    try:
        train, _ = split_dev(list(tagged_lines(corpus)), dev_fraction)
    except InvalidInputError as exc:
        raise click.UsageError(f"{corpus}: no People's Daily word/tag lines to swap words in "
                               f"({exc})") from None
    if not train:
        raise click.UsageError(f"{corpus}: no People's Daily word/tag lines to swap words in")
    rng = np.random.default_rng(seed)
    lines = 0
    with atomic_path(Path(out)) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for words in swap_words(train, share, rng, copies):
            fh.write(" ".join(words) + "\n")
            lines += 1
    click.echo(f"{lines} lines -> {out}", err=True)


@click.command("segment-ensemble")
@click.option("--member", "members", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="An exported FCN model (.safetensors); repeat, at least twice. Members share "
                   "vocabulary and network settings (same corpus and options, other --seed).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the ensemble (.safetensors; card beside it).")
@click.option("--name", default=None, help="Model name for the card (default: the file stem).")
@corpus_option("The members' training corpus: score the ensemble on its dev split for the "
               "card.", required=False)
@click.option("--int8-embeddings", is_flag=True,
              help="Store the embedding tables (most of the bytes) as int8 with a scale per row.")
@click.option("--int4-bigrams", is_flag=True,
              help="Store the bigram tables as int4 (two values a byte) with a scale per row, "
                   "the other embedding tables as int8.")
def train_segment_ensemble_command(
    members: tuple[str, ...], out: str, name: str | None, corpora: tuple[str, ...],
    int8_embeddings: bool, int4_bigrams: bool,
) -> None:
    """Join FCN models into one ensemble model: their mean log-probabilities decode.

    Each member costs one forward pass, so decoding slows in proportion. The lexicon and card
    come from the first member. The shipped pd98-fcn: five runs of the recipe in `jiema train
    segment --help` (--seed 0 to 4), joined with --int4-bigrams (dev F with the lexicon: one
    network .9698, three .9725, five .9733)."""
    from jiema.models import card_path_for, find_model_files, save_card

    from .fcn.ensemble import merge_models

    _refuse_model_output(out, [*members, *corpora])
    weights = merge_models(list(members), out, name=name, int8_embeddings=int8_embeddings,
                           int4_bigrams=int4_bigrams)
    _, card = find_model_files(weights)
    n = len(card.hyperparameters.get("members", []))
    if corpora:
        from .fcn.train import dev_scores

        scores = dev_scores(weights, list(corpora))
        save_card(card.model_copy(update={"scores": scores}), card_path_for(weights))
        shown = ", ".join(f"{k}={v:.4f}" for k, v in scores.items())
        click.echo(f"{n} members -> {weights}: {shown}", err=True)
    else:
        click.echo(f"{n} members -> {weights}", err=True)


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
