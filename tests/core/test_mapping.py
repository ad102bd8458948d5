"""map_corpus: in-process and on Dask give the same results; workers are built where they run."""

from __future__ import annotations

import operator
import sys
import threading
from collections import Counter

import pytest
from jiema.errors import InvalidInputError, MissingExtraError
from jiema.mapping import imap_corpus, map_corpus

BUILDS: Counter = Counter()
BATCHES: list[int] = []
_lock = threading.Lock()


def scale_factory(settings):
    """Builds a worker that multiplies; counts builds per settings key."""
    with _lock:
        BUILDS[settings["key"]] += 1
    factor = settings["factor"]

    def worker(batch):
        BATCHES.append(len(batch))
        return [x * factor for x in batch]

    return worker


def char_count_factory(settings):
    """One Counter per batch: the corpus-statistics shape of worker."""
    return lambda batch: [Counter(ch for text in batch for ch in text)]


def broken_factory(settings):
    return lambda batch: batch[:-1]


TEXTS = ["科学空间", "空间站", "", "ab", "科学"] * 7


@pytest.fixture(autouse=True)
def _reset():
    BUILDS.clear()
    BATCHES.clear()


def test_local_map_preserves_order_and_builds_once():
    out = map_corpus(scale_factory, {"key": "a", "factor": 3}, range(10), partition_size=4,
                     progress=False)
    assert out == [3 * x for x in range(10)]
    assert BUILDS["a"] == 1
    assert BATCHES == [4, 4, 2]


def test_local_map_streams_iterators_and_imap_is_lazy():
    out = map_corpus(scale_factory, {"key": "b", "factor": 2}, iter(range(5)), progress=False)
    assert out == [0, 2, 4, 6, 8]
    results = imap_corpus(scale_factory, {"key": "c", "factor": 1}, iter(range(100)),
                          partition_size=10, progress=False)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    assert BATCHES[-1:] == [10]  # only the first batch has been mapped


def test_combine_reduces_partial_results():
    expected = Counter(ch for text in TEXTS for ch in text)
    got = map_corpus(char_count_factory, None, TEXTS, partition_size=4, progress=False,
                     combine=operator.add)
    assert got == expected
    assert map_corpus(char_count_factory, None, [], combine=operator.add, progress=False) is None


def test_worker_must_return_one_result_per_item_without_combine():
    with pytest.raises(InvalidInputError, match="one result per item"):
        map_corpus(broken_factory, None, [1, 2, 3], progress=False)


def test_progress_goes_to_stderr(capsys):
    map_corpus(scale_factory, {"key": "p", "factor": 1}, list(range(5)), progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "5/5" in captured.err


@pytest.mark.parametrize(
    "kwargs",
    [{"partition_size": 0}, {"backend": "spark"}, {"scheduler": "tcp://x:1"}],
)
def test_bad_options(kwargs):
    with pytest.raises(InvalidInputError):
        map_corpus(scale_factory, {"key": "x", "factor": 1}, [1], progress=False, **kwargs)


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.bag", None)
    with pytest.raises(MissingExtraError, match=r"jiema\[dask\]"):
        map_corpus(scale_factory, {"key": "x", "factor": 1}, [1], backend="dask")


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.bag")
    with (
        distributed.LocalCluster(
            processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_results_equal_local(client):
    settings = {"key": "d", "factor": 5}
    items = list(range(23))
    local = map_corpus(scale_factory, settings, items, partition_size=4, progress=False)
    remote = map_corpus(scale_factory, settings, items, partition_size=4, backend="dask",
                        scheduler=client)
    assert remote == local
    # built once in this process (both in-process workers share the cache), then reused
    again = map_corpus(scale_factory, settings, items, partition_size=5, backend="dask",
                       scheduler=client)
    assert again == local
    assert BUILDS["d"] == 2  # one for the local call, one for all Dask tasks


def test_dask_combine_equals_local(client):
    # 35 items in 12 partitions: more than split_every (8), so the tree reduction is exercised
    local = map_corpus(char_count_factory, None, TEXTS, partition_size=3, progress=False,
                       combine=operator.add)
    remote = map_corpus(char_count_factory, None, TEXTS, partition_size=3, backend="dask",
                        scheduler=client, combine=operator.add)
    assert remote == local
    assert map_corpus(char_count_factory, None, [], backend="dask", scheduler=client,
                      combine=operator.add) is None


def test_dask_uses_the_default_client_and_accepts_a_bag(client):
    import dask.bag as db

    bag = db.from_sequence(list(range(7)), npartitions=3)
    out = map_corpus(scale_factory, {"key": "e", "factor": 2}, bag, backend="dask")
    assert out == [2 * x for x in range(7)]


def test_dask_worker_length_check(client):
    with pytest.raises(InvalidInputError, match="one result per item"):
        map_corpus(broken_factory, None, [1, 2, 3], backend="dask", scheduler=client)
