"""Aho-Corasick matching and the word lattice built from it."""

from __future__ import annotations

import math
import pickle
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema.errors import InvalidInputError, InvalidValueError, ShapeError
from jiema.lattice import WordLattice
from jiema.text.dictionary import Dictionary
from jiema.text.matching import DictionaryMatcher
from jiema.text.runs import find_runs


def brute_find(words, text):
    """Every (start, end, id) by scanning, ordered by end, start, id."""
    hits = []
    for i, w in enumerate(words):
        for s in range(len(text) - len(w) + 1):
            if text[s : s + len(w)] == w:
                hits.append((s + len(w), s, i))
    return [(s, e, i) for e, s, i in sorted(hits)]


def triples(starts, ends, ids):
    for a in (starts, ends, ids):
        assert a.dtype == np.int64
    return list(zip(starts.tolist(), ends.tolist(), ids.tolist(), strict=True))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="abc中", min_size=1, max_size=4), max_size=8, unique=True),
    st.text(alphabet="abc中x", max_size=30),
)
def test_find_reports_every_overlapping_occurrence_in_order(words, text):
    matcher = DictionaryMatcher(words)
    assert triples(*matcher.find(text)) == brute_find(words, text)


def test_find_matches_full_width_forms_with_original_offsets():
    d = Dictionary.loads("GDP 10\n增长 5\n")
    text = "今年ＧＤＰ增长"
    starts, ends, ids = DictionaryMatcher(d).find(text)
    assert [text[s:e] for s, e in zip(starts, ends, strict=True)] == ["ＧＤＰ", "增长"]
    assert ids.tolist() == [0, 1]


def test_words_with_one_key_all_match():
    d = Dictionary.loads("GDP 10\nＧＤＰ 5\n")
    assert triples(*DictionaryMatcher(d).find("GDP")) == [(0, 3, 0), (0, 3, 1)]
    assert triples(*DictionaryMatcher(d).find("xＧＤＰ")) == [(1, 4, 0), (1, 4, 1)]


def test_astral_characters_keep_offsets():
    matcher = DictionaryMatcher(["𠀀b", "b"])
    assert triples(*matcher.find("x𠀀bb")) == [(1, 3, 0), (2, 3, 1), (3, 4, 1)]


def test_automaton_rebuilds_after_edits():
    d = Dictionary.loads("ab 1\n")
    matcher = DictionaryMatcher(d)
    assert triples(*matcher.find("abc")) == [(0, 2, 0)]
    matcher.add_word("bc", 2)
    assert triples(*matcher.find("abc")) == [(0, 2, 0), (1, 3, 1)]
    d.del_word("ab")  # edits through the dictionary count too
    assert triples(*matcher.find("abc")) == [(1, 3, 1)]
    d.del_word("bc")
    assert triples(*matcher.find("abc")) == []


def test_empty_dictionary_and_empty_text():
    matcher = DictionaryMatcher([])
    assert triples(*matcher.find("abc")) == []
    assert triples(*DictionaryMatcher(["a"]).find("")) == []
    lat = matcher.lattice("")
    assert lat.n == 0 and lat.n_edges == 0


def test_bad_arguments():
    with pytest.raises(InvalidInputError):
        DictionaryMatcher("abc")
    with pytest.raises(InvalidInputError):
        DictionaryMatcher(["a"]).find(b"a")


def test_pickles_without_the_automaton():
    matcher = DictionaryMatcher(["ab", "b"])
    matcher.find("ab")
    clone = pickle.loads(pickle.dumps(matcher))
    assert clone.__dict__["_index"] is None
    assert triples(*clone.find("ab")) == triples(*matcher.find("ab"))


def edges(lat: WordLattice):
    return sorted(
        zip(lat.starts.tolist(), lat.ends.tolist(), lat.labels.tolist(), lat.scores.tolist(),
            strict=True)
    )


