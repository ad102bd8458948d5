"""jiema templates plugin: unsupervised words and sentence templates (nlp-zero's algorithms,
exact and fast), a unigram tokenizer on the core's word lattice, and a template parser.

    from jiema_templates import discover_words, discover_templates, Parser
    words = discover_words(texts, min_proba=1e-5)          # WordTable
    templates = discover_templates(texts, words.tokenizer())   # TemplateSet
    # step by step, more text at a time: WordFinder().train(a).train(b).find(a + b)
    Parser(templates, words.tokenizer()).parse("鸡蛋可以吃吗")   # SentTree: (鸡蛋)可以(吃)吗
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jiema.lazy import lazy_exports

_LAZY = {
    "discover_words": "jiema_templates.words",
    "WordFinder": "jiema_templates.words",
    "TemplateFinder": "jiema_templates.template_discovery",
    "WordTable": "jiema_templates.words",
    "discover_templates": "jiema_templates.template_discovery",
    "Template": "jiema_templates.template",
    "TemplateSet": "jiema_templates.template",
    "Tokenizer": "jiema_templates.tokenizer",
    "combine_aa123": "jiema_templates.tokenizer",
    "Parser": "jiema_templates.parser",
    "SentTree": "jiema_templates.tree",
    "FileCorpus": "jiema_templates.corpus",
    "EmptyCorpusError": "jiema_templates.corpus",
    "WordOptions": "jiema_templates.options",
    "TemplateOptions": "jiema_templates.options",
    "ParserOptions": "jiema_templates.options",
}

__all__ = [
    "EmptyCorpusError",
    "FileCorpus",
    "Parser",
    "ParserOptions",
    "SentTree",
    "Template",
    "TemplateOptions",
    "TemplateFinder",
    "TemplateSet",
    "Tokenizer",
    "WordFinder",
    "WordOptions",
    "WordTable",
    "combine_aa123",
    "discover_templates",
    "discover_words",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)



if TYPE_CHECKING:  # pragma: no cover
    from .corpus import EmptyCorpusError, FileCorpus
    from .options import ParserOptions, TemplateOptions, WordOptions
    from .parser import Parser
    from .template import Template, TemplateSet
    from .template_discovery import TemplateFinder, discover_templates
    from .tokenizer import Tokenizer, combine_aa123
    from .tree import SentTree
    from .words import WordFinder, WordTable, discover_words
