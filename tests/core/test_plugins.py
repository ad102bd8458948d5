"""Plugin host: entry-point discovery, allow-list, duplicates, broken third-party plugins."""

from __future__ import annotations

import types
import warnings
from importlib import metadata

import click
import jiema
import pytest
from jiema import plugins as host_mod
from jiema.cli import build_cli
from jiema.plugins import PluginWarning
from pydantic import BaseModel, ConfigDict

toy = pytest.importorskip(
    "jiema_toy.plugin", reason="the toy plugin is installed by: pip install -e tests/toy_plugin"
)


class Opts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int = 1


def make_plugin(name: str, **hooks) -> types.ModuleType:
    """A plugin module built in the test: each keyword becomes a `@jiema.hookimpl` function."""
    mod = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(mod, hook_name, jiema.hookimpl(fn))
    return mod


def tasks_hook(*names):
    def register_tasks(register):
        for n in names:
            register(n, factory=lambda engine, cfg: str.upper)

    return register_tasks


def components_hook(*names, kind="k"):
    def register_components(register):
        for n in names:
            register(kind, n, factory=lambda options, model: options.x, options=Opts)

    return register_components


def engine_of(*plugins) -> jiema.Engine:
    return jiema.Engine(plugins=plugins, load_entry_points=False)


def names_of(engine):
    return [p.name for p in engine.plugin_info()]


# ------------------------------------------------------------------ discovery
def test_toy_plugin_is_discovered_through_its_entry_point(monkeypatch):
    monkeypatch.delenv("JIEMA_LOAD_PLUGINS", raising=False)
    engine = jiema.Engine()
    info = {p.name: p for p in engine.plugin_info()}
    assert info["toy"].module == "jiema_toy.plugin"
    assert info["toy"].builtin is False
    assert info["toy"].distribution == "jiema-toy"
    assert set(info["toy"].hooks) == {
        "register_tasks", "register_components", "register_models", "register_commands"
    }
    for builtin in ("segment", "ocr", "captcha", "templates"):
        assert info[builtin].builtin is True
    assert engine.tasks["shout"].plugin == "toy"
    assert engine.components["toy.vowels.v1"].plugin == "toy"
    assert engine.models["sticky"].plugin == "toy"


@pytest.mark.parametrize(
    ("allow", "expected"),
    [("", []), ("toy", ["toy"]), (" segment , ocr ", ["ocr", "segment"])],
)
def test_allow_list_env_var_selects_entry_points(monkeypatch, allow, expected):
    monkeypatch.setenv("JIEMA_LOAD_PLUGINS", allow)
    engine = jiema.Engine()
    assert sorted(names_of(engine)) == expected
    assert ("shout" in engine.tasks) == ("toy" in expected)


def test_allow_list_naming_a_missing_plugin_warns(monkeypatch):
    monkeypatch.setenv("JIEMA_LOAD_PLUGINS", "toy,nosuchplugin")
    with pytest.warns(PluginWarning, match="nosuchplugin.*not installed"):
        engine = jiema.Engine()
        assert names_of(engine) == ["toy"]


def test_builtin_plugin_modules_are_valid_plugins():
    import jiema_captcha.plugin
    import jiema_ocr.plugin
    import jiema_segment.plugin
    import jiema_templates.plugin

    mods = [jiema_segment.plugin, jiema_ocr.plugin, jiema_captcha.plugin, jiema_templates.plugin]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = engine_of(*mods)
        engine.registry  # noqa: B018
    assert all(p.builtin for p in engine.plugin_info())
    assert len(engine.plugin_info()) == 4


def test_loading_is_lazy_and_happens_once():
    calls = []

    def register_tasks(register):
        calls.append(1)
        register("t", factory=lambda e, c: str.upper)

    engine = engine_of(make_plugin("counting", register_tasks=register_tasks))
    assert calls == []
    engine.tasks, engine.components, engine.models, engine.task("t")  # noqa: B018
    engine.with_config({}).tasks  # noqa: B018 - shares the host
    assert calls == [1]


def test_records_carry_the_registering_plugin_and_are_frozen():
    engine = engine_of(make_plugin("p1", register_tasks=tasks_hook("t1"),
                                   register_components=components_hook("c.one.v1")))
    task = engine.tasks["t1"]
    assert task.plugin == "p1"
    comp = engine.components["c.one.v1"]
    assert (comp.plugin, comp.kind, comp.version, comp.family) == ("p1", "k", 1, "c.one")
    with pytest.raises(AttributeError):
        task.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        engine.tasks["x"] = task  # type: ignore[index]


# ------------------------------------------------------------------ duplicates
def test_duplicate_name_between_third_party_plugins_skips_the_later_one_naming_both():
    first = make_plugin("first", register_tasks=tasks_hook("same", "only_first"))
    second = make_plugin("second", register_tasks=tasks_hook("same", "only_second"))
    with pytest.warns(PluginWarning) as record:
        engine = engine_of(first, second)
        tasks = dict(engine.tasks)
    message = str(record[0].message)
    assert "'first'" in message and "'second'" in message and "'same'" in message
    assert tasks["same"].plugin == "first"
    assert "only_second" not in tasks  # all-or-nothing: the skipped plugin leaves nothing
    assert [s.name for s in engine.skipped_plugins] == ["second"]


