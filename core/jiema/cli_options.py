"""Click options that the commands of several plugins share (`jiema train ...` above all), so
each is declared once and reads the same everywhere: the corpora, a run folder with `--resume`,
a step budget. A third-party plugin's commands may use them too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def corpus_option(help: str, *, required: bool = True) -> Callable[[F], F]:
    """`--corpus FILE` (repeatable, into the parameter `corpora`): existing files.

    Parameters
    ----------
    help : str
        What the corpus is for, for `--help`.
    required : bool
        At least one must be given.

    Returns
    -------
    callable
        The decorator.
    """
    return click.option("--corpus", "corpora", multiple=True, required=required,
                        type=click.Path(exists=True, dir_okay=False), help=help)


def run_folder_options(help: str, resume_help: str, *,
                       default: str | None = None) -> Callable[[F], F]:
    """`--out DIR` (a training run's folder, into `out_dir`) and the `--resume` flag.

    Parameters
    ----------
    help, resume_help : str
        What the folder holds, and what resuming keeps, for `--help`.
    default : str, optional
        A default folder; without one `--out` is required.

    Returns
    -------
    callable
        The decorator.
    """
    out = click.option("--out", "out_dir", required=default is None, default=default,
                       show_default=default is not None, type=click.Path(file_okay=False),
                       help=help)
    resume = click.option("--resume", is_flag=True, help=resume_help)
    return lambda command: out(resume(command))


def step_options(*, steps: int, batch_size: int, lr: float, min_batch: int = 1,
                 lr_help: str | None = None) -> Callable[[F], F]:
    """`--steps`, `--batch-size` and `--lr` of a step-budgeted run, with their defaults.

    Parameters
    ----------
    steps, batch_size, lr : number
        The defaults (shown in `--help`).
    min_batch : int
        The smallest batch the run accepts.
    lr_help : str, optional
        What the learning rate is (peak of a schedule, say).

    Returns
    -------
    callable
        The decorator.
    """
    decorators = (
        click.option("--steps", type=click.IntRange(min=1), default=steps, show_default=True),
        click.option("--batch-size", type=click.IntRange(min=min_batch), default=batch_size,
                     show_default=True),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=lr,
                     show_default=True, help=lr_help),
    )

    def apply(command: F) -> F:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply
