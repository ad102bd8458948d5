"""The `jiema` command line (click). The core owns `train`, `eval` and `discover`; plugins add
subcommands through `register_commands(cli)` when the group is built, so they show in --help.

Kept cheap: building the CLI imports plugin modules only (never torch, never numba); a command
imports what it needs when it runs.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import __version__
from .engine import Engine, default_engine
from .errors import ConfigError, JiemaError, UnknownNameError

CORE_GROUPS = ("train", "eval", "discover")
#: Exit status of a command stopped by an invalid or unreadable deployment config.
CONFIG_ERROR_EXIT = 2


class CliState:
    """What the root command hands its subcommands: the engine for this run's `--config`."""

    def __init__(self, base: Engine, config: Path | None, from_entry_points: bool = False
                 ) -> None:
        self._base = base
        self._config = config
        self.from_entry_points = from_entry_points  # whether `EngineRecipe` rebuilds `base`
        self._engine: Engine | None = None

    @property
    def config(self) -> Path | None:
        return self._config

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._base.with_config(self._config) if self._config else self._base
        return self._engine


@dataclass(frozen=True)
class EngineRecipe:
    """How another process (a batch worker, `jiema.batch`) builds the running command's engine:
    the entry-point plugins with this `--config`."""

    config: Path | None

    def build(self) -> Engine:
        return default_engine().with_config(self.config) if self.config else default_engine()


def engine_recipe(ctx: click.Context | None = None) -> EngineRecipe | None:
    """The running command's `EngineRecipe`; None where another process cannot rebuild its
    engine: a CLI built around an engine given in code (`build_cli(engine)`), whose plugins
    and config live only in this process."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, CliState):
            return EngineRecipe(ctx.obj.config) if ctx.obj.from_entry_points else None
        ctx = ctx.parent
    return None


def get_engine(ctx: click.Context | None = None) -> Engine:
    """The Engine of the running `jiema` command (its `--config` applied); outside one, the
    default engine."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, CliState):
            return ctx.obj.engine
        ctx = ctx.parent
    return default_engine()


