"""The training pool: rendered captchas held in memory and refreshed while training runs.

Rendering costs ~3 ms of a core per image, a training step far less per image, so the trainer
keeps `pool_size` images and swaps `refresh` fresh ones in every few hundred steps; a worker
process renders the next refresh while the network trains. The pool at refresh `r` is exactly
stream images `[r * refresh, r * refresh + pool_size)` (image i sits in slot i % pool_size), so a
resumed run rebuilds the same pool from its counter.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
import time
from typing import Any

import numpy as np

from .generator import CaptchaGenerator, CaptchaSettings

_GENERATORS: dict[tuple[str, int], CaptchaGenerator] = {}


def render(
    settings_json: str, seed: int, start: int, count: int, height: int, width: int,
    normalise: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """Stream images `[start, start + count)` as `(count, height, width)` uint8 and labels
    (`ink_normalised` where `normalise` asks for it)."""
    from .preprocess import to_gray_small

    key = (settings_json, seed)
    gen = _GENERATORS.get(key)
    if gen is None:
        gen = _GENERATORS[key] = CaptchaGenerator(
            CaptchaSettings.model_validate_json(settings_json), seed
        )
    images = np.empty((count, height, width), dtype=np.uint8)
    labels = []
    for j in range(count):
        image, label = gen.sample(start + j)
        images[j] = to_gray_small(image, height, width, normalise)
        labels.append(label)
    return images, labels


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: leave when the trainer is gone. A trainer killed outright (SIGKILL,
    the OOM killer) never shuts its pool down, and the orphaned worker would wait on its queue
    forever, holding memory."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="captcha-pool-watchdog").start()


class Pool:
    """`pool_size` rendered images of one stream, refreshed `refresh` at a time."""

    def __init__(
        self,
        settings: CaptchaSettings,
        seed: int,
        height: int,
        width: int,
        pool_size: int,
        refresh: int,
        *,
        refreshes_done: int = 0,
        workers: int = 1,
        chunk: int = 500,
        normalise: bool = False,
    ) -> None:
        self.args = (settings.model_dump_json(), seed)
        self.shape = (height, width)
        self.normalise = normalise
        self.size, self.refresh_count = pool_size, min(refresh, pool_size)
        self.refreshes = refreshes_done
        self.images = np.empty((pool_size, height, width), dtype=np.uint8)
        self.labels: list[str] = [""] * pool_size
        self.executor: cf.ProcessPoolExecutor | None = None
        if workers > 0:
            self.executor = cf.ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("fork"),
                initializer=_exit_with_parent, initargs=(os.getpid(),),
            )
        first = self.refreshes * self.refresh_count
        starts = list(range(first, first + pool_size, chunk))
        counts = [min(chunk, first + pool_size - s) for s in starts]
        for s, (imgs, labs) in zip(starts, self._map(starts, counts), strict=True):
            self._put(s, imgs, labs)
        self._next: cf.Future[Any] | None = None
        self._submit_next()

    def _job(self, start: int, count: int) -> tuple[Any, ...]:
        """`render`'s arguments for images `[start, start + count)` of this pool's stream."""
        return (*self.args, start, count, *self.shape, self.normalise)

    def _map(self, starts: list[int], counts: list[int]) -> Any:
        """Render the chunks: the workers take every other one, this process the rest."""
        jobs = list(zip(starts, counts, strict=True))
        if self.executor is None:
            return (render(*self._job(s, n)) for s, n in jobs)
        futures = {
            i: self.executor.submit(render, *self._job(s, n))
            for i, (s, n) in enumerate(jobs)
            if i % 2 == 1
        }
        return (
            futures[i].result() if i in futures else render(*self._job(s, n))
            for i, (s, n) in enumerate(jobs)
        )

    def _put(self, start: int, images: np.ndarray, labels: list[str]) -> None:
        for j in range(images.shape[0]):
            slot = (start + j) % self.size
            self.images[slot] = images[j]
            self.labels[slot] = labels[j]

    def _fresh_start(self) -> int:
        return self.refreshes * self.refresh_count + self.size

    def _submit_next(self) -> None:
        if self.executor is not None and self.refresh_count:
            self._next = self.executor.submit(
                render, *self._job(self._fresh_start(), self.refresh_count)
            )

    def refresh(self) -> None:
        """Swap the oldest `refresh` images for the next ones of the stream."""
        if not self.refresh_count:
            return
        start = self._fresh_start()
        if self._next is not None:
            images, labels = self._next.result()
        else:
            images, labels = render(*self._job(start, self.refresh_count))
        self._put(start, images, labels)
        self.refreshes += 1
        self._submit_next()

    def close(self) -> None:
        """Stop the worker after the render it is on (a few seconds at most): shutting a process
        pool down without waiting makes CPython print an OSError traceback at exit."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class FolderPool:
    """A labelled folder's training images, held whole (nothing to refresh), with each image's
    ink box for the crops of `augment`."""

    def __init__(self, images: np.ndarray, labels: list[str]) -> None:
        from .augment import ink_boxes

        self.images, self.labels = images, labels
        self.size = len(labels)
        self.boxes = ink_boxes(images)
        self.refreshes = 0

    def refresh(self) -> None:
        """Nothing: the folder is all there is (augmentation makes each batch new)."""

    def close(self) -> None:
        """Nothing to stop."""
