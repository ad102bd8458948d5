"""The OCR charset: size, stable ids, NFKC folding of look-alike characters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from jiema_ocr.charset import Charset, default_charset, gb2312_hanzi, normalize_char

CS = default_charset()


def test_gb2312_levels_have_their_published_sizes() -> None:
    assert len(gb2312_hanzi((1,))) == 3755
    assert len(gb2312_hanzi((2,))) == 3008
    hanzi = gb2312_hanzi()
    assert len(hanzi) == len(set(hanzi)) == 6763
    assert hanzi[0] == "啊" and hanzi[3754] == "座" and hanzi[3755] == "亍"
    assert all(len(h.encode("gb2312")) == 2 for h in hanzi)


def test_default_charset_holds_hanzi_digits_letters_punctuation_with_stable_ids() -> None:
    assert len(CS) == 6877 + 12
    assert CS.labels[6876] == gb2312_hanzi()[-1]  # the first model's 6,877 ids are unchanged
    assert CS.id("℃") == 6877 and CS.id("镕") == 6887
    assert CS.id("0") == 0 and CS.id("9") == 9 and CS.id("A") == 10 and CS.id("a") == 36
    assert CS.label(CS.id("啊")) == "啊"
    for ch in "，。、；：？！“”（）《》【】—…·%+-.@/":
        assert ch in CS, ch
    assert set(gb2312_hanzi()) <= set(CS.labels)


def test_look_alikes_share_a_class_and_labels_are_canonical() -> None:
    assert CS.id(",") == CS.id("，") and CS.label(CS.id(",")) == "，"
    assert CS.id("１") == CS.id("1") and CS.id("Ａ") == CS.id("A")
    assert CS.id("(") == CS.id("（")
    assert all(normalize_char(c) == c for c in CS.labels)
    assert CS.id("〖") is None and "〖" not in CS
    assert normalize_char("℃") == "℃" and normalize_char("Ⅱ") == "Ⅱ"  # NFKC would give two


def test_encode_marks_unknown_characters() -> None:
    ids = CS.encode("电视〖", unknown=-1)
    assert ids.tolist()[:2] == [CS.id("电"), CS.id("视")] and ids[2] == -1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(CS.labels), max_size=20))
def test_decode_inverts_encode(chars: list[str]) -> None:
    text = "".join(chars)
    assert CS.decode(CS.encode(text)) == text


def test_duplicate_labels_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError):
        Charset(["a", "a"])
