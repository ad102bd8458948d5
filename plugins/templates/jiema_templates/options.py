"""Validated option sets of the templates plugin (nlp-zero's defaults), shared by the Python API,
the CLI and the registered components."""

from __future__ import annotations

from jiema.config import ReadableFile
from pydantic import BaseModel, ConfigDict, Field


class WordOptions(BaseModel):
    """Word discovery (nlp-zero `Word_Finder`): a pair of adjacent characters is strong when its
    probability exceeds `min_proba` and its PMI (natural log) exceeds `min_pmi`; candidate words
    below `min_proba` are dropped before the minimum-entropy pruning. `filtering` splits texts at
    every character that is not a CJK ideograph (U+4E00..U+9FA5), an ASCII digit or letter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_proba: float = Field(1e-7, gt=0, lt=1)
    min_pmi: float = Field(1.0, ge=0)
    filtering: bool = True


class TemplateOptions(BaseModel):
    """Template discovery (nlp-zero `Template_Finder`): skip-gram pairs within `window` words,
    kept when their probability exceeds `min_proba` and their PMI exceeds `min_pmi`; templates
    below `min_proba` are dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: int = Field(5, ge=1, le=64)
    min_proba: float = Field(1e-5, gt=0, lt=1)
    min_pmi: float = Field(2.0, ge=0)
    filtering: bool = True


class ParserOptions(BaseModel):
    """Template parser: `null_score` is the log-score of each extra word of a span no template
    covers (nlp-zero's default -20). `words` (jieba format) and `templates` (a templates file of
    `jiema discover templates`) are paths; `words` defaults to the `words` path the templates
    file names in its header."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: ReadableFile | None = None
    words: ReadableFile | None = None
    null_score: float = Field(-20.0, le=0)
