"""The hooks a jiema plugin may implement (one marker pair, project name "jiema").

Each registration hook receives a `register` callback (the simonw/llm style): a plugin calls it
once per item, so the host knows which plugin registered what and can reject duplicates.
Implement them in a plugin module with `@jiema.hookimpl`.
"""

from __future__ import annotations

from typing import Any

from pluggy import HookspecMarker

hookspec = HookspecMarker("jiema")


@hookspec
def register_tasks(register: Any) -> None:
    """Register tasks: `register(name, factory=..., stages={...}, input_type=...,
    output_type=..., description=...)` or `register(Task(...))`. `factory(engine, task_config)`
    returns the callable pipeline; `stages` maps a stage name to
    `Stage(kind, default_component, model=None)`."""


@hookspec
def register_components(register: Any) -> None:
    """Register swappable components: `register(kind, name, factory=..., options=OptionsModel,
    description=...)` or `register(Component(...))`. `name` is versioned (`segment.fcn.v1`);
    `factory(options, model)` builds the component from validated options and a resolved model
    (a `ModelSpec`, or None)."""


@hookspec
def register_models(register: Any) -> None:
    """Register shipped weights: `register(name, component=..., path=...)` where `path` is a
    safetensors file with its model card (same stem, `.json`) beside it; or
    `register(ModelSpec(...))`."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands to the root group `cli`, or subcommands to its core-owned groups
    `cli.commands["train"]`, `cli.commands["eval"]`, `cli.commands["discover"]`. Replacing a
    command that already exists is an error naming both plugins."""
