"""The tokenizer against nlp-zero's Tokenizer, and its lattice through the core."""

from __future__ import annotations

import jiema
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jiema_templates import Tokenizer, combine_aa123, discover_words


@settings(deadline=None, max_examples=40)
@given(st.lists(st.text(alphabet="ab1.中文x٣２", min_size=1, max_size=4), max_size=8))
def test_combine_aa123_matches_nlp_zero(nz, tokens):
    assert combine_aa123(tokens) == nz.Tokenizer({}).combine_Aa123(list(tokens))


def _nz_tokenizer(nz, counts):
    return nz.Tokenizer(nz.Trie(counts.items()))


@settings(deadline=None, max_examples=40,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="甲乙丙丁戊ab1 。，", max_size=20),
       counts=st.lists(st.integers(1, 10**6), min_size=9, max_size=9, unique=True))
def test_same_cut_as_nlp_zero(nz, text, counts):
    # distinct counts: no two cuts tie exactly (ties are broken differently, see the docs)
    words = ["甲", "乙", "甲乙", "乙丙", "甲乙丙", "丁戊", "ab", "b1", "丙丁"]
    table = dict(zip(words, counts, strict=True))
    assert Tokenizer(table).cut(text) == _nz_tokenizer(nz, table).tokenize(text)


def test_discovered_tokenizer_matches_nlp_zero_on_corpus(nz, corpus):
    table = discover_words(corpus, min_proba=1e-4)
    f = nz.Word_Finder(min_proba=1e-4)
    f.train(corpus)
    f.find(corpus)
    ours, theirs = table.tokenizer(), f.export_tokenizer()
    assert ours.cut_many(corpus) == [theirs.tokenize(t) for t in corpus]


def test_cut_many_equals_cut_and_joins_back():
    tok = Tokenizer({"北京": 5, "大学": 4, "北京大学": 3, "学生": 2})
    texts = ["北京大学生\n前来", "", "abc 12.5北京", "。"]
    many = tok.cut_many(texts)
    assert many == [tok.cut(t) for t in texts]
    assert ["".join(ws) for ws in many] == texts
    # nlp-zero: no one-character fallback where a word ends, so 北京大学|生 is no path
    assert tok.cut("北京大学生") == ["北京", "大", "学生"]


def test_lattice_is_a_core_word_lattice():
    tok = Tokenizer({"北京": 5, "大学": 4, "北京大学": 3})
    lat = tok.lattice("北京大学")
    assert isinstance(lat, jiema.WordLattice)
    path = jiema.viterbi(lat)
    assert [int(lat.ends[i]) for i in path.nodes] == [4]


def test_runs_modes():
    tok = Tokenizer({"价格": 3, "元": 2}, runs="core")
    assert tok.cut("价格3.14元") == ["价格", "3.14", "元"]
    nz_like = Tokenizer({"价格": 3, "元": 2})
    assert nz_like.cut("价格3.14元") == ["价格", "3", ".", "14", "元"]  # nlp-zero's rule
    assert nz_like.cut("价格314元") == ["价格", "314", "元"]


def test_bad_tables():
    with pytest.raises(ValueError, match="positive"):
        Tokenizer({"a": 0})
    with pytest.raises(ValueError, match="runs"):
        Tokenizer({"a": 1}, runs="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="str"):
        Tokenizer({"a": 1}).cut(3)  # type: ignore[arg-type]


def test_pickles_for_dask_workers():
    import pickle

    tok = Tokenizer({"北京": 5, "大学": 4, "北京大学": 3})
    again = pickle.loads(pickle.dumps(tok))
    assert again.cut_many(["北京大学", "大学北京"]) == tok.cut_many(["北京大学", "大学北京"])


_ALPHABET = "甲乙丙丁戊GDPＧＤＰ1１.。， 　\n"


@settings(deadline=None, max_examples=50)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=12), max_size=6),
       st.sampled_from(["nlp-zero", "none", "core"]))
def test_encode_many_is_cut_many_as_ids(texts, runs):
    tok = Tokenizer({"甲乙": 5, "乙丙": 4, "GDP": 3, "ＧＤＰ": 2, "丁": 6, "1": 2, "P1": 1,
                     "甲": 1}, runs=runs)
    vocab, ids, lengths = tok.encode_many(texts)
    cuts = tok.cut_many(texts)
    assert lengths.tolist() == [len(ws) for ws in cuts]
    assert [vocab[i] for i in ids.tolist()] == [w for ws in cuts for w in ws]
    assert len(set(vocab)) == len(vocab)


@settings(deadline=None, max_examples=50)
@given(text=st.text(alphabet="甲乙丙ab1ＡＢ。， \n", max_size=30),
       words=st.lists(st.text(alphabet="甲乙丙abＡＢ1", min_size=1, max_size=4), min_size=1,
                      max_size=12, unique=True))
def test_lattice_holds_what_the_core_matcher_finds(text, words):
    # the tokenizer matches with DictionaryMatcher.find_codes: find's matches on width-normalised
    # text, minus those across a split character
    from jiema.text import Dictionary, DictionaryMatcher

    tok = Tokenizer({w: i + 1 for i, w in enumerate(words)})
    lat = tok.lattice(text)
    mine = {(int(s), int(e)) for s, e, lab in zip(lat.starts, lat.ends, lat.labels, strict=True)
            if lab >= 0}
    starts, ends, _ = DictionaryMatcher(Dictionary.from_words(words)).find(text)
    theirs = {(int(s), int(e)) for s, e in zip(starts, ends, strict=True)
              if not any(ch in "。， \n" for ch in text[s:e])}
    assert mine == theirs
    # one fallback edge exactly where no word ends, split characters on their own
    ended = {e for _, e in mine}
    singles = {(int(s), int(e)) for s, e, lab in zip(lat.starts, lat.ends, lat.labels,
                                                       strict=True) if lab < 0}
    assert singles == {(p, p + 1) for p, ch in enumerate(text)
                       if ch in "。， \n" or p + 1 not in ended}


@settings(deadline=None, max_examples=60)
@given(st.text(alphabet=st.one_of(st.sampled_from("aZ9.。，、！？\n ２٣𝟎中"), st.characters()),
               max_size=40))
def test_code_flags_are_char_flags(text):
    # the array path (a BMP table, astral characters one by one) flags as the per-character rule
    from jiema_templates.aa123 import char_flags, code_flags

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    assert code_flags(codes.astype(np.int64)).tolist() == [char_flags(ch) for ch in text]


def test_combine_aa123_rejects_empty_tokens():
    from jiema.errors import InvalidInputError

    assert combine_aa123([]) == []
    with pytest.raises(InvalidInputError):
        combine_aa123(["a", ""])
