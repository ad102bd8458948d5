"""Registers the ocr task: image stages, the char classifier and the LM decoder as swappable
components, the shipped models and the `jiema ocr` command (plus the training commands)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jiema
from jiema.registry import Stage
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

TASK = "ocr"
MODELS_DIR = Path(__file__).parent / "models"
# names shared with the char-model modules (kept literal here: listing plugins imports no torch)
CLASSIFIER_COMPONENT = "ocr.char_cnn.v1"
CLASSIFIER_MODEL = "gb2312-cnn"
LM_COMPONENT = "ocr.char_bigram.v1"
LM_MODEL = "pd98-char-bigram"
LINE_COMPONENT = "ocr.line_ctc.v1"  # = line_ctc.COMPONENT
LINE_MODEL = "gb2312-line-ctc"
SURER_COMPONENT = "ocr.surer.v1"  # both readers merged, the surer span where they differ
SPAN_CHOOSER = "gb2312-span-choice"  # fitted for the shipped pair of readers and the LM
SPAN_COMPONENT = "ocr.span_choice.v1"  # = span_choice.COMPONENT: the surer reader's option


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


#: The `OcrOptions` fields the whole-line reader reads (it cuts no glyphs, so the cutting and
#: text-rule knobs are not among them).
_LINE_READER_FIELDS = ("min_line_confidence", "max_pixels", "deskew", "flatten_retry",
                       "flatten_more", "small_text_height", "small_text_upscale")
#: The line reader's candidates per character position (the glyph reader's `top_k` is 10: it
#: ranks cuts by recognition too).
LINE_TOP_K = 5


@functools.cache
def line_reader_options() -> type[BaseModel]:
    """The whole-line reader's options: its `OcrOptions` fields, derived from them (no hand
    copy), and `top_k` with the line reader's own default."""
    from .options import OcrOptions

    fields: dict[str, Any] = {name: (OcrOptions.model_fields[name].annotation,
                                     OcrOptions.model_fields[name])
                              for name in _LINE_READER_FIELDS}
    top_k = OcrOptions.model_fields["top_k"]
    fields["top_k"] = (top_k.annotation, FieldInfo.merge_field_infos(
        top_k, default=LINE_TOP_K, description="candidates per character position"))
    return create_model(  # type: ignore[call-overload, no-any-return]
        "LineReaderOptions", __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="Knobs of the whole-line reader (`line_ctc.LineCTCReader`).", **fields,
    )


class GlyphReaderBuilder:
    """What `ocr.cut_classify.v1` builds: called by the task pipeline with the task's other
    stages, it returns the reader (`pipeline.OcrReader`) that cuts glyphs and classifies them.
    `classifier` is called for the classifier stage only when this reader needs it."""

    def __init__(self, options: BaseModel) -> None:
        self.options = options

    def __call__(self, *, preprocess: Any, layers: Any, lines: Any, cut: Any, decoder: Any,
                 classifier: Callable[[], Any]) -> Any:
        from .analysis import Stages
        from .pipeline import OcrOptions, OcrReader

        stages = Stages.of(preprocess, layers, lines, cut,
                           flatten_retry=self.options.flatten_retry)  # type: ignore[attr-defined]
        options = OcrOptions(**stages.options(), **self.options.model_dump())
        return OcrReader(classifier(), decoder, options, stages)


class LineReaderBuilder:
    """What `ocr.line_ctc.v1` builds: its line recogniser and options; called like
    `GlyphReaderBuilder`, it returns a `line_ctc.LineCTCReader` (no classifier, no cutting)."""

    def __init__(self, recognizer: Any, options: BaseModel) -> None:
        self.recognizer = recognizer
        self.options = options

    def __call__(self, *, preprocess: Any, layers: Any, lines: Any, cut: Any, decoder: Any,
                 classifier: Callable[[], Any]) -> Any:
        from .analysis import Stages
        from .line_ctc import LineCTCReader
        from .options import OcrOptions

        opts: Any = self.options
        stages = Stages.of(preprocess, layers, lines, cut, flatten_retry=opts.flatten_retry)
        options = OcrOptions(**stages.options(), **opts.model_dump(exclude={"top_k"}))
        return LineCTCReader(self.recognizer, decoder, options, k=opts.top_k, stages=stages)


