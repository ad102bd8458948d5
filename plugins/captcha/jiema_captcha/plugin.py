"""Registers the captcha task, its reader component, the shipped models and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jiema
from jiema.registry import Stage
from pydantic import BaseModel, ConfigDict, Field

COMPONENT = "captcha.reader.v1"
DEFAULT_MODEL = "upper4"
MODELS_DIR = Path(__file__).parent / "models"
#: Shipped models: name -> what it reads.
SHIPPED = {
    "upper4": "4 uppercase letters A-Z (CTC reader)",
    "letters4-ci": "4 letters drawn in mixed case, read case-insensitively, lowercase out",
    "general": "3-8 letters and digits in styles it was not trained on, case-insensitive",
}


class ReaderOptions(BaseModel):
    """Options of `captcha.reader.v1`: images per network batch and torch threads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(256, ge=1)
    threads: int | None = Field(None, ge=1)


def make_reader(options: ReaderOptions, model: Any) -> Any:
    from .reader import CaptchaReader

    return CaptchaReader(model, batch_size=options.batch_size, threads=options.threads)


def captcha_factory(engine: jiema.Engine, config: Any) -> Any:
    """The `captcha` pipeline: one image (bytes, path, PIL, array) -> CaptchaResult."""
    return engine.build(config["reader"])  # a CaptchaReader is called on an image


def model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.safetensors"


@jiema.hookimpl
def register_tasks(register: Any) -> None:
    register(
        "captcha",
        factory=captcha_factory,
        stages={
            "reader": Stage(
                "captcha.reader", COMPONENT,
                model=DEFAULT_MODEL if model_path(DEFAULT_MODEL).is_file() else None,
            )
        },
        input_type="image (bytes | path | PIL.Image | numpy array)",
        output_type="CaptchaResult",
        description="Read a text captcha (CNN/CTC network, grammar Viterbi in the core).",
    )


@jiema.hookimpl
def register_components(register: Any) -> None:
    register(
        "captcha.reader",
        COMPONENT,
        factory=make_reader,
        options=ReaderOptions,
        description="Captcha reader network (PyTorch; CTC or independent heads) + core decode.",
    )


@jiema.hookimpl
def register_models(register: Any) -> None:
    for name in SHIPPED:
        path = model_path(name)
        if path.is_file():  # registered once trained and shipped
            register(name, component=COMPONENT, path=path)


@jiema.hookimpl
def register_commands(cli: Any) -> None:
    from .cli import add_commands

    add_commands(cli)
