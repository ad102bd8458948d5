"""Registers the segment task, its dictionary and FCN components, the shipped models and the CLI."""

from __future__ import annotations

from typing import Any

import jiema
from jiema.config import ReadableFile
from jiema.registry import Stage
from pydantic import BaseModel, ConfigDict, Field

from .dictionary_model import COMPONENT, DEFAULT_MODEL, TASK, default_dictionary_path
from .fcn.settings import Precision


class DictOptions(BaseModel):
    """Options of `segment.dict.v1`: an optional jieba-format user dictionary to add."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_dict: ReadableFile | None = None


def make_dict_segmenter(options: DictOptions, model: Any) -> Any:
    from .dictionary_model import load_dictionary_model
    from .segmenter import Segmenter

    path = model.path if model is not None else default_dictionary_path()
    return Segmenter(load_dictionary_model(path), user_dict=options.user_dict)


class FCNOptions(BaseModel):
    """Options of `segment.fcn.v1`: hard-decoding list (`word,factor` lines; plain words of two
    or more characters get `hard_default`, plain single characters none), a jieba-format user
    dictionary (its words join the hard list), and whether the model's training lexicon and the
    shipped post-1998 words (models/modern-words.txt) start the hard list; the networks'
    arithmetic (auto: bfloat16 where the CPU has it natively, else float32); how many of an
    ensemble's networks decode (None: all)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hard_dict: ReadableFile | None = None
    hard_default: float | None = Field(None, gt=0)
    user_dict: ReadableFile | None = None
    builtin_words: bool = True
    lexicon: bool = True
    precision: Precision = "auto"
    networks: int | None = Field(None, ge=1)


def make_fcn_segmenter(options: FCNOptions, model: Any) -> Any:
    from .segmenter import Segmenter

    return Segmenter(
        mode="fcn",
        model=model.path if model is not None else None,
        hard=options.hard_dict,
        hard_default=options.hard_default,
        user_dict=options.user_dict,
        builtin_words=options.builtin_words,
        lexicon=options.lexicon,
        precision=options.precision,
        networks=options.networks,
    )


def segment_factory(engine: jiema.Engine, config: Any) -> Any:
    """The `segment` pipeline: text -> list of words, by the configured segmenter."""
    return engine.build(config["segmenter"]).cut


@jiema.hookimpl
def register_tasks(register: Any) -> None:
    from .fcn.tagger import COMPONENT as FCN_COMPONENT
    from .fcn.tagger import FCN_MODEL
    from .segmenter import default_mode

    # the same default as `jiema segment`: the FCN tagger where torch and its model are there
    if default_mode() == "fcn":
        stage = Stage("segment.segmenter", FCN_COMPONENT, model=FCN_MODEL)
    else:
        stage = Stage("segment.segmenter", COMPONENT, model=DEFAULT_MODEL)
    register(
        TASK,
        factory=segment_factory,
        stages={"segmenter": stage},
        input_type=str,
        output_type="list[str]",
        description="Chinese word segmentation: FCN tagger + SBME Viterbi (with torch), else "
        "dictionary word DAG + Viterbi.",
    )


@jiema.hookimpl
def register_components(register: Any) -> None:
    from .fcn.tagger import COMPONENT as FCN_COMPONENT

    for name, factory, options, what in (
        (COMPONENT, make_dict_segmenter, DictOptions,
         "Dictionary word lattice with unigram log-probabilities, best path by Viterbi."),
        (FCN_COMPONENT, make_fcn_segmenter, FCNOptions,
         "FCN S/B/M/E tagger (PyTorch) + SBME Viterbi, optional hard-decoding list."),
    ):
        register("segment.segmenter", name, factory=factory, options=options, description=what)


@jiema.hookimpl
def register_models(register: Any) -> None:
    path = default_dictionary_path()
    if path.is_file():  # absent only while `jiema train dictionary` builds it the first time
        register(DEFAULT_MODEL, component=COMPONENT, path=path)
    from .fcn.tagger import COMPONENT as FCN_COMPONENT
    from .fcn.tagger import SHIPPED_MODELS, shipped_model_path

    for name in SHIPPED_MODELS:
        fcn_path = shipped_model_path(name)
        if fcn_path.is_file():  # registered only once a trained model ships
            register(name, component=FCN_COMPONENT, path=fcn_path)


@jiema.hookimpl
def register_commands(cli: Any) -> None:
    from .cli import add_commands

    add_commands(cli)
