"""Registers the ocr task: image stages, the char classifier and the LM decoder as swappable
components, the shipped models and the `jiema ocr` command (plus the training commands)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jiema
from jiema.registry import Stage
from pydantic import BaseModel, ConfigDict, Field, create_model

TASK = "ocr"
MODELS_DIR = Path(__file__).parent / "models"
# names shared with the char-model modules (kept literal here: listing plugins imports no torch)
CLASSIFIER_COMPONENT = "ocr.char_cnn.v1"
CLASSIFIER_MODEL = "gb2312-cnn"
LM_COMPONENT = "ocr.char_bigram.v1"
LM_MODEL = "pd98-char-bigram"
LINE_COMPONENT = "ocr.line_ctc.v1"  # = line_ctc.COMPONENT
LINE_MODEL = "gb2312-line-ctc"


# OcrOptions' fields that are stages of their own, each with its config block
_STAGE_FIELDS = frozenset({"preprocess", "layers", "regions", "cutting"})


@functools.cache
def reader_options() -> type[BaseModel]:
    """The cut-and-classify reader's options: every field of `OcrOptions` but the stages,
    derived from it so that the deployment config reaches each knob the reader has."""
    from .options import OcrOptions

    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in OcrOptions.model_fields.items() if name not in _STAGE_FIELDS
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        "ReaderOptions", __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="Decoding knobs of the cut-and-classify reader (`OcrOptions` less its stages).",
        **fields,
    )


class LineReaderOptions(BaseModel):
    """Knobs of the whole-line reader (`line_ctc.LineCTCReader`): no cutting, so fewer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top_k: int = Field(5, ge=1, le=50, description="candidates per character position")
    min_line_confidence: float = Field(0.15, ge=0, le=1)
    max_pixels: int = Field(40_000_000, ge=1)
    flatten_retry: bool = True
    flatten_more: bool = True


class LineReaderParts:
    """What the `ocr.line_ctc.v1` reader component builds: its recogniser and options; the
    task factory adds the image stages and the decoder."""

    def __init__(self, recognizer: Any, options: LineReaderOptions) -> None:
        self.recognizer = recognizer
        self.options = options


class ClassifierOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(256, ge=1)


