"""Deployment config: schema assembled from the plugins, errors that point at the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import jiema
import pytest
from jiema.config import config_path, load_config
from jiema.errors import ConfigError

toy = pytest.importorskip(
    "jiema_toy.plugin", reason="the toy plugin is installed by: pip install -e tests/toy_plugin"
)


@pytest.fixture(scope="module")
def registry():
    return jiema.Engine(plugins=[toy], load_entry_points=False).registry


def write(tmp_path: Path, text: str, name: str = "deploy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(registry, config) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(config, registry)
    return str(info.value)


def test_no_config_gives_every_default(registry):
    deployment = load_config(None, registry)
    shout = deployment.tasks["shout"]
    assert shout["emissions"].component == "toy.vowels.v1"
    assert shout["emissions"].options.vowel_score == 2.0
    assert shout["emissions"].model is None
    assert shout["transitions"].component == "toy.sticky.v1"
    assert shout["transitions"].model.name == "sticky"
    assert shout["transitions"].kind == "transitions"


def test_toml_file_sets_components_options_and_relative_model_paths(registry, tmp_path):
    models = tmp_path / "deploy" / "models"
    models.mkdir(parents=True)
    sticky = registry.models["sticky"]
    shutil.copy(sticky.path, models / "mine.safetensors")
    card = sticky.card.model_copy(update={"name": "mine", "files": ["mine.safetensors"]})
    (models / "mine.json").write_text(card.model_dump_json())
    cfg = write(
        tmp_path / "deploy",
        """
[shout.emissions]
component = "toy.vowels.v1"
options = { vowel_score = 4.5 }

[shout.transitions]
model = "models/mine.safetensors"

[shout.transitions.options]
scale = 0.5
""",
    )
    deployment = load_config(cfg, registry)  # the working folder is not the config's
    shout = deployment.tasks["shout"]
    assert shout["emissions"].options.vowel_score == 4.5
    assert shout["transitions"].options.scale == 0.5
    assert shout["transitions"].model.path == models / "mine.safetensors"
    assert shout["transitions"].model.name == "mine"
    assert deployment.source == cfg
    summary = deployment.summary()
    assert "toy.vowels.v1" in summary and "vowel_score" in summary and "mine" in summary


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"shuot": {}}, "shuot: unknown task 'shuot'; valid: shout"),
        ({"shout": {"emmisions": {}}}, "shout.emmisions: unknown stage 'emmisions'; valid: "
                                       "emissions, transitions"),
        ({"shout": {"emissions": {"optionz": {}}}},
         "shout.emissions.optionz: unknown key 'optionz'; valid: component, model, options"),
        ({"shout": {"emissions": {"options": {"vowel_scor": 1}}}},
         "shout.emissions.options.vowel_scor: unknown option of component 'toy.vowels.v1' "
         "'vowel_scor'; valid: other_score, vowel_score"),
        ({"shout": {"emissions": {"options": {"vowel_score": "loud"}}}},
         "shout.emissions.options.vowel_score: Input should be a valid number"),
        ({"shout": {"emissions": {"component": "toy.vowels.v2"}}},
         "shout.emissions.component: unknown component 'toy.vowels.v2' for stage kind "
         "'toy.emissions'; valid: toy.vowels.v1"),
        ({"shout": {"transitions": {"component": "toy.vowels.v1"}}},
         "unknown component 'toy.vowels.v1' for stage kind 'transitions'; valid: toy.sticky.v1"),
        ({"shout": {"transitions": {"model": "stiky"}}},
         "shout.transitions.model: unknown model 'stiky'; valid models: sticky"),
        ({"shout": {"emissions": {"model": "sticky"}}},
         "shout.emissions.model: model 'sticky' is for component 'toy.sticky.v1', not "
         "'toy.vowels.v1'"),
        ({"shout": {"emissions": 3}}, "shout.emissions: must be a table"),
        ({"shout": 3}, "shout: must be a table of stages (valid: emissions, transitions)"),
    ],
)
def test_errors_point_at_the_key_and_list_valid_names(registry, config, expected):
    assert expected in error_of(registry, config)


def test_all_errors_are_reported_at_once(registry):
    message = error_of(
        registry, {"shout": {"emissions": {"optionz": 1, "options": {"vowel_scor": 1}}}}
    )
    assert "shout.emissions.optionz" in message and "shout.emissions.options.vowel_scor" in message


def test_model_path_is_resolved_relative_to_the_config_file(registry, tmp_path):
    cfg = write(tmp_path, '[shout.transitions]\nmodel = "nowhere/m.safetensors"\n')
    message = error_of(registry, cfg)
    assert "shout.transitions.model" in message
    assert str(tmp_path / "nowhere" / "m.json") in message


def test_file_errors(registry, tmp_path):
    assert "does not exist" in error_of(registry, tmp_path / "missing.toml")
    bad = write(tmp_path, "[shout\n")
    assert "is not valid TOML" in error_of(registry, bad)
    other = write(tmp_path, "[nope]\n", "other.toml")
    assert f"invalid config {other}:" in error_of(registry, other)


def test_config_path_prefers_explicit_over_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JIEMA_CONFIG", str(tmp_path / "env.toml"))
    assert config_path(tmp_path / "cli.toml") == tmp_path / "cli.toml"
    assert config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv("JIEMA_CONFIG")
    assert config_path(None) is None


def test_schema_follows_the_loaded_plugins():
    bare = jiema.Engine(plugins=[], load_entry_points=False)
    with pytest.raises(ConfigError, match="unknown task 'shout'; valid: none"):
        load_config({"shout": {}}, bare.registry)


def test_naming_only_a_model_takes_the_component_its_card_names(tmp_path):
    import numpy as np
    from jiema.models import ModelCard, save_model
    from jiema.registry import Stage
    from pydantic import BaseModel, ConfigDict

    class Plain(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class Weighted(BaseModel):
        model_config = ConfigDict(extra="forbid")
        weight: float = 1.0

    weights, _ = save_model(
        {"w": np.zeros(1)}, ModelCard(name="heavy", component="x.heavy.v1", task="x"),
        tmp_path / "heavy.safetensors",
    )

    class TwoComponents:
        @jiema.hookimpl
        def register_tasks(self, register):
            register("x", factory=lambda engine, cfg: engine.build(cfg["s"]),
                     stages={"s": Stage("x.kind", "x.light.v1")})

        @jiema.hookimpl
        def register_components(self, register):
            register("x.kind", "x.light.v1", factory=lambda o, m: "light", options=Plain)
            register("x.kind", "x.heavy.v1", factory=lambda o, m: ("heavy", o.weight),
                     options=Weighted)

        @jiema.hookimpl
        def register_models(self, register):
            register("heavy", component="x.heavy.v1", path=weights)

    engine = jiema.Engine(plugins=[TwoComponents()], load_entry_points=False)
    assert engine.task("x") == "light"
    swapped = engine.with_config({"x": {"s": {"model": "heavy", "options": {"weight": 2.0}}}})
    assert swapped.task("x") == ("heavy", 2.0)  # options validated against the card's component
    by_path = engine.with_config({"x": {"s": {"model": str(weights)}}})
    assert by_path.task_config("x")["s"].component == "x.heavy.v1"
    # an explicit component still wins, and a mismatch is still an error naming the key
    with pytest.raises(ConfigError, match="x.s.model"):
        engine.with_config({"x": {"s": {"component": "x.light.v1", "model": "heavy"}}}).task("x")
