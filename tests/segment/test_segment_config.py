"""The segment plugin's options in a deployment config: dictionary files are checked up front."""

from __future__ import annotations

import jiema
import jiema_segment.plugin as plugin
import pytest
from jiema.errors import ConfigError


@pytest.fixture(scope="module")
def engine():
    return jiema.Engine(plugins=[plugin], load_entry_points=False)


def test_missing_dictionaries_are_reported_by_key_before_anything_is_built(engine, tmp_path):
    cfg = tmp_path / "deploy.toml"
    cfg.write_text('[segment.segmenter]\ncomponent = "segment.fcn.v1"\n'
                   '[segment.segmenter.options]\nhard_dict = "brands.txt"\n'
                   'user_dict = "user.txt"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        engine.with_config(cfg).task("segment")
    assert str(info.value).splitlines()[1:] == [
        f"  segment.segmenter.options.hard_dict: file {tmp_path / 'brands.txt'} does not exist",
        f"  segment.segmenter.options.user_dict: file {tmp_path / 'user.txt'} does not exist",
    ]
    dict_stage = {"segment": {"segmenter": {"component": "segment.dict.v1",
                                            "options": {"user_dict": str(tmp_path)}}}}
    with pytest.raises(ConfigError, match="segment.segmenter.options.user_dict: .* is not a file"):
        engine.with_config(dict_stage).task_config("segment")


def test_a_model_of_another_task_on_the_segmenter_is_named(engine, tmp_path):
    import numpy as np
    from jiema.models import ModelCard, save_model

    weights, _ = save_model({"w": np.zeros(1)},
                            ModelCard(name="upper", component="captcha.reader.v1", task="captcha"),
                            tmp_path / "upper.safetensors")
    cfg = tmp_path / "deploy.toml"
    cfg.write_text('[segment.segmenter]\nmodel = "upper.safetensors"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"segment.segmenter.model: model 'upper.safetensors' is "
                                          r"for component 'captcha.reader.v1' \(a model of task "
                                          r"'captcha'\)"):
        engine.with_config(cfg).task_config("segment")


def test_relative_dictionaries_are_read_beside_the_config(engine, tmp_path, monkeypatch):
    (tmp_path / "user.txt").write_text("在北京 100000\n", encoding="utf-8")
    cfg = tmp_path / "deploy.toml"
    cfg.write_text('[segment.segmenter]\nmodel = "pd98-dict"\n'
                   '[segment.segmenter.options]\nuser_dict = "user.txt"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)
    segment = engine.with_config(cfg).task("segment")
    assert segment("我们在北京大学学习")[1] == "在北京"
