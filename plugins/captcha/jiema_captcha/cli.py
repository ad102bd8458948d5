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
              help="A shipped model (upper4 [default], letters4-ci, general) or a path to "
                   "one.")
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


#: Options that only shape generated captchas (refused with --data), with their defaults.
GENERATOR_DEFAULTS: dict[str, Any] = {
    "length": "4", "width": 160, "height": 60, "pool_size": 12000, "refresh": 1000,
    "refresh_every": 150, "workers": 1, "validation_size": 1000,
}
#: Defaults that differ between generated captchas and a folder (folder values second):
#: a folder run validates often and stops on a plateau; its cap on steps is only a safety net.
MODE_DEFAULTS: dict[str, tuple[Any, Any]] = {
    "alphabet": ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", None), "steps": (7000, None),
    "input_size": ("32x96", None), "threads": (1, 2), "patience": (None, 6),
    "batch_size": (64, 32),  # on 2 CPU cores a batch of 32 runs 3x faster than 64 (cache)
}
#: A folder run validates about every this many epochs, within FOLDER_VALIDATE_EVERY steps.
FOLDER_VALIDATE_EPOCHS = 4
FOLDER_VALIDATE_EVERY = (50, 250)
#: A folder run's step cap: this many epochs, within FOLDER_STEPS; patience or the time budget
#: (FOLDER_MINUTES) ends it sooner, the cap bounds the bar's ETA. At 150 epochs 810-image runs
#: stopped at the cap with their 9 minutes unspent (lines5, claptcha5: 7 min on 1 thread;
#: wheezy5: 5.7 min), the validation loss still falling.
FOLDER_EPOCHS = 400
FOLDER_STEPS = (3000, 30000)
#: Validations without improvement before the learning rate drops (folder data).
FOLDER_LR_PATIENCE = 2
#: A folder run's dropout and AdamW weight decay: a few hundred images are memorised within
#: ~2,500 steps (training loss 0.5, validation loss rising). Measured on the lines5 benchmark
#: style (810 train, 100 test, 12 min, 1 thread): test char accuracy 0.29 with the generated
#: runs' 0.1 / 1e-4, 0.36 with these; digits4 reads 100% with either.
FOLDER_DROPOUT = 0.3
FOLDER_WEIGHT_DECAY = 0.05
#: A folder run's default time budget (minutes of training in this command, then it pauses and
#: exports its best): FOLDER_MINUTES_PER_1000 per 1,000 images, within FOLDER_MINUTES. The
#: issue's bounds for a 2-core CPU (10 min for 1,000 images, 30 for 10,000) less a minute or two
#: for loading and export; the step cap alone would let a 9,000-image run go on ~45 min (30,000
#: steps at the ~0.09 s measured on a 900-image folder).
FOLDER_MINUTES = (9.0, 28.0)
FOLDER_MINUTES_PER_1000 = 3.0


#: Conv block widths and BiGRU width of a reader: the small one for generated runs (the
#: shipped models) and folders under `folder.LARGE_FOLDER` training images (the folder defaults were
#: tuned with it on 450-1,800 images); the large one for bigger folders. Measured on dejavu4-8
#: (captcha_folders.py, 8,100 training images, defaults, 2 threads, 1,000 test images):
#: whole-captcha accuracy 77.9% small, 80.0% large, at 32 rows (patience stopped both, at 17
#: and 22 min; the large one with the generated runs' dropout and weight decay: 79.4%, so
#: folders keep theirs); 92.0% large at 48 rows (`folder.LARGE_INPUT_HEIGHT`). ddddocr reads
#: 30.4% of that test set.
SMALL_NETWORK: tuple[tuple[int, ...], int] = ((16, 32, 64, 96), 96)
LARGE_NETWORK: tuple[tuple[int, ...], int] = ((32, 64, 96, 128), 128)


def folder_minutes(images: int) -> float:
    """The default `--max-minutes` of a folder run of `images` images (see FOLDER_MINUTES)."""
    least, most = FOLDER_MINUTES
    return min(most, max(least, FOLDER_MINUTES_PER_1000 * images / 1000))


@click.command("captcha")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Train on this folder of labelled images (labels.tsv, or names like "
                   "a1b2c.png / a1b2c_17.png / A1B2C-0.png) instead of generated captchas.")
