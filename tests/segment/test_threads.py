"""Threads that first use a fresh segmenter at the same moment get the serial result.

The hard list's automaton (and a dictionary matcher's) is built lazily on the first cut; before
it was built under a lock, threads racing the build decoded without the list."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import jiema
import jiema.engine
import pytest
from jiema.text import DictionaryMatcher
from jiema_segment import Segmenter

THREADS = 8
TEXT = "扫描二维码，关注微信号。科学空间挺好"


def at_once(call: Callable[[], object]) -> list[object]:
    """`call()` from THREADS threads released together by a barrier."""
    barrier = threading.Barrier(THREADS)

    def run(_: int) -> object:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_fresh_fcn_segmenter_from_eight_threads_equals_serial():
    pytest.importorskip("torch")
    serial = Segmenter(mode="fcn", hard={"科学空间": 1e8}).cut(TEXT)
    assert "科学空间" in serial and "二维码" in serial
    for _ in range(2):
        seg = Segmenter(mode="fcn", hard={"科学空间": 1e8})
        assert at_once(lambda seg=seg: seg.cut(TEXT)) == [serial] * THREADS


def test_fcn_edits_then_threads_equal_serial():
    pytest.importorskip("torch")
    seg = Segmenter(mode="fcn")
    seg.cut(TEXT)
    seg.add_word("科学空间")  # the next cut layers the edit over the built list
    serial = Segmenter(mode="fcn", hard={"科学空间": seg.hard_default}).cut(TEXT)
    assert at_once(lambda: seg.cut(TEXT)) == [serial] * THREADS


def test_fresh_dict_segmenter_from_eight_threads_equals_serial():
    serial = Segmenter(mode="dict").cut(TEXT)
    seg = Segmenter(mode="dict")
    assert at_once(lambda: seg.cut(TEXT)) == [serial] * THREADS


def test_matcher_builds_its_automaton_once_for_racing_threads(monkeypatch):
    matcher = DictionaryMatcher(["二维码", "微信", "扫描"])
    builds = []
    real_build = DictionaryMatcher._build

    def slow_build(self):
        builds.append(1)
        barrier_free.wait(0.2)  # hold the build open while the other threads arrive
        return real_build(self)

    barrier_free = threading.Event()
    monkeypatch.setattr(DictionaryMatcher, "_build", slow_build)
    found = at_once(lambda: matcher.find(TEXT)[2].tolist())
    assert len(builds) == 1
    assert found == [found[0]] * THREADS and len(found[0]) == 3


def test_default_engine_is_one_engine_for_racing_threads(monkeypatch):
    real = jiema.engine.Engine

    class SlowEngine(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            threading.Event().wait(0.05)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(jiema.engine, "Engine", SlowEngine)
    jiema.default_engine.cache_clear()
    try:
        engines = at_once(jiema.default_engine)
        assert all(e is engines[0] for e in engines)
    finally:
        jiema.default_engine.cache_clear()


def test_engine_segment_task_from_threads_equals_serial():
    pytest.importorskip("torch")
    serial = jiema.Engine().task("segment")(TEXT)
    engine = jiema.Engine()
    assert at_once(lambda: engine.task("segment")(TEXT)) == [serial] * THREADS
