"""Template discovery against nlp-zero's Template_Finder."""

from __future__ import annotations

import pytest
from jiema_templates import (
    EmptyCorpusError,
    Template,
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
    with pytest.raises(ValueError, match="window"):
        discover_templates(["我们"], tok, window=0)
    bad = tmp_path / "bad.txt"
    bad.write_text("x\t[X] 的\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        TemplateSet.load(bad)
    with pytest.raises(ValueError, match="two slots"):
        Template((None, None, "的"))
