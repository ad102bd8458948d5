"""Template discovery against nlp-zero's Template_Finder."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jiema_templates import (
    EmptyCorpusError,
    Template,
    TemplateFinder,
    TemplateSet,
    discover_templates,
    discover_words,
)


def nz_templates(nz, texts, tokenize, **kw):
    tf = nz.Template_Finder(tokenize, **kw)
    tf.train(texts)
    tf.find(texts)
    return {Template(tuple(t.words)): c for t, c in tf.templates.items()}


@pytest.mark.parametrize("kw", [dict(window=5), dict(window=2, min_proba=1e-3, min_pmi=1.0),
                                dict(window=8, min_proba=1e-6, min_pmi=0.5)])
def test_same_templates_as_nlp_zero(nz, corpus, kw):
    table = discover_words(corpus, min_proba=1e-4)
    tok = table.tokenizer()
    mine = discover_templates(corpus, tok, **kw, partition_size=17)
    assert mine.counts == nz_templates(nz, corpus, tok.cut, **kw)
    assert any(not t.is_trivial() and t.length > 1 for t in mine.counts)


@settings(deadline=None, max_examples=20,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), window=st.integers(1, 6),
       min_pmi=st.sampled_from([0.0, 1.0, 2.0]), filtering=st.booleans())
def test_same_templates_as_nlp_zero_random(nz, make_corpus, seed, window, min_pmi, filtering):
    texts = make_corpus(seed, lines=30)
    tok = discover_words(texts, min_proba=1e-3).tokenizer()
    kw = dict(window=window, min_proba=1e-4, min_pmi=min_pmi)
    tf = nz.Template_Finder(tok.cut, **kw)
    tf.train(texts, filtering=filtering)
    tf.find(texts, filtering=filtering)
    expected = {Template(tuple(t.words)): c for t, c in tf.templates.items()}
    mine = discover_templates(texts, tok, **kw, filtering=filtering, partition_size=9)
    assert mine.counts == expected


def test_with_nlp_zero_tokenizer_and_dask(nz, corpus):
    distributed = pytest.importorskip("distributed")
    f = nz.Word_Finder(min_proba=1e-4)
    f.train(corpus)
    f.find(corpus)
    tokenize = f.export_tokenizer().tokenize
    expected = nz_templates(nz, corpus, tokenize)
    assert discover_templates(corpus, tokenize).counts == expected
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1,
                            dashboard_address=None) as client:
        remote = discover_templates(corpus, discover_words(corpus, min_proba=1e-4).tokenizer(),
                                    backend="dask", scheduler=client, partition_size=11)
    local = discover_templates(corpus, discover_words(corpus, min_proba=1e-4).tokenizer())
    assert remote.counts == local.counts


def test_incremental_training_where_nlp_zero_crashes(nz, make_corpus):
    a, b = make_corpus(3, lines=60), make_corpus(4, lines=60)
    tok = discover_words(a + b, min_proba=1e-4).tokenizer()
    tf = nz.Template_Finder(tok.cut, min_proba=2e-3)
    tf.train(a)
    tf.find(a)
    assert tf.skip_grams == {}  # remove_weak_grams=True empties its table
    with pytest.raises(KeyError):
        tf.train(b)
    finder = TemplateFinder(tok, min_proba=2e-3)
    assert finder.train(a).find(a).counts == discover_templates(a, tok, min_proba=2e-3).counts
    both = finder.train(b).find(a + b, remove_weak_grams=True)
    again = nz.Template_Finder(tok.cut, min_proba=2e-3)
    again.train(a)
    again.train(b)
    again.find(a + b, remove_weak_grams=False)
    assert both.counts == {Template(tuple(t.words)): c for t, c in again.templates.items()}
    # the rare skip-grams are gone from the counts, the others stay (what nlp-zero meant)
    total = sum(again.skip_grams.values())
    frequent = sum(math.log(c) - math.log(total) > math.log(2e-3)
                   for c in again.skip_grams.values())
    assert 0 < finder._counts.pairs()[0].shape[0] == frequent < len(again.skip_grams)


def test_trivial_marking_and_file_roundtrip(tmp_path, corpus):
    table = discover_words(corpus, min_proba=1e-4)
    found = discover_templates(corpus, table.tokenizer())
    assert Template((None, "的", None)).is_trivial()
    assert not Template((None, "可以", None, "吗")).is_trivial()
    assert str(Template((None, "可以", None, "吗"))) == "[X]可以[X]吗"
    found.words = "words.txt"
    path = tmp_path / "t.txt"
    found.save(path)
    back = TemplateSet.load(path)
    assert back.counts == found.counts
    assert back.words == str(tmp_path / "words.txt")
    text = path.read_text(encoding="utf-8")
    assert "\ttrivial\n" in text


def test_errors(tmp_path):
    tok = lambda s: list(s)  # noqa: E731
    with pytest.raises(EmptyCorpusError):
        discover_templates([], tok)
    with pytest.raises(EmptyCorpusError, match="no two words"):
        discover_templates(["我", "，你"], tok)
    with pytest.raises(EmptyCorpusError, match="call train"):
        TemplateFinder(tok).find(["我们"])
    with pytest.raises(ValueError, match="in-process"):
        TemplateFinder(tok).train(["我们"], backend="dask", spill=str(tmp_path))
    with pytest.raises(ValueError, match="window"):
        discover_templates(["我们"], tok, window=0)
    bad = tmp_path / "bad.txt"
    bad.write_text("x\t[X] 的\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        TemplateSet.load(bad)
    with pytest.raises(ValueError, match="two slots"):
        Template((None, None, "的"))
