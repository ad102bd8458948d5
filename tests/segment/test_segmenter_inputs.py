"""Both segmenter modes take and refuse the same inputs, with the same one-line errors."""

from __future__ import annotations

import pytest
from jiema.errors import InvalidInputError
from jiema_segment import Segmenter


@pytest.fixture(scope="module", params=["dict", "fcn"])
def seg(request):
    if request.param == "fcn":
        pytest.importorskip("torch")
    return Segmenter(mode=request.param)


@pytest.mark.parametrize("text, words", [
    ("  ", [" ", " "]),
    ("a  b", ["a", " ", " ", "b"]),
    ("\u3000", ["\u3000"]),
    ("", []),
])
def test_whitespace_is_one_word_a_character_in_every_mode(seg, text, words):
    assert seg.cut(text) == words


def test_lone_surrogates_are_cut_not_an_encoding_error(seg):
    words = seg.cut("我\ud800们")
    assert "".join(words) == "我\ud800们"


@pytest.mark.parametrize("args, message", [
    (("",), "non-empty"),
    (("a b",), "whitespace"),
    (("好的", -5), "non-negative"),
    (("好的", 1.5), "non-negative"),
    (("好的", None, "a b"), "tag"),
])
def test_add_word_refuses_the_same_words_in_every_mode(seg, args, message):
    with pytest.raises(InvalidInputError, match=message):
        seg.add_word(*args)


def test_a_hard_factor_that_is_no_number_is_a_one_line_error():
    pytest.importorskip("torch")
    with pytest.raises(InvalidInputError, match="factor of 'w' must be a number"):
        Segmenter(mode="fcn", hard={"w": "abc"})
