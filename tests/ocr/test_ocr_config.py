"""The deployment config reaches every knob of the OCR reader: its options are derived from
`OcrOptions`, not copied by hand (the copy lacked pitch_splits, text_rules and
edge_glyph_confidence, so `jiema config check` rejected them)."""

from __future__ import annotations

import jiema
import jiema_ocr.plugin as plugin
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
