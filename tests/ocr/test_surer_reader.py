"""The span-by-span merge of the cut-and-classify reading and the whole-line (CTC) reading."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from jiema_ocr.results import GlyphResult, LineResult
from jiema_ocr.surer_reader import SurerReader, merged_reading


def _line(text: str, confidence: float | list[float], y: int = 0) -> LineResult:
    """A line whose glyphs stand 10 px apart; one confidence for all, or one per glyph."""
    confs = confidence if isinstance(confidence, list) else [confidence] * len(text)
    glyphs = [GlyphResult((10 * k, y, 10 * k + 8, y + 10), ch, p, [(ch, p)])
              for k, (ch, p) in enumerate(zip(text, confs, strict=True))]
    return LineResult((0, y, 10 * len(text), y + 10), text, float(np.mean(confs)), glyphs)


def _line_at(text: str, confidences: list[float], spans: list[tuple[int, int]]) -> LineResult:
    """A line whose glyphs stand where `spans` (x0, x1) say."""
    glyphs = [GlyphResult((x0, 0, x1, 10), ch, p, [(ch, p)])
              for ch, p, (x0, x1) in zip(text, confidences, spans, strict=True)]
    return LineResult((spans[0][0], 0, spans[-1][1], 10), text, float(np.mean(confidences)),
                      glyphs)


def test_where_the_readings_differ_the_span_its_reader_is_surer_of_wins() -> None:
    # the news screenshot's line: 化 cut in two, all else read right, and the cut reading's mean
    # confidence still the higher
    cut = _line("深讹做荜委员会", [0.99, 0.4, 0.5, 0.45, 0.99, 0.99, 0.99])
    whole = _line("深化改革委员", [0.8, 0.7, 0.7, 0.7, 0.8, 0.8])
    assert cut.confidence > whole.confidence
    merged = merged_reading(cut, whole)
    assert merged is not None and merged.text == "深化改革委员会"
    assert merged.glyphs[0] is cut.glyphs[0] and merged.glyphs[1] is whole.glyphs[1]
    assert merged.glyphs[-1] is cut.glyphs[-1]  # only the cut reader saw it, and is sure
    assert merged.confidence == np.mean([g.confidence for g in merged.glyphs])
    # a span only the cut reader saw stays when it is sure enough of it
    assert merged_reading(_line("越是繁重", [0.9, 0.9, 0.6, 0.9]), _line("越是重", 0.9)).text \
        == "越是繁重"
    assert merged_reading(_line("越是繁重", [0.9, 0.9, 0.1, 0.9]), _line("越是重", 0.9)).text \
        == "越是重"
    # ... but what only the line recogniser saw is left out, however sure it is
    assert merged_reading(_line("越是重", 0.9), _line("越是繁重", [0.9, 0.9, 0.99, 0.9])).text \
        == "越是重"
    # ... unless it is punctuation it is sure of (cutting glues a 、 to its neighbour)
    assert merged_reading(_line("李鹏朱", 0.9), _line("李鹏、朱", [0.9, 0.9, 0.9, 0.9])).text \
        == "李鹏、朱"
    assert merged_reading(_line("李鹏朱", 0.9), _line("李鹏、朱", [0.9, 0.9, 0.5, 0.9])).text \
        == "李鹏朱"
    assert merged_reading(_line("李鹏朱", 0.9), _line("李鹏、朱", [0.9, 0.9, 0.7, 0.9])).text \
        == "李鹏、朱"


def test_an_ascii_sign_only_the_cut_reader_saw_at_a_line_end_must_be_surer() -> None:
    whole = _line("生活馆", 0.9)
    # a shop sign's shadow read as ' after the last glyph: unsure enough to go at an end ...
    assert merged_reading(_line("生活馆'", [1.0, 1.0, 0.73, 0.46]), whole).text == "生活馆"
    assert merged_reading(_line(".生活馆", [0.5, 1.0, 1.0, 0.73]), whole).text == "生活馆"
    # ... but kept when sure, inside the line, or when it is a hanzi
    assert merged_reading(_line("生活馆'", [1.0, 1.0, 0.73, 0.7]), whole).text == "生活馆'"
    assert merged_reading(_line("生活-馆", [1.0, 1.0, 0.46, 0.73]), whole).text == "生活-馆"
    assert merged_reading(_line("生活馆店", [1.0, 1.0, 0.73, 0.46]), whole).text == "生活馆店"


def test_spans_of_one_length_are_merged_glyph_for_glyph() -> None:
    # the news screenshot: 力量。 cut as 力量囗 and recognised as 力显。, each sure of another glyph
    cut = _line("力量囗要", [1.0, 0.97, 0.49, 0.99])
    whole = _line("力显。要", [0.92, 0.39, 0.99, 0.68])
    merged = merged_reading(cut, whole)
    assert merged is not None and merged.text == "力量。要"
    assert merged.glyphs[1] is cut.glyphs[1] and merged.glyphs[2] is whole.glyphs[2]
    # spans of different lengths are still chosen whole
    assert merged_reading(_line("力量囗要", [1.0, 0.97, 0.49, 0.99]),
                          _line("力显。。要", [0.92, 0.39, 0.99, 0.2, 0.68])).text == "力量囗要"


def test_of_two_spans_of_unlike_length_the_longer_wins_by_a_margin() -> None:
    from jiema_ocr.surer_reader import LONGER_SPAN_MARGIN

    # 驱动 cut as one unsure glyph, recognised as two a little less surely on average
    cut = _line("创新驰发展", [1.0, 1.0, 0.7, 1.0, 1.0])
    whole = _line("创新驱动发展", [1.0, 1.0, 0.65, 0.7, 1.0, 1.0])
    assert 0.7 - LONGER_SPAN_MARGIN < 0.675 < 0.7
    assert merged_reading(cut, whole).text == "创新驱动发展"
    # ... and a longer cut span the same way, against a shorter recognised one
    assert merged_reading(whole, cut).text == "创新驱动发展"
    # well below the shorter span's confidence the longer span still loses
    assert merged_reading(cut, _line("创新驱动发展", [1.0, 1.0, 0.5, 0.6, 1.0, 1.0])).text \
        == "创新驰发展"


def test_touching_digits_cut_as_one_letter_give_way_to_the_recognisers_digits() -> None:
    # 2000 in a proportional font: 00 cut as one glyph and read m, surer than the recogniser
    whole = _line("2000年", [0.99, 1.0, 0.85, 0.92, 0.96])
    cut = _line_at("2m0年", [1.0, 0.99, 0.9, 1.0], [(0, 8), (10, 28), (30, 38), (40, 48)])
    merged = merged_reading(cut, whole)
    assert merged is not None and "".join(g.char for g in merged.glyphs) == "2000年"
    # a letter read as one digit stays (5G read 50), and so does one with no digit beside it
    assert merged_reading(_line("5G）", [0.9, 0.73, 0.92]), _line("50）", [1.0, 0.32, 0.6])).text \
        == "5G）"
    cut = _line_at("年m月", [1.0, 0.99, 1.0], [(0, 8), (10, 28), (30, 38)])
    assert merged_reading(cut, _line("年00月", [1.0, 0.8, 0.8, 1.0])).text == "年m月"


def test_a_reading_the_merge_equals_comes_back_as_it_is_and_a_tie_keeps_the_cut_span() -> None:
    cut, whole = _line("电柳", 0.6), _line("电视", 0.9)
    assert merged_reading(_line("电视", 0.95), whole).text == "电视"
    assert merged_reading(_line("电柳", 0.9), whole).text == "电柳"  # tie: cut
    same = _line("电视", 0.5)
    assert merged_reading(same, whole) is same  # agreeing readings keep the cut glyphs
    assert merged_reading(_line("ab", 0.2), _line("电视", 0.9)).text == "电视"
    assert merged_reading(None, whole) is whole and merged_reading(cut, None) is cut
    assert merged_reading(None, None) is None


def test_a_merged_line_puts_spaces_between_latin_words_as_the_cut_reader_does() -> None:
    cut = _line("iPhcne", [0.9, 0.9, 0.9, 0.2, 0.9, 0.9])
    whole = _line("iPhone", 0.9)
    cut.glyphs.append(GlyphResult((90, 0, 98, 10), "X", 0.9, [("X", 0.9)]))
    merged = merged_reading(cut, whole, em=10.0, space_gap=0.5)
    assert merged is not None and merged.text == "iPhone X"


class _Stub:
    """A reader stand-in: reads line k as `texts[k]` at `confidences[k]` (None: no text)."""

    def __init__(self, texts: list[str | None], confidences: list[float]) -> None:
        self.texts, self.confidences = texts, confidences
        self.options = SimpleNamespace(cutting=SimpleNamespace(em_per_height=1.0),
                                       space_gap=0.5, text_rules=True)
        self.stages = None
        self.dropped: list[str] = []
        self.hints: list[str | None] = []

    def read_line(self, analysis: object, line: int, timings: object = None,
                  other_reading: str | None = None) -> LineResult | None:
        self.hints.append(other_reading)
        text = self.texts[line]
        return None if text is None else _line(text, self.confidences[line], 20 * line)

    def drop_odd_lines(self, lines: list[LineResult], agreed: list[LineResult] = ()
                       ) -> list[LineResult]:
        self.dropped = [ln.text for ln in lines]
        self.agreed = [ln.text for ln in agreed]
        return [ln for ln in lines if ln.text != "odd"]


def test_each_line_is_chosen_on_its_own_and_the_odd_line_filter_runs_once() -> None:
    cut = _Stub(["北京", "电柳", None, "odd"], [0.99, 0.5, 0.0, 0.9])
    whole = _Stub(["北亰", "电视", "天津", None], [0.7, 0.8, 0.6, 0.0])
    reader = SurerReader(cut, whole)
    analysis = SimpleNamespace(lines=[0, 1, 2, 3], gray=np.zeros((4, 4), np.uint8),
                               in_input=lambda result: result)
    result = reader.read_analysis(analysis)
    assert [ln.text for ln in result.lines] == ["北京", "电视", "天津"]
    assert cut.dropped == ["北京", "电视", "天津", "odd"]
    assert "recognise" in result.timings
    # the line recogniser reads first: the cut reader hears its text (to skip re-cutting)
    assert cut.hints == ["北亰", "电视", "天津", None]


def test_lines_both_readers_read_alike_reach_the_odd_line_filter_as_agreed() -> None:
    cut = _Stub(["新闻", "北京", "、", None], [0.6, 0.99, 0.9, 0.0])
    whole = _Stub(["新闻", "北亰", "、", "天津"], [0.5, 0.7, 0.9, 0.6])
    reader = SurerReader(cut, whole)
    analysis = SimpleNamespace(lines=[0, 1, 2, 3], gray=np.zeros((4, 4), np.uint8),
                               in_input=lambda result: result)
    reader.read_analysis(analysis)
    assert cut.agreed == ["新闻"]  # not 北京 (read apart), 、 (no word) or 天津 (read once)


def test_a_lone_bar_between_hanzi_in_the_merged_reading_is_yi() -> None:
    from jiema_ocr.text_rules import lone_bars_as_one

    assert lone_bars_as_one(list("这-制度—项")) == [1, 4]
    assert lone_bars_as_one(list("地——挪威")) == []  # a doubled dash
    assert lone_bars_as_one(list("—项-8")) == []  # at the start, before a digit
    cut = _Stub(["这-制度", "这一制度", "地——挪威"], [0.9, 0.2, 0.9])
    whole = _Stub(["这－制度", "这－制度", "地——挪威"], [0.2, 0.9, 0.2])
    reader = SurerReader(cut, whole)
    analysis = SimpleNamespace(lines=[0, 1, 2], gray=np.zeros((4, 4), np.uint8),
                               in_input=lambda result: result)
    assert [ln.text for ln in reader.read_analysis(analysis).lines] == [
        "这一制度", "这一制度", "地——挪威"]
    cut.options.text_rules = False
    assert reader.read_analysis(analysis).lines[0].text == "这-制度"


def test_the_config_and_the_cli_choose_the_surer_reader(tmp_path) -> None:
    import pytest

    pytest.importorskip("torch")
    import jiema
    import jiema_ocr.plugin as plugin
    from jiema_ocr.charset import Charset
    from jiema_ocr.cli import _reader
    from jiema_ocr.line_ctc import LineCTCReader, LineRecognizer
    from jiema_ocr.pipeline import OcrReader

    path = LineRecognizer.create(Charset(list("电视机")), width=8, hidden=16).save(
        tmp_path / "tiny.safetensors", name="tiny-line")
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False, config={"ocr": {
        "reader": {"component": "ocr.surer.v1",
                   "options": {"line_top_k": 2, "top_k": 7, "line_model": str(path)}},
        "regions": {"options": {"min_line_height": 7}},
    }})
    reader = engine.task("ocr")
    assert isinstance(reader, SurerReader)
    assert isinstance(reader.cut_reader, OcrReader) and reader.cut_reader.options.top_k == 7
    assert isinstance(reader.line_reader, LineCTCReader) and reader.line_reader.k == 2
    assert list(reader.line_reader.recognizer.charset.labels) == list("电视机")
    assert reader.options.regions.min_line_height == 7
    # the command line takes either half alone, or both back
    assert isinstance(_reader(engine, "line-ctc", None, False, None), LineCTCReader)
    assert isinstance(_reader(engine, "cut-classify", None, False, None), OcrReader)
    again = _reader(engine, None, None, True, None)  # --no-lm keeps the configured kind
    assert isinstance(again, SurerReader) and again.line_reader.decoder is None
    with pytest.raises(jiema.errors.ConfigError):
        jiema.Engine(plugins=[plugin], load_entry_points=False, config={"ocr": {
            "reader": {"component": "ocr.surer.v1", "options": {"line_top_k": 0}}}}).task("ocr")
    # the shipped span chooser decides where the readings differ, unless the config says none;
    # the command line's rebuilt reader keeps the configured one
    from jiema_ocr.span_choice import SpanChooser

    assert isinstance(reader.chooser, SpanChooser)
    assert _reader(engine, None, None, True, None).chooser is reader.chooser

    def surer(**options):
        return jiema.Engine(plugins=[plugin], load_entry_points=False, config={"ocr": {
            "reader": {"component": "ocr.surer.v1",
                       "options": {"line_model": str(path), **options}}}}).task("ocr")

    assert surer(span_chooser="none").chooser is None
    with pytest.raises(jiema.errors.JiemaError, match="span chooser 'nosuch'"):
        surer(span_chooser="nosuch")


def test_round_marks_among_chinese_numerals_are_circles() -> None:
    from jiema_ocr.text_rules import circles_among_chinese_numerals

    assert circles_among_chinese_numerals(list("二oo一年")) == [1, 2]
    assert circles_among_chinese_numerals(list("二○O0年")) == [2, 3]
    assert circles_among_chinese_numerals(list("2000年")) == []  # beside a digit
    assert circles_among_chinese_numerals(list("三oa")) == []  # beside a letter
    assert circles_among_chinese_numerals(list("好o年")) == []  # beside no numeral
    cut = _line("二oo一年", [0.9, 0.5, 0.5, 0.9, 0.9])
    from jiema_ocr.surer_reader import _merged_text_rules

    assert _merged_text_rules(cut, 10.0, 0.5).text == "二○○一年"


def test_lowercase_look_alikes_among_capitals_are_capitals() -> None:
    from jiema_ocr.surer_reader import _merged_text_rules
    from jiema_ocr.text_rules import capitals_among_capitals

    assert capitals_among_capitals(list("乘lT快")) == {1: "I"}
    assert capitals_among_capitals(list("vIP")) == {0: "V"}
    assert capitals_among_capitals(list("LooK")) == {1: "O", 2: "O"}
    # not where a letter of another shape is lowercase, all are, or the word is one letter
    for text in ("iPhone", "McDonald", "ok", "OK", "eBay", "s", "好o年"):
        assert capitals_among_capitals(list(text)) == {}, text
    assert _merged_text_rules(_line("送给vIP走", 0.9), 10.0, 0.5).text == "送给VIP走"


def test_middle_dots_between_latin_letters_or_digits_are_full_stops() -> None:
    from jiema_ocr.surer_reader import _merged_text_rules
    from jiema_ocr.text_rules import middle_dots_among_latin

    assert middle_dots_among_latin(list("m·jd·com")) == [1, 4]
    assert middle_dots_among_latin(list("53·62万")) == [2]
    # the name dot between hanzi, or beside a hanzi, a space or a line end, stays
    for text in ("菲德尔·卡斯特罗", "a·卡", "卡·a", "·a", "a·", "a··b"):
        assert middle_dots_among_latin(list(text)) == [], text
    assert _merged_text_rules(_line("访问m·jd.com了解", 0.9), 10.0, 0.5).text == "访问m.jd.com了解"


def test_a_winning_longer_recognised_span_leaves_out_its_unsure_extra_glyphs() -> None:
    # 深度融合 recognised as 深度良融合 with 良 a 0.15 guess, where cutting read garbage
    cut = _line("深踩皮合", [1.0, 0.3, 0.2, 1.0])
    whole = _line("深度良融合", [1.0, 0.8, 0.15, 0.9, 1.0])
    assert merged_reading(cut, whole).text == "深度融合"
    # no more glyphs go than the span is longer, and sure ones stay
    cut = _line("深踩合", [1.0, 0.3, 1.0])
    assert merged_reading(cut, whole).text == "深度融合"
    assert merged_reading(cut, _line("深度良融合", [1.0, 0.8, 0.5, 0.9, 1.0])).text == "深度良融合"



def test_a_line_with_one_letter_or_hanzi_at_most_needs_both_readers_to_read_it() -> None:
    # a picture's edges beside a banner: /冖、`、 cut, 、 recognised; a shape's rim read by one
    cut = _Stub(["/冖、`、", "福", None, "，门", "咔嚓", "——"], [0.6, 0.9, 0.0, 0.7, 0.9, 0.9])
    whole = _Stub(["、", "福", "广", "）", "味", "——"], [0.5, 0.9, 0.8, 0.6, 0.5, 0.9])
    reader = SurerReader(cut, whole)
    analysis = SimpleNamespace(lines=list(range(6)), gray=np.zeros((4, 4), np.uint8),
                               in_input=lambda result: result)
    # one hanzi both read stays; two hanzi stay however the readers differ
    assert [ln.text for ln in reader.read_analysis(analysis).lines] == ["福", "咔嚓"]


def test_paired_marks_one_reader_saw_surely_come_back_where_they_pair() -> None:
    from jiema_ocr.language_model import CharLM, count_chars

    lm = CharLM.from_counts(count_chars(["花冈事件发生于打电话"]))
    always_whole = SimpleNamespace(whole_odds=lambda x: np.ones(len(x)))
    # the recogniser knows no 「」 and the chooser followed it: both halves come back
    cut = _line("「花冈事件」发生", 0.95)
    whole = _line_at("花冈事件发生", [0.9] * 6, [(10 * k, 10 * k + 8) for k in range(1, 5)]
                     + [(60, 68), (70, 78)])
    merged = merged_reading(cut, whole, chooser=always_whole, lm=lm)
    assert merged is not None and merged.text == "「花冈事件」发生"
    # ... not when the cut reader is unsure of them, nor one half alone
    unsure = _line("「花冈事件」发生", [0.4] + [0.95] * 7)
    assert merged_reading(unsure, whole, chooser=always_whole, lm=lm).text == "花冈事件发生"
    half = _line("「花冈事件发生", 0.95)
    assert merged_reading(half, _line_at("花冈事件发生", [0.9] * 6,
                                         [(10 * k, 10 * k + 8) for k in range(1, 7)]),
                          chooser=always_whole, lm=lm).text == "花冈事件发生"
    # a close mark only the recogniser saw, after an open mark the merged line holds, where
    # the merged line has no glyph: the chooser took the recogniser's 6 and left its ）
    cut = _line_at("打（480187", [0.9] * 8, [(0, 8), (10, 18), (20, 26), (27, 33), (34, 48),
                                            (50, 56), (57, 63), (64, 70)])
    whole = _line_at("打（486）187", [0.9] * 9, [(2, 6), (12, 16), (21, 24), (28, 31), (35, 38),
                                               (43, 47), (51, 54), (58, 61), (65, 68)])
    first_whole = SimpleNamespace(whole_odds=lambda x: np.array([1.0] + [-1.0] * (len(x) - 1)))
    merged = merged_reading(cut, whole, 10.0, 0.5, chooser=first_whole, lm=lm)
    assert merged is not None and merged.text == "打（486）187"
    # ... but not where the merged line holds another glyph (the cut reader's 0)
    never_whole = SimpleNamespace(whole_odds=lambda x: -np.ones(len(x)))
    assert merged_reading(cut, whole, 10.0, 0.5, chooser=never_whole, lm=lm).text == "打（480187"
    # the half an unmatched mark waits for comes back less sure (培训” at 0.4, the cut reader's)
    cut = _line("改为“军官来源和培训”", [0.9] * 10 + [0.4])
    whole = _line_at("改为“军官来源和培训", [0.9] * 10,
                     [(10 * k + 2, 10 * k + 6) for k in range(10)])
    assert merged_reading(cut, whole, 10.0, 0.5, chooser=always_whole, lm=lm).text \
        == "改为“军官来源和培训”"
    assert merged_reading(_line("改为“军官来源和培训”", [0.9] * 10 + [0.1]), whole, 10.0, 0.5,
                          chooser=always_whole, lm=lm).text == "改为“军官来源和培训"


def test_sure_glyphs_one_reader_alone_read_past_the_merged_ends_come_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import jiema_ocr.surer_reader as surer
    from jiema_ocr.language_model import CharLM, count_chars

    lm = CharLM.from_counts(count_chars(["转阴3℃／7"]))
    never_whole = SimpleNamespace(whole_odds=lambda x: -np.ones(len(x)))
    places = [(2, 6), (12, 16), (22, 26), (32, 36), (52, 56)]
    # the cut reader trimmed the segment holding the 7 as unsure; the recogniser read it at 1.0
    cut = _line("转阴3℃", 0.95)
    whole = _line_at("转阴3℃7", [0.9, 0.9, 0.9, 0.9, 1.0], places)
    merged = merged_reading(cut, whole, chooser=never_whole, lm=lm)
    assert merged is not None and merged.text == "转阴3℃7"
    assert merged_reading(cut, whole).text == "转阴3℃7"  # by the rules too ...
    with monkeypatch.context() as m:  # ... where what it saw alone is otherwise left out
        m.setattr(surer, "SURE_END_KEEP", 1.1)
        assert merged_reading(cut, whole).text == "转阴3℃"
        assert merged_reading(cut, whole, chooser=never_whole, lm=lm).text == "转阴3℃"
    # not when unsure, not a sign, not what both readers read past the end, differently
    unsure = _line_at("转阴3℃7", [0.9, 0.9, 0.9, 0.9, 0.8], places)
    assert merged_reading(cut, unsure, chooser=never_whole, lm=lm).text == "转阴3℃"
    sign = _line_at("转阴3℃'", [0.9, 0.9, 0.9, 0.9, 1.0], places)
    assert merged_reading(cut, sign, chooser=never_whole, lm=lm).text == "转阴3℃"
    both = _line_at("转阴3℃8", [0.9] * 4 + [0.95], [(0, 8), (10, 18), (20, 28), (30, 38),
                                                   (50, 58)])
    assert merged_reading(both, whole, chooser=never_whole, lm=lm).text == "转阴3℃8"
    # nor a glyph both read alike (a reading standing a little off the other's places)
    assert merged_reading(_line("越是重", 0.9),
                          _line_at("越是繁重", [0.9] * 4, [(2, 6), (12, 16), (22, 26), (32, 36)])
                          ).text == "越是重"


def test_room_for_a_glyph_between_two_merged_hanzi_takes_the_one_a_reader_read_there() -> None:
    from jiema_ocr.language_model import CharLM, count_chars

    lm = CharLM.from_counts(count_chars(["创新驱动发展"]))
    always_whole = SimpleNamespace(whole_odds=lambda x: np.ones(len(x)))
    # 16 px an em: the recogniser read 创新动发 with 2 em between 新 and 动; the cut reader read
    # the span badly but had 驱 (0.28) in the room
    cut = _line_at("惭驱动发", [0.38, 0.28, 0.56, 1.0], [(0, 14), (32, 48), (48, 64), (64, 80)])
    whole = _line_at("创新动发", [0.97, 0.93, 0.94, 1.0], [(5, 9), (21, 25), (53, 57), (69, 73)])
    merged = merged_reading(cut, whole, 16.0, 0.5, chooser=always_whole, lm=lm)
    assert merged is not None and merged.text == "创新驱动发"
    # no room (hanzi an em apart), no em known, or too unsure a guess: left as merged
    packed = _line_at("惭驱动发", [0.38, 0.28, 0.56, 1.0], [(0, 14), (16, 32), (32, 48), (48, 64)])
    close = _line_at("创新动发", [0.97, 0.93, 0.94, 1.0], [(5, 9), (21, 25), (37, 41), (53, 57)])
    assert merged_reading(packed, close, 16.0, 0.5, chooser=always_whole, lm=lm).text \
        == "创新动发"
    assert merged_reading(cut, whole, 0.0, 0.5, chooser=always_whole, lm=lm).text == "创新动发"
    unsure = _line_at("惭驱动发", [0.38, 0.1, 0.56, 1.0], [(0, 14), (32, 48), (48, 64), (64, 80)])
    assert merged_reading(unsure, whole, 16.0, 0.5, chooser=always_whole, lm=lm).text \
        == "创新动发"


def test_room_for_a_hanzi_between_a_hanzi_and_a_digit_is_filled_too() -> None:
    from jiema_ocr.language_model import CharLM, count_chars

    lm = CharLM.from_counts(count_chars(["转阴4度"]))
    always_whole = SimpleNamespace(whole_odds=lambda x: np.ones(len(x)))
    # 16 px an em: the recogniser read 转4 with 转's centre 1.75 em from the digit's (an em
    # and a half-width digit need 0.78); the cut reader had 阴 there
    cut = _line_at("转阴", [0.5, 0.42], [(0, 16), (16, 32)])
    whole = _line_at("转4", [0.99, 0.9], [(6, 10), (32, 38)])
    merged = merged_reading(cut, whole, 16.0, 0.5, chooser=always_whole, lm=lm)
    assert merged is not None and merged.text == "转阴4"
    # a digit right after its hanzi leaves no room; two letters are never filled between
    near = _line_at("转4", [0.99, 0.9], [(6, 10), (18, 24)])
    assert merged_reading(cut, near, 16.0, 0.5, chooser=always_whole, lm=lm).text == "转4"
    latin = _line_at("AB", [0.99, 0.99], [(6, 10), (32, 38)])
    assert merged_reading(_line_at("A阴", [0.5, 0.42], [(0, 16), (16, 32)]), latin, 16.0, 0.5,
                          chooser=always_whole, lm=lm).text == "A B"  # spaced, not filled
