"""The plugin host: loads plugins (entry-point group `jiema`) into one pluggy manager, once.

Every plugin, built-in or not, loads under the same rules: one that fails to import, raises in
a hook, implements a misspelled hook or registers a name another plugin already has is skipped
with a `PluginWarning` (and a log line) and never crashes the host; the others run. Registration
is per plugin and all-or-nothing, so a skipped plugin leaves nothing behind. Hooks are called
through pluggy (its tracing and any plugin's hook wrappers run), one plugin at a time.

"Built-in" only says where a plugin comes from: an entry point of the distribution that ships
this host (`jiema`). Those are registered first, so on a name clash the third-party plugin is
the one skipped.

`JIEMA_LOAD_PLUGINS` is a comma-separated allow-list of entry-point names (empty: load none).
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from importlib import metadata
from types import MappingProxyType, ModuleType
from typing import Any, cast

import pluggy

from . import hookspecs
from .errors import DuplicateNameError, PluginError
from .registry import Component, ModelSpec, Registry, Task

log = logging.getLogger("jiema.plugins")

ENTRY_POINT_GROUP = "jiema"
ALLOW_LIST_ENV = "JIEMA_LOAD_PLUGINS"
CORE_DISTRIBUTION = "jiema"
CORE_OWNER = "jiema (core)"

_RECORD_HOOKS: tuple[tuple[str, str, type], ...] = (
    ("register_tasks", "task", Task),
    ("register_components", "component", Component),
    ("register_models", "model", ModelSpec),
)


class PluginWarning(UserWarning):
    """A third-party plugin was skipped; the message says which and why."""


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin, as `jiema plugins` shows it."""

    name: str
    module: str
    builtin: bool
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class SkippedPlugin:
    name: str
    reason: str


@dataclass
class _Entry:
    name: str
    module: str
    builtin: bool
    distribution: str | None = None
    version: str | None = None


