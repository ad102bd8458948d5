"""The `jiema` CLI: core commands, plugin commands, --config, reading-command output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jiema
import pytest
from jiema.cli import build_cli, core_group
from jiema.errors import UnknownNameError

toy = pytest.importorskip(
    "jiema_toy.plugin", reason="the toy plugin is installed by: pip install -e tests/toy_plugin"
)


@pytest.fixture
def cli():
    return build_cli(jiema.Engine(plugins=[toy], load_entry_points=False))


@pytest.fixture
def texts(tmp_path):
    paths = []
    for name, text in (("one.txt", "queue aaa b\n"), ("two.txt", "hello world\n")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    return paths, str(tmp_path / "latin1.txt")


def test_help_lists_core_and_plugin_commands(cli, runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("config", "demo", "discover", "eval", "models", "plugins", "train", "toy"):
        assert f"  {command} " in result.stdout
    assert "--config FILE" in result.stdout


def test_version(cli, runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and jiema.__version__ in result.stdout


def test_core_groups_say_plugins_fill_them(cli, runner):
    for group in ("train", "discover"):
        result = runner.invoke(cli, [group, "--help"])
        assert result.exit_code == 0
        assert "empty until one does" in " ".join(result.stdout.split())
    assert "  toy " in runner.invoke(cli, ["eval", "--help"]).stdout


def test_plugins_lists_hooks_tasks_components_models(cli, runner):
    out = runner.invoke(cli, ["plugins"]).stdout
    assert "toy (jiema_toy.plugin; jiema-toy 0.1.0)" in out
    assert "register_commands, register_components, register_models, register_tasks" in out
    assert (
        "task shout: str -> ShoutResult [emissions=toy.emissions, transitions=transitions]" in out
    )
    assert "component toy.vowels.v1 (kind toy.emissions, version 1)" in out
    assert "model sticky -> toy.sticky.v1" in out
    data = json.loads(runner.invoke(cli, ["plugins", "--json"]).stdout)
    (plugin,) = data["plugins"]
    assert plugin["tasks"] == ["shout"] and plugin["models"] == ["sticky"]
    assert {"name": "toy.sticky.v1", "kind": "transitions", "version": 1} in plugin["components"]
    assert data["skipped"] == []


def test_models_shows_cards(cli, runner):
    out = runner.invoke(cli, ["models"]).stdout
    assert "sticky  (component toy.sticky.v1, task shout, plugin toy)" in out
    assert "licence: Apache-2.0" in out and "labels: keep, upper" in out
    data = json.loads(runner.invoke(cli, ["models", "--json"]).stdout)
    assert data["sticky"]["card"]["hyperparameters"] == {"stay": 0.8, "stay_upper": 0.7}
    assert data["sticky"]["path"].endswith("sticky.safetensors")


def test_config_check(cli, runner, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[shout.emissions]\noptions = { vowel_score = 5.0 }\n')
    result = runner.invoke(cli, ["config", "check", str(good)])
    assert result.exit_code == 0
    assert "emissions: toy.vowels.v1" in result.stdout and "config OK" in result.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[shout.emissions]\noptionz = 1\n')
    result = runner.invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 2
    assert "shout.emissions.optionz: unknown key 'optionz'" in result.stderr
    assert result.stdout == ""


def test_config_check_lists_every_problem_at_once(cli, runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[shout.emissions]\nmodel = "sticky"\noptions = { vowel_score = "loud", '
                   'vowel_scor = 1 }\n[shout.transitions]\nmodel = "nowhere.safetensors"\n')
    result = runner.invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    keys = [line.split(":")[0].strip() for line in result.stderr.splitlines()[1:]]
    assert keys == ["shout.emissions.model", "shout.emissions.options.vowel_scor",
                    "shout.emissions.options.vowel_score", "shout.transitions.model"]


@pytest.mark.parametrize("how", ["check", "--config", "JIEMA_CONFIG"])
@pytest.mark.parametrize("what", ["gbk", "folder", "missing"])
def test_a_bad_config_file_is_one_line_and_exit_2(runner, tmp_path, monkeypatch, how, what):
    path = tmp_path / "deploy.toml"
    if what == "gbk":
        path.write_bytes("# 部署\n[shout.emissions]\n".encode("gbk"))
        reason = "is not UTF-8 text (invalid byte at offset 2); save it as UTF-8"
    elif what == "folder":
        path.mkdir()
        reason = "is a directory, not a file"
    else:
        reason = "does not exist"
    monkeypatch.setenv("JIEMA_LOAD_PLUGINS", "toy")
    monkeypatch.delenv("JIEMA_CONFIG", raising=False)
    args = {"check": ["config", "check", str(path)], "--config": ["--config", str(path), "eval",
                                                                  "toy"]}.get(how, ["eval", "toy"])
    if how == "JIEMA_CONFIG":
        monkeypatch.setenv("JIEMA_CONFIG", str(path))
    result = runner.invoke(build_cli(), args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().endswith(f"config file {path} {reason}")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_reading_command_plain_and_global_config(cli, runner, texts, tmp_path):
    (one, two), _ = texts
    result = runner.invoke(cli, ["toy", one])
    assert (result.exit_code, result.stdout) == (0, "qUEUE AAA b\n")
    result = runner.invoke(cli, ["toy", one, two])
    assert result.stdout == f"{one}\tqUEUE AAA b\n{two}\thello world\n"
    loud = tmp_path / "loud.toml"
    loud.write_text('[shout.emissions.options]\nvowel_score = 5.0\n')
    result = runner.invoke(cli, ["--config", str(loud), "toy", two])
    assert result.stdout == "hEllO wOrld\n"
    assert runner.invoke(cli, ["--config", str(loud), "eval", "toy"]).stdout == "accuracy: 2/3\n"
    assert runner.invoke(cli, ["eval", "toy"]).stdout == "accuracy: 3/3\n"


def test_reading_command_jsonl_keeps_going_after_a_bad_input(cli, runner, texts, tmp_path):
    (one, two), latin1 = texts
    missing = str(tmp_path / "missing.txt")
    result = runner.invoke(cli, ["toy", "--jsonl", one, missing, latin1, two])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [one, missing, latin1, two]
    assert records[0]["text"] == "qUEUE AAA b" and 0 < records[0]["confidence"] <= 1
    assert records[0]["error"] is None and records[3]["text"] == "hello world"
    assert records[1]["error"].startswith("FileNotFoundError")
    assert records[2]["error"].startswith("UnicodeDecodeError")
    assert "2 of 4 input(s) failed" in result.stderr


def test_model_option_takes_a_name_or_a_path_and_lists_valid_names(cli, runner, texts):
    (one, _), _ = texts
    assert runner.invoke(cli, ["toy", "--model", "sticky", one]).stdout == "qUEUE AAA b\n"
    path = toy.MODELS / "sticky.safetensors"
    assert runner.invoke(cli, ["toy", "--model", str(path), one]).stdout == "qUEUE AAA b\n"
    result = runner.invoke(cli, ["toy", "--model", "stiky", one])
    assert result.exit_code == 2
    assert "unknown model 'stiky'; valid models: sticky" in result.stderr


def test_jiema_errors_are_one_line_messages(cli, runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[shout.emissions]\noptionz = 1\n')
    result = runner.invoke(cli, ["--config", str(bad), "eval", "toy"])
    assert result.exit_code == 2
    assert "Error: invalid config" in result.stderr and "Traceback" not in result.stderr


def test_demo_decodes_the_weather_hmm(cli, runner):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0
    assert "best path:    Healthy Healthy Fever" in result.stdout
    assert "probability:  0.01512" in result.stdout
    result = runner.invoke(cli, ["demo", "dizzy", "dizzy"])
    assert "best path:    Fever Fever" in result.stdout
    assert runner.invoke(cli, ["demo", "sneezy"]).exit_code == 2


def test_real_subprocess_through_the_entry_point(texts):
    (one, _), latin1 = texts
    env = {**os.environ, "JIEMA_LOAD_PLUGINS": "toy"}
    env.pop("JIEMA_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "jiema.cli", "toy", "--jsonl", one, latin1],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["text"] == "qUEUE AAA b" and first["error"] is None
    assert second["error"].startswith("UnicodeDecodeError")
    env["JIEMA_LOAD_PLUGINS"] = "segment"  # the allow-list can exclude the toy plugin
    proc = subprocess.run(
        [sys.executable, "-m", "jiema.cli", "toy", one],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2 and "No such command 'toy'" in proc.stderr


def test_core_group_gives_plugins_the_typed_core_groups(cli):
    assert core_group(cli, "eval").commands["toy"].name == "toy"
    with pytest.raises(UnknownNameError, match="valid: train, eval, discover"):
        core_group(cli, "toy")


def test_file_system_errors_are_one_line_messages(runner, tmp_path):
    import types

    missing = tmp_path / "nope.txt"
    plugin = types.ModuleType("opener")

    def register_commands(cli):
        @cli.command("open-it")
        def open_it():
            open(missing, "rb")

    plugin.register_commands = jiema.hookimpl(register_commands)
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = runner.invoke(cli, ["open-it"])
    assert result.exit_code == 1
    assert f"Error: {missing}: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_main_reports_a_broken_built_in_plugin_in_one_line(monkeypatch, capsys):
    import jiema.cli as cli_module
    from jiema.errors import PluginError

    def broken():
        raise PluginError("built-in plugin 'x' task 'x' defaults to model 'm', which no plugin "
                          "registers")

    monkeypatch.setattr(cli_module, "build_cli", broken)
    with pytest.raises(SystemExit) as info:
        cli_module.main(["--help"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("jiema: built-in plugin 'x'") and "Traceback" not in err


def test_model_listing_shortens_long_label_lists():
    from jiema.cli import _preview

    assert _preview(["keep", "upper"]) == "keep, upper"
    long = [f"c{i}" for i in range(7000)]
    text = _preview(long)
    assert text.startswith("c0, c1,") and "c12" not in text and "7000 in all" in text