def test_lattice_scores_are_log_probs_and_oov_fills_uncovered_characters():
    d = Dictionary.loads("科学 100\n空间 50\n科学空间 34\n学 16\n")
    lat = DictionaryMatcher(d).lattice("科学空间的")
    assert isinstance(lat, WordLattice) and lat.n == 5
    lp, oov = d.log_probs(), d.oov_log_prob
    assert oov == pytest.approx(-math.log(200))
    assert edges(lat) == sorted([
        (0, 2, 0, lp[0]), (2, 4, 1, lp[1]), (0, 4, 2, lp[2]), (1, 2, 3, lp[3]),
        (0, 1, -1, oov), (2, 3, -1, oov), (3, 4, -1, oov), (4, 5, -1, oov),
    ])


def test_lattice_with_caller_scores_and_explicit_oov():
    d = Dictionary.loads("ab 1\nb 1\n")
    matcher = DictionaryMatcher(d)
    lat = matcher.lattice("abc", np.array([-1.0, -2.0]), runs=False)
    assert edges(lat) == [(0, 1, -1, -2.0), (0, 2, 0, -1.0), (1, 2, 1, -2.0), (2, 3, -1, -2.0)]
    lat = matcher.lattice("abc", [-1.0, -np.inf], runs=False, oov_score=-9.0)
    assert edges(lat) == [(0, 1, -1, -9.0), (0, 2, 0, -1.0), (1, 2, 1, -np.inf), (2, 3, -1, -9.0)]
    assert matcher.lattice("abc", single_chars=False, runs=False).n_edges == 2
    with pytest.raises(ShapeError, match="one entry per dictionary id"):
        matcher.lattice("abc", np.zeros(3))
    with pytest.raises(InvalidValueError):
        matcher.lattice("abc", oov_score=float("nan"))
    with pytest.raises(InvalidValueError):
        matcher.lattice("abc", np.array([0.0, np.nan]))


def test_runs_stay_whole():
    d = Dictionary.loads("GDP 10\nP增 10\nDP 10\n3 5\n14元 5\n增长 5\n")
    text = "GDP增长3.14元"
    lat = DictionaryMatcher(d).lattice(text, oov_score=-7.0, run_score=-3.0)
    got = edges(lat)
    ids = {w: d.id_of(w) for w in d}
    assert (0, 3, ids["GDP"], d.log_prob("GDP")) in got  # a word spanning the run exactly stays
    assert (0, 3, -1, -3.0) in got and (5, 9, -1, -3.0) in got  # one edge per run
    for s, e, _, _ in got:
        for rs, re_ in [(0, 3), (5, 9)]:
            assert not rs < s < re_ and not rs < e < re_
    labels = {lab for _, _, lab, _ in got}
    assert ids["P增"] not in labels and ids["DP"] not in labels
    assert ids["3"] not in labels and ids["14元"] not in labels
    assert (3, 5, ids["增长"], d.log_prob("增长")) in got


def test_one_character_run_is_its_own_single_char_edge():
    lat = DictionaryMatcher([]).lattice("中a文", oov_score=-5.0)
    assert edges(lat) == [(0, 1, -1, -5.0), (1, 2, -1, -5.0), (2, 3, -1, -5.0)]


def test_runs_off_allows_edges_inside():
    lat = DictionaryMatcher(["DP"]).lattice("GDP", runs=False)
    assert (1, 3, 0) in [(s, e, lab) for s, e, lab, _ in edges(lat)]


def reachable_end(lat: WordLattice) -> bool:
    reach = np.zeros(lat.n + 1, dtype=bool)
    reach[0] = True
    for e in range(1, lat.n + 1):
        lo, hi = lat.end_offsets[e], lat.end_offsets[e + 1]
        reach[e] = reach[lat.starts[lo:hi]].any()
    return bool(reach[lat.n])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="ab1.中文", min_size=1, max_size=4), max_size=8, unique=True),
    st.text(alphabet="ab1.中文,%", max_size=25),
)
def test_a_path_always_exists_and_no_edge_cuts_a_run(words, text):
    lat = DictionaryMatcher(words).lattice(text)
    assert reachable_end(lat)
    rs, re_ = find_runs(text)
    for s, e in zip(lat.starts.tolist(), lat.ends.tolist(), strict=True):
        assert not ((rs < s) & (s < re_)).any()
        assert not ((rs < e) & (e < re_)).any()
    # each character not inside a longer run has a one-character edge
    singles = set(lat.starts[lat.ends - lat.starts == 1].tolist())
    inside = {i for a, b in zip(rs.tolist(), re_.tolist(), strict=True) if b - a > 1
              for i in range(a, b)}
    assert set(range(len(text))) - inside <= singles


