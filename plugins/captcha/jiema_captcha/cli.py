"""`jiema captcha`, `jiema train captcha` and `jiema eval captcha`."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from jiema.cli import core_group, pass_engine
from jiema.output import (
    describe_error,
    exit_with,
    inputs_argument,
    jsonl_option,
    model_option,
    refuse_input_as_output,
)
from pydantic import ValidationError

from .plugin import COMPONENT, DEFAULT_MODEL


def add_commands(cli: click.Group) -> None:
    cli.add_command(captcha_command)
    core_group(cli, "train").add_command(train_captcha_command)
    core_group(cli, "eval").add_command(eval_captcha_command)


def _reader(spec: Any, batch_size: int = 256) -> Any:
    from .reader import CaptchaReader

    return CaptchaReader(spec, batch_size=batch_size)


def _default_spec(engine: Any, spec: Any) -> Any:
    if spec is not None:
        return spec
    from jiema.errors import ModelFileError

    if DEFAULT_MODEL not in engine.models:
        raise ModelFileError(f"the default model {DEFAULT_MODEL!r} is not installed; give --model")
    return engine.resolve_model(DEFAULT_MODEL)


@click.command("captcha")
@inputs_argument
@model_option(None, component=COMPONENT,
              help="A shipped model (upper4 [default], letters4-ci) or a path to one.")
@jsonl_option
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True,
              help="Images per network batch.")
@pass_engine
def captcha_command(
    engine: Any, inputs: tuple[str, ...], model: Any, jsonl: bool, batch_size: int
) -> None:
    """Read captcha images: `FILE<TAB>TEXT` per image in input order, or with --jsonl one
    record per image (file, text, confidence, error, chars: per-character confidences).

    A file that is not a readable image gets an error in its record; the rest are still read
    and the exit status is 1.
    """
    from collections import deque

    from jiema.errors import require
    from jiema.output import run_reading_command

    require("torch", "captcha", "jiema captcha")  # the reader is a torch network
    reader = _reader(_default_spec(engine, model), batch_size)
    items = list(inputs)
    done: dict[str, deque[Any]] = {}  # per input name, its results read ahead, in order
    position = {"next": 0}  # the first input not read ahead yet

    def read_one(item: str) -> Any:
        while not done.get(item):  # read the next batch of inputs at once
            i = position["next"]
            batch = items[i: i + batch_size]
            if not batch:
                raise LookupError(f"{item} is not one of the inputs")
            position["next"] += len(batch)
            for name, r in zip(batch, reader.read_each(batch), strict=True):
                done.setdefault(name, deque()).append(r)
        result = done[item].popleft()
        if isinstance(result, Exception):
            raise result
        return {"text": result.text, "confidence": round(result.confidence, 6),
                "chars": [round(c, 6) for c in result.char_confidences]}

    status = run_reading_command(
        items, read_one, jsonl=jsonl,
        plain_format=lambda rec: f"{rec.file}\t{rec.text or ''}",
    )
    exit_with(status)


def _settings_error(exc: ValidationError) -> str:
    """A pydantic error as one line: which setting, what was wrong."""
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e["loc"]) or exc.title
        parts.append(f"{where}: {e['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _length_range(text: str) -> tuple[int, int]:
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-", 1))
        else:
            lo = hi = int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: give N or MIN-MAX, e.g. 4 or 4-6") from None
    if not 1 <= lo <= hi:
        raise click.BadParameter(f"{text!r}: need 1 <= MIN <= MAX")
    return lo, hi


@click.command("captcha")
@click.option("--alphabet", default="ABCDEFGHIJKLMNOPQRSTUVWXYZ", show_default=True,
              help="Characters of the labels (lowercase with --case-insensitive).")
@click.option("--length", "length", default="4", show_default=True,
              help="Characters per captcha: N, or MIN-MAX for variable length (ctc only).")
@click.option("--case-insensitive", is_flag=True,
              help="Draw letters in mixed case, label them in lowercase.")
@click.option("--arch", type=click.Choice(["heads", "ctc"]), default="ctc", show_default=True,
              help="heads: the seed's conv + independent softmax heads; ctc: conv -> BiGRU -> CTC.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Run folder: checkpoints (last/best), the log of validations, the model.")
@click.option("--name", default=None, help="Model name in the card (default: the folder name).")
@click.option("--resume", is_flag=True, help="Continue the run in --out after a kill.")
@click.option("--steps", type=click.IntRange(min=1), default=7000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3,
              show_default=True, help="Peak learning rate (warm-up, then cosine).")
@click.option("--width", type=click.IntRange(min=16), default=160, show_default=True,
              help="Generated image width.")
@click.option("--height", type=click.IntRange(min=16), default=60, show_default=True,
              help="Generated image height.")
@click.option("--input-size", default="32x96", show_default=True, metavar="HxW",
              help="Network input size (images are resized to it).")
@click.option("--channels", default="16,32,64,96", show_default=True,
              help="Conv block widths.")
@click.option("--hidden", type=click.IntRange(min=8), default=96, show_default=True)
@click.option("--pool-size", type=click.IntRange(min=16), default=12000, show_default=True,
              help="Rendered images held in memory.")
@click.option("--refresh", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Fresh images swapped into the pool every --refresh-every steps.")
@click.option("--refresh-every", type=click.IntRange(min=1), default=150, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True,
              help="Generator processes (0: render in this process).")
@click.option("--validate-every", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--validation-size", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Training stream seed (validation uses a different, fixed offset of it).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch threads.")
@click.option("--init", "init", default=None, metavar="NAME|PATH",
              help="Start from this model's weights (same network shape and number of classes), "
                   "e.g. letters4-ci from upper4.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the model (default: OUT/NAME.safetensors + card).")
def train_captcha_command(**kw: Any) -> None:
    """Train a captcha reader on freshly generated captchas (needs the torch extra).

    Validation reads captchas of a seed never trained on; checkpoints go to --out every few
    minutes and at every validation, so `--resume` continues a killed run. At the end the best
    validated network is written as safetensors + model card.
    """
    from .generator import CaptchaSettings
    from .settings import NetworkSettings, TrainOptions
    from .train import Trainer, export_model

    refuse_input_as_output(kw["export_path"], [kw["init"]], option="--export")
    lo, hi = _length_range(kw["length"])
    try:
        h, w = (int(x) for x in kw["input_size"].lower().split("x"))
        channels = tuple(int(c) for c in kw["channels"].split(","))
    except ValueError:
        raise click.BadParameter("--input-size is HxW, --channels comma-separated ints") from None
    out = Path(kw["out_dir"])
    name = kw["name"] or out.resolve().name
    alphabet = kw["alphabet"]
    if kw["case_insensitive"]:  # labels are lowercase: "ABC" and "abc" mean the same here
        alphabet = "".join(dict.fromkeys(alphabet.lower()))
    try:
        captcha = CaptchaSettings(
            alphabet=alphabet, min_length=lo, max_length=hi, width=kw["width"],
            height=kw["height"], case_insensitive=kw["case_insensitive"],
        )
        network = NetworkSettings(
            arch=kw["arch"], input_height=h, input_width=w, channels=channels,
            hidden=kw["hidden"],
        )
        options = TrainOptions(
            steps=kw["steps"], batch_size=kw["batch_size"], lr=kw["lr"],
            pool_size=kw["pool_size"], refresh=kw["refresh"], refresh_every=kw["refresh_every"],
            workers=kw["workers"], validation_size=kw["validation_size"],
            validate_every=kw["validate_every"], seed=kw["seed"], threads=kw["threads"],
            init=kw["init"],
        )
    except ValidationError as exc:
        raise click.UsageError(_settings_error(exc)) from None
    log = lambda s: click.echo(s, err=True)  # noqa: E731
    trainer = Trainer(out, captcha, network, options, resume=kw["resume"], log=log)
    best = trainer.run(progress=True)
    weights = Path(kw["export_path"]) if kw["export_path"] else out / f"{name}.safetensors"
    weights.parent.mkdir(parents=True, exist_ok=True)
    export_model(out, weights, name=name)
    log(
        "best validation: "
        + ", ".join(f"{k}={v:.4f}" for k, v in best.items() if k.endswith("accuracy"))
        + f"; model written to {weights}"
    )


@click.command("captcha")
@model_option(None, component=COMPONENT,
              help="A shipped model (upper4 [default], letters4-ci) or a path to one.")
@click.option("--labels", "labels_dir", type=click.Path(exists=True, file_okay=False),
              default=None, help="A folder with labels.tsv (file<TAB>label) and the images.")
@click.option("--generate", type=click.IntRange(min=1), default=None, metavar="N",
              help="Score N freshly generated captchas of the model's kind instead.")
@click.option("--seed", type=int, default=None, help="Seed of --generate (required with it).")
@click.option("--save", "save_dir", type=click.Path(file_okay=False), default=None,
              help="With --generate: also write the images and labels.tsv here.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@pass_engine
def eval_captcha_command(
    engine: Any, model: Any, labels_dir: str | None, generate: int | None, seed: int | None,
    save_dir: str | None, batch_size: int,
) -> None:
    """Score a model: whole-captcha and per-character accuracy on a labelled folder
    (`--labels DIR`) or on `--generate N --seed S` fresh captchas.

    With a case-insensitive model, labels are compared in lowercase.
    """
    from .train import score

    if (labels_dir is None) == (generate is None):
        raise click.UsageError("give exactly one of --labels DIR or --generate N")
    if generate is not None and seed is None:
        raise click.UsageError("--generate needs --seed (use one never used in training)")
    if save_dir is not None and generate is None:
        raise click.UsageError("--save needs --generate")
    reader = _reader(_default_spec(engine, model), batch_size)
    if generate is not None:
        assert seed is not None
        sources, gold = _generated(reader, generate, seed, save_dir)
    else:
        assert labels_dir is not None
        sources, gold = _labelled(Path(labels_dir))
    reader.warm_up()  # compile and first-call costs stay out of images/s
    t0 = time.perf_counter()
    results = reader.read_each(sources)
    seconds = time.perf_counter() - t0
    pred = []
    failed = 0
    for src, r in zip(sources, results, strict=True):
        if isinstance(r, Exception):
            failed += 1
            click.echo(f"jiema: {src}: {describe_error(r, str(src))}", err=True)
            pred.append("")
        else:
            pred.append(r.text)
    if reader.captcha.case_insensitive:
        gold = [g.lower() for g in gold]
    s = score(gold, pred)
    click.echo(f"model\t{reader.name}")
    click.echo(f"images\t{len(gold)}")
    click.echo(f"whole_accuracy\t{s['whole_accuracy']:.4f}")
    click.echo(f"char_accuracy\t{s['char_accuracy']:.4f}")
    click.echo(f"images_per_second\t{len(gold) / seconds:.1f}")
    if failed:
        click.echo(f"unreadable\t{failed}")
    exit_with(1 if failed else 0)


def _generated(
    reader: Any, n: int, seed: int, save_dir: str | None
) -> tuple[list[Any], list[str]]:
    from jiema.atomic import atomic_open, write_text
    from tqdm import tqdm

    from .generator import CaptchaGenerator

    gen = CaptchaGenerator(reader.captcha, seed)
    out = Path(save_dir) if save_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    sources: list[Any] = []
    gold: list[str] = []
    rows = []
    for i in tqdm(range(n), file=sys.stderr, disable=None, unit="image", desc="generating"):
        png, label = gen.png(i)
        sources.append(png)
        gold.append(label)
        if out is not None:
            name = f"{seed}_{i:06d}.png"
            with atomic_open(out / name, "wb") as f:
                f.write(png)
            rows.append(f"{name}\t{label}\n")
    if out is not None:
        write_text(out / "labels.tsv", "".join(rows))
    return sources, gold


def _labelled(folder: Path) -> tuple[list[Any], list[str]]:
    from jiema.errors import InvalidInputError

    tsv = folder / "labels.tsv"
    if not tsv.is_file():
        raise InvalidInputError(f"{folder} has no labels.tsv (lines: file<TAB>label)")
    sources: list[Any] = []
    gold: list[str] = []
    for n, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise InvalidInputError(f"{tsv}:{n}: expected file<TAB>label, got {line!r}")
        sources.append(str(folder / parts[0]))
        gold.append(parts[1].strip())
    if not sources:
        raise InvalidInputError(f"{tsv} lists no images")
    return sources, gold
