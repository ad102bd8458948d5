"""`jiema ocr IMAGE...`: the text of each image, one output line per text line."""

from __future__ import annotations

import logging
import re
from functools import partial
from pathlib import Path
from typing import Any

import click
from jiema.cli import pass_engine
from jiema.output import (
    Record,
    choice_implied_by_model,
    describe_error,
    exit_with,
    inputs_argument,
    jobs_for,
    jobs_option,
    jsonl_option,
    model_option,
    run_reading_command,
    same_file,
)

from .plugin import CLASSIFIER_COMPONENT, LINE_COMPONENT, LINE_TOP_K, SPAN_CHOOSER

#: The reader a model of each component feeds: `--model` implies `--reader`.
READER_OF_COMPONENT = {CLASSIFIER_COMPONENT: "cut-classify", LINE_COMPONENT: "line-ctc"}
#: What `--debug-dir` writes per image, after the image's stem.
_DEBUG_NAME = re.compile(r"^(?P<stem>.+)-(?:kde|boxes|layer\d+)\.png$")

log = logging.getLogger("jiema.ocr")


def add_commands(cli: click.Group) -> None:
    cli.add_command(ocr_command)
    try:
        from .train_cli import register_train_commands
    except ImportError:  # pragma: no cover - the training commands ship with the char models
        return
    register_train_commands(cli)


def _plain(record: Record, many: bool) -> str:
    text = record.text or ""
    if not many:
        return text
    lines = text.split("\n") if text else [""]
    return "\n".join(f"{record.file}\t{line}" for line in lines)


@click.command("ocr")
@inputs_argument
@jsonl_option
@click.option("--reader", "reader_kind",
              type=click.Choice(["cut-classify", "line-ctc", "surer"]), default=None,
              help="Emission model: cut glyphs for the char CNN, read whole lines with the "
                   "CTC line recogniser (gb2312-line-ctc), or surer: both, merged; where "
                   "they differ, the span the fitted span chooser (gb2312-span-choice) "
                   "picks; all feed the same LM "
                   "(default: the reader of --model if given, else the configured one, "
                   "surer).")
@model_option(None, component=tuple(READER_OF_COMPONENT),
              help="The reader's model: gb2312-cnn (cut-classify, the default) or "
                   "gb2312-line-ctc (line-ctc), or a path to one; the model picks the reader.")
@click.option("--no-lm", is_flag=True, help="Best candidate per glyph, no language model.")
@click.option("--lm-weight", type=click.FloatRange(min=0), default=None,
              help="Weight of the character bigram LM against the classifier "
                   "(default 0.4, the measured best).")
@click.option("--debug-dir", type=click.Path(file_okay=False), default=None,
              help="Write pictures per image here: the KDE with maxima/minima, each layer, "
                   "and the lines, components and glyph boxes drawn over the image (the "
                   "images are then read in this process alone).")
@jobs_option
@pass_engine
def ocr_command(engine: Any, inputs: tuple[str, ...], jsonl: bool, reader_kind: str | None,
                model: Any, no_lm: bool, lm_weight: float | None,
                debug_dir: str | None, jobs: int | None) -> None:
    """Read printed Chinese text (with digits, Latin letters, punctuation) from images.

    Prints the text of each image, one line per text line (with several images, each line is
    `FILE<TAB>TEXT`). With --jsonl, one record per image: file, text (lines joined by a
    newline), confidence, error, and `lines` (box, text, confidence and per glyph its box,
    character and candidates). A file that is not a readable image, and an image with no text
    in it ("no text found"), is reported in one line and the others are still read (exit
    status 1). Needs torch (the `ocr` extra brings it).
    """
    from jiema.cli import engine_recipe
    from jiema.errors import require

    kind = choice_implied_by_model(model, READER_OF_COMPONENT, reader_kind, "--reader")
    out_dir = Path(debug_dir) if debug_dir else None
    if out_dir is not None:
        _refuse_debug_overwrites(out_dir, inputs)
    require("torch", "ocr", "jiema ocr")  # every reader's network runs in torch
    reader = _reader(engine, kind, model, no_lm, lm_weight)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    many = len(inputs) > 1
    recipe = engine_recipe()
    # --debug-dir numbers the pictures of inputs that share a stem: one process sees them all
    jobs = 1 if out_dir is not None or recipe is None else jobs_for(jobs, len(inputs))
    worker = partial(_worker_reader, recipe, kind, model, no_lm, lm_weight)
    status = run_reading_command(inputs, partial(_read_record, reader, out_dir, set()),
                                 jsonl=jsonl, plain_format=lambda rec: _plain(rec, many),
                                 jobs=jobs, make_reader=worker)
    exit_with(status)


def _worker_reader(recipe: Any, kind: str | None, model: Any, no_lm: bool,
                   lm_weight: float | None) -> Any:
    """A batch worker's `read_one` (`jobs` > 1): the same reader, built in that process."""
    reader = _reader(recipe.build(), kind, model, no_lm, lm_weight)
    return partial(_read_record, reader, None, set())