@functools.cache
def surer_reader_options() -> type[BaseModel]:
    """The surer-of-two reader's options: the cut-and-classify reader's, and `line_top_k` for
    its whole-line half (the other knobs the two share)."""
    base = reader_options()
    fields: dict[str, Any] = {name: (f.annotation, f) for name, f in base.model_fields.items()}
    fields["line_top_k"] = (int, Field(LINE_TOP_K, ge=1,
                                       description="candidates per character, whole-line half"))
    fields["line_model"] = (str, Field(LINE_MODEL, min_length=1,
                                       description=f"the whole-line half's {LINE_COMPONENT} "
                                                   "model: a shipped name or a path"))
    fields["span_chooser"] = (str, Field(
        SPAN_CHOOSER, min_length=1,
        description="what decides where the two readings differ: a span_choice model (a "
                    "shipped name, or the path of its .safetensors or card), or 'none' for "
                    "the confidence rules"))
    return create_model(  # type: ignore[call-overload, no-any-return]
        "SurerReaderOptions", __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="Knobs of the surer-of-two reader (`surer_reader.SurerReader`).", **fields,
    )


class SurerReaderBuilder:
    """What `ocr.surer.v1` builds: called like `GlyphReaderBuilder`, it returns a
    `surer_reader.SurerReader` that reads each line both ways (glyphs cut for the classifier,
    whole by the line recogniser) and merges the readings, keeping where they differ the span
    its `span_chooser` picks (the confidence rules with `none`)."""

    def __init__(self, recognizer: Any, options: BaseModel) -> None:
        from .span_choice import SpanChooser

        self.recognizer = recognizer
        self.options = options
        name = options.span_chooser  # type: ignore[attr-defined]
        self.chooser = None if name == "none" else SpanChooser.load(name)

    def __call__(self, *, preprocess: Any, layers: Any, lines: Any, cut: Any, decoder: Any,
                 classifier: Callable[[], Any]) -> Any:
        from .surer_reader import SurerReader

        opts = self.options.model_dump()
        stages = {"preprocess": preprocess, "layers": layers, "lines": lines, "cut": cut,
                  "decoder": decoder, "classifier": classifier}
        glyphs = GlyphReaderBuilder(reader_options()(**{
            k: v for k, v in opts.items()
            if not k.startswith("line_") and k != "span_chooser"}))(**stages)
        whole = LineReaderBuilder(self.recognizer, line_reader_options()(
            **{k: opts[k] for k in _LINE_READER_FIELDS}, top_k=opts["line_top_k"]))(**stages)
        return SurerReader(glyphs, whole, self.chooser)


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


def _image_stage(kind: str) -> tuple[type[BaseModel], Callable[[Any, Any], Any]]:
    """The options model of a built-in image stage, and its factory (options -> the callable
    stage, from `analysis`)."""
    from . import analysis, cutting, layering, preprocess, regions

    stage: Any = {"preprocess": (preprocess.PreprocessOptions, analysis.Preprocess),
                  "layering": (layering.LayerOptions, analysis.FindLayers),
                  "regions": (regions.RegionOptions, analysis.FindLines),
                  "cutting": (cutting.CutOptions, analysis.CutGlyphs)}[kind]
    options, build = stage
    return options, lambda opts, model: build(opts)


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


def make_line_reader(options: BaseModel, model: Any) -> LineReaderBuilder:
    from .line_ctc import LineRecognizer

    if model is None and not _shipped(LINE_MODEL):
        raise jiema.errors.ModelFileError(
            f"{LINE_COMPONENT} needs a line-recogniser model (none is shipped as "
            f"{LINE_MODEL!r}): train one with `jiema train ocr-line` and name it in the config")
    return LineReaderBuilder(
        LineRecognizer.load(model.path if model is not None else LINE_MODEL), options)


