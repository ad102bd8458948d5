"""Engine: pipelines from config, side-by-side engines, model resolution, thread safety."""

from __future__ import annotations

import shutil
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import jiema
import pytest
from jiema.errors import ConfigError, ModelFileError, UnknownNameError

toy = pytest.importorskip(
    "jiema_toy.plugin", reason="the toy plugin is installed by: pip install -e tests/toy_plugin"
)

LOUD = {"shout": {"emissions": {"options": {"vowel_score": 5.0}}}}


def toy_engine(**kwargs) -> jiema.Engine:
    return jiema.Engine(plugins=[toy], load_entry_points=False, **kwargs)


def test_task_runs_the_configured_pipeline_and_is_cached():
    engine = toy_engine()
    shout = engine.task("shout")
    assert shout is engine.task("shout")
    result = shout("queue aaa b")
    assert result.text == "qUEUE AAA b"
    assert 0.5 < result.confidence <= 1.0
    assert shout("").text == ""


def test_two_engines_with_different_configs_side_by_side():
    quiet = toy_engine()
    loud = toy_engine(config=LOUD)
    assert quiet.task("shout")("hello world").text == "hello world"
    assert loud.task("shout")("hello world").text == "hEllO wOrld"
    # and again, interleaved: neither engine leaks into the other
    assert quiet.task("shout")("hello world").text == "hello world"
    assert quiet.config.tasks["shout"]["emissions"].options.vowel_score == 2.0
    assert loud.config.tasks["shout"]["emissions"].options.vowel_score == 5.0


def test_a_config_swapping_a_stage_for_another_component_changes_the_pipeline():
    consonants = toy_engine(config={"shout": {"emissions": {"component": "toy.consonants.v1"}}})
    assert consonants.task("shout")("hello world").text == "HELLo WORLD"
    assert toy_engine().task("shout")("hello world").text == "hello world"
    louder = toy_engine(config={"shout": {"emissions": {
        "component": "toy.consonants.v1", "options": {"other_score": -3.0}}}})
    assert louder.task("shout")("hello world").text == "HeLLo woRLD"


def test_with_config_shares_plugins_but_not_config():
    base = toy_engine()
    loud = base.with_config(LOUD)
    assert loud.registry is base.registry
    assert loud.task("shout")("hello world").text == "hEllO wOrld"
    assert base.task("shout")("hello world").text == "hello world"


def test_unknown_task_lists_valid_tasks():
    with pytest.raises(UnknownNameError, match="unknown task 'shuot'; valid tasks: shout"):
        toy_engine().task("shuot")


def test_bad_config_raises_on_first_use():
    engine = toy_engine(config={"shout": {"emissions": {"optionz": {}}}})
    with pytest.raises(ConfigError, match=r"shout\.emissions\.optionz"):
        engine.task("shout")


def test_component_builds_with_validated_options_and_model():
    engine = toy_engine()
    emissions = engine.component("toy.vowels.v1", options={"vowel_score": 3.0})
    assert emissions("ab")[0, 1] == 3.0 and emissions("ab")[1, 1] == -1.0
    sticky = engine.component("toy.sticky.v1", options={"scale": 2.0}, model="sticky")
    base = engine.component("toy.sticky.v1", model="sticky")
    assert (sticky.log_matrix == 2.0 * base.log_matrix).all()
    with pytest.raises(ConfigError, match="vowel_scor"):
        engine.component("toy.vowels.v1", options={"vowel_scor": 3.0})
    with pytest.raises(UnknownNameError, match="toy.sticky.v1, toy.vowels.v1"):
        engine.component("toy.nothing.v1")


def test_resolve_model_by_name_and_by_path(tmp_path):
    engine = toy_engine()
    spec = engine.resolve_model("sticky")
    assert spec.plugin == "toy" and spec.card.labels == ["keep", "upper"]
    folder = tmp_path / "m"
    folder.mkdir()
    shutil.copy(spec.path, folder)
    shutil.copy(spec.card_path, folder)
    for ref in (folder / "sticky.safetensors", folder / "sticky.json", folder, str(folder)):
        by_path = engine.resolve_model(ref)
        assert by_path.path == folder / "sticky.safetensors"
        assert by_path.component == "toy.sticky.v1" and by_path.plugin == ""
        assert (by_path.load_tensors()["log_matrix"] == spec.load_tensors()["log_matrix"]).all()
    assert engine.resolve_model("m/sticky.json", base_dir=tmp_path).path == by_path.path


def test_resolve_model_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError, match="unknown model 'stiky'; valid models: sticky"):
        toy_engine().resolve_model("stiky")


def test_resolve_model_without_card_is_a_model_file_error(tmp_path):
    spec = toy_engine().resolve_model("sticky")
    shutil.copy(spec.path, tmp_path / "lonely.safetensors")
    with pytest.raises(ModelFileError, match="lonely.json does not exist"):
        toy_engine().resolve_model(tmp_path / "lonely.safetensors")


def test_thread_pool_gives_the_same_results_as_serial_use():
    texts = [f"{'aeiou'[i % 5] * (i % 4)}x{'queue' * (i % 3)} b {i}" for i in range(64)]
    serial = [toy_engine().task("shout")(t) for t in texts]
    engine = toy_engine()  # fresh: the pipeline is built by the first thread that asks
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda t: engine.task("shout")(t), texts))
    assert threaded == serial


def test_pipeline_is_built_once_under_concurrency():
    built = []

    def factory(engine, config):
        built.append(threading.get_ident())
        time.sleep(0.05)  # widen the race window
        return str.upper

    plugin = types.ModuleType("slowbuild")
    plugin.register_tasks = jiema.hookimpl(lambda register: register("slow", factory=factory))
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    with ThreadPoolExecutor(max_workers=8) as pool:
        out = list(pool.map(lambda t: engine.task("slow")(t), ["a", "b"] * 8))
    assert out == ["A", "B"] * 8
    assert len(built) == 1


def test_default_engine_is_cached_and_honours_jiema_config(monkeypatch, tmp_path):
    cfg = tmp_path / "loud.toml"
    cfg.write_text("[shout.emissions.options]\nvowel_score = 5.0\n")
    monkeypatch.setenv("JIEMA_CONFIG", str(cfg))
    monkeypatch.setenv("JIEMA_LOAD_PLUGINS", "toy")
    jiema.default_engine.cache_clear()
    try:
        engine = jiema.default_engine()
        assert engine is jiema.default_engine()
        assert engine.config.source == cfg
        assert engine.task("shout")("hello world").text == "hEllO wOrld"
    finally:
        jiema.default_engine.cache_clear()
