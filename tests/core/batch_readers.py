"""Readers for test_batch.py's worker processes: a spawned worker imports them by module name
(pytest puts this folder on sys.path, and a spawned process inherits the path)."""

from __future__ import annotations

import os
import time
from pathlib import Path

#: How long the caller's reader waits for a worker to have read something (a worker starts in
#: well under a second; the limit only keeps a broken pool from hanging the test).
WAIT_SECONDS = 60.0


def caller_reader(marker: Path, item: str) -> tuple[str, None]:
    """Waits until a worker has read an item, so both processes surely read some."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return f"{item}:caller", None


def make_worker_reader(marker: str) -> object:
    def read(item: str) -> tuple[str, None]:
        Path(marker).touch()
        return f"{item}:worker:{os.getpid()}", None

    return read


def make_failing_reader(marker: str | None = None) -> object:
    if marker is not None:
        Path(marker).touch()
    raise RuntimeError("no model here")


def reader_after_marker(marker: Path, item: str) -> str:
    """Upper case, once `marker` exists and a moment later (a worker's report is then queued)."""
    caller_reader(marker, item)
    time.sleep(0.5)
    return item.upper()


def make_dying_reader() -> object:
    def read(item: str) -> tuple[str, None]:
        os._exit(3)  # the worker dies holding the item it took

    return read


def make_pid_reader(path: str) -> object:
    """A slow reader that writes its process id where the test can find it."""
    from jiema.atomic import write_text

    write_text(path, str(os.getpid()))  # whole, or not there yet

    def read(item: str) -> tuple[str, None]:
        time.sleep(0.2)
        return item, None

    return read
