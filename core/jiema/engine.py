"""The Engine: one plugin host plus one deployment config, and nothing global.

Two engines with different configs live side by side in one process (they may share a plugin
host, see `with_config`). Pipelines are built once per engine, under a lock, so an engine used
from a thread pool gives the same results as serial use.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .config import DeploymentConfig, StageConfig, TaskConfig, config_path, load_config
from .errors import ConfigError, UnknownNameError
from .plugins import PluginHost, PluginInfo, SkippedPlugin
from .registry import Component, ModelSpec, Registry, Task

ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | DeploymentConfig | None


class Engine:
    """Loads plugins lazily (once), validates its config against what they registered, and
    builds task pipelines from it.

    `plugins` are modules or objects with `@jiema.hookimpl` functions, registered in addition to
    (or, with `load_entry_points=False`, instead of) the entry-point group `jiema`. `config` is a
    TOML path, a mapping of the same shape (model paths relative to `base_dir`), or None for
    every default."""

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        load_entry_points: bool = True,
        config: ConfigSource = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._host = PluginHost(plugins, load_entry_points=load_entry_points)
        self._config_source = config
        self._base_dir = base_dir
        self._config: DeploymentConfig | None = None
        self._pipelines: dict[str, Callable[..., Any]] = {}
        self._lock = threading.RLock()

    def with_config(
        self, config: ConfigSource, *, base_dir: str | os.PathLike[str] | None = None
    ) -> Engine:
        """Another engine over the same loaded plugins with a different deployment config."""
        other = Engine.__new__(Engine)
        other._host = self._host
        other._config_source = config
        other._base_dir = base_dir
        other._config = None
        other._pipelines = {}
        other._lock = threading.RLock()
        return other

    # ------------------------------------------------------------ registry
    @property
    def registry(self) -> Registry:
        return self._host.registry

    @property
    def tasks(self) -> Mapping[str, Task]:
        return self.registry.tasks

    @property
    def components(self) -> Mapping[str, Component]:
        return self.registry.components

    @property
    def models(self) -> Mapping[str, ModelSpec]:
        return self.registry.models

    def components_of(self, kind: str) -> dict[str, Component]:
        return self.registry.components_of(kind)

    def resolve_model(
        self, name_or_path: str | Path, *, base_dir: str | os.PathLike[str] | None = None
    ) -> ModelSpec:
        """A registered model, or one loaded from a path; an unknown name lists valid ones."""
        return self.registry.resolve_model(name_or_path, base_dir=base_dir)

    # -------------------------------------------------------------- config
    @property
    def config(self) -> DeploymentConfig:
        """The validated deployment config (ConfigError on first use if it is invalid)."""
        with self._lock:
            if self._config is None:
                self._config = load_config(
                    self._config_source, self.registry, base_dir=self._base_dir
                )
            return self._config

    def task_config(self, name: str) -> TaskConfig:
        self._task(name)
        return self.config.tasks[name]

    # ------------------------------------------------------------ building
    def task(self, name: str) -> Callable[..., Any]:
        """The pipeline of task `name` as configured (built once per engine, then cached)."""
        with self._lock:
            pipeline = self._pipelines.get(name)
            if pipeline is None:
                task = self._task(name)
                pipeline = task.factory(self, self.config.tasks[name])
                self._pipelines[name] = pipeline
            return pipeline

    def component(
        self,
        name: str,
        *,
        options: BaseModel | Mapping[str, Any] | None = None,
        model: ModelSpec | str | Path | None = None,
    ) -> Any:
        """Build component `name` with validated `options` and a model (name, path or spec)."""
        comp = self.components.get(name)
        if comp is None:
            raise UnknownNameError(
                f"unknown component {name!r}; valid components: "
                + (", ".join(sorted(self.components)) or "none")
            )
        if not isinstance(options, comp.options):
            try:
                options = comp.options.model_validate(dict(options or {}))
            except ValidationError as exc:
                raise ConfigError(f"invalid options for component {name!r}: {exc}") from None
        if model is not None and not isinstance(model, ModelSpec):
            model = self.resolve_model(model)
        return comp.factory(options, model)

    def build(self, stage: StageConfig) -> Any:
        """Build the component a stage of a TaskConfig chose (what task factories call)."""
        return self.component(stage.component, options=stage.options, model=stage.model)

    # ---------------------------------------------------------- inspection
    def plugin_info(self) -> list[PluginInfo]:
        return self._host.plugin_info()

    @property
    def skipped_plugins(self) -> list[SkippedPlugin]:
        self.registry  # noqa: B018 - registration may skip more plugins
        return self._host.skipped

    def add_commands(self, cli: Any) -> None:
        """Let every plugin add its click commands to `cli` (see `register_commands`)."""
        self._host.add_commands(cli)

    def _task(self, name: str) -> Task:
        task = self.tasks.get(name)
        if task is None:
            raise UnknownNameError(
                f"unknown task {name!r}; valid tasks: {', '.join(sorted(self.tasks)) or 'none'}"
            )
        return task

    def __repr__(self) -> str:
        source = self._config_source
        shown = source.source if isinstance(source, DeploymentConfig) else source
        return f"Engine(config={shown!r})"


_DEFAULT_LOCK = threading.Lock()  # threads asking at once get one engine, not one each


@functools.cache
def _default_engine() -> Engine:
    return Engine(config=config_path())


def default_engine() -> Engine:
    """A process-wide convenience Engine: entry-point plugins, config from `$JIEMA_CONFIG`
    (built once, on first use, whichever thread asks first)."""
    with _DEFAULT_LOCK:
        return _default_engine()


default_engine.cache_clear = _default_engine.cache_clear  # type: ignore[attr-defined]
