"""One map-over-a-corpus helper: in-process by default, on Dask when the corpus is large.

The worker function is never shipped: a picklable `factory(settings)` builds it where it runs
(once per process: cached on each Dask worker process), so a model or dictionary is loaded
next to the data and an Engine never crosses the wire. The same call gives the same results
in-process and on a cluster.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from .errors import InvalidInputError, require

__all__ = ["map_corpus", "imap_corpus"]

T = TypeVar("T")
R = TypeVar("R")
Worker = Callable[[list[Any]], Sequence[Any]]
Factory = Callable[[Any], Worker]

_CACHE_SIZE = 4
_worker_cache: OrderedDict[str, Worker] = OrderedDict()
_worker_lock = threading.Lock()


def _cached_worker(token: str, factory: Factory, settings: Any) -> Worker:
    """The worker built by `factory(settings)` in this process, built on first use (LRU of 4)."""
    with _worker_lock:
        worker = _worker_cache.get(token)
        if worker is not None:
            _worker_cache.move_to_end(token)
            return worker
        worker = factory(settings)
        _worker_cache[token] = worker
        while len(_worker_cache) > _CACHE_SIZE:
            _worker_cache.popitem(last=False)
        return worker


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _apply(worker: Worker, batch: list[Any], strict_length: bool) -> list[Any]:
    out = list(worker(batch))
    if strict_length and len(out) != len(batch):
        raise InvalidInputError(
            f"the worker returned {len(out)} results for a batch of {len(batch)} items; "
            "without `combine` it must return one result per item"
        )
    return out


def _check(partition_size: int, backend: str) -> None:
    if not isinstance(partition_size, int) or partition_size < 1:
        raise InvalidInputError(
            f"partition_size must be a positive integer, got {partition_size!r}"
        )
    if backend not in ("local", "dask"):
        raise InvalidInputError(f"backend must be 'local' or 'dask', got {backend!r}")


def imap_corpus(
    factory: Factory,
    settings: Any,
    items: Iterable[Any],
    *,
    partition_size: int = 1000,
    progress: bool = True,
) -> Iterator[Any]:
    """In-process, streaming: yield one result per item, in order, one batch at a time.

    For reading commands over huge inputs; memory is bounded by one batch. Progress (tqdm,
    items) goes to stderr.
    """
    _check(partition_size, "local")
    from tqdm.auto import tqdm

    worker = factory(settings)
    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    with tqdm(total=total, unit="item", file=sys.stderr, disable=not progress) as bar:
        for batch in _batches(items, partition_size):
            yield from _apply(worker, batch, strict_length=True)
            bar.update(len(batch))


def map_corpus(
    factory: Factory,
    settings: Any,
    items: Iterable[Any],
    *,
    backend: Literal["local", "dask"] = "local",
    scheduler: Any = None,
    partition_size: int = 1000,
    progress: bool = True,
    combine: Callable[[Any, Any], Any] | None = None,
) -> Any:
    """Map `items` through the worker `factory(settings)` builds, in batches of `partition_size`.

    The worker takes a list of items. Without `combine` it returns one result per item and
    `map_corpus` returns the list of all results in input order. With `combine` (an associative
    binary function, e.g. `operator.add` on Counters) the worker may return any number of
    partial results per batch (often one), and `map_corpus` returns them all reduced in order
    with `combine` (None when there are none).

    `backend="local"` (default) runs in this process, with a tqdm bar on stderr.
    `backend="dask"` partitions the items into a dask.bag and runs on a distributed Client:
    `scheduler` None uses the current default client if there is one, else starts a local
    cluster for this call (processes; call from under `if __name__ == "__main__":` in scripts);
    a string is a scheduler address; a Client is used as is. `items` may also be a dask Bag.
    `factory` and `settings` must pickle; each worker process builds the worker once and caches
    it. Missing dask raises MissingExtraError naming the extra `dask`.
    """
    _check(partition_size, backend)
    if backend == "dask":
        return _map_dask(factory, settings, items, scheduler, partition_size, combine)
    if scheduler is not None:
        raise InvalidInputError("scheduler is only used with backend='dask'")
    if combine is None:
        return list(
            imap_corpus(
                factory, settings, items, partition_size=partition_size, progress=progress
            )
        )
    from tqdm.auto import tqdm

    worker = factory(settings)
    parts: list[Any] = []
    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    with tqdm(total=total, unit="item", file=sys.stderr, disable=not progress) as bar:
        for batch in _batches(items, partition_size):
            partial = _apply(worker, batch, strict_length=False)
            if partial:
                parts.append(functools.reduce(combine, partial))
            bar.update(len(batch))
    return functools.reduce(combine, parts) if parts else None


# --- Dask --------------------------------------------------------------------------------------


def _run_partition(
    partition: Iterable[Any], token: str, factory: Factory, settings: Any, strict: bool
) -> list[Any]:
    batch = list(partition)
    if not batch:  # as in-process: an empty batch never reaches the worker
        return []
    return _apply(_cached_worker(token, factory, settings), batch, strict_length=strict)


def _reduce_partition(partition: Iterable[Any], combine: Callable[[Any, Any], Any]) -> list[Any]:
    """A list of 0 or 1 values: a partition may be empty, and reduce() needs at least one."""
    values = list(partition)
    return [functools.reduce(combine, values)] if values else []


def _reduce_parts(parts: Iterable[list[Any]], combine: Callable[[Any, Any], Any]) -> list[Any]:
    """Same shape in as out (0 or 1 values), as Dask's tree reduction feeds outputs back in."""
    return _reduce_partition((v for part in parts for v in part), combine)


def _map_dask(
    factory: Factory,
    settings: Any,
    items: Iterable[Any],
    scheduler: Any,
    partition_size: int,
    combine: Callable[[Any, Any], Any] | None,
) -> Any:
    purpose = "map_corpus(backend='dask')"
    bag_module = require("dask.bag", "dask", purpose)
    distributed = require("distributed", "dask", purpose)
    cloudpickle = require("cloudpickle", "dask", purpose)

    token = hashlib.sha256(cloudpickle.dumps((factory, settings))).hexdigest()
    if isinstance(items, bag_module.Bag):
        bag = items
    else:
        bag = bag_module.from_sequence(list(items), partition_size=partition_size)
    mapped = bag.map_partitions(
        _run_partition, token, factory, settings, combine is None, token="jiema-map"
    )
    if combine is None:
        collection = mapped
    else:
        collection = mapped.reduction(
            functools.partial(_reduce_partition, combine=combine),
            functools.partial(_reduce_parts, combine=combine),
        )

    client, owned = _client(distributed, scheduler)
    try:
        result = client.compute(collection).result()
    finally:
        if owned is not None:
            client.close()
            owned.close()
    if combine is None:
        return list(result)
    return result[0] if result else None


def _client(distributed: Any, scheduler: Any) -> tuple[Any, Any]:
    """(client, cluster we started or None)."""
    if isinstance(scheduler, distributed.Client):
        return scheduler, None
    if isinstance(scheduler, str):
        return distributed.Client(scheduler), _Closer()
    if scheduler is not None:
        raise InvalidInputError(
            f"scheduler must be None, an address string or a distributed.Client, got {scheduler!r}"
        )
    try:
        return distributed.default_client(), None
    except ValueError:
        cluster = distributed.LocalCluster()
        return distributed.Client(cluster), cluster


class _Closer:
    """Stands in for a cluster we did not start: closing our own Client is enough."""

    def close(self) -> None:
        return None