def test_duplicate_name_between_builtin_plugins_skips_the_second_naming_both(monkeypatch):
    monkeypatch.setattr(host_mod, "_core_modules", lambda: frozenset(("b_one", "b_two")))
    a = make_plugin("b_one", register_components=components_hook("x.dup.v1"))
    b = make_plugin("b_two", register_components=components_hook("x.dup.v1"))
    with pytest.warns(PluginWarning, match=r"built-in plugin 'b_two'.*'x\.dup\.v1'.*'b_one'"):
        engine = engine_of(a, b)
        assert engine.components["x.dup.v1"].plugin == "b_one"


def test_builtin_wins_over_third_party_regardless_of_order(monkeypatch):
    monkeypatch.setattr(host_mod, "_core_modules", lambda: frozenset(("b_one",)))
    third = make_plugin("third", register_tasks=tasks_hook("t"))
    builtin = make_plugin("b_one", register_tasks=tasks_hook("t"))
    with pytest.warns(PluginWarning, match="'b_one'.*'third'"):
        engine = engine_of(third, builtin)
        assert engine.tasks["t"].plugin == "b_one"


def test_same_plugin_registering_a_name_twice_is_skipped():
    plugin = make_plugin("twice", register_tasks=tasks_hook("t", "t"))
    with pytest.warns(PluginWarning, match="registers task 't' twice"):
        assert dict(engine_of(plugin).tasks) == {}


# ------------------------------------------------------------ broken plugins
def _boom(register):
    register("k", "half.done.v1", factory=lambda o, m: None, options=Opts)
    raise RuntimeError("boom in hook")


def test_third_party_plugin_raising_in_a_hook_is_skipped_with_nothing_left_behind():
    good = make_plugin("good", register_tasks=tasks_hook("fine"))
    bad = make_plugin("bad", register_components=_boom)
    with pytest.warns(PluginWarning, match="'bad'.*RuntimeError: boom in hook"):
        engine = engine_of(good, bad)
        assert list(engine.tasks) == ["fine"]
    assert "half.done.v1" not in engine.components
    assert names_of(engine) == ["good"]


def test_builtin_plugin_raising_in_a_hook_is_skipped_and_the_others_run(monkeypatch):
    monkeypatch.setattr(host_mod, "_core_modules", lambda: frozenset(("bad_builtin",)))
    bad = make_plugin("bad_builtin", register_components=_boom)
    good = make_plugin("good", register_tasks=tasks_hook("fine"))
    with pytest.warns(PluginWarning, match="built-in plugin 'bad_builtin'.*boom in hook"):
        engine = engine_of(bad, good)
        assert list(engine.tasks) == ["fine"]
    assert names_of(engine) == ["good"]


def test_misspelled_hook_skips_third_party_plugin():
    typo = make_plugin("typo", register_task=tasks_hook("t"))
    with pytest.warns(PluginWarning, match="unknown hook.*register_task\\b.*valid hooks"):
        engine = engine_of(typo)
        assert names_of(engine) == []
        assert dict(engine.tasks) == {}


def test_misspelled_hook_in_builtin_is_skipped(monkeypatch):
    monkeypatch.setattr(host_mod, "_core_modules", lambda: frozenset(("typo_builtin",)))
    with pytest.warns(PluginWarning, match="register_modelz"):
        engine = engine_of(make_plugin("typo_builtin", register_modelz=lambda register: None))
        assert names_of(engine) == []


def test_hook_with_wrong_argument_name_is_skipped():
    wrong = make_plugin("wrongarg", register_tasks=lambda reg: None)
    with pytest.warns(PluginWarning, match="wrongarg"):
        assert names_of(engine_of(wrong)) == []


def test_invalid_records_skip_the_plugin():
    class Loose(BaseModel):  # no extra="forbid"
        x: int = 1

    unversioned = make_plugin("unversioned", register_components=components_hook("noversion"))
    loose = make_plugin(
        "loose",
        register_components=lambda register: register(
            "k", "loose.v1", factory=lambda o, m: None, options=Loose
        ),
    )
    dangling = make_plugin(
        "dangling",
        register_tasks=lambda register: register(
            "t", factory=lambda e, c: None, stages={"s": ("k", "missing.v1")}
        ),
    )
    with pytest.warns(PluginWarning) as record:
        engine = engine_of(unversioned, loose, dangling)
        assert dict(engine.tasks) == {} and dict(engine.components) == {}
    text = " | ".join(str(w.message) for w in record)
    assert "must be lower-case, dotted and end in a version" in text
    assert "extra='forbid'" in text
    assert "'missing.v1', which no plugin registers" in text


def _entry_point(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group="jiema")


