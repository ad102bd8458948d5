"""Deployment config: schema assembled from the plugins, errors that point at the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import jiema
import pytest
from jiema.config import ReadableFile, config_path, load_config
from jiema.errors import ConfigError
from pydantic import BaseModel, ConfigDict

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
         "'toy.emissions'; valid: toy.consonants.v1, toy.vowels.v1"),
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


def test_a_config_file_that_is_not_utf8_or_not_a_file_is_one_line_naming_it(registry, tmp_path):
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes("# 部署\n[shout.emissions]\n".encode("gbk"))
    message = error_of(registry, gbk)
    assert message == (
        f"config file {gbk} is not UTF-8 text (invalid byte at offset 2); save it as UTF-8"
    )
    assert error_of(registry, tmp_path) == f"config file {tmp_path} is a directory, not a file"


def test_an_unreadable_config_file_is_one_line_naming_it(registry, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    locked = write(tmp_path, "[shout]\n")
    locked.chmod(0)
    assert error_of(registry, locked) == f"config file {locked} cannot be read: Permission denied"


# ------------------------------------------- files, models of other tasks, everything at once
class WordsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hard_dict: ReadableFile | None = None
    weight: float = 1.0


@pytest.fixture(scope="module")
def two_tasks(tmp_path_factory):
    """Task `x` (a component with a file option, no model) and task `y` (a component with a
    model `ynet`): enough to put the model of one task on the other's stage."""
    import numpy as np
    from jiema.models import ModelCard, save_model
    from jiema.registry import Stage

    weights, _ = save_model(
        {"w": np.zeros(1)}, ModelCard(name="ynet", component="y.net.v1", task="y"),
        tmp_path_factory.mktemp("models") / "ynet.safetensors",
    )

    class TwoTasks:
        @jiema.hookimpl
        def register_tasks(self, register):
            register("x", factory=lambda engine, cfg: engine.build(cfg["s"]),
                     stages={"s": Stage("x.kind", "x.words.v1")})
            register("y", factory=lambda engine, cfg: engine.build(cfg["t"]),
                     stages={"t": Stage("y.kind", "y.net.v1", model="ynet")})

        @jiema.hookimpl
        def register_components(self, register):
            register("x.kind", "x.words.v1", factory=lambda o, m: o, options=WordsOptions)
            register("y.kind", "y.net.v1", factory=lambda o, m: m)

        @jiema.hookimpl
        def register_models(self, register):
            register("ynet", component="y.net.v1", path=weights)

    return jiema.Engine(plugins=[TwoTasks()], load_entry_points=False)


def test_every_problem_is_reported_in_one_run(two_tasks, tmp_path):
    cfg = write(tmp_path, """
[x.s]
model = "ynet"
[x.s.options]
hard_dict = "missing.txt"
weight = "heavy"
wieght = 2
""")
    message = error_of(two_tasks.registry, cfg)
    assert message.splitlines() == [
        f"invalid config {cfg}:",
        "  x.s.model: model 'ynet' is for component 'y.net.v1' (a model of task 'y'), not "
        "'x.words.v1'; models for 'x.words.v1': none",
        f"  x.s.options.hard_dict: file {tmp_path / 'missing.txt'} does not exist",
        "  x.s.options.weight: Input should be a valid number, unable to parse string as a "
        "number (got 'heavy')",
        "  x.s.options.wieght: unknown option of component 'x.words.v1' 'wieght'; valid: "
        "hard_dict, weight",
    ]
    # an unknown component does not hide an unknown model named beside it
    both = error_of(two_tasks.registry, {"x": {"s": {"component": "x.word.v1", "model": "ynt"}}})
    assert [line.split(":")[0] for line in both.splitlines()[1:]] == [
        "  x.s.component", "  x.s.model"]
    # an Engine loading the config fails early with the same message, before building anything
    with pytest.raises(ConfigError) as info:
        two_tasks.with_config(cfg).task("x")
    assert str(info.value) == message


def test_file_options_are_resolved_relative_to_the_config_file(two_tasks, tmp_path, monkeypatch):
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "words.txt").write_text("词\n", encoding="utf-8")
    (deploy / "folder").mkdir()
    monkeypatch.chdir(tmp_path)  # not the config's folder
    cfg = write(deploy, '[x.s.options]\nhard_dict = "words.txt"\n')
    options = load_config(cfg, two_tasks.registry).tasks["x"]["s"].options
    assert options.hard_dict == str(deploy / "words.txt")
    # a config given as a mapping resolves against the working folder
    assert "x.s.options.hard_dict: file " + str(tmp_path / "words.txt") in error_of(
        two_tasks.registry, {"x": {"s": {"options": {"hard_dict": "words.txt"}}}}
    )
    folder = write(deploy, '[x.s.options]\nhard_dict = "folder"\n', "folder.toml")
    assert f"x.s.options.hard_dict: {deploy / 'folder'} is not a file" in error_of(
        two_tasks.registry, folder
    )
    # outside a config (a plugin building its options in code) the value is kept as given
    assert WordsOptions(hard_dict="nowhere.txt").hard_dict == "nowhere.txt"


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
