"""Registers the templates plugin: the `templates` parsing task and the `discover-words` /
`discover-templates` tasks, their components (pydantic options), and the CLI commands."""

from __future__ import annotations

from typing import Any

import jiema
from jiema.registry import Stage

from .options import ParserOptions, TemplateOptions, WordOptions

PARSER = "templates.parser.v1"
WORD_FINDER = "templates.words.v1"
TEMPLATE_FINDER = "templates.finder.v1"


def make_parser(options: ParserOptions, model: Any) -> Any:
    """A `Parser` over the templates file (the stage's model path, else `options.templates`) and
    the word table it names (or `options.words`)."""
    from jiema.errors import ConfigError

    from .parser import Parser
    from .template import TemplateSet
    from .words import WordTable

    path = str(model.path) if model is not None else options.templates
    if path is None:
        raise ConfigError(
            f"{PARSER} needs a templates file: set templates = 'PATH' under "
            "[templates.parser.options] (a file made by `jiema discover templates`)")
    templates = TemplateSet.load(path)
    words = options.words or templates.words
    if words is None:
        raise ConfigError(f"{PARSER}: {path} names no word table; set options.words")
    return Parser(templates, WordTable.load(words).tokenizer(), null_score=options.null_score)


def make_word_finder(options: WordOptions, model: Any) -> Any:
    """corpus -> WordTable with these options."""
    from functools import partial

    from .words import discover_words

    return partial(discover_words, options=options)


def make_template_finder(options: TemplateOptions, model: Any) -> Any:
    """(corpus, tokenize) -> TemplateSet with these options."""
    from functools import partial

    from .template_discovery import discover_templates

    return partial(discover_templates, options=options)


@jiema.hookimpl
def register_tasks(register: Any) -> None:
    register(
        "templates",
        factory=lambda engine, cfg: engine.build(cfg["parser"]),  # a Parser is called
        stages={"parser": Stage("templates.parser", PARSER)},
        input_type=str,
        output_type="SentTree",
        description="Parse a sentence into nested templates (minimum-entropy templates, DP).",
    )
    for task, kind, component, input_type, output_type, what in (
        ("discover-words", "templates.word-finder", WORD_FINDER, "corpus", "WordTable",
         "Unsupervised word discovery (strong pairs + minimum-entropy pruning)."),
        ("discover-templates", "templates.template-finder", TEMPLATE_FINDER,
         "corpus, tokenizer", "TemplateSet", "Sentence templates from skip-gram PMI chains."),
    ):
        register(task, factory=_finder_task, stages={"finder": Stage(kind, component)},
                 input_type=input_type, output_type=output_type, description=what)


def _finder_task(engine: jiema.Engine, config: Any) -> Any:
    """A discovery task's pipeline: the finder component its config chose."""
    return engine.build(config["finder"])


@jiema.hookimpl
def register_components(register: Any) -> None:
    register("templates.parser", PARSER, factory=make_parser, options=ParserOptions,
             description="Template parser over a templates file and its word table.")
    register("templates.word-finder", WORD_FINDER, factory=make_word_finder, options=WordOptions,
             description="nlp-zero Word_Finder, exact, counted with map_corpus.")
    register("templates.template-finder", TEMPLATE_FINDER, factory=make_template_finder,
             options=TemplateOptions, description="nlp-zero Template_Finder, exact.")


@jiema.hookimpl
def register_commands(cli: Any) -> None:
    from .cli import add_commands

    add_commands(cli)
