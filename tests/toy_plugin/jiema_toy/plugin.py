"""jiema-toy: a task, three components, a model and two commands, using jiema's public API only.

The `shout` task labels each character keep (0) or upper (1) with a Viterbi decode: vowels
prefer "upper" (emissions; the config may swap in consonants instead), and "sticky" transitions
prefer staying in the same label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import jiema
from jiema.cli import core_group, pass_engine
from jiema.output import (
    exit_with,
    inputs_argument,
    jsonl_option,
    model_option,
    run_reading_command,
)
from jiema.registry import Stage
from pydantic import BaseModel, ConfigDict

MODELS = Path(__file__).parent / "models"
VOWELS = frozenset("aeiouAEIOU")
EVAL_SET = (("hello world", "hello world"), ("queue", "qUEUE"), ("aaa b eee", "AAA b EEE"))


class VowelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vowel_score: float = 2.0
    other_score: float = -1.0


class StickyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: float = 1.0


@dataclass(frozen=True)
class ShoutResult:
    text: str
    confidence: float


class LetterEmissions:
    """Scores 'upper' `vowel_score` for the letters `picks` chooses, `other_score` elsewhere."""

    def __init__(self, options: VowelOptions, picks: Callable[[str], bool]) -> None:
        self.options = options
        self.picks = picks

    def __call__(self, text: str) -> Any:
        import numpy as np

        opts = self.options
        upper = [opts.vowel_score if self.picks(c) else opts.other_score for c in text]
        return np.stack([np.zeros(len(text)), np.array(upper, dtype=np.float64)], axis=1)


def is_vowel(c: str) -> bool:
    return c in VOWELS


def is_consonant(c: str) -> bool:
    return c.isalpha() and c not in VOWELS


def make_sticky(options: StickyOptions, model: jiema.ModelSpec | None) -> jiema.DenseTransitions:
    if model is None:
        raise jiema.errors.ModelFileError("toy.sticky.v1 needs a model (e.g. 'sticky')")
    tensors = model.load_tensors()
    return jiema.DenseTransitions.from_arrays(
        tensors["log_matrix"] * options.scale, tensors["start"] * options.scale
    )


def make_pipeline(emissions: LetterEmissions, transitions: jiema.DenseTransitions) -> Any:
    def shout(text: str) -> ShoutResult:
        if not text:
            return ShoutResult("", 1.0)
        scores = emissions(text)
        path = jiema.viterbi(scores, transitions)
        confidence = float(jiema.marginals(scores, transitions).confidence().mean())
        out = "".join(c.upper() if lab else c for c, lab in zip(text, path.labels, strict=True))
        return ShoutResult(out, confidence)

    return shout


def shout_factory(engine: jiema.Engine, config: Any) -> Any:
    return make_pipeline(engine.build(config["emissions"]), engine.build(config["transitions"]))


@jiema.hookimpl
def register_tasks(register: Any) -> None:
    register(
        "shout",
        factory=shout_factory,
        stages={
            "emissions": Stage("toy.emissions", "toy.vowels.v1"),
            "transitions": Stage("transitions", "toy.sticky.v1", model="sticky"),
        },
        input_type=str,
        output_type="ShoutResult",
        description="Upper-case the vowel runs of a text (a two-label Viterbi decode).",
    )


@jiema.hookimpl
def register_components(register: Any) -> None:
    for name, picks in (("vowels", is_vowel), ("consonants", is_consonant)):
        register(
            "toy.emissions",
            f"toy.{name}.v1",
            factory=lambda options, model, picks=picks: LetterEmissions(options, picks),
            options=VowelOptions,
            description=f"Scores 'upper' high for {name}.",
        )
    register(
        "transitions",
        "toy.sticky.v1",
        factory=make_sticky,
        options=StickyOptions,
        description="Two-label transitions read from a model file, scaled by `scale`.",
    )


@jiema.hookimpl
def register_models(register: Any) -> None:
    register("sticky", component="toy.sticky.v1", path=MODELS / "sticky.safetensors")


@jiema.hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("toy")
    @inputs_argument
    @jsonl_option
    @model_option(component="toy.sticky.v1", help="Transitions model (default: the config's).")
    @pass_engine
    def toy(engine: jiema.Engine, inputs: tuple[str, ...], jsonl: bool, model: Any) -> None:
        """Shout the vowels of each text FILE."""
        shout = engine.task("shout")
        if model is not None:
            config = engine.task_config("shout")
            options = config["transitions"].options
            shout = make_pipeline(
                engine.build(config["emissions"]),
                engine.component("toy.sticky.v1", options=options, model=model),
            )

        def read_one(file: str) -> tuple[str, float]:
            result = shout(Path(file).read_text(encoding="utf-8").rstrip("\n"))
            return result.text, result.confidence

        exit_with(run_reading_command(inputs, read_one, jsonl=jsonl))

    @core_group(cli, "eval").command("toy")
    @pass_engine
    def eval_toy(engine: jiema.Engine) -> None:
        """Accuracy of the shout task on its three built-in examples."""
        shout = engine.task("shout")
        right = sum(shout(text).text == gold for text, gold in EVAL_SET)
        click.echo(f"accuracy: {right}/{len(EVAL_SET)}")