class PluginHost:
    """One pluggy manager with its plugins, loaded lazily and once; thread-safe."""

    def __init__(self, plugins: Iterable[object] = (), *, load_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager("jiema")
        self.pm.add_hookspecs(hookspecs)
        self._explicit = list(plugins)
        self._load_entry_points = load_entry_points
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._skipped: list[SkippedPlugin] = []
        self._loaded = False
        self._registry: Registry | None = None

    # ---------------------------------------------------------------- loading
    def load(self) -> None:
        """Register every plugin with the manager (no registration hooks are called yet)."""
        with self._lock:
            if self._loaded:
                return
            eps = {ep.value: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
            for obj in self._explicit:
                # a module that is also an installed entry point keeps that plugin's name
                ep = eps.get(getattr(obj, "__name__", None))  # type: ignore[arg-type]
                if ep is not None and isinstance(obj, ModuleType):
                    self._add(obj, ep.name, distribution=getattr(ep, "dist", None))
                else:
                    self._add(obj, _plugin_name(obj), distribution=None)
            if self._load_entry_points:
                for ep in _selected_entry_points():
                    self._add_entry_point(ep)
            self._check_pending()
            self._loaded = True

    def _add_entry_point(self, ep: metadata.EntryPoint) -> None:
        builtin = ep.value in _core_modules()
        dist = getattr(ep, "dist", None)
        try:
            obj = ep.load()
        except Exception as exc:
            self._fail(ep.name, builtin, f"failed to import {ep.value!r}: {_describe(exc)}", exc)
            return
        if self.pm.is_registered(obj):
            return  # also passed explicitly
        self._add(obj, ep.name, distribution=dist, builtin=builtin)

    def _add(
        self, obj: object, name: str, *, distribution: Any, builtin: bool | None = None
    ) -> None:
        if builtin is None:
            builtin = getattr(obj, "__name__", None) in _core_modules()
        if self.pm.is_registered(obj):
            return
        try:
            self.pm.register(obj, name=name)
        except Exception as exc:  # pluggy validation (bad hook signature) or a name clash
            self._fail(name, builtin, f"could not be registered: {_describe(exc)}", exc)
            return
        self._entries[name] = _Entry(
            name=name,
            module=getattr(obj, "__name__", type(obj).__module__ + "." + type(obj).__qualname__),
            builtin=builtin,
            distribution=_distribution_name(distribution),
            version=distribution.version if distribution is not None else None,
        )

    def _check_pending(self) -> None:
        """Per plugin `check_pending()`: a hookimpl for a hook no spec declares is a misspelling."""
        for name in list(self._entries):
            plugin = self.pm.get_plugin(name)
            unknown = sorted(
                caller.name
                for caller in self.pm.get_hookcallers(plugin) or ()
                if not caller.has_spec()
                and any(
                    impl.plugin_name == name and not impl.optionalhook
                    for impl in caller.get_hookimpls()
                )
            )
            if unknown:
                valid = ", ".join(n for n in dir(hookspecs) if n.startswith("register_"))
                self._fail(
                    name,
                    self._entries[name].builtin,
                    f"implements unknown hook(s) {', '.join(unknown)}; valid hooks: {valid}",
                )
        self.pm.check_pending()

    def _fail(
        self, name: str, builtin: bool, reason: str, exc: BaseException | None = None
    ) -> None:
        """Unregister the plugin, warn, remember why (built-in or not: the others still run)."""
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self._entries.pop(name, None)
        self._skipped.append(SkippedPlugin(name, reason))
        kind = "built-in plugin" if builtin else "plugin"
        message = f"jiema: skipping {kind} {name!r}: {reason}"
        log.warning(message)
        warnings.warn(message, PluginWarning, stacklevel=4)

    # ----------------------------------------------------------- registration
    @property
    def registry(self) -> Registry:
        """Tasks, components and models of all plugins (registration hooks run once)."""
        with self._lock:
            if self._registry is None:
                self.load()
                self._registry = self._register_all()
            return self._registry

    def _ordered(self) -> list[str]:
        """Built-ins first, so a third-party plugin is always the one skipped on a clash."""
        names = list(self._entries)
        return [n for n in names if self._entries[n].builtin] + [
            n for n in names if not self._entries[n].builtin
        ]

    def _register_all(self) -> Registry:
        committed: dict[str, dict[str, Any]] = {"task": {}, "component": {}, "model": {}}
        for name in self._ordered():
            try:
                staged = self._collect(name)
                for kind, records in staged.items():
                    for key in records:
                        other = committed[kind].get(key)
                        if other is not None:
                            raise DuplicateNameError(
                                f"{kind} name {key!r} is registered by both plugin "
                                f"{other.plugin!r} and plugin {name!r}"
                            )
            except Exception as exc:
                reason = f"failed to register: {_describe(exc)}"
                self._fail(name, self._entries[name].builtin, reason, exc)
                continue
            for kind, records in staged.items():
                committed[kind].update(records)
        self._drop_dangling(committed)
        return Registry(
            tasks=MappingProxyType(committed["task"]),
            components=MappingProxyType(committed["component"]),
            models=MappingProxyType(committed["model"]),
        )

    def _collect(self, name: str) -> dict[str, dict[str, Any]]:
        staged: dict[str, dict[str, Any]] = {}
        for hook, kind, record_type in _RECORD_HOOKS:
            records: dict[str, Any] = {}
            staged[kind] = records
            register = _make_register(name, kind, record_type, records)
            self._call_plugin_hook(hook, name, register=register)
        return staged

    def _call_plugin_hook(self, hook: str, name: str, **kwargs: Any) -> None:
        """Call `hook` for plugin `name` alone, through pluggy: the other plugins' plain
        implementations are left out, their wrappers stay (so they wrap this plugin's call)."""
        others = [
            impl.plugin
            for impl in getattr(self.pm.hook, hook).get_hookimpls()
            if impl.plugin_name != name and not (impl.wrapper or impl.hookwrapper)
        ]
        self.pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)

    def _drop_dangling(self, committed: dict[str, dict[str, Any]]) -> None:
        """Tasks must name registered components of the right kind, models known components."""
        changed = True
        while changed:
            changed = False
            for name in self._ordered():
                problem = _dangling_reference(name, committed)
                if problem is None:
                    continue
                for records in committed.values():
                    for key in [k for k, r in records.items() if r.plugin == name]:
                        del records[key]
                self._fail(name, self._entries[name].builtin, problem)
                changed = True

    # --------------------------------------------------------------- commands
    def add_commands(self, cli: Any) -> None:
        """Call `register_commands(cli)` per plugin; replacing an existing command is an error
        naming both plugins (a third-party offender is skipped with a warning)."""
        with self._lock:
            self.registry  # noqa: B018 - skipped plugins must not add commands either
            owners = {path: CORE_OWNER for path in _command_tree(cli)}
            for name in self._ordered():
                before = _command_tree(cli)
                saved = _save_groups(cli)
                try:
                    self._call_plugin_hook("register_commands", name, cli=cli)
                    after = _command_tree(cli)
                    for path, cmd in before.items():
                        if after.get(path) is not cmd:
                            raise DuplicateNameError(
                                f"plugin {name!r} replaces command '{path}', which "
                                f"{_owner(owners[path])} already provides"
                            )
                except Exception as exc:
                    _restore_groups(saved)
                    reason = f"failed to add its commands: {_describe(exc)}"
                    self._fail(name, self._entries[name].builtin, reason, exc)
                    continue
                for path in after:
                    owners.setdefault(path, name)

    # ------------------------------------------------------------ inspection
    @property
    def skipped(self) -> list[SkippedPlugin]:
        self.load()
        return list(self._skipped)

    def plugin_info(self) -> list[PluginInfo]:
        self.load()
        infos = []
        for name in self._ordered():
            entry = self._entries[name]
            plugin = self.pm.get_plugin(name)
            hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()))
            infos.append(
                PluginInfo(
                    name=name,
                    module=entry.module,
                    builtin=entry.builtin,
                    distribution=entry.distribution,
                    version=entry.version,
                    hooks=hooks,
                )
            )
        return infos