class LMOptions(BaseModel):
    """The bigram LM's weight against the classifier (None: the reader's measured default,
    `lm_decode.DEFAULT_LM_WEIGHT` for glyph candidates, `ctc_decode.CTC_LM_WEIGHT` for CTC
    frames), and its smoothing (default: the card's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lm_weight: float | None = Field(None, ge=0)
    alpha: float | None = Field(None, gt=0)
    threshold: float | None = Field(None, ge=0)


def _shipped(name: str) -> str | None:
    """`name` when its weights ship in the package (a stage may only default to a registered
    model); None before the model is trained — the component then reports it missing."""
    return name if (MODELS_DIR / f"{name}.safetensors").is_file() else None


def _stage_options(kind: str) -> Any:
    from . import cutting, layering, preprocess, regions

    return {
        "preprocess": preprocess.PreprocessOptions,
        "layering": layering.LayerOptions,
        "regions": regions.RegionOptions,
        "cutting": cutting.CutOptions,
    }[kind]


def make_classifier(options: ClassifierOptions, model: Any) -> Any:
    from .classifier import CharClassifier

    clf = CharClassifier.load(model.path if model is not None else CLASSIFIER_MODEL)
    clf.batch_size = options.batch_size
    return clf


def make_lm_decoder(options: LMOptions, model: Any) -> Any:
    from .language_model import load_lm
    from .pipeline import LMDecoder

    lm = load_lm(model.path if model is not None else LM_MODEL, alpha=options.alpha,
                 threshold=options.threshold)
    return LMDecoder(lm, options.lm_weight)


def make_line_reader(options: LineReaderOptions, model: Any) -> LineReaderParts:
    from .line_ctc import LineRecognizer

    if model is None and not _shipped(LINE_MODEL):
        raise jiema.errors.ModelFileError(
            f"{LINE_COMPONENT} needs a line-recogniser model (none is shipped as "
            f"{LINE_MODEL!r}): train one with `jiema train ocr-line` and name it in the config")
    return LineReaderParts(LineRecognizer.load(model.path if model is not None else LINE_MODEL),
                           options)


def ocr_factory(engine: jiema.Engine, config: Any) -> Any:
    """The `ocr` pipeline: an image (path, bytes, PIL image or array) -> `OcrResult`.

    The reader stage picks the emission model: `ocr.cut_classify.v1` cuts glyphs for the char
    classifier, `ocr.line_ctc.v1` reads whole lines with the line recogniser; both feed the
    same decoder."""
    from .pipeline import OcrOptions, OcrReader

    reader = engine.build(config["reader"])
    stages = {
        "preprocess": engine.build(config["preprocess"]),
        "layers": engine.build(config["layering"]),
        "regions": engine.build(config["regions"]),
        "cutting": engine.build(config["cutting"]),
    }
    decoder = engine.build(config["decoder"])
    if isinstance(reader, LineReaderParts):
        from .line_ctc import LineCTCReader

        opts = reader.options  # its fields are OcrOptions', but top_k: candidates per position
        options = OcrOptions(**stages, **opts.model_dump(exclude={"top_k"}))
        return LineCTCReader(reader.recognizer, decoder, options, k=opts.top_k)
    options = OcrOptions(**stages, **reader.model_dump())
    return OcrReader(engine.build(config["classifier"]), decoder, options)


@jiema.hookimpl
def register_tasks(register: Any) -> None:
    register(
        TASK,
        factory=ocr_factory,
        stages={
            "preprocess": Stage("ocr.preprocess", "ocr.power_gray.v1",
                                description="luma gray, 2x upscale if small, x^2 stretch"),
            "layering": Stage("ocr.layering", "ocr.kde_layers.v1",
                              description="KDE of the gray histogram, a layer per maximum"),
            "regions": Stage("ocr.regions", "ocr.components.v1",
                             description="connected components -> text lines"),
            "cutting": Stage("ocr.cutting", "ocr.projection_cut.v1",
                             description="column segments regrouped to square glyphs"),
            "classifier": Stage("ocr.classifier", CLASSIFIER_COMPONENT,
                                model=_shipped(CLASSIFIER_MODEL),
                                description="top-k characters per glyph"),
            "decoder": Stage("ocr.decoder", LM_COMPONENT, model=_shipped(LM_MODEL),
                             description="candidates + character bigram LM, Viterbi"),
            "reader": Stage("ocr.reader", "ocr.cut_classify.v1",
                            description="how glyphs are cut, classified and kept"),
        },
        input_type="image (path, bytes, PIL image or array)",
        output_type="OcrResult",
        description="Printed Chinese text in images: KDE layering, text lines, glyph cutting, "
                    "char CNN, character bigram LM + Viterbi.",
    )


@jiema.hookimpl
def register_components(register: Any) -> None:
    for kind, name, what in (
        ("preprocess", "ocr.power_gray.v1", "Y = 0.299R + 0.587G + 0.114B, 2x upscale of small "
                                            "images, x^r rescaled to [0, 255]."),
        ("layering", "ocr.kde_layers.v1", "Gaussian KDE of the 256-bin histogram; one layer per "
                                          "density maximum, boundaries at the minima."),
        ("regions", "ocr.components.v1", "Connected components per layer, shape/fill/stroke "
                                         "filters, linked into ordered text lines."),
        ("cutting", "ocr.projection_cut.v1", "Column-projection segments regrouped by DP on "
                                             "the square glyph width."),
    ):
        register(f"ocr.{kind}", name, factory=lambda options, model: options,
                 options=_stage_options(kind), description=what)
    register("ocr.reader", "ocr.cut_classify.v1", factory=lambda options, model: options,
             options=reader_options(),
             description="Cut glyphs, classify every plausible cut, keep the best by recognition.")
    register("ocr.reader", LINE_COMPONENT, factory=make_line_reader, options=LineReaderOptions,
             description="Whole-line recogniser (conv features -> CTC), no glyph cutting; its "
                         "character positions go to the same decoder.")
    register("ocr.classifier", CLASSIFIER_COMPONENT, factory=make_classifier,
             options=ClassifierOptions,
             description="Char CNN (PyTorch): top-k GB2312 characters, digits, Latin, punctuation.")
    register("ocr.decoder", LM_COMPONENT, factory=make_lm_decoder, options=LMOptions,
             description="Character bigram LM (People's Daily 1998-01) over the candidate "
                         "lattice, best path by the core's Viterbi.")
    register("ocr.decoder", "ocr.no_lm.v1", factory=lambda options, model: None,
             description="No language model: each glyph keeps its best candidate.")


@jiema.hookimpl
def register_models(register: Any) -> None:
    for name, component in ((CLASSIFIER_MODEL, CLASSIFIER_COMPONENT), (LM_MODEL, LM_COMPONENT),
                            (LINE_MODEL, LINE_COMPONENT)):
        if _shipped(name):  # registered once trained and shipped
            register(name, component=component, path=MODELS_DIR / f"{name}.safetensors")


@jiema.hookimpl
def register_commands(cli: Any) -> None:
    from .cli import add_commands

    add_commands(cli)