def test_lattice_decodes_with_viterbi():
    import jiema

    d = Dictionary.loads("科学 100\n空间 50\n科学空间 34\n")
    text = "科学空间"
    path = jiema.viterbi(DictionaryMatcher(d).lattice(text))
    assert path.labels.tolist() == [d.id_of("科学空间")]


def test_one_megabyte_line_is_linear():
    rng = np.random.default_rng(0)
    alphabet = np.array(list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出"))
    words = {"".join(rng.choice(alphabet, rng.integers(1, 5))) for _ in range(3000)}
    matcher = DictionaryMatcher(sorted(words))
    text = "".join(rng.choice(alphabet, 1_000_000)) + "GDP增长3.14%"
    matcher.lattice(text[:1000])  # build the automaton outside the timing
    t0 = time.perf_counter()
    lat = matcher.lattice(text)
    elapsed = time.perf_counter() - t0
    assert lat.n == len(text) and reachable_end_fast(lat, text)
    assert elapsed < 30, f"1 MB lattice took {elapsed:.1f}s"


def reachable_end_fast(lat: WordLattice, text: str) -> bool:
    """Edges go forward and none starts or ends strictly inside a run; so if every other
    boundary below n has an outgoing edge, n is reachable from 0."""
    has_out = np.zeros(lat.n + 1, dtype=bool)
    has_out[lat.starts] = True
    interior = np.zeros(lat.n + 1, dtype=bool)
    for a, b in zip(*find_runs(text), strict=True):
        interior[a + 1 : b] = True
    assert not interior[lat.starts].any() and not interior[lat.ends].any()
    return bool((has_out | interior)[: lat.n].all())


def test_compat_matching_folds_other_width_forms():
    assert triples(*DictionaryMatcher(["¥"], compat=True).find("价￥")) == [(1, 2, 0)]
    assert triples(*DictionaryMatcher(["¥"]).find("价￥")) == []


def codes_of(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="abcＡＢ中𠀀", min_size=1, max_size=4), max_size=8, unique=True),
    st.text(alphabet="abcＡＢ中𠀀x", max_size=30),
    st.booleans(),
)
def test_find_codes_is_find_on_code_points(words, text, compat):
    matcher = DictionaryMatcher(words, compat=compat)
    want = triples(*matcher.find(text))
    assert triples(*matcher.find_codes(codes_of(text))) == want
    assert triples(*matcher.find_codes(codes_of(text).astype(np.int64))) == want


def test_find_codes_normalized_skips_width_folding():
    matcher = DictionaryMatcher(["GDP", "ＧＤＰ", "b"])
    assert triples(*matcher.find_codes(codes_of("ＧＤＰ"))) == [(0, 3, 0), (0, 3, 1)]
    assert triples(*matcher.find_codes(codes_of("ＧＤＰ"), normalized=True)) == []


def test_find_codes_follows_edits_and_pickling():
    d = Dictionary.loads("ab 1\n")
    matcher = DictionaryMatcher(d)
    assert triples(*matcher.find_codes(codes_of("abc"))) == [(0, 2, 0)]
    matcher.add_word("bc", 2)
    assert triples(*matcher.find_codes(codes_of("abc"))) == [(0, 2, 0), (1, 3, 1)]
    clone = pickle.loads(pickle.dumps(matcher))
    assert clone.__dict__["_array_index"] is None
    assert triples(*clone.find_codes(codes_of("abc"))) == [(0, 2, 0), (1, 3, 1)]
    assert triples(*DictionaryMatcher([]).find_codes(codes_of("abc"))) == []
    assert triples(*matcher.find_codes(np.zeros(0, dtype=np.int64))) == []


def test_find_codes_bad_arguments():
    matcher = DictionaryMatcher(["a"])
    with pytest.raises(InvalidInputError):
        matcher.find_codes(np.array([[97]]))
    with pytest.raises(InvalidInputError):
        matcher.find_codes(np.array([97.0]))
    with pytest.raises(InvalidValueError):
        matcher.find_codes(np.array([-1]))
    with pytest.raises(InvalidValueError):
        matcher.find_codes(np.array([0x110000]))
