"""Width normalisation: one character in, one out, full-width ASCII forms folded."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema.text.width import _VECTOR_THRESHOLD, normalize_codes, normalize_width, width_table


def test_every_fullwidth_ascii_form_maps_to_ascii():
    full = "".join(chr(cp) for cp in range(0xFF01, 0xFF5F))
    ascii_ = "".join(chr(cp) for cp in range(0x21, 0x7F))
    assert normalize_width(full) == ascii_
    assert normalize_width("\u3000") == " "
    assert normalize_width("ＧＤＰ２００５年，增长５０％") == "GDP2005年,增长50%"


def test_chinese_and_other_characters_unchanged():
    text = "中文。、〇一二“”…—￥ｱ𠀀"
    assert normalize_width(text) == text  # ￥ ｱ only with compat


def test_compat_folds_other_width_forms():
    assert normalize_width("￥ｱ￩", compat=True) == "¥ア←"
    table = width_table(True)
    assert all(len(chr(v)) == 1 for v in table.values())
    assert set(width_table(False).items()) <= set(table.items())


def test_long_text_takes_the_vector_path_with_same_result():
    chunk = "中ＡＢ　１２ｘ￥𠀀\udc80"
    text = chunk * (_VECTOR_THRESHOLD // len(chunk) + 5)
    assert len(text) > _VECTOR_THRESHOLD
    for compat in (False, True):
        got = normalize_width(text, compat=compat)
        assert got == text.translate(width_table(compat))
        assert len(got) == len(text)


texts = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),
        st.sampled_from("中文　abc12 。\U00020000"),
        st.characters(),
    ),
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(texts, st.booleans())
def test_one_char_in_one_char_out(text, compat):
    got = normalize_width(text, compat=compat)
    assert len(got) == len(text)
    assert got == "".join(normalize_width(c, compat=compat) for c in text)
    long = text * (_VECTOR_THRESHOLD // max(len(text), 1) + 1)
    assert normalize_width(long, compat=compat) == got * (len(long) // max(len(text), 1))


@settings(max_examples=100, deadline=None)
@given(texts, st.booleans())
def test_normalize_codes_is_normalize_width_on_code_points(text, compat):
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    want = normalize_width(text, compat=compat)
    got = normalize_codes(codes, compat=compat)
    assert got.dtype == np.uint32
    assert got.tobytes().decode("utf-32-le", "surrogatepass") == want
    wide = normalize_codes(codes.astype(np.int64), compat=compat)
    assert wide.dtype == np.int64 and wide.tolist() == got.tolist()
