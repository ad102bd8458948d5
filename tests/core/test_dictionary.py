"""jieba-format dictionaries: parsing, errors with line numbers, ids, log-probs, round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema.errors import (
    DictionaryFormatError,
    InputDecodeError,
    InvalidInputError,
    UnknownNameError,
)
from jiema.text.dictionary import Dictionary, Entry, load_weighted_words


def test_load_file_with_bom_blank_lines_comments_and_tags(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_bytes("\ufeff科学 100 n\r\n\n# a comment\n空间 50\n云计算 n\n  \n学 3 v\n".encode())
    d = Dictionary.load(path)
    assert list(d) == ["科学", "空间", "云计算", "学"]
    assert [d.id_of(w) for w in d] == [0, 1, 2, 3]
    assert d.get("科学") == Entry(0, 100, "n")
    assert d.get("空间") == Entry(1, 50, None)
    assert d.tag("云计算") == "n"  # two fields, the second a tag: frequency suggested
    assert d.freq("云计算") >= 1
    assert d.total == 100 + 50 + d.freq("云计算") + 3
    assert len(d) == 4 and "学" in d and "x" not in d


def test_loads_and_lines_sources_agree():
    text = "a 1\nb 2 x\n"
    assert Dictionary.loads(text).dumps() == Dictionary.load(["a 1\n", "b 2 x\n"]).dumps() == text


def test_comments_can_be_switched_off():
    d = Dictionary.loads("#tag 5\n", comments=False)
    assert "#tag" in d and d.freq("#tag") == 5
    assert len(Dictionary.loads("#tag 5\n")) == 0
    with pytest.raises(DictionaryFormatError, match="'#tag'"):
        d.dumps()


def test_later_duplicate_wins_but_keeps_its_id_and_tag():
    d = Dictionary.loads("a 1 n\nb 2\na 7\n")
    assert d.get("a") == Entry(0, 7, "n")
    assert d.total == 9


def test_log_probs_follow_frequencies_and_total():
    d = Dictionary.loads("a 3\nb 1\nc 0\n")
    assert d.total == 4
    assert d.log_prob("a") == pytest.approx(math.log(3 / 4))
    assert d.log_prob("c") == pytest.approx(math.log(1 / 4))  # freq 0 scores like 1 (jieba)
    assert d.log_prob("zzz") == -math.inf
    assert d.oov_log_prob == pytest.approx(-math.log(4))
    lp = d.log_probs()
    assert lp.dtype == np.float64
    np.testing.assert_allclose(lp, [d.log_prob(w) for w in d.words])
    assert d.words.tolist() == ["a", "b", "c"]
    assert d.freqs.tolist() == [3, 1, 0]
    with pytest.raises(ValueError):
        lp[0] = 0.0  # read-only


def test_ids_stay_stable_across_delete_and_re_add():
    d = Dictionary.loads("a 3\nb 1\nc 2\n")
    assert d.del_word("b") is True
    assert d.del_word("b") is False
    assert "b" not in d and len(d) == 2 and d.vocab_size == 3
    assert d.total == 5
    assert d.log_probs()[1] == -math.inf
    assert d.freqs[1] == 0
    assert list(d) == ["a", "c"]
    with pytest.raises(UnknownNameError):
        d.id_of("b")
    with pytest.raises(KeyError):
        d.freq("b")
    assert d.add_word("d", 4) == 3
    assert d.add_word("b", 6) == 1
    assert d.id_of("c") == 2 and d.total == 15
    assert Dictionary.loads(d.dumps()).get("d") == Entry(3, 4, None)


def test_version_changes_on_every_edit():
    d = Dictionary()
    seen = {d.version}
    d.add_word("a", 1)
    seen.add(d.version)
    d.add_word("a", 2)
    seen.add(d.version)
    d.del_word("a")
    seen.add(d.version)
    assert len(seen) == 4


def test_suggested_frequency_makes_the_word_beat_its_split():
    d = Dictionary.loads("科学 100\n空间 50\n")
    suggested = d.suggest_freq("科学空间")
    assert suggested == int(100 / 150 * 50 / 150 * 150) + 1 == 34
    d.add_word("科学空间")
    assert d.freq("科学空间") == 34
    assert d.log_prob("科学空间") > d.log_prob("科学") + d.log_prob("空间")
    # never lowers an existing frequency
    d.add_word("科学空间", 1000)
    d.add_word("科学空间")
    assert d.freq("科学空间") == 1000
    # unknown characters count as frequency 1; a lone character gets 1
    assert Dictionary.loads("a 10\n").suggest_freq("xy") == 1
    assert Dictionary().suggest_freq("x") == 1


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("a 3.5", "frequency '3.5'"),
        ("a -1", "frequency '-1'"),
        ("a 1e3", "frequency '1e3'"),
        ("a ５", "frequency '５'"),  # ASCII digits only
        ("a 1 n extra", "too many fields (4)"),
        ("a x 3", "frequency 'x'"),
    ],
)
def test_each_malformed_line_kind_is_named(line, what):
    with pytest.raises(DictionaryFormatError, match="line 2") as info:
        Dictionary.load(["ok 1", line])
    assert what in str(info.value)
    assert info.value.problems[0][0] == 2


def test_all_malformed_lines_are_reported_at_once_with_a_cap(tmp_path):
    path = tmp_path / "bad.txt"
    lines = ["good 1"] + [f"w{i} 1.5" for i in range(25)] + ["fine 2"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DictionaryFormatError) as info:
        Dictionary.load(path)
    msg = str(info.value)
    assert str(path) in msg and "25 malformed lines" in msg
    assert "line 2:" in msg and "line 21:" in msg and "line 22:" not in msg
    assert "and 5 more" in msg
    assert len(info.value.problems) == 25


def test_non_utf8_dictionary_names_file_and_byte_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ok 1\ncaf\xe9 2\n")
    with pytest.raises(InputDecodeError) as info:
        Dictionary.load(path)
    assert info.value.file == str(path) and info.value.offset == 8
    assert "byte offset 8" in str(info.value)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("",), "non-empty"),
        (("a b",), "whitespace"),
        (("a", -1), "non-negative"),
        (("a", True), "non-negative"),
        (("a", 1.5), "non-negative"),
        (("a", 1, "n x"), "tag"),
    ],
)
def test_add_word_rejects_what_a_file_cannot_hold(args, match):
    with pytest.raises(InvalidInputError, match=match):
        Dictionary().add_word(*args)


def test_add_word_accepts_numpy_integers():
    d = Dictionary()
    d.add_word("a", np.int64(5))
    assert d.freq("a") == 5 and type(d.freq("a")) is int


words = st.text(
    alphabet=st.characters(blacklist_categories=("Z", "C"), blacklist_characters="#"),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            words,
            st.integers(0, 10**12),
            st.one_of(st.none(), st.from_regex(r"[a-z]{1,3}", fullmatch=True)),
        ),
        max_size=15,
    )
)
def test_save_load_round_trip(tmp_path_factory, entries):
    d = Dictionary(entries)
    path = tmp_path_factory.mktemp("rt") / "d.txt"
    d.save(path)
    back = Dictionary.load(path)
    assert list(back.items()) == list(d.items())
    assert back.total == d.total


def test_weighted_words(tmp_path):
    path = tmp_path / "hard.txt"
    text = "\ufeff科学空间,10\n\n# note\n苹果\n 香蕉 , 2.5 \n科学空间,20\n"
    path.write_text(text, encoding="utf-8")
    assert load_weighted_words(path, default=5) == {"科学空间": 20.0, "苹果": 5.0, "香蕉": 2.5}


def test_weighted_words_default_may_depend_on_the_word():
    lines = ["科学空间", "号", "香蕉,2"]
    got = load_weighted_words(lines, default=lambda w: 10.0 if len(w) > 1 else 1.0)
    assert got == {"科学空间": 10.0, "号": 1.0, "香蕉": 2.0}


def test_weighted_words_report_every_bad_line(tmp_path):
    path = tmp_path / "hard.txt"
    path.write_text("a,1\n,3\nb,x\nc,0\nd,-2\ne,1,2\nf,inf\n", encoding="utf-8")
    with pytest.raises(DictionaryFormatError) as info:
        load_weighted_words(path, default=1)
    msg = str(info.value)
    assert str(path) in msg and "6 malformed lines" in msg
    assert [n for n, _ in info.value.problems] == [2, 3, 4, 5, 6, 7]
    assert "empty word" in msg and "too many fields" in msg and "'x'" in msg


def test_weighted_words_non_utf8(tmp_path):
    path = tmp_path / "hard.txt"
    path.write_bytes(b"\xef\xbb\xbfab,1\n\xff\n")
    with pytest.raises(InputDecodeError) as info:
        load_weighted_words(path, default=1)
    assert info.value.offset == 8
