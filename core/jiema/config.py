"""Deployment config: which component (and model, and options) fills each stage of each task.

A TOML file, one table per task, one sub-table per stage:

    [segment.emissions]
    component = "segment.fcn.v1"
    model = "pku"                 # a registered model, or a path relative to this file
    options = { batch_size = 64 }

The pydantic schema (extra="forbid" everywhere) is assembled per Engine from what its plugins
registered, so a misspelled task, stage, key, component or option is an error that points at the
dotted key and lists the valid names. Swapping a model per deployment is a config change.

Validation resolves everything it can without building anything: every model (registered, or a
file whose card is read), that the model is one for its stage's component, every option value,
and every option typed `ReadableFile` (relative to the config's folder, like model paths). All
problems are reported together, one line per key; an Engine validates the same way on first use.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
)
from pydantic_core import PydanticCustomError

from .errors import ConfigError, JiemaError
from .registry import ModelSpec, Registry

CONFIG_ENV = "JIEMA_CONFIG"
STAGE_KEYS = ("component", "model", "options")
_FORBID = ConfigDict(extra="forbid", frozen=True)
#: Validation-context key: present while a deployment config is validated; its value is the folder
#: relative file options are resolved against (None: the working folder). Resolved paths are
#: absolute, so a component built later, elsewhere (another folder, a Dask worker) reads the same.
_FILES_RELATIVE_TO = "jiema.files_relative_to"
#: The pydantic error type of a `ReadableFile` that is missing or unreadable.
_FILE_ERROR = "jiema_file"


def _check_readable_file(value: str, info: ValidationInfo) -> str:
    """Inside a deployment config: the path made absolute against the config's folder, which
    must be a readable file. Elsewhere (a plugin building its options in code) the value as
    given: the component reports a bad file when it reads it."""
    context = info.context
    if not isinstance(context, Mapping) or _FILES_RELATIVE_TO not in context:
        return value
    path = (Path(context[_FILES_RELATIVE_TO] or Path.cwd()) / value).absolute()
    if not path.exists():
        problem = f"file {path} does not exist"
    elif not path.is_file():
        problem = f"{path} is not a file"
    elif not os.access(path, os.R_OK):
        problem = f"file {path} cannot be read (permission denied)"
    else:
        return str(path)
    raise PydanticCustomError(_FILE_ERROR, "{problem}", {"problem": problem})


#: An option naming a file the component reads (a dictionary, a word list). Declaring the field
#: as `ReadableFile` (or `ReadableFile | None`) is all a plugin does: config validation then
#: resolves it relative to the config file and reports a missing or unreadable file by its key.
ReadableFile = Annotated[str, AfterValidator(_check_readable_file)]


@dataclass(frozen=True)
class StageConfig:
    """The validated choice for one stage: a component, its options, its model (or None)."""

    stage: str
    kind: str
    component: str
    options: BaseModel
    model: ModelSpec | None = None


@dataclass(frozen=True)
class TaskConfig:
    """Every stage of one task, resolved; what a task factory receives."""

    task: str
    stages: Mapping[str, StageConfig]

    def __getitem__(self, stage: str) -> StageConfig:
        return self.stages[stage]


@dataclass(frozen=True)
class DeploymentConfig:
    """A validated deployment: one TaskConfig per registered task (defaults where not set)."""

    tasks: Mapping[str, TaskConfig]
    source: Path | None = None

    def summary(self) -> str:
        lines = [f"config: {self.source if self.source else '(defaults)'}"]
        for task in self.tasks.values():
            lines.append(f"[{task.task}]")
            for st in task.stages.values():
                model = f" model={st.model.name} ({st.model.path})" if st.model else ""
                opts = st.options.model_dump()
                options = f" options={opts}" if opts else ""
                lines.append(f"  {st.stage}: {st.component} (kind {st.kind}){model}{options}")
        return "\n".join(lines)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use: `--config` if given, else `$JIEMA_CONFIG`, else none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else None


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The TOML tables of a config file; ConfigError (file and reason, one line) if it is
    missing, a folder, unreadable, not UTF-8 or not TOML."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"config file {path} is a directory, not a file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (invalid byte at offset {exc.start}); "
            "save it as UTF-8"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from exc


def load_config(
    config: str | os.PathLike[str] | Mapping[str, Any] | DeploymentConfig | None,
    registry: Registry,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> DeploymentConfig:
    """Validate a config file, a mapping (model paths relative to `base_dir`, default the
    working folder) or None (every default) against what `registry` holds."""
    if isinstance(config, DeploymentConfig):
        return config
    source: Path | None = None
    if config is None:
        data: Mapping[str, Any] = {}
    elif isinstance(config, Mapping):
        data = config
    else:
        source = Path(config)
        data = read_config_file(source)
        base_dir = source.resolve().parent
    return validate_config(data, registry, base_dir=base_dir, source=source)


# --------------------------------------------------------------------- schema
@dataclass(frozen=True)
class _Schema:
    model: type[BaseModel]
    valid_keys: Mapping[tuple[str, ...], list[str]]  # pydantic loc of a table -> its valid keys


def build_schema(registry: Registry) -> _Schema:
    """The pydantic model of a deployment config for these tasks and components."""
    valid: dict[tuple[str, ...], list[str]] = {(): sorted(registry.tasks)}
    task_fields: dict[str, Any] = {}
    for i, (task_name, task) in enumerate(sorted(registry.tasks.items())):
        valid[(task_name,)] = sorted(task.stages)
        stage_fields: dict[str, Any] = {}
        for j, (stage_name, stage) in enumerate(sorted(task.stages.items())):
            variants = []
            default_model = None
            for comp_name, comp in sorted(registry.components_of(stage.kind).items()):
                valid[(task_name, stage_name, comp_name)] = list(STAGE_KEYS)
                valid[(task_name, stage_name, comp_name, "options")] = sorted(
                    comp.options.model_fields
                )
                variant = create_model(
                    f"{task_name}.{stage_name}[{comp_name}]",
                    __config__=_FORBID,
                    component=(Literal[comp_name], comp_name),
                    model=(str | None, stage.model if comp_name == stage.default else None),
                    options=(comp.options, Field(default_factory=comp.options)),
                )
                if comp_name == stage.default:
                    default_model = variant
                variants.append(Annotated[variant, Tag(comp_name)])
            assert default_model is not None  # the host drops tasks with dangling defaults
            stage_type = Annotated[  # type: ignore[valid-type]
                Union[tuple(variants)],  # noqa: UP007 - a union built at run time
                Discriminator(_component_of(stage.default)),
            ]
            stage_fields[f"s{j}"] = (
                stage_type,
                Field(default_factory=default_model, alias=stage_name),
            )
        task_model = create_model(f"{task_name}-config", __config__=_FORBID, **stage_fields)
        task_fields[f"t{i}"] = (task_model, Field(default_factory=task_model, alias=task_name))
    root = create_model("jiema-deployment-config", __config__=_FORBID, **task_fields)
    return _Schema(root, MappingProxyType(valid))


def _component_of(default: str) -> Any:
    def discriminate(value: Any) -> Any:
        if isinstance(value, Mapping):
            return value.get("component", default)
        return getattr(value, "component", None)

    return discriminate


# ----------------------------------------------------------------- validation
def validate_config(
    data: Mapping[str, Any],
    registry: Registry,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: Path | None = None,
) -> DeploymentConfig:
    """Check `data` against what `registry` holds and resolve it; every problem (schema, option
    values, files, models) is collected into one ConfigError, a line per dotted key."""
    where = f"config {source}" if source else "config"
    schema = build_schema(registry)
    data, models, problems = _resolve_models(data, registry, base_dir)
    context = {_FILES_RELATIVE_TO: base_dir}
    try:
        parsed = schema.model.model_validate(dict(data), context=context)
    except ValidationError as exc:
        problems += [_explain(err, schema, registry) for err in exc.errors()]
    if problems:
        raise ConfigError(f"invalid {where}:\n  " + "\n  ".join(sorted(problems))) from None

    tasks: dict[str, TaskConfig] = {}
    for i, (task_name, task) in enumerate(sorted(registry.tasks.items())):
        task_cfg = getattr(parsed, f"t{i}")
        stages: dict[str, StageConfig] = {}
        for j, (stage_name, stage) in enumerate(sorted(task.stages.items())):
            chosen = getattr(task_cfg, f"s{j}")
            stages[stage_name] = StageConfig(
                stage=stage_name,
                kind=stage.kind,
                component=chosen.component,
                options=chosen.options,
                model=models.get((task_name, stage_name)),
            )
        tasks[task_name] = TaskConfig(task_name, MappingProxyType(stages))
    return DeploymentConfig(MappingProxyType(tasks), source)


def _resolve_models(
    data: Mapping[str, Any], registry: Registry, base_dir: str | os.PathLike[str] | None
) -> tuple[dict[str, Any], dict[tuple[str, str], ModelSpec], list[str]]:
    """Every stage's model (the one it names, else its default), resolved and checked against
    the stage's component: `(data, {(task, stage): model}, problems)`. A stage table naming a
    model but no component takes the component the model's card names, when that component
    serves the stage (swapping models is one line of config); `data` comes back with it set.
    Malformed tables, unknown components and non-string models are left for the schema to
    report (a named model is still resolved beside an unknown component)."""
    out = dict(data)
    models: dict[tuple[str, str], ModelSpec] = {}
    problems: list[str] = []
    for task_name, task in registry.tasks.items():
        raw = out.get(task_name, {})
        if not isinstance(raw, Mapping):
            continue
        table = dict(raw)
        for stage_name, stage in task.stages.items():
            chosen = table.get(stage_name, {})
            if not isinstance(chosen, Mapping):
                continue
            serving = registry.components_of(stage.kind)
            component = chosen.get("component", stage.default)
            ref = chosen.get("model", stage.model if component == stage.default else None)
            if not isinstance(ref, str):
                continue
            key = f"{task_name}.{stage_name}.model"
            try:
                spec = registry.resolve_model(ref, base_dir=base_dir)
            except JiemaError as exc:
                problems.append(f"{key}: {exc}")
                continue
            if not isinstance(component, str) or component not in serving:
                continue  # the schema reports the component; the model at least resolved
            if "component" not in chosen and "model" in chosen and spec.component in serving:
                component = spec.component
                table[stage_name] = {**chosen, "component": component}
            if spec.component != component:
                problems.append(_wrong_model(key, ref, spec, component, task_name, registry))
                continue
            models[(task_name, stage_name)] = spec
        if task_name in out:
            out[task_name] = table
    return out, models, problems


def _wrong_model(
    key: str, ref: str, spec: ModelSpec, component: str, task: str, registry: Registry
) -> str:
    card_task = spec.card.task if spec.card is not None else task
    other_task = f" (a model of task {card_task!r})" if card_task != task else ""
    fitting = _names(m for m, s in registry.models.items() if s.component == component)
    return (
        f"{key}: model {ref!r} is for component {spec.component!r}{other_task}, not "
        f"{component!r}; models for {component!r}: {fitting}"
    )


def _explain(err: Mapping[str, Any], schema: _Schema, registry: Registry) -> str:
    """One pydantic error as `dotted.key: what is wrong; valid names`."""
    loc = [str(part) for part in err["loc"]]
    key_loc = list(loc)
    comp = None
    if len(loc) >= 3:  # (task, stage, <component tag>, ...): the tag is not a key in the file
        comp = loc[2]
        del key_loc[2]
    dotted = ".".join(key_loc) or "(top level)"
    kind = err["type"]
    if kind == _FILE_ERROR:
        return f"{dotted}: {err['msg']}"
    if kind == "extra_forbidden":
        valid = schema.valid_keys.get(tuple(loc[:-1]))
        what = {1: "task", 2: "stage"}.get(len(loc), "key")
        if len(loc) == 5 and loc[3] == "options":
            what = f"option of component {comp!r}"
        hint = f"; valid: {_names(valid)}" if valid is not None else ""
        return f"{dotted}: unknown {what} {loc[-1]!r}{hint}"
    if kind == "union_tag_invalid":
        task, stage = key_loc[0], key_loc[1]
        stage_kind = registry.tasks[task].stages[stage].kind
        tag = err.get("ctx", {}).get("tag")
        names = _names(registry.components_of(stage_kind))
        return (
            f"{dotted}.component: unknown component {tag!r} for stage kind {stage_kind!r}; "
            f"valid: {names}"
        )
    if kind in ("union_tag_not_found", "model_type") and len(loc) == 1:
        names = _names(schema.valid_keys.get(tuple(loc)))
        return f"{dotted}: must be a table of stages (valid: {names}), got {err['input']!r}"
    if kind in ("union_tag_not_found", "model_type") and len(loc) == 2:
        return f"{dotted}: must be a table (keys: {', '.join(STAGE_KEYS)}), got {err['input']!r}"
    return f"{dotted}: {err['msg']} (got {err.get('input')!r})"


def _names(names: Any) -> str:
    listed = sorted(names or ())
    return ", ".join(listed) if listed else "none"
