"""The reader's options: every knob of the pipeline in one frozen model."""

from __future__ import annotations

from jiema.images import MAX_PIXELS
from pydantic import BaseModel, ConfigDict, Field

from .cutting import CutOptions
from .layering import LayerOptions
from .preprocess import PreprocessOptions
from .regions import RegionOptions


class OcrOptions(BaseModel):
    """Every knob of the pipeline (each stage's own options, plus decoding)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preprocess: PreprocessOptions = PreprocessOptions()
    layers: LayerOptions = LayerOptions()
    regions: RegionOptions = RegionOptions()
    cutting: CutOptions = CutOptions()
    top_k: int = Field(10, ge=1, le=50)
    layout_prior: bool = Field(True, description="re-weight candidates by glyph size and place "
                                                 "in the line (quotes high, 。 small, O tall)")
    recognition_cut: bool = Field(True, description="let classifier confidence choose cuts")
    sure_prob: float = Field(0.9, ge=0, le=1, description="glyphs recognised at least this "
                                                          "surely keep their geometric cut")
    cut_weight: float = Field(2.0, ge=0, description="geometric cost weight vs -log p")
    # fresh renders, line errors on seeds 80+81 / banner errors on seed 82: 93 / 36 without,
    # 74 / 32 with (the touching glyphs of wqy-zenhei: 他们, 好似, 热情); +2% time a line
    pitch_splits: bool = Field(True, description="where a glyph is unsure, also try cuts where "
                                                 "the pitch of the surely read glyphs puts a "
                                                 "cell boundary (glyphs that touch)")
    min_line_confidence: float = Field(
        0.15, ge=0, le=1,
        description="lines whose mean best-candidate probability is lower are not text",
    )
    # 0.15 measured on dev renders (seeds 77-79): line / banner errors 54 / 76 at 0 (off),
    # 53 / 73 at 0.1, 52 / 72 at 0.15, 52 / 73 at 0.2
    edge_glyph_confidence: float = Field(
        0.15, ge=0, le=1, description="a glyph at either end of a line whose best candidate is "
                                      "less probable than this is a speck or the edge of a "
                                      "picture, not text, and is left out")
    text_rules: bool = Field(True, description="finish the text with the rules for what the "
                                               "bigram LM cannot tell apart (，/. ，/、 一/— "
                                               "-/— 0/O 1/l, “ cut in two)")
    odd_line_confidence: float = Field(
        0.55, ge=0, le=1, description="with 3+ lines, a line read less surely than this ...")
    odd_line_size: float = Field(2.0, ge=1, description="... and this many times taller or "
                                                        "shorter than the others is dropped")
    short_line_glyphs: int = Field(3, ge=0, description="with 3+ lines, a line of at most this "
                                                        "many glyphs ...")
    short_line_confidence: float = Field(
        0.65, ge=0, le=1, description="... read less surely than this is dropped, whatever its "
                                      "size (specks of a banner's picture)")
    margin: float = Field(0.08, ge=0, description="crop margin around a glyph, x em")
    max_pixels: int = Field(MAX_PIXELS, ge=1)
    flatten_more: bool = Field(True, description="on an image with room for more lines than "
                                                 "found (or for more glyphs beside its "
                                                 "lines), try the flattened "
                                                 "ground too and keep it when it finds each "
                                                 "line and more (or one line covering them and "
                                                 "wider)")
    deskew: bool = Field(True, description="straighten a photo whose text rows are skewed "
                                           "(1-10 degrees, measured on its edges) before "
                                           "the stages; boxes stay in the input's pixels")
    flatten_retry: bool = Field(True, description="when no line is found, try again with the "
                                                  "ground flattened (a gradient can hide text)")
    # 20: the news screenshot's lines are 15-17 px and read 5 -> 0 errors at 2x, the dev pages'
    # 12-16 px; dev lines, banners, photo and screen crops stay above it (26 px reached a banner
    # of 15-31 px lines, whose larger image held only the picture). Bicubic 2x: 0 errors on the
    # news screenshot where bilinear left 4, Lanczos 1, 1.5x bicubic 5
    small_text_height: int = Field(
        20, ge=0, description="an image that preprocessing did not upscale, whose text lines "
                              "are mostly lower than this (px), is searched and read again, "
                              "upscaled by small_text_upscale (bicubic); 0: never")
    small_text_upscale: int = Field(2, ge=2, le=4, description="the factor of that second "
                                                               "search")
    space_gap: float = Field(0.5, gt=0, description="gap between Latin/digit glyphs (x em) "
                                                    "that is written as a space")
