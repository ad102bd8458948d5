"""How a model was made, for its card: the command lines that rebuild it and the software
versions they ran under. Every trainer fills its card from here, so the card never needs the
command added by hand."""

from __future__ import annotations

import platform
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

#: Python distributions every jiema training run depends on (those installed are recorded).
CORE_PACKAGES = ("jiema", "numpy", "numba", "torch", "safetensors")
#: Options that change nothing in the model (display only): left out of the rebuild line.
DISPLAY_ONLY_OPTIONS = frozenset({"quiet", "help"})
GIT_TIMEOUT_S = 5  # a commit lookup never holds up an export


def software_versions(
    packages: Iterable[str] = (), debian: Iterable[str] = ()
) -> dict[str, str]:
    """Versions of Python, the core packages, `packages` (Python distributions) and `debian`
    (system packages, e.g. the fonts glyphs are rendered from); those not installed are left
    out. `jiema_commit` is the git commit of the jiema source when it runs from a checkout."""
    versions = {"python": platform.python_version()}
    for name in dict.fromkeys((*CORE_PACKAGES, *packages)):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    commit = _source_commit()
    if commit:
        versions["jiema_commit"] = commit
    for name, version in _debian_versions(tuple(debian)).items():
        versions[f"deb:{name}"] = version
    return versions


def command_line() -> str | None:
    """The running `jiema ...` command as one shell line with every option's value (defaults
    included, so a changed default cannot change the rebuild; with `--resume` only the options
    given), or None outside a click command. Paths appear as given on the command line."""
    import click
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    chain = []
    c: click.Context | None = ctx
    while c is not None:
        chain.append(c)
        c = c.parent
    chain.reverse()
    words = ["jiema", *(c.info_name or "" for c in chain[1:])]
    arguments: list[str] = []
    # a resumed run keeps its saved options, and some commands read an option given on the
    # command line as a change to them: its line names only what was given
    given_only = bool(ctx.params.get("resume"))
    for param in ctx.command.params:
        if param.name is None or param.name in DISPLAY_ONLY_OPTIONS or param.expose_value is False:
            continue
        if given_only and ctx.get_parameter_source(param.name) == ParameterSource.DEFAULT:
            continue
        value = ctx.params.get(param.name)
        if isinstance(param, click.Argument):
            arguments.extend(_as_words(value))
        elif isinstance(param, click.Option):
            words.extend(_option_words(param, value))
    return " ".join(_quote(w) for w in (*words, *arguments))


def rebuild_lines(earlier: Iterable[Sequence[str]] = ()) -> list[str]:
    """The command lines that rebuild a model: those that made its inputs (`earlier`: the
    rebuild lists of the models it starts from or joins, in order), then the running command.
    A line already listed is not repeated."""
    lines: dict[str, None] = {}
    for block in earlier:
        lines.update(dict.fromkeys(block))
    current = command_line()
    if current is not None:
        lines.pop(current, None)
        lines[current] = None
    return list(lines)


def provenance(
    earlier: Iterable[Sequence[str]] = (),
    packages: Iterable[str] = (),
    debian: Iterable[str] = (),
) -> dict[str, Any]:
    """`rebuild` and `software` for a ModelCard (`ModelCard(**provenance(...))` or
    `card.model_copy(update=provenance(...))`)."""
    return {"rebuild": rebuild_lines(earlier), "software": software_versions(packages, debian)}


def _option_words(option: Any, value: Any) -> list[str]:
    if value is None:
        return []
    name = max(option.opts, key=len)
    if option.count:
        return [name] * int(value)
    if option.is_bool_flag:
        if value:
            return [name]
        return [max(option.secondary_opts, key=len)] if option.secondary_opts else []
    if option.is_flag:
        return [name] if value == option.flag_value else []
    if option.multiple:
        return [w for v in value for w in (name, *_as_words(v))]
    return [name, *_as_words(value)]


def _quote(word: str) -> str:
    """Shell quoting that reads well: "People's Daily" rather than 'People'"'"'s Daily'."""
    quoted = shlex.quote(word)
    if quoted != word and "'" in word and not any(c in word for c in '"\\$`!'):
        return f'"{word}"'
    return quoted


def _as_words(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return [str(value)]


def _source_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
            timeout=GIT_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _debian_versions(packages: tuple[str, ...]) -> dict[str, str]:
    if not packages:
        return {}
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\n", *packages],
            capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    found = dict(
        line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line
    )
    return {p: found[p] for p in packages if found.get(p)}
