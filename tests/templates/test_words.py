"""Word discovery against nlp-zero's Word_Finder: counts, strong pairs and the words table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jiema_templates import EmptyCorpusError, FileCorpus, WordFinder, WordTable, discover_words


def nz_find(nz, texts, min_proba, min_pmi, filtering=True):
    f = nz.Word_Finder(min_proba=min_proba, min_pmi=min_pmi)
    f.train(texts, filtering=filtering)
    chars, pairs = dict(f.chars), dict(f.pairs)
    # nlp-zero keeps its strong pairs in a local variable: the same formula on its own counts
    log = nz.nlp_zero.log
    lc, lp = log(sum(chars.values())), log(sum(pairs.values()))
    strong = sorted(
        p for p, j in pairs.items()
        if log(j) - lp > log(min_proba)
        and (log(j) - lp) - (log(chars[p[0]]) - lc) - (log(chars[p[1]]) - lc) > min_pmi
    )
    f.find(texts, filtering=filtering, remove_weak_pairs=False)
    return chars, pairs, strong, dict(f.words)


@pytest.mark.parametrize("min_proba,min_pmi", [(1e-7, 1.0), (1e-3, 1.0), (1e-2, 0.5),
                                               (1e-4, 3.0)])
def test_same_table_as_nlp_zero(nz, corpus, min_proba, min_pmi):
    chars, pairs, strong, words = nz_find(nz, corpus, min_proba, min_pmi)
    table = discover_words(corpus, min_proba=min_proba, min_pmi=min_pmi)
    assert table.chars() == chars
    assert table.pairs() == pairs
    assert sorted(table.strong_pairs) == strong
    assert table.counts == words
    assert any(len(w) > 1 for w in words)


@settings(deadline=None, max_examples=25,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), min_proba=st.sampled_from([1e-6, 1e-3, 5e-3]),
       min_pmi=st.sampled_from([0.0, 1.0, 2.0]))
def test_same_table_as_nlp_zero_random(nz, make_corpus, seed, min_proba, min_pmi):
    texts = make_corpus(seed, lines=40, ascii_words=False)
    try:
        _, _, strong, words = nz_find(nz, texts, min_proba, min_pmi)
    except (KeyError, ValueError):  # nlp-zero's crashes (a sub-word missing from its table)
        return
    table = discover_words(texts, min_proba=min_proba, min_pmi=min_pmi, partition_size=7)
    assert sorted(table.strong_pairs) == strong
    assert table.counts == words


def test_unfiltered_mode_matches(nz, corpus):
    _, _, strong, words = nz_find(nz, corpus, 1e-4, 1.0, filtering=False)
    table = discover_words(corpus, min_proba=1e-4, min_pmi=1.0, filtering=False)
    assert sorted(table.strong_pairs) == strong
    assert table.counts == words


def test_partitioning_does_not_change_results(corpus):
    a = discover_words(corpus, min_proba=1e-4, partition_size=1)
    b = discover_words(corpus, min_proba=1e-4, partition_size=10_000)
    assert a.counts == b.counts and a.strong_pairs == b.strong_pairs


def test_dask_backend_gives_identical_results(corpus):
    distributed = pytest.importorskip("distributed")
    local = discover_words(corpus, min_proba=1e-4)
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1,
                            dashboard_address=None) as client:
        remote = discover_words(corpus, min_proba=1e-4, backend="dask", scheduler=client,
                                partition_size=13)
    assert remote.counts == local.counts
    assert remote.strong_pairs == local.strong_pairs


def test_incremental_training_where_nlp_zero_crashes(nz, make_corpus):
    a, b = make_corpus(1, lines=60), make_corpus(2, lines=60)
    # nlp-zero: find() turns its pair table into a plain, empty dict; more training -> KeyError
    f = nz.Word_Finder(min_proba=1e-4)
    f.train(a)
    f.find(a)
    assert f.pairs == {}
    with pytest.raises(KeyError):
        f.train(b)
    # here: train, find, train more, find again == nlp-zero trained on both before one find
    finder = WordFinder(min_proba=1e-4)
    first = finder.train(a).find(a)
    assert first.counts == discover_words(a, min_proba=1e-4).counts
    both = finder.train(iter(b)).find(a + b)  # one pass each: iterators are fine here
    again = nz.Word_Finder(min_proba=1e-4)
    again.train(a)
    again.train(b)
    again.find(a + b, remove_weak_pairs=False)
    assert both.counts == dict(again.words)
    assert finder.pairs() == dict(again.pairs) and finder.chars() == dict(again.chars)


def test_remove_weak_pairs_keeps_the_strong_ones(nz, corpus):
    # nlp-zero meant to drop rare pairs from its table (memory); its code empties the table
    finder = WordFinder(min_proba=1e-2)
    before = finder.train(corpus).pairs()
    table = finder.find(corpus, remove_weak_pairs=True)
    total = sum(before.values())
    kept = {p: c for p, c in before.items() if math.log(c) - math.log(total) > math.log(1e-2)}
    assert finder.pairs() == kept and 0 < len(kept) < len(before)
    assert table.counts == discover_words(corpus, min_proba=1e-2).counts
    f = nz.Word_Finder(min_proba=1e-2)
    f.train(corpus)
    f.find(corpus, remove_weak_pairs=True)
    assert f.pairs == {} and dict(f.words) == table.counts


def test_finder_errors():
    with pytest.raises(EmptyCorpusError, match="call train"):
        WordFinder().find(["我们"])
    with pytest.raises(ValueError, match="not one string"):
        WordFinder().train("我们")
    with pytest.raises(ValueError, match="iterable of texts"):
        WordFinder().train(3)


def test_single_characters_and_counts_sum(corpus):
    table = discover_words(corpus, min_proba=1e-7)
    assert all(c > 0 for c in table.counts.values())
    assert {"的", "了"} <= set(table.counts)


def test_save_load_roundtrip_and_segment_dictionary(tmp_path, corpus):
    table = discover_words(corpus, min_proba=1e-4)
    path = tmp_path / "dict.txt"
    table.save(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    word, count = lines[0].split(" ")
    assert int(count) == max(table.counts.values())
    assert WordTable.load(path).counts == table.counts
    from jiema.text import Dictionary

    d = Dictionary.load(path)
    assert len(d) == len(table) and d.freq(word) == int(count)


def test_empty_and_degenerate_corpora():
    with pytest.raises(EmptyCorpusError, match="no characters"):
        discover_words([])
    with pytest.raises(EmptyCorpusError, match="no characters"):
        discover_words(["，。！", "   "])
    with pytest.raises(EmptyCorpusError, match="no two adjacent"):
        discover_words(["我", "们", "的，了"])


def test_bad_parameters_and_inputs():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="min_proba"):
        discover_words(["我们"], min_proba=0)
    with pytest.raises(ValidationError, match="min_proba"):
        discover_words(["我们"], min_proba=1.5)
    with pytest.raises(ValidationError, match="min_pmi"):
        discover_words(["我们"], min_pmi=-1)
    with pytest.raises(ValueError, match="read the corpus twice|reads the corpus twice"):
        discover_words(iter(["我们"]))
    with pytest.raises(ValueError, match="not one string"):
        discover_words("我们")
    with pytest.raises(ValueError, match="item 1 is int"):
        discover_words(["我们", 3])


def test_non_utf8_file_names_the_byte_offset(tmp_path):
    from jiema.errors import InputDecodeError

    path = tmp_path / "bad.txt"
    path.write_bytes("我们在北京\n".encode() + b"ab\xffcd\n")
    with pytest.raises(InputDecodeError) as info:
        discover_words(FileCorpus([path]))
    assert info.value.offset == len("我们在北京\n".encode()) + 2
    assert "bad.txt" in str(info.value)


def test_file_corpus_equals_list(tmp_path, corpus):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(corpus) + "\n", encoding="utf-8")
    assert discover_words(FileCorpus([path]), min_proba=1e-4).counts == \
        discover_words(corpus, min_proba=1e-4).counts


def test_logs_match_python_math_log():
    from jiema_templates.words import _logs

    values = np.array([1, 2, 3, 10**12 + 7, 3], dtype=np.int64)
    assert _logs(values).tolist() == [math.log(v) for v in values.tolist()]


def test_dictionary_drives_the_segment_plugin(tmp_path, corpus):
    segment = pytest.importorskip("jiema_segment")
    table = discover_words(corpus, min_proba=1e-4)
    path = tmp_path / "dict.txt"
    table.save(path)
    seg = segment.Segmenter(str(path), mode="dict")
    words = seg.cut("中国人民银行今天发布了经济数据")
    assert "".join(words) == "中国人民银行今天发布了经济数据"
    assert any(len(w) > 1 and w in table.counts for w in words)
