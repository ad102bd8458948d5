"""Reading a batch of inputs on several cores: the calling process and `jobs - 1` worker
processes, one thread each, take the next unread input from one shared counter.

A page's reading is mostly single-threaded Python and small convolutions that a second torch
thread barely speeds up, so a batch goes about `jobs` times faster on `jobs` processes than on
one process with `jobs` threads. The caller's reader is already built; a worker builds its own
(`make_reader`, a picklable callable: workers are spawned, never forked, since torch and Numba
keep thread pools a fork would copy half-alive). The caller starts reading at once, so a batch
never waits for a worker's start-up (seconds: importing torch, loading models), and a worker
that fails to start or dies costs only speed: what it had taken is read by the caller.
Records come out in input order.
"""

from __future__ import annotations

import logging
import os
import queue
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("jiema.batch")

#: Seconds the caller waits for a worker's record before checking that the workers still live.
POLL_SECONDS = 0.5
#: prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: Thread-count variables a worker sets before importing torch or Numba (one thread each: the
#: processes are the parallelism, and more threads than cores would slow every one of them).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def read_batch(
    items: Sequence[str],
    read_one: Callable[[str], Any],
    make_reader: Callable[[], Callable[[str], Any]] | None,
    jobs: int,
) -> Iterator[tuple[int, Any]]:
    """`(index, read_one(items[index]))` for every item, in input order, read by this process
    (with `read_one`) and `jobs - 1` spawned workers (each with `make_reader()`; without one,
    this process reads alone). `read_one` must not raise: turn a failed input into its result
    (as `jiema.output.read_all` does)."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    n = len(items)
    workers = min(jobs, n) - 1 if make_reader is not None else 0
    if workers <= 0:
        for i, item in enumerate(items):
            yield i, read_one(item)
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)  # the next unclaimed index, shared by every process
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(make_reader, list(items), counter, results),
                         daemon=True, name=f"jiema-batch-{k}") for k in range(workers)]
    for p in procs:
        p.start()
    done: dict[int, Any] = {}
    next_out = 0
    try:
        with _single_threaded():
            while next_out < n:
                mine = _claim(counter, n)
                if mine is not None:
                    done[mine] = read_one(items[mine])
                _collect(results, done, block=mine is None)
                if mine is None and not any(p.is_alive() for p in procs):
                    _collect(results, done, block=False)
                    for j in range(next_out, n):  # what dead workers took and never returned
                        if j not in done:
                            done[j] = read_one(items[j])
                while next_out in done:
                    yield next_out, done.pop(next_out)
                    next_out += 1
    finally:
        with counter.get_lock():
            counter.value = n  # workers stop at their next claim
        for p in procs:  # every record is in (or unwanted): a worker still loading is stopped
            if p.is_alive():
                p.terminate()
            p.join()
        results.close()


def _claim(counter: Any, n: int) -> int | None:
    with counter.get_lock():
        i = int(counter.value)
        if i >= n:
            return None
        counter.value = i + 1
        return i


def _collect(results: Any, done: dict[int, Any], *, block: bool) -> None:
    """Move the workers' finished records into `done` (waiting a little for one if `block`)."""
    timeout = POLL_SECONDS if block else 0.0
    while True:
        try:
            kind, index, value = results.get(timeout=timeout) if timeout else results.get_nowait()
        except queue.Empty:
            return
        timeout = 0.0
        if kind == "record":
            done[index] = value
        elif kind == "failed":
            log.warning("a batch worker could not start (%s); reading on without it", value)


def _worker(make_reader: Callable[[], Callable[[str], Any]], items: list[str], counter: Any,
            results: Any) -> None:
    import signal

    # Ctrl-C reaches the whole process group: the caller stops the workers itself, and a worker
    # would only add a traceback of its own to the terminal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    caller = os.getppid()
    _die_with_parent()
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    try:
        read_one = make_reader()
    except Exception as exc:  # the caller reads on alone
        results.put(("failed", -1, f"{type(exc).__name__}: {exc}"))
        return
    with _single_threaded():
        while os.getppid() == caller and (i := _claim(counter, len(items))) is not None:
            results.put(("record", i, read_one(items[i])))


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the caller dies (a SIGKILL leaves it no `finally` to
    stop its workers); elsewhere the worker notices at its next claim (`os.getppid`)."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


@contextmanager
def _single_threaded() -> Iterator[None]:
    """torch (if loaded) and Numba on one thread meanwhile: each process is one of the cores."""
    import sys

    torch = sys.modules.get("torch")
    numba = sys.modules.get("numba")
    before_torch = torch.get_num_threads() if torch is not None else None
    before_numba = numba.get_num_threads() if numba is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    if numba is not None:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        if torch is not None and before_torch is not None:
            torch.set_num_threads(before_torch)
        if numba is not None and before_numba is not None:
            numba.set_num_threads(before_numba)