def test_third_party_plugin_failing_to_import_is_skipped(monkeypatch, tmp_path):
    (tmp_path / "jiema_broken_on_import.py").write_text("raise RuntimeError('import boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("JIEMA_LOAD_PLUGINS", raising=False)
    eps = [
        _entry_point("broken", "jiema_broken_on_import"),
        _entry_point("absent", "jiema_no_such_module_anywhere"),
        _entry_point("toy", "jiema_toy.plugin"),
    ]
    monkeypatch.setattr(host_mod.metadata, "entry_points", lambda group: eps)
    with pytest.warns(PluginWarning) as record:
        engine = jiema.Engine()
        assert "shout" in engine.tasks
    text = " | ".join(str(w.message) for w in record)
    assert "'broken': failed to import 'jiema_broken_on_import': RuntimeError: import boom" in text
    assert "'absent'" in text and "ModuleNotFoundError" in text
    assert names_of(engine) == ["toy"]


def test_builtin_failing_to_import_is_reported_and_the_others_run(monkeypatch):
    monkeypatch.delenv("JIEMA_LOAD_PLUGINS", raising=False)
    monkeypatch.setattr(host_mod, "_core_modules",
                        lambda: frozenset(("jiema_missing_builtin.plugin",)))
    eps = [_entry_point("missing", "jiema_missing_builtin.plugin"),
           _entry_point("toy", "jiema_toy.plugin")]
    monkeypatch.setattr(host_mod.metadata, "entry_points", lambda group: eps)
    with pytest.warns(PluginWarning, match="built-in plugin 'missing': failed to import"):
        engine = jiema.Engine()
        assert "shout" in engine.tasks
    assert [s.name for s in engine.skipped_plugins] == ["missing"]


def test_hooks_run_through_pluggy_so_wrappers_and_tracing_see_every_plugin_call():
    seen = []

    @jiema.hookimpl(wrapper=True)
    def register_tasks(register):
        seen.append("before")
        result = yield
        seen.append("after")
        return result

    wrapper = make_plugin("wrapper")
    wrapper.register_tasks = register_tasks
    a = make_plugin("a", register_tasks=tasks_hook("ta"))
    b = make_plugin("b", register_tasks=tasks_hook("tb"))
    engine = engine_of(wrapper, a, b)
    traced = []
    engine._host.pm.trace.root.setwriter(traced.append)
    engine._host.pm.enable_tracing()
    assert sorted(engine.tasks) == ["ta", "tb"]
    assert seen.count("before") == 3 and seen.count("after") == 3  # each plugin's call wrapped
    assert any("register_tasks" in line for line in traced)


# ------------------------------------------------------------------ commands
def _command_hook(group: str | None, name: str, text: str = "hi"):
    def register_commands(cli):
        target = cli if group is None else cli.commands[group]

        @target.command(name)
        def cmd():
            click.echo(text)

    return register_commands


def test_plugin_commands_are_added_to_root_and_core_groups():
    from click.testing import CliRunner

    plugin = make_plugin("cmds", register_commands=_command_hook("discover", "things", "found"))
    cli = build_cli(engine_of(plugin))
    assert "things" in cli.commands["discover"].commands
    assert CliRunner().invoke(cli, ["discover", "things"]).stdout == "found\n"


def test_duplicate_subcommand_between_third_party_plugins_is_skipped_naming_both():
    first = make_plugin("first", register_commands=_command_hook("eval", "dup", "first"))
    second = make_plugin("second", register_commands=_command_hook("eval", "dup", "second"))
    with pytest.warns(PluginWarning, match="'second' replaces command 'eval dup'.*'first'"):
        cli = build_cli(engine_of(first, second))
    assert cli.commands["eval"].commands["dup"].callback.__module__ == __name__
    from click.testing import CliRunner

    assert CliRunner().invoke(cli, ["eval", "dup"]).stdout == "first\n"


def test_duplicate_subcommand_between_builtins_skips_the_second(monkeypatch):
    monkeypatch.setattr(host_mod, "_core_modules", lambda: frozenset(("b_one", "b_two")))
    a = make_plugin("b_one", register_commands=_command_hook(None, "same", "one"))
    b = make_plugin("b_two", register_commands=_command_hook(None, "same", "two"))
    with pytest.warns(PluginWarning, match="'b_two' replaces command 'same'.*'b_one'"):
        cli = build_cli(engine_of(a, b))
    from click.testing import CliRunner

    assert CliRunner().invoke(cli, ["same"]).stdout == "one\n"


def test_plugin_replacing_a_core_command_is_rejected():
    thief = make_plugin("thief", register_commands=_command_hook(None, "plugins"))
    with pytest.warns(PluginWarning, match=r"'thief' replaces command 'plugins'.*jiema \(core\)"):
        cli = build_cli(engine_of(thief))
    assert cli.commands["plugins"].callback.__module__ == "jiema.cli"


def test_plugin_raising_in_register_commands_leaves_no_command_behind():
    def register_commands(cli):
        _command_hook(None, "partial")(cli)
        raise ValueError("half way")

    with pytest.warns(PluginWarning, match="ValueError: half way"):
        cli = build_cli(engine_of(make_plugin("halfway", register_commands=register_commands)))
    assert "partial" not in cli.commands