@click.option("--val-data", "val_dir", type=click.Path(exists=True, file_okay=False),
              default=None, help="With --data: validate on this folder instead of a split.")
@click.option("--val-split", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.1, show_default=True,
              help="With --data: share of its images held out for validation (seeded by --seed).")
@click.option("--skip-bad", is_flag=True,
              help="With --data: leave out unreadable images and bad labels (counted) instead "
                   "of stopping with the list.")
@click.option("--alphabet", default=None,
              help="Characters of the labels (lowercase with --case-insensitive). Default: the "
                   "labels' characters with --data, else A-Z.")
@click.option("--length", "length", default=None,
              help="Characters per generated captcha: N, or MIN-MAX (ctc only). [default: 4]")
@click.option("--case-insensitive", is_flag=True,
              help="Mixed-case images, lowercase labels (generated: drawn in mixed case).")
@click.option("--arch", type=click.Choice(["heads", "ctc"]), default="ctc", show_default=True,
              help="heads: the seed's conv + independent softmax heads; ctc: conv -> BiGRU -> CTC.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Run folder: checkpoints (last/best), the log of validations, the model.")
@click.option("--name", default=None, help="Model name in the card (default: the folder name).")
@click.option("--resume", is_flag=True, help="Continue the run in --out after a kill.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Optimizer steps at most. [default: 7000; with --data 400 epochs, 3000-30000 "
                   "steps, but patience or the time budget usually stops it before]")
@click.option("--patience", type=click.IntRange(min=1), default=None,
              help="Stop after this many validations without a better score. [default: none; "
                   "with --data 6, the learning rate dropping every 2]")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Pause after this many minutes of this command (checkpointed; the best "
                   "network so far is exported; --resume continues). [default: none; with "
                   "--data 3 per 1,000 images, 9-28]")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="[default: 64; with --data 32]")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3,
              show_default=True, help="Peak learning rate (warm-up, then cosine; with --data "
                                      "warm-up, then divided by 4 on each plateau).")
@click.option("--width", type=click.IntRange(min=16), default=None,
              help="Generated image width. [default: 160]")
@click.option("--height", type=click.IntRange(min=16), default=None,
              help="Generated image height. [default: 60]")
@click.option("--input-size", default=None, metavar="HxW",
              help="Network input size (images are resized to it). [default: 32x96; with "
                   "--data 32 high (48 with 3,000 or more training images), as wide as the "
                   "images' median aspect ratio]")
@click.option("--channels", default=None,
              help="Conv block widths. [default: 16,32,64,96; with --data of 3,000 or more "
                   "training images 32,64,96,128]")
@click.option("--hidden", type=click.IntRange(min=8), default=None,
              help="BiGRU (ctc) or head width. [default: 96; with --data of 3,000 or more "
                   "training images 128]")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Dropout before the output layer (ctc) or in each head. [default: 0.1; "
                   "with --data 0.3, which keeps a few hundred images from being memorised; "
                   "a folder of tens of thousands of varied images learns more with less]")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=None,
              help="AdamW weight decay. [default: 1e-4; with --data 0.05]")
@click.option("--pool-size", type=click.IntRange(min=16), default=None,
              help="Rendered images held in memory. [default: 12000]")
@click.option("--refresh", type=click.IntRange(min=0), default=None,
              help="Fresh images swapped into the pool every --refresh-every steps. "
                   "[default: 1000]")
@click.option("--refresh-every", type=click.IntRange(min=1), default=None,
              help="[default: 150]")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Generator processes (0: render in this process). [default: 1]")
@click.option("--validate-every", type=click.IntRange(min=1), default=None,
              help="Steps between validations. [default: 500; with --data about 4 epochs, "
                   "50-250 steps]")
