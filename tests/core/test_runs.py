"""Digit / Latin runs: what belongs, the edges, merging split runs back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema.text.runs import RUN_PATTERN, find_runs, merge_runs
from jiema.text.width import normalize_width


def spans(text):
    starts, ends = find_runs(text)
    assert starts.dtype == ends.dtype == "int64"
    return [text[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("价格3.14元", ["3.14"]),
        ("共1,000人", ["1,000"]),
        ("1,000,000", ["1,000,000"]),
        ("增长50%的", ["50%"]),
        ("COVID-19疫情", ["COVID-19"]),
        ("snake_case", ["snake_case"]),
        ("10:30开会", ["10:30"]),
        ("２００５年", ["２００５"]),
        ("ＧＤＰ增长５０％", ["ＧＤＰ", "５０％"]),
        ("３．１４", ["３．１４"]),
        ("到2005.", ["2005"]),  # a trailing period is not part of the number
        ("到２００５．", ["２００５"]),
        (".5", ["5"]),
        ("-5度", ["5"]),  # no sign
        ("〇一二三", []),  # Chinese numerals are not run characters
        ("New York", ["New", "York"]),
        ("a,b", ["a", "b"]),  # a comma joins digits only
        ("3,a", ["3", "a"]),
        ("x__y", ["x", "y"]),  # one joiner between atoms, never two
        ("50%50", ["50%", "50"]),  # % ends a run
        ("a%", ["a"]),  # % only after a digit
        ("v1.2.3.", ["v1.2.3"]),
        ("café", ["caf"]),  # ASCII letters only
        ("٣٤", []),  # other scripts' digits are not included
        ("", []),
        ("中文", []),
        ("x", ["x"]),
    ],
)
def test_run_edges(text, expected):
    assert spans(text) == expected


def test_offsets_are_offsets_in_the_original():
    text = "在ＷＷＷ．ｃｏｍ看"
    starts, ends = find_runs(text)
    assert (starts.tolist(), ends.tolist()) == ([1], [8])
    norm = normalize_width(text)
    assert find_runs(norm, normalized=True)[0].tolist() == [1]


alphabet = st.sampled_from(list("ab09AZ.,-_:%　中一 ０ｚ．，％"))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=alphabet, max_size=40))
def test_runs_are_sorted_disjoint_and_cover_every_atom(text):
    starts, ends = find_runs(text)
    norm = normalize_width(text)
    assert (starts < ends).all()
    assert (starts[1:] >= ends[:-1]).all()
    covered = [False] * len(text)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        assert RUN_PATTERN.fullmatch(norm[a:b])
        assert norm[a].isascii() and norm[a].isalnum()
        assert norm[b - 1].isascii() and (norm[b - 1].isalnum() or norm[b - 1] == "%")
        covered[a:b] = [True] * (b - a)
        # maximal: it cannot be extended by the next character
        if b < len(norm):
            assert not RUN_PATTERN.fullmatch(norm[a : b + 1])
    for i, c in enumerate(norm):
        if c.isascii() and c.isalnum():
            assert covered[i]


def test_merge_runs_joins_split_numbers_only():
    assert merge_runs(["价格", "3", ".", "14", "元"]) == ["价格", "3.14", "元"]
    assert merge_runs(["１", "２", "年"]) == ["１２", "年"]
    assert merge_runs(["COVID", "-", "19", "疫情"]) == ["COVID-19", "疫情"]
    assert merge_runs(["2005", "。"]) == ["2005", "。"]
    assert merge_runs(["a", " ", "b"]) == ["a", " ", "b"]
    assert merge_runs(["中", "文"]) == ["中", "文"]
    assert merge_runs(["ab"]) == ["ab"] and merge_runs([]) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=alphabet, min_size=1, max_size=5), max_size=10))
def test_merge_runs_keeps_text_and_leaves_no_cut_inside_a_run(tokens):
    merged = merge_runs(tokens)
    text = "".join(tokens)
    assert "".join(merged) == text
    starts, ends = find_runs(text)
    cut = 0
    for token in merged[:-1]:
        cut += len(token)
        assert not ((starts < cut) & (cut < ends)).any()
    # only cuts inside runs are removed
    original = {sum(len(t) for t in tokens[: i + 1]) for i in range(len(tokens) - 1)}
    kept = {sum(len(t) for t in merged[: i + 1]) for i in range(len(merged) - 1)}
    inside = {c for c in original if ((starts < c) & (c < ends)).any()}
    assert kept == original - inside