# ------------------------------------------------------------------- helpers
def _selected_entry_points() -> list[metadata.EntryPoint]:
    eps: dict[tuple[str, str], metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        eps.setdefault((ep.name, ep.value), ep)
    core = _core_modules()
    selected = sorted(eps.values(), key=lambda ep: (ep.value not in core, ep.name))
    allow = os.environ.get(ALLOW_LIST_ENV)
    if allow is None:
        return selected
    wanted = {part.strip() for part in allow.split(",") if part.strip()}
    known = {ep.name for ep in selected}
    for missing in sorted(wanted - known):
        message = (
            f"jiema: {ALLOW_LIST_ENV} names plugin {missing!r}, which is not installed; "
            f"installed plugins: {', '.join(sorted(known)) or 'none'}"
        )
        log.warning(message)
        warnings.warn(message, PluginWarning, stacklevel=4)
    return [ep for ep in selected if ep.name in wanted]


def _core_modules() -> frozenset[str]:
    """Modules of the entry points that the host's own distribution declares (its built-ins),
    read from the installed metadata rather than listed here."""
    return frozenset(
        ep.value
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if _distribution_name(getattr(ep, "dist", None)) == CORE_DISTRIBUTION
    )


def _distribution_name(dist: Any) -> str | None:
    return dist.metadata["Name"] if dist is not None else None


def _plugin_name(obj: object) -> str:
    if isinstance(obj, ModuleType):
        return obj.__name__
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else f"{type(obj).__module__}.{type(obj).__qualname__}"


def _make_register(
    plugin: str, kind: str, record_type: type, records: dict[str, Any]
) -> Callable[..., Any]:
    def register(*args: Any, **kwargs: Any) -> Any:
        record: Any
        if len(args) == 1 and not kwargs and isinstance(args[0], record_type):
            record = replace(cast(Any, args[0]), plugin=plugin)
        else:
            kwargs["plugin"] = plugin
            record = record_type(*args, **kwargs)
        if record.name in records:
            raise DuplicateNameError(f"plugin {plugin!r} registers {kind} {record.name!r} twice")
        records[record.name] = record
        return record

    register.__doc__ = f"Register a {record_type.__name__} (or its constructor arguments)."
    return register


def _dangling_reference(plugin: str, committed: dict[str, dict[str, Any]]) -> str | None:
    components = committed["component"]
    for task in committed["task"].values():
        if task.plugin != plugin:
            continue
        for stage_name, stage in task.stages.items():
            comp = components.get(stage.default)
            if comp is None:
                return (
                    f"task {task.name!r} stage {stage_name!r} defaults to component "
                    f"{stage.default!r}, which no plugin registers"
                )
            if comp.kind != stage.kind:
                return (
                    f"task {task.name!r} stage {stage_name!r} needs a component of kind "
                    f"{stage.kind!r} but its default {stage.default!r} is of kind {comp.kind!r}"
                )
            if stage.model is not None and stage.model not in committed["model"]:
                return (
                    f"task {task.name!r} stage {stage_name!r} defaults to model "
                    f"{stage.model!r}, which no plugin registers"
                )
    for model in committed["model"].values():
        if model.plugin == plugin and model.component not in components:
            return (
                f"model {model.name!r} is for component {model.component!r}, "
                "which no plugin registers"
            )
    return None


def _command_tree(cli: Any, prefix: str = "") -> dict[str, Any]:
    """Every command under `cli` by its path ('eval toy'), mapped to the command object."""
    tree: dict[str, Any] = {}
    for name, cmd in getattr(cli, "commands", {}).items():
        path = f"{prefix}{name}"
        tree[path] = cmd
        tree.update(_command_tree(cmd, path + " "))
    return tree


def _save_groups(cli: Any) -> list[tuple[Any, dict[str, Any]]]:
    groups = [cli, *(c for c in _command_tree(cli).values() if hasattr(c, "commands"))]
    return [(g, dict(g.commands)) for g in groups]


def _restore_groups(saved: list[tuple[Any, dict[str, Any]]]) -> None:
    for group, commands in saved:
        group.commands.clear()
        group.commands.update(commands)


def _owner(owner: str) -> str:
    return owner if owner == CORE_OWNER else f"plugin {owner!r}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PluginError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