def _read_record(reader: Any, out_dir: Path | None, stems: set[str], file: str) -> Record:
    """One image's record: its text and lines, or why it has none."""
    from jiema.errors import NoTextError

    from .pipeline import analyse

    try:
        analysis = analyse(file, reader.options, stages=reader.stages)
        result = reader.read_analysis(analysis)
    except Exception as exc:  # reported in the record; every record has the same keys
        log.debug("reading %s failed", file, exc_info=True)
        return Record(file, error=describe_error(exc, file), extra={"lines": []})
    if out_dir is not None:
        try:
            _write_debug(out_dir, _debug_stem(file, stems), analysis, result)
        except Exception as exc:  # a picture that cannot be drawn loses no reading
            click.echo(f"jiema: {file}: the --debug-dir pictures failed: "
                       f"{describe_error(exc, file)}", err=True)
    if not result.text.strip():
        return Record(file, error=describe_error(NoTextError("no text found")),
                      extra={"lines": []})
    return Record(file, text=result.text, confidence=result.confidence,
                  extra={"lines": [line.to_dict() for line in result.lines]})


def _refuse_debug_overwrites(out_dir: Path, inputs: tuple[str, ...]) -> None:
    """A usage error when a picture `--debug-dir` would write is one of the inputs."""
    stems: set[str] = set()
    for file in inputs:
        _debug_stem(file, stems)
    for file in inputs:
        found = _DEBUG_NAME.match(Path(file).name)
        if found and found["stem"] in stems and same_file(Path(file).parent, out_dir):
            raise click.UsageError(
                f"--debug-dir {out_dir} would overwrite the input {file}; choose another folder")


def _reader(engine: Any, kind: str | None, model: Any, no_lm: bool,
            lm_weight: float | None) -> Any:
    """The configured ocr pipeline, with the command line's overrides applied."""
    from .line_ctc import LineCTCReader
    from .pipeline import OcrReader
    from .surer_reader import SurerReader

    reader = engine.task("ocr")
    if kind is None and model is None and not no_lm and lm_weight is None:
        return reader
    decoder = reader.decoder
    if no_lm:
        decoder = None
    elif lm_weight is not None:
        from .language_model import load_default_lm
        from .pipeline import lm_decoder

        lm = getattr(decoder, "lm", None) or load_default_lm()
        decoder = lm_decoder(lm, lm_weight)
    if kind is None:
        kind = ("surer" if isinstance(reader, SurerReader)
                else "line-ctc" if isinstance(reader, LineCTCReader) else "cut-classify")
    whole = reader.line_reader if isinstance(reader, SurerReader) else reader
    glyphs = reader.cut_reader if isinstance(reader, SurerReader) else reader

    def line_reader() -> LineCTCReader:
        spec = _model_spec(engine, model, LINE_COMPONENT)
        if spec is None and isinstance(whole, LineCTCReader):
            recognizer = whole.recognizer
        else:
            recognizer = engine.component(LINE_COMPONENT, model=spec).recognizer
        return LineCTCReader(recognizer, decoder, reader.options,
                             k=getattr(whole, "k", LINE_TOP_K), stages=reader.stages)

    def cut_reader() -> OcrReader:
        spec = _model_spec(engine, model, CLASSIFIER_COMPONENT)
        if spec is None and isinstance(glyphs, OcrReader):
            classifier = glyphs.classifier
        else:
            classifier = engine.component(CLASSIFIER_COMPONENT, model=spec)
        return OcrReader(classifier, decoder, reader.options, reader.stages)

    if kind == "line-ctc":
        return line_reader()
    if kind == "surer":
        if isinstance(reader, SurerReader):
            chooser = reader.chooser
        else:
            from .span_choice import SpanChooser

            chooser = SpanChooser.load(SPAN_CHOOSER)
        return SurerReader(cut_reader(), line_reader(), chooser)
    return cut_reader()


def _model_spec(engine: Any, model: Any, component: str) -> Any:
    """The `ModelSpec` `--model` named (or None), checked against the reader's component."""
    if model is None:
        return None
    spec = model
    if spec.component != component:
        raise click.BadParameter(
            f"model {model!r} is for component {spec.component!r}, not {component!r}",
            param_hint="--model")
    return spec


def _debug_stem(file: str, seen: set[str]) -> str:
    """The file's stem, numbered when another input had it (a/x.png and b/x.jpg)."""
    base = Path(file).stem or "image"
    stem, k = base, 1
    while stem in seen:
        k += 1
        stem = f"{base}-{k}"
    seen.add(stem)
    return stem


def _write_debug(out_dir: Path, stem: str, analysis: Any, result: Any) -> None:
    from .debug import draw_boxes, plot_kde, save_layers
    from .deskew import box_to_turned

    plot_kde(analysis.layers, out_dir / f"{stem}-kde.png")
    save_layers(analysis.gray, analysis.layers, out_dir / stem)
    s = analysis.scale

    def drawn(box: Any) -> tuple[int, int, int, int]:  # result boxes are the input's pixels
        if getattr(analysis, "rotation", 0.0):
            box = box_to_turned(box, analysis.rotation, analysis.input_shape,
                                analysis.rgb.shape[:2])
        return (box[0] * s, box[1] * s, box[2] * s, box[3] * s)

    glyphs = [[drawn(g.box) for g in line.glyphs] for line in result.lines]
    draw_boxes(analysis.rgb, analysis.lines, glyphs, out_dir / f"{stem}-boxes.png", scale=s)