def make_surer_reader(options: BaseModel, model: Any) -> SurerReaderBuilder:
    """The surer-of-two reader; its line model comes from its `line_model` option (a model
    names one component, and this reader's classifier is the classifier stage's)."""
    from .line_ctc import LineRecognizer

    return SurerReaderBuilder(LineRecognizer.load(options.line_model),  # type: ignore[attr-defined]
                              options)


def make_span_chooser(options: BaseModel, model: Any) -> Any:
    from .span_choice import SpanChooser

    return SpanChooser.load(model.path if model is not None else SPAN_CHOOSER)


def make_no_lm(options: BaseModel, model: Any) -> Any:
    from .pipeline import first_candidates

    return first_candidates


def ocr_factory(engine: jiema.Engine, config: Any) -> Any:
    """The `ocr` pipeline: an image (path, bytes, PIL image or array) -> `OcrResult`.

    Every stage is a component the config chose, built into a callable; the reader stage's
    (`ocr.cut_classify.v1` cuts glyphs for the char classifier, `ocr.line_ctc.v1` reads whole
    lines with the line recogniser) is called with the others and returns the reader."""
    build_reader = engine.build(config["reader"])
    return build_reader(
        preprocess=engine.build(config["preprocess"]),
        layers=engine.build(config["layering"]),
        lines=engine.build(config["regions"]),
        cut=engine.build(config["cutting"]),
        decoder=engine.build(config["decoder"]),
        classifier=lambda: engine.build(config["classifier"]),
    )


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
            "reader": Stage("ocr.reader", SURER_COMPONENT,
                            description="each line cut + classified and read whole, the "
                                        "readings merged (the surer span where they "
                                        "differ)"),
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
        options, factory = _image_stage(kind)
        register(f"ocr.{kind}", name, factory=factory, options=options, description=what)
    register("ocr.reader", "ocr.cut_classify.v1",
             factory=lambda options, model: GlyphReaderBuilder(options), options=reader_options(),
             description="Cut glyphs, classify every plausible cut, keep the best by recognition.")
    register("ocr.reader", LINE_COMPONENT, factory=make_line_reader,
             options=line_reader_options(),
             description="Whole-line recogniser (conv features -> CTC), no glyph cutting; its "
                         "character positions go to the same decoder.")
    register("ocr.reader", SURER_COMPONENT, factory=make_surer_reader,
             options=surer_reader_options(),
             description="Each line read both ways (cut + classify, and whole by the line "
                         "recogniser), the readings merged: where they differ, the span the "
                         "span chooser (span_chooser option) picks.")
    register("ocr.span_chooser", SPAN_COMPONENT, factory=make_span_chooser,
             description="Logistic model deciding, where the surer reader's two readings "
                         "differ, which span to keep (named by its span_chooser option).")
    register("ocr.classifier", CLASSIFIER_COMPONENT, factory=make_classifier,
             options=ClassifierOptions,
             description="Char CNN (PyTorch): top-k GB2312 characters, digits, Latin, punctuation.")
    register("ocr.decoder", LM_COMPONENT, factory=make_lm_decoder, options=LMOptions,
             description="Character bigram LM (People's Daily 1998-01, English letter pairs) over "
                         "the candidate "
                         "lattice, best path by the core's Viterbi.")
    register("ocr.decoder", "ocr.no_lm.v1", factory=make_no_lm,
             description="No language model: each glyph keeps its best candidate.")


@jiema.hookimpl
def register_models(register: Any) -> None:
    for name, component in ((CLASSIFIER_MODEL, CLASSIFIER_COMPONENT), (LM_MODEL, LM_COMPONENT),
                            (LINE_MODEL, LINE_COMPONENT), (SPAN_CHOOSER, SPAN_COMPONENT)):
        if _shipped(name):  # registered once trained and shipped
            register(name, component=component, path=MODELS_DIR / f"{name}.safetensors")


@jiema.hookimpl
def register_commands(cli: Any) -> None:
    from .cli import add_commands

    add_commands(cli)
