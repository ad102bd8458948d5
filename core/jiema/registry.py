"""What plugins register: frozen records that remember which plugin registered them.

Plugins build them through the `register` callback of a hook (see `jiema.hookspecs`); the host
fills in `plugin`. Names are unique across all loaded plugins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .errors import PluginError, UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    from .models import ModelCard

_VERSIONED = re.compile(r"^[a-z0-9_]+(?:[.-][a-z0-9_]+)*\.v(\d+)$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class NoOptions(BaseModel):
    """The options model of a component that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Stage:
    """A swappable step of a task: which component kind fills it, and the default choice."""

    kind: str
    default: str
    model: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Task:
    """A task (`segment`, `ocr`, ...). `factory(engine, task_config)` builds its pipeline."""

    name: str
    factory: Callable[[Any, Any], Callable[..., Any]]
    stages: Mapping[str, Stage] = field(default_factory=dict)
    input_type: str = "str"
    output_type: str = "str"
    description: str = ""
    plugin: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "task")
        if not callable(self.factory):
            raise PluginError(f"task {self.name!r}: factory must be callable")
        stages = {}
        for stage_name, stage in dict(self.stages).items():
            if isinstance(stage, tuple):
                stage = Stage(*stage)
            if not isinstance(stage, Stage):
                raise PluginError(
                    f"task {self.name!r}: stage {stage_name!r} must be a Stage(kind, default) "
                    f"or a (kind, default) tuple, got {type(stage).__name__}"
                )
            _check_name(stage_name, f"stage of task {self.name!r}")
            stages[stage_name] = stage
        object.__setattr__(self, "stages", MappingProxyType(stages))
        for attr in ("input_type", "output_type"):
            value = getattr(self, attr)
            if isinstance(value, type):
                object.__setattr__(self, attr, value.__name__)


@dataclass(frozen=True)
class Component:
    """A swappable building block of kind `kind` under a versioned name (`segment.fcn.v1`).

    `factory(options, model)` gets a validated instance of `options` (a pydantic model with
    extra="forbid") and the resolved `ModelSpec` (or None) and returns the built component."""

    kind: str
    name: str
    factory: Callable[[BaseModel, Any], Any]
    options: type[BaseModel] = NoOptions
    description: str = ""
    plugin: str = ""

    def __post_init__(self) -> None:
        if _VERSIONED.match(self.name) is None:
            raise PluginError(
                f"component name {self.name!r} must be lower-case, dotted and end in a version, "
                "like 'segment.fcn.v1'"
            )
        _check_name(self.kind, f"kind of component {self.name!r}")
        if not callable(self.factory):
            raise PluginError(f"component {self.name!r}: factory must be callable")
        if not (isinstance(self.options, type) and issubclass(self.options, BaseModel)):
            raise PluginError(f"component {self.name!r}: options must be a pydantic model class")
        if self.options.model_config.get("extra") != "forbid":
            raise PluginError(
                f"component {self.name!r}: options model {self.options.__name__} must set "
                "model_config = ConfigDict(extra='forbid') so misspelled options are caught"
            )

    @property
    def version(self) -> int:
        match = _VERSIONED.match(self.name)
        assert match is not None
        return int(match.group(1))

    @property
    def family(self) -> str:
        """The name without its version: `segment.fcn` for `segment.fcn.v1`."""
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class ModelSpec:
    """Weights (a safetensors file) and their card, known under `name`.

    Registered models carry the plugin that shipped them; a model given by path has
    `plugin == ""` and its file path as `name` unless the card names it."""

    name: str
    component: str
    path: Path
    card: ModelCard | None = None
    plugin: str = ""

    def __post_init__(self) -> None:
        from .models import card_path_for, load_card

        object.__setattr__(self, "path", Path(self.path))
        if self.card is None:
            object.__setattr__(self, "card", load_card(card_path_for(self.path)))
        assert self.card is not None
        if self.card.component != self.component:
            raise PluginError(
                f"model {self.name!r} is registered for component {self.component!r} but its card "
                f"says {self.card.component!r}"
            )

    @property
    def card_path(self) -> Path:
        from .models import card_path_for

        return card_path_for(self.path)

    def load_tensors(self) -> dict[str, Any]:
        """The weights as NumPy arrays."""
        from .models import load_tensors

        return load_tensors(self.path)


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or _NAME.match(name) is None:
        raise PluginError(
            f"invalid {what} name {name!r}: use letters, digits, '_', '.', '-' (not starting "
            "with '.' or '-')"
        )


@dataclass(frozen=True)
class Registry:
    """Everything the loaded plugins registered, by name (read-only mappings)."""

    tasks: Mapping[str, Task]
    components: Mapping[str, Component]
    models: Mapping[str, ModelSpec]

    def components_of(self, kind: str) -> dict[str, Component]:
        return {n: c for n, c in self.components.items() if c.kind == kind}

    @property
    def kinds(self) -> list[str]:
        return sorted({c.kind for c in self.components.values()})

    def resolve_model(
        self, ref: str | Path, *, base_dir: str | os.PathLike[str] | None = None
    ) -> ModelSpec:
        """A registered model name, or a path (relative to `base_dir`) to a safetensors file,
        its card, or a folder with one card. An unknown name lists the valid ones."""
        if isinstance(ref, str) and ref in self.models:
            return self.models[ref]
        path = Path(ref)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        looks_like_path = isinstance(ref, Path) or any(
            (sep in ref) for sep in ("/", "\\", ".safetensors", ".json")
        )
        if looks_like_path or path.exists():
            from .models import find_model_files

            weights, card = find_model_files(path)
            return ModelSpec(card.name, card.component, weights, card)
        raise UnknownNameError(
            f"unknown model {ref!r}; valid models: {', '.join(sorted(self.models)) or 'none'} "
            "(or give a path to a .safetensors file, its .json card, or a folder with one card)"
        )
