"""The deployment config reaches every knob of the OCR reader: its options are derived from
`OcrOptions`, not copied by hand (the copy lacked pitch_splits, text_rules and
edge_glyph_confidence, so `jiema config check` rejected them)."""

from __future__ import annotations

import jiema
import jiema_ocr.plugin as plugin
import numpy as np
import pytest
from jiema.errors import ConfigError
from jiema_ocr.options import OcrOptions


def _engine(options):
    return jiema.Engine(plugins=[plugin], load_entry_points=False,
                        config={"ocr": {"reader": {"options": options}}})


def test_every_reader_knob_of_ocr_options_is_a_config_option():
    reader = plugin.reader_options()
    stages = {"preprocess", "layers", "regions", "cutting"}
    assert set(reader.model_fields) == set(OcrOptions.model_fields) - stages
    for name, field in reader.model_fields.items():
        assert field.default == OcrOptions.model_fields[name].default, name


def test_the_config_sets_what_the_hand_copy_missed():
    config = _engine({"pitch_splits": False, "text_rules": False,
                      "edge_glyph_confidence": 0.3}).config
    options = config.tasks["ocr"]["reader"].options
    assert (options.pitch_splits, options.text_rules, options.edge_glyph_confidence) == (
        False, False, 0.3)
    with pytest.raises(ConfigError, match="pitch_split"):
        _engine({"pitch_split": False}).config  # noqa: B018 - a typo is still refused


def test_the_lm_weight_defaults_to_each_readers_own():
    from jiema_ocr.lm_decode import DEFAULT_LM_WEIGHT

    assert plugin.LMOptions().lm_weight is None
    decoder = plugin.make_lm_decoder(plugin.LMOptions(), None)
    assert decoder.lm_weight == DEFAULT_LM_WEIGHT and decoder.requested_weight is None
    assert plugin.make_lm_decoder(plugin.LMOptions(lm_weight=0.7), None).requested_weight == 0.7



def test_the_line_readers_options_are_derived_from_ocr_options():
    line = plugin.line_reader_options()
    assert set(line.model_fields) == {"top_k", "min_line_confidence", "max_pixels",
                                      "deskew", "flatten_retry", "flatten_more",
                                      "small_text_height", "small_text_upscale"}
    for name in set(line.model_fields) - {"top_k"}:
        mine, theirs = line.model_fields[name], OcrOptions.model_fields[name]
        assert (mine.default, mine.metadata, mine.description) == (
            theirs.default, theirs.metadata, theirs.description), name
    assert line().top_k == plugin.LINE_TOP_K
    with pytest.raises(ValueError, match="less than or equal to 50"):
        line(top_k=51)  # the bounds of OcrOptions.top_k


def test_config_check_validates_the_line_readers_options():
    def check(options):
        return jiema.Engine(plugins=[plugin], load_entry_points=False, config={"ocr": {"reader": {
            "component": "ocr.line_ctc.v1", "options": options}}}).config

    assert check({"min_line_confidence": 0.3}).tasks["ocr"]["reader"].options.top_k == 5
    with pytest.raises(ConfigError, match="min_line_confidense"):
        check({"min_line_confidense": 0.3})
    with pytest.raises(ConfigError, match="min_line_confidence"):
        check({"min_line_confidence": 3})  # out of [0, 1]
    with pytest.raises(ConfigError, match="pitch_splits"):
        check({"pitch_splits": False})  # a knob of the glyph reader only


def test_every_stage_resolves_to_a_callable():
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    config = engine.task_config("ocr")
    for stage in ("preprocess", "layering", "regions", "cutting", "reader"):
        assert callable(engine.build(config[stage])), stage
    assert callable(engine.component("ocr.no_lm.v1"))


class ThirdParty:
    """Another plugin's components for the OCR task's stages: a region finder that records the
    image it is given and finds no line."""

    def __init__(self):
        self.seen = []

    @jiema.hookimpl
    def register_components(self, register):
        register("ocr.regions", "elsewhere.no_lines.v1",
                 factory=lambda options, model: self.find_lines)

    def find_lines(self, gray, layers):
        self.seen.append(gray.shape)
        return []


def test_a_config_swaps_in_another_plugins_stage(monkeypatch):
    from jiema_ocr import classifier
    from jiema_ocr.analysis import FindLines

    class NoClassifier:
        def topk(self, glyphs, k=5):
            return [[("电", 1.0)] for _ in glyphs]

    monkeypatch.setattr(classifier.CharClassifier, "load",
                        classmethod(lambda cls, path_or_name=None: NoClassifier()))
    other = ThirdParty()
    engine = jiema.Engine(plugins=[plugin, other], load_entry_points=False,
                          config={"ocr": {"regions": {"component": "elsewhere.no_lines.v1"}}})
    reader = engine.task("ocr")
    assert reader.stages.lines == other.find_lines
    assert reader.read(np.full((40, 90, 3), 200, np.uint8)).lines == []
    # called once, and once more on the flattened ground: no line was found
    assert other.seen == [(80, 180), (80, 180)]
    default = jiema.Engine(plugins=[plugin, other], load_entry_points=False).task("ocr")
    assert isinstance(default.stages.lines, FindLines)