def pass_engine(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for plugin commands: passes the run's Engine as the first argument."""

    @click.pass_context
    def wrapper(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        return ctx.invoke(func, get_engine(ctx), *args, **kwargs)

    return functools.update_wrapper(wrapper, func)


class _ConfigException(click.ClickException):
    """A bad deployment config (`--config`, `$JIEMA_CONFIG`): the user's input, so exit 2."""

    exit_code = CONFIG_ERROR_EXIT


class _JiemaGroup(click.Group):
    """Turns jiema's own errors and file-system errors (a missing or unreadable input) into a
    one-line message and exit status 1 (2 for a bad config), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise _ConfigException(str(exc)) from exc
        except JiemaError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from exc


def core_group(cli: click.Group, name: str) -> click.Group:
    """One of the core's groups (`train`, `eval`, `discover`), for `register_commands` hooks."""
    if name not in CORE_GROUPS:
        raise UnknownNameError(f"no core group {name!r}; valid: {', '.join(CORE_GROUPS)}")
    group = cli.commands[name]
    assert isinstance(group, click.Group)
    return group


def build_cli(engine: Engine | None = None) -> click.Group:
    """A fresh `jiema` command group with core and plugin commands. `engine` defaults to one
    loading the entry-point plugins with `$JIEMA_CONFIG`; `--config` overrides its config."""
    from .config import config_path

    base = engine if engine is not None else Engine(config=config_path())

    @click.group(
        "jiema",
        cls=_JiemaGroup,
        context_settings={"help_option_names": ["-h", "--help"]},
        help="jiema (解码): one decoder core — lattices and Viterbi — for Chinese text and images.",
    )
    @click.version_option(__version__, "-V", "--version", prog_name="jiema")
    @click.option(
        "--config",
        type=click.Path(path_type=Path),  # read_config_file reports a folder or a missing file
        metavar="FILE",
        default=None,
        help="Deployment config (TOML); overrides $JIEMA_CONFIG.",
    )
    @click.pass_context
    def cli(ctx: click.Context, config: Path | None) -> None:
        ctx.obj = CliState(base, config, from_entry_points=engine is None)

    for name, text in (
        ("train", "Train models."),
        ("eval", "Evaluate models."),
        ("discover", "Discover words, templates and other structure in corpora."),
    ):
        cli.add_command(
            click.Group(
                name,
                help=f"{text} Task plugins add the subcommands; the list is empty until one does.",
            )
        )
    cli.add_command(plugins_command)
    cli.add_command(models_command)
    cli.add_command(config_group)
    cli.add_command(demo_command)
    base.add_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> Any:
    """Console entry point `jiema`."""
    from .plugins import PluginWarning

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("jiema").addHandler(handler)
    warnings.filterwarnings("ignore", category=PluginWarning)  # already logged to stderr
    try:
        cli = build_cli()
    except JiemaError as exc:  # e.g. a broken built-in plugin: one line, not a traceback
        sys.stderr.write(f"jiema: {exc}\n")
        return sys.exit(1)
    return cli(args=argv, prog_name="jiema")


# ------------------------------------------------------------------ commands
@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List loaded plugins, their hooks, tasks, components and models."""
    engine = get_engine(ctx)
    reg = engine.registry
    infos = engine.plugin_info()
    if as_json:
        data = []
        for info in infos:
            data.append(
                {
                    "name": info.name,
                    "module": info.module,
                    "builtin": info.builtin,
                    "distribution": info.distribution,
                    "version": info.version,
                    "hooks": list(info.hooks),
                    "tasks": sorted(t for t, r in reg.tasks.items() if r.plugin == info.name),
                    "components": [
                        {"name": c.name, "kind": c.kind, "version": c.version}
                        for c in sorted(reg.components.values(), key=lambda c: c.name)
                        if c.plugin == info.name
                    ],
                    "models": sorted(m for m, r in reg.models.items() if r.plugin == info.name),
                }
            )
        skipped = [{"name": s.name, "reason": s.reason} for s in engine.skipped_plugins]
        click.echo(json.dumps({"plugins": data, "skipped": skipped}, indent=2, ensure_ascii=False))
        return
    if not infos:
        click.echo("no plugins loaded")
    for info in infos:
        origin = "built-in" if info.builtin else (info.distribution or "third-party")
        version = f" {info.version}" if info.version else ""
        click.echo(f"{info.name} ({info.module}; {origin}{version})")
        click.echo(f"  hooks: {', '.join(info.hooks) or 'none'}")
        for task in sorted(reg.tasks.values(), key=lambda t: t.name):
            if task.plugin == info.name:
                stages = ", ".join(f"{s}={st.kind}" for s, st in task.stages.items())
                click.echo(
                    f"  task {task.name}: {task.input_type} -> {task.output_type}"
                    + (f" [{stages}]" if stages else "")
                )
        for comp in sorted(reg.components.values(), key=lambda c: c.name):
            if comp.plugin == info.name:
                click.echo(f"  component {comp.name} (kind {comp.kind}, version {comp.version})")
        for model in sorted(reg.models.values(), key=lambda m: m.name):
            if model.plugin == info.name:
                click.echo(f"  model {model.name} -> {model.component}")
    for skip in engine.skipped_plugins:
        click.echo(f"skipped {skip.name}: {skip.reason}")


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the model cards as JSON.")
@click.pass_context
def models_command(ctx: click.Context, as_json: bool) -> None:
    """List shipped models and their cards."""
    models = get_engine(ctx).models
    if as_json:
        data = {
            name: {
                "plugin": spec.plugin,
                "path": str(spec.path),
                "card": spec.card.model_dump() if spec.card else None,
            }
            for name, spec in sorted(models.items())
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not models:
        click.echo("no models registered")
    for name, spec in sorted(models.items()):
        card = spec.card
        assert card is not None
        click.echo(f"{name}  (component {spec.component}, task {card.task}, plugin {spec.plugin})")
        if card.description:
            click.echo(f"  {card.description}")
        if card.labels is not None:
            click.echo(f"  labels: {_preview(card.labels)}")
        if card.vocabulary_size is not None:
            click.echo(f"  vocabulary size: {card.vocabulary_size}")
        if card.training_data or card.licence:
            trained, licence = card.training_data or "?", card.licence or "?"
            click.echo(f"  trained on: {trained} (licence: {licence})")
        if card.scores:
            click.echo("  scores: " + ", ".join(f"{k}={v:g}" for k, v in card.scores.items()))
        if card.rebuild:
            click.echo(f"  rebuild: {len(card.rebuild)} command line(s) (--json lists them)")
        click.echo(f"  file: {spec.path}")


def _preview(labels: list[str], shown: int = 12) -> str:
    """A model with thousands of labels (an OCR charset) must not flood the listing."""
    if len(labels) <= shown:
        return ", ".join(labels)
    return f"{', '.join(labels[:shown])}, … ({len(labels)} in all; --json lists them)"


@click.group("config")
def config_group() -> None:
    """Deployment config tools."""


@config_group.command("check")
@click.argument("file", type=click.Path(path_type=Path), metavar="FILE")
@click.pass_context
def config_check(ctx: click.Context, file: Path) -> None:
    """Validate a deployment config FILE against the loaded plugins and summarise it.

    Resolves every model (and checks it is one for its stage's component), option value and
    file-valued option without loading any model; lists every problem, one line per key, and
    exits with status 2 if there is any."""
    from .config import load_config

    engine = get_engine(ctx)
    try:
        deployment = load_config(file, engine.registry)
    except ConfigError as exc:
        click.echo(f"jiema: {exc}", err=True)
        ctx.exit(CONFIG_ERROR_EXIT)
    click.echo(deployment.summary())
    click.echo("config OK")


# The classic HMM example: is a patient healthy or feverish, given how they feel each day?
_DEMO_STATES = ("Healthy", "Fever")
_DEMO_SYMBOLS = ("normal", "cold", "dizzy")
_DEMO_START = (0.6, 0.4)
_DEMO_TRANSITIONS = ((0.7, 0.3), (0.4, 0.6))
_DEMO_EMISSIONS = ((0.5, 0.4, 0.1), (0.1, 0.3, 0.6))


def demo_decode(observations: list[str]) -> tuple[list[str], float]:
    """Best hidden-state path of the demo HMM and its probability."""
    import numpy as np

    from .decode import viterbi
    from .lattice import Path
    from .transitions import DenseTransitions

    index = {s: i for i, s in enumerate(_DEMO_SYMBOLS)}
    unknown = [o for o in observations if o not in index]
    if unknown:
        raise click.BadParameter(
            f"unknown observation(s) {', '.join(unknown)}; valid: {', '.join(_DEMO_SYMBOLS)}"
        )
    log_b = np.log(np.array(_DEMO_EMISSIONS))
    emissions = log_b[:, [index[o] for o in observations]].T.copy()
    transitions = DenseTransitions.from_arrays(
        np.log(np.array(_DEMO_TRANSITIONS)), np.log(np.array(_DEMO_START))
    )
    path = viterbi(emissions, transitions)
    assert isinstance(path, Path)  # one (T, K) sequence gives one Path
    return [_DEMO_STATES[i] for i in path.labels], float(np.exp(path.score))


@click.command("demo")
@click.argument("observations", nargs=-1)
def demo_command(observations: tuple[str, ...]) -> None:
    """Decode the classic healthy/fever HMM with jiema.viterbi (default: normal cold dizzy)."""
    obs = list(observations) or ["normal", "cold", "dizzy"]
    states, prob = demo_decode(obs)
    click.echo(f"observations: {' '.join(obs)}")
    click.echo(f"best path:    {' '.join(states)}")
    click.echo(f"probability:  {prob:.6g}")


if __name__ == "__main__":  # pragma: no cover
    main()