@click.option("--validation-size", type=click.IntRange(min=1), default=None,
              help="Generated validation captchas. [default: 1000]")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Training stream seed (validation uses a different, fixed offset of it; with "
                   "--data it also draws the split and the augmentation).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="torch threads. [default: 1, beside one generator process; with --data 2]")
@click.option("--init", "init", default=None, metavar="NAME|PATH",
              help="Start from this model's weights where the shapes fit (another alphabet "
                   "starts its output layer fresh), e.g. letters4-ci from upper4.")
@click.option("--normalise-input", is_flag=True,
              help="Crop each image to its ink and turn light-on-dark images dark-on-light "
                   "before resizing (kept in the card: reading does the same). For a reader "
                   "of many styles; a folder of one style does not need it.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the model (default: OUT/NAME.safetensors + card).")
def train_captcha_command(**kw: Any) -> None:
    """Train a captcha reader (needs the torch extra) on a folder of your labelled captchas
    (`--data DIR`) or on freshly generated ones.

    With --data, the alphabet, the lengths (CTC reads variable lengths) and the input size
    come from the images; batches are augmented (crops that keep every character, rotation,
    shear, elastic warp, gray-level jitter, blur, noise); it stops by itself when validation
    no longer improves. Bad samples (unreadable images, empty labels, characters outside
    --alphabet) are listed in one error, or skipped with --skip-bad.

    Checkpoints go to --out every few minutes and at every validation, so `--resume`
    continues a killed run. At the end the best validated network is written as
    OUT/NAME.safetensors + its model card, the only .safetensors in OUT besides last.* and best.*.
    """
    from .train import Trainer, export_model

    refuse_input_as_output(kw["export_path"], [kw["init"]], option="--export")
    folder_mode = kw["data_dir"] is not None
    if not folder_mode:
        for opt in ("val_dir", "skip_bad"):
            if kw[opt]:
                raise click.UsageError(f"--{opt.replace('_dir', '-data').replace('_', '-')} "
                                       "needs --data")
    else:
        given = [k for k in GENERATOR_DEFAULTS if kw[k] is not None]
        if given:
            raise click.UsageError(
                ", ".join("--" + k.replace("_", "-") for k in given)
                + " shape generated captchas: not with --data"
            )
    for key, default in GENERATOR_DEFAULTS.items():
        if kw[key] is None:
            kw[key] = default
    for key, (gen_default, folder_default) in MODE_DEFAULTS.items():
        if kw[key] is None:
            kw[key] = folder_default if folder_mode else gen_default
    out = Path(kw["out_dir"])
    name = kw["name"] or out.resolve().name
    log = lambda s: click.echo(s, err=True)  # noqa: E731
    if kw["resume"]:  # the run's own settings, not the flags (no checkpoint: an error)
        trainer = Trainer(out, resume=True, log=log)
    else:
        trainer = _new_trainer(kw, folder_mode, out, log)
    max_minutes = kw["max_minutes"]
    if max_minutes is None and trainer.data is not None:  # a folder run, fresh or resumed
        max_minutes = folder_minutes(trainer.data.size + len(trainer.val_labels))
        log(f"time budget {max_minutes:g} min (--max-minutes); --resume continues after it")
    best = trainer.run(progress=True, max_minutes=max_minutes)
    weights = Path(kw["export_path"]) if kw["export_path"] else out / f"{name}.safetensors"
    weights.parent.mkdir(parents=True, exist_ok=True)
    export_model(out, weights, name=name)
    log(
        "best validation: "
        + ", ".join(f"{k}={v:.4f}" for k, v in best.items() if k.endswith("accuracy"))
        + f"; model written to {weights}"
    )


def _input_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        h, w = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter("--input-size is HxW, e.g. 32x96") from None
    return h, w


def _new_trainer(kw: dict[str, Any], folder_mode: bool, out: Path, log: Any) -> Any:
    """A fresh run from the command's options (settings errors are usage errors)."""
    from .generator import CaptchaSettings
    from .settings import FolderSettings, NetworkSettings, TrainOptions
    from .train import Trainer

    try:
        channels = (tuple(int(c) for c in kw["channels"].split(","))
                    if kw["channels"] is not None else None)
    except ValueError:
        raise click.BadParameter("--channels is comma-separated ints, e.g. 16,32,64,96") from None
    input_hw = _input_size(kw["input_size"])
    prepared = folder = None
    n_train = 0
    try:
        if folder_mode:
            from .folder import prepare

            folder = FolderSettings(
                data=str(Path(kw["data_dir"]).resolve()),
                val_data=str(Path(kw["val_dir"]).resolve()) if kw["val_dir"] else None,
                val_split=kw["val_split"], split_seed=kw["seed"], skip_bad=kw["skip_bad"],
            )
            prepared = prepare(folder, alphabet=kw["alphabet"],
                               case_insensitive=kw["case_insensitive"], input_hw=input_hw,
                               normalise=kw["normalise_input"])
            captcha = prepared.captcha
            input_hw = prepared.input_size
            n_train = len(prepared.train_labels)
            batches = max(1, n_train // kw["batch_size"])
            if kw["steps"] is None:
                least, most = FOLDER_STEPS
                kw["steps"] = min(most, max(least, FOLDER_EPOCHS * batches))
            lo, hi = FOLDER_VALIDATE_EVERY
            validate_every = kw["validate_every"] or min(hi, max(
                lo, FOLDER_VALIDATE_EPOCHS * batches))
            skipped = prepared.summary["skipped_bad"]
            log(f"{n_train} training and {len(prepared.val_labels)} validation images"
                + (f" ({skipped} bad skipped)" if skipped else "")
                + f"; alphabet {captcha.alphabet!r}, lengths {captcha.min_length}-"
                f"{captcha.max_length}, input {input_hw[0]}x{input_hw[1]}")
            extra = {"augment": True, "lr_patience": FOLDER_LR_PATIENCE,
                     "weight_decay": FOLDER_WEIGHT_DECAY}
            regularise = {"dropout": FOLDER_DROPOUT}
        else:
            lo, hi = _length_range(kw["length"])
            alphabet = kw["alphabet"]
            if kw["case_insensitive"]:  # labels are lowercase: "ABC" and "abc" mean the same
                alphabet = "".join(dict.fromkeys(alphabet.lower()))
            captcha = CaptchaSettings(
                alphabet=alphabet, min_length=lo, max_length=hi, width=kw["width"],
                height=kw["height"], case_insensitive=kw["case_insensitive"],
            )
            validate_every = kw["validate_every"] or 500
            extra, regularise = {}, {}
        if kw["dropout"] is not None:
            regularise["dropout"] = kw["dropout"]
        if kw["weight_decay"] is not None:
            extra["weight_decay"] = kw["weight_decay"]
        assert input_hw is not None
        from .folder import is_large

        large = folder_mode and is_large(n_train)
        default_channels, default_hidden = LARGE_NETWORK if large else SMALL_NETWORK
        network = NetworkSettings(
            arch=kw["arch"], input_height=input_hw[0], input_width=input_hw[1],
            channels=channels or default_channels, hidden=kw["hidden"] or default_hidden,
            normalise_input=kw["normalise_input"], **regularise,
        )
        if network.arch == "heads" and captcha.min_length != captcha.max_length:
            raise click.UsageError("--arch heads reads a fixed length; its labels vary "
                                   f"({captcha.min_length}-{captcha.max_length}): use ctc")
        options = TrainOptions(
            steps=kw["steps"], batch_size=kw["batch_size"], lr=kw["lr"],
            pool_size=kw["pool_size"], refresh=kw["refresh"], refresh_every=kw["refresh_every"],
            workers=kw["workers"], validation_size=kw["validation_size"],
            validate_every=validate_every, seed=kw["seed"], threads=kw["threads"],
            init=kw["init"], patience=kw["patience"], **extra,
        )
    except ValidationError as exc:
        raise click.UsageError(_settings_error(exc)) from None
    return Trainer(out, captcha, network, options, folder=folder, prepared=prepared, log=log)


@click.command("captcha")
@model_option(None, component=COMPONENT,
              help="A shipped model (upper4 [default], letters4-ci, general) or a path to "
                   "one.")
@click.option("--labels", "labels_dir", type=click.Path(exists=True, file_okay=False),
              default=None, help="A labelled folder: labels.tsv (file<TAB>label) or names "
                                 "like a1b2c.png / a1b2c_17.png, as `train captcha --data`.")
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
    """A labelled folder's images and labels (labels.tsv or the file names; see folder.py)."""
    from .folder import list_samples

    samples = list_samples(folder)
    return [str(s.path) for s in samples], [s.label for s in samples]
