"""Reading a batch in worker processes (`jiema.batch` through `jiema.output.read_all`)."""

from __future__ import annotations

import logging
from functools import partial

import pytest
from batch_readers import (
    caller_reader,
    make_dying_reader,
    make_failing_reader,
    make_worker_reader,
    reader_after_marker,
)
from jiema.batch import read_batch
from jiema.output import jobs_for, read_all


def test_workers_and_the_caller_share_the_batch_in_input_order(tmp_path):
    marker = tmp_path / "a-worker-read"
    items = [f"x{i}" for i in range(6)]
    records = list(read_all(items, partial(caller_reader, marker), progress=False, jobs=2,
                            make_reader=partial(make_worker_reader, str(marker))))
    assert [r.file for r in records] == items
    assert all(r.ok and r.text.startswith(f"{r.file}:") for r in records)
    kinds = {r.text.split(":")[1] for r in records}
    assert kinds == {"caller", "worker"}


def test_a_worker_that_cannot_start_leaves_the_batch_to_the_caller(caplog, tmp_path):
    items = ["a", "b", "c"]
    marker = tmp_path / "the-worker-tried"
    with caplog.at_level(logging.WARNING, logger="jiema.batch"):
        got = list(read_batch(items, partial(reader_after_marker, marker),
                              partial(make_failing_reader, str(marker)), 2))
    assert got == [(0, "A"), (1, "B"), (2, "C")]
    assert "no model here" in caplog.text


def test_what_a_dead_worker_took_is_read_by_the_caller():
    items = [f"y{i}" for i in range(5)]

    def slow_upper(s: str) -> str:
        import time

        time.sleep(0.3)  # leave the worker time to start, take an item and die
        return s.upper()

    got = list(read_batch(items, slow_upper, make_dying_reader, 2))
    assert got == [(i, s.upper()) for i, s in enumerate(items)]


def test_one_job_reads_in_this_process_and_errors_stay_records():
    def read(s: str) -> str:
        if s == "bad":
            raise ValueError("unreadable")
        return s

    records = list(read_all(["ok", "bad", ""], read, progress=False, jobs=1))
    assert [r.error for r in records] == [None, "ValueError: unreadable",
                                          "InvalidInputError: empty path"]


def test_jobs_are_capped_by_the_inputs_and_rejected_below_one():
    assert jobs_for(8, 3) == 3
    assert jobs_for(None, 1) == 1
    assert jobs_for(None, 7) == 1  # too few inputs to repay a worker's start-up
    with pytest.raises(ValueError, match="at least 1"):
        list(read_batch(["a"], str, make_failing_reader, 0))


def test_only_an_entry_point_cli_can_be_rebuilt_in_a_worker(tmp_path):
    import click
    import jiema
    from click.testing import CliRunner
    from jiema.cli import EngineRecipe, build_cli, engine_recipe

    def with_probe(cli: click.Group) -> click.Group:
        cli.add_command(click.Command("probe", callback=lambda: click.echo(repr(engine_recipe()))))
        return cli

    config = tmp_path / "deploy.toml"
    config.write_text("")
    given = with_probe(build_cli(jiema.Engine(load_entry_points=False)))
    assert CliRunner().invoke(given, ["probe"]).output.strip() == "None"
    default = CliRunner().invoke(with_probe(build_cli()), ["--config", str(config), "probe"])
    assert default.output.strip() == repr(EngineRecipe(config))


def test_workers_die_with_a_killed_caller(tmp_path):
    """A SIGKILLed caller runs no cleanup: its workers must not live on reading for nobody."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "worker.pid"
    script = (
        "import sys, time\n"
        f"sys.path[:0] = {sys.path!r}\n"
        "from functools import partial\n"
        "from batch_readers import make_pid_reader\n"
        "from jiema.batch import read_batch\n"
        "slow = lambda s: time.sleep(0.2) or s\n"
        "if __name__ == '__main__':\n"
        f"    for _ in read_batch([str(i) for i in range(1000)], slow,\n"
        f"                        partial(make_pid_reader, {str(pid_file)!r}), 2):\n"
        "        pass\n"
    )
    (tmp_path / "caller.py").write_text(script)
    caller = subprocess.Popen([sys.executable, str(tmp_path / "caller.py")])
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    caller.send_signal(signal.SIGKILL)
    caller.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        _reap(worker)
        time.sleep(0.05)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its killed caller")


def _reap(pid: int) -> None:
    """Collect `pid` if it became this process's zombie child (it never is here, but a
    subreaper test runner could make it one)."""
    import os

    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
