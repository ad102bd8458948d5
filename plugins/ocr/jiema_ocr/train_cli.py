"""`jiema train ocr` (the char CNN), `jiema train ocr-lm` (the character bigram LM),
`jiema train ocr-line` (the whole-line CTC recogniser) and `jiema train ocr-spans` (the surer
reader's span chooser)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import click
from jiema.cli import core_group
from jiema.cli_options import corpus_option, run_folder_options, step_options

from .synth_text import PLAIN_SHARE


def register_train_commands(cli: click.Group) -> None:
    """Add the ocr training commands to the core's `train` group (called by plugin.py)."""
    train = core_group(cli, "train")
    train.add_command(train_ocr_command)
    train.add_command(train_ocr_lm_command)
    train.add_command(train_ocr_line_command)
    train.add_command(train_ocr_spans_command)


def _run_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options every training run of this plugin shares: its time budget and machine."""
    for option in reversed((
        click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Time budget: the learning-rate schedule ends when it (or --steps) "
                          "runs out."),
        click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
                     help="torch CPU threads."),
        click.option("--device", default="cpu", show_default=True,
                     help="torch device, e.g. cuda."),
        click.option("--checkpoint-minutes", type=click.FloatRange(min=0, min_open=True),
                     default=5.0, show_default=True),
    )):
        command = option(command)
    return command


@click.command("ocr")
@run_folder_options("Run folder: last.* (resumable checkpoint), model.* (latest), best.* (best "
                    "held-out top-1) — copy best.safetensors + best.json to ship a model.",
                    "Continue the run in --out from its last checkpoint (its saved options win).")
@step_options(steps=6000, batch_size=128, lr=2e-3, min_batch=2)
@click.option("--width", type=click.IntRange(min=8), default=64, show_default=True,
              help="Channels of the first conv stage (later ones are 2x and 2.5x).")
@click.option("--hidden", type=click.IntRange(min=8), default=256, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Glyph-rendering processes (0: render in the training process).")
@click.option("--eval-samples", type=click.IntRange(min=0), default=3000, show_default=True,
              help="Held-out glyphs (their own seed) scored at every checkpoint.")
@click.option("--max-classes", type=click.IntRange(min=2), default=None,
              help="Train on the first N classes only (a quick check).")
@click.option("--init", default=None, metavar="NAME|PATH",
              help="Start from a trained char model (its --width/--hidden win): its classes keep "
                   "what they learned; classes it lacks (a newer charset) start fresh.")
@click.option("--new-class-share", type=click.FloatRange(min=0, max=1, max_open=True),
              default=0.0, show_default=True,
              help="With --init: the part of each batch drawn from the classes it lacks.")
@click.option("--frequent-share", type=click.FloatRange(min=0, max=1, max_open=True),
              default=0.0, show_default=True,
              help="The part of each batch whose classes are drawn by the square root of their "
                   "count in the OCR LM's text (common characters seen more; the export keeps "
                   "the output's prior uniform).")
@click.option("--fonts", type=click.Choice(["debian", "all"]), default="debian",
              show_default=True,
              help="debian: the four Debian families (WenQuanYi Micro/Zen Hei, AR PL "
                   "UMing/UKai); all: every licensed training family, Noto Sans/Serif/Mono "
                   "CJK SC in every weight and Smiley Sans besides (never a withheld typeface).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--name", default="gb2312-cnn", show_default=True, help="Model name for the card.")
@_run_options
def train_ocr_command(out_dir: str, resume: bool, steps: int, minutes: float | None,
                      batch_size: int, lr: float, width: int, hidden: int, threads: int,
                      workers: int, device: str, checkpoint_minutes: float, eval_samples: int,
                      max_classes: int | None, init: str | None, new_class_share: float,
                      frequent_share: float, fonts: str, seed: int, name: str) -> None:
    """Train the char CNN on glyphs rendered on the fly from CJK fonts (--fonts).

    Progress goes to standard error; a checkpoint is written every --checkpoint-minutes and on
    Ctrl-C, so a killed run loses at most that much: run again with --resume.
    """
    from jiema.errors import require

    require("torch", "torch", "to train the OCR char CNN")
    from .cnn.train import TrainOptions, train

    opts = TrainOptions(
        steps=steps, minutes=minutes, batch_size=batch_size, lr=lr, width=width, hidden=hidden,
        threads=threads, workers=workers, device=device, checkpoint_minutes=checkpoint_minutes,
        eval_samples=eval_samples, max_classes=max_classes, init=init,
        new_class_share=new_class_share, frequent_share=frequent_share, fonts=fonts, seed=seed,
        name=name,
    )
    try:
        scores = train(out_dir, opts, resume=resume)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(json.dumps({"out": out_dir, **{f"heldout_{k}": v for k, v in scores.items()}}))


@click.command("ocr-lm")
@corpus_option("Segmented corpus (People's Daily word/tag lines or bakeoff: plain text with "
               "spaces between words, as the shipped model's English letter text); "
               "repeatable. Words are joined back into text.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Output .safetensors (counts); its JSON card is written beside it.")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=0.1,
              show_default=True, help="Add-alpha pseudo-count for pairs below --threshold.")
@click.option("--threshold", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Pairs counted at least this often are not smoothed.")
@click.option("--min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Rarer characters become <unk>.")
@click.option("--format", "fmt", type=click.Choice(["auto", "pd", "bakeoff"]), default="auto",
              show_default=True)
@click.option("--name", default="pd98-char-bigram", show_default=True)
@click.option("--training-data", default="", help="What the corpus is, for the model card.")
@click.option("--licence", default="", help="The corpus licence, for the model card.")
def train_ocr_lm_command(corpora: tuple[str, ...], out_path: str, alpha: float,
                         threshold: float, min_count: int, fmt: str, name: str,
                         training_data: str, licence: str) -> None:
    """Count a character bigram language model for OCR decoding (sparse; never V x V)."""
    from .language_model import train_lm

    sys.stderr.write(f"counting {len(corpora)} corpus file(s)\n")
    weights, summary = train_lm(corpora, out_path, name=name, alpha=alpha, threshold=threshold,
                                min_count=min_count, fmt=fmt, training_data=training_data,
                                licence=licence)
    click.echo(json.dumps({"out": str(weights), **summary}))


@click.command("ocr-line")
@corpus_option("Segmented corpus the line texts come from (People's Daily format or bakeoff); "
               "every 20th line is held out for evaluation. Repeatable.")
@run_folder_options("Run folder: last.* (resumable checkpoint), model.* (latest), best.* (lowest "
                    "held-out CER) — copy best.safetensors + best.json to ship a model.",
                    "Continue the run in --out from its last checkpoint: its saved options win, "
                    "except --steps/--minutes given here, which extend its budget.")
@click.option("--init", default="gb2312-cnn", show_default=True, metavar="NAME|PATH",
              help="Char CNN to start from (its conv stages become the line features), or "
                   "a line recogniser to fine-tune (e.g. gb2312-line-ctc); 'none' starts from "
                   "random weights.")
@step_options(steps=4000, batch_size=16, lr=5e-4)
@click.option("--eval-lines", type=click.IntRange(min=0), default=200, show_default=True,
              help="Held-out lines (their own seed) scored at every checkpoint.")
@click.option("--data", type=click.Choice(["synth", "plain"]), default="synth",
              show_default=True,
              help="synth: lines like users' images (screen text 12-20 px, buttons, photos, "
                   "text over pictures, titles; every training font; numbers, URLs, Latin words "
                   "and punctuation runs mixed into the text); plain: the first recipe's "
                   "24-48 px lines in the four Debian fonts.")
@click.option("--words", multiple=True, type=click.Choice(["modern", "jieba"]),
              default=("modern",), show_default=True,
              help="With --data synth: word lists mixed into the corpus text (repeatable; "
                   "jieba needs the jieba package).")
@click.option("--plain-share", type=click.FloatRange(0, 1), default=PLAIN_SHARE,
              show_default=True,
              help="With --data synth: part of the lines drawn as --data plain draws them, so "
                   "fine-tuning on synth lines keeps plain ones read.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Line-rendering processes (0: render in the training process); the batches "
                   "are the same for any number.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--name", default="gb2312-line-ctc", show_default=True,
              help="Model name for the card.")
@_run_options
def train_ocr_line_command(corpora: tuple[str, ...], out_dir: str, resume: bool, init: str,
                           steps: int, minutes: float | None, batch_size: int, lr: float,
                           threads: int, device: str, checkpoint_minutes: float,
                           eval_lines: int, data: str, words: tuple[str, ...],
                           plain_share: float, workers: int, seed: int, name: str) -> None:
    """Train the line recogniser (conv features -> CTC) on lines rendered on the fly.

    With --data synth (the default) lines mostly of 2-14 characters (some up to 40) are drawn
    in every installed training font (Noto Sans/Serif CJK SC in all weights, WenQuanYi, AR PL,
    Smiley Sans; never a typeface withheld for measurement) in six styles, both polarities;
    docs/ocr.md says how to look at a contact sheet of them. Progress goes to standard error; a
    checkpoint is written every --checkpoint-minutes and on Ctrl-C: run again with --resume.
    """
    from jiema.errors import require

    require("torch", "torch", "to train the OCR line recogniser")
    from .cnn.line_train import LineTrainOptions, train_lines

    opts = LineTrainOptions(
        corpus=list(corpora), init=None if init.lower() == "none" else init, steps=steps,
        minutes=minutes, batch_size=batch_size, lr=lr, threads=threads, device=device,
        checkpoint_minutes=checkpoint_minutes, eval_lines=eval_lines, seed=seed, name=name,
        data=data, words=list(words), plain_share=plain_share,  # type: ignore[arg-type]
        workers=workers,
    )
    if resume:  # only a budget given on this command line changes the saved run
        ctx = click.get_current_context()
        given = {k for k in ("steps", "minutes")
                 if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT}
        opts = LineTrainOptions.model_validate(
            {"corpus": list(corpora), **{k: getattr(opts, k) for k in given},
             "threads": threads, "device": device, "workers": workers})
    try:
        scores = train_lines(out_dir, opts, resume=resume)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(json.dumps({"out": out_dir, **{f"heldout_{k}": v for k, v in scores.items()}}))


@click.command("ocr-spans")
@click.option("--labels", "labels_dir", required=True,
              type=click.Path(exists=True, file_okay=False),
              help="Folder of images and labels.tsv: FILE<TAB>TEXT per image, a literal \\n "
                   "between text lines.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Output .safetensors; its JSON card is written beside it.")
@click.option("--line-model", default=None, metavar="NAME|PATH",
              help="Line recogniser the chooser is for (default: the shipped one).")
@click.option("--model", default=None, metavar="NAME|PATH",
              help="Char CNN the chooser is for (default: the shipped one).")
@click.option("--l2", type=click.FloatRange(min=0, min_open=True), default=None,
              help="L2 penalty on the weights, over standardised features (default: "
                   "fit_span_choice.L2_PENALTY, 3).")
@click.option("--hidden-units", type=click.IntRange(min=0), default=None,
              help="tanh units of the chooser's hidden layer; 0 fits a logistic chooser, "
                   "steadier on a small folder (default: fit_span_choice.HIDDEN_UNITS, 32).")
@click.option("--name", default="span-choice", show_default=True, help="Model name for the card.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch CPU threads.")
def train_ocr_spans_command(labels_dir: str, out_path: str, line_model: str | None,
                            model: str | None, l2: float | None, hidden_units: int | None,
                            name: str, threads: int) -> None:
    """Fit the span chooser of the default (surer) reader on your own labelled images.

    Reads each image both ways (glyphs cut and classified, whole lines recognised), labels each
    span where the two readings differ by the side that leaves fewer errors against the text,
    and fits the chooser (one hidden layer). Fit one for a line recogniser or char CNN of your
    own, or for images unlike the shipped chooser's; name it in the config (`ocr.reader`
    options `span_chooser`). The dev renders gave about one span to learn from for every one
    or two lines of text.
    """
    from pathlib import Path

    import torch
    from jiema.models import ModelCard, provenance

    from .classifier import DEFAULT_MODEL, CharClassifier
    from .fit_span_choice import HIDDEN_UNITS, L2_PENALTY, fit_folder
    from .language_model import load_default_lm
    from .line_ctc import LineCTCReader, LineRecognizer
    from .pipeline import LMDecoder, OcrReader
    from .plugin import LINE_MODEL
    from .surer_reader import SurerReader

    if not out_path.endswith(".safetensors"):
        raise click.BadParameter("must end in .safetensors", param_hint="--out")
    torch.set_num_threads(threads)
    decoder = LMDecoder(load_default_lm(), None)
    reader = SurerReader(OcrReader(CharClassifier.load(model or DEFAULT_MODEL), decoder),
                         LineCTCReader(LineRecognizer.load(line_model or LINE_MODEL), decoder))
    penalty = L2_PENALTY if l2 is None else l2
    hidden = HIDDEN_UNITS if hidden_units is None else hidden_units
    chooser, scores = fit_folder(labels_dir, reader, penalty, hidden=hidden)
    card = ModelCard(
        name=name, component="", task="ocr",
        description="Span chooser of the surer reader (ocr.surer.v1), fitted on labelled "
                    "images.",
        hyperparameters={"l2_penalty": penalty, "hidden_units": hidden,
                         "char_model": model or DEFAULT_MODEL,
                         "line_model": line_model or LINE_MODEL},
        training_data=f"{int(scores['images'])} labelled images in {labels_dir}",
        scores=scores, **provenance(packages=["numpy", "scipy", "torch"]),
    )
    chooser.save(Path(out_path), card)
    click.echo(json.dumps({"out": out_path, **scores}))
