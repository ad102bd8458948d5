"""The pipeline end to end with a template classifier standing in for the char CNN."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

pytest.importorskip("scipy")
pytest.importorskip("PIL")
pytest.importorskip("fontTools")
from jiema_ocr.pipeline import OcrOptions, OcrReader, Stages, analyse, glyph_crop  # noqa: E402
from jiema_ocr.synth import render_banner, render_line  # noqa: E402
from ocr_fonts import FONTS, needs_fonts  # noqa: E402
from ocr_stub import TemplateClassifier, UnusedClassifier  # noqa: E402

ALPHABET = "全场满减元包邮年终大促销川明好收电视机月，。0123456789"


@pytest.fixture(scope="module")
def reader():
    return OcrReader(TemplateClassifier(ALPHABET, FONTS[0]))


@needs_fonts
@pytest.mark.parametrize("dark_text", [True, False])
def test_reads_a_line_either_polarity(reader, dark_text):
    s = render_line("全场满299减50元，包邮。", FONTS[0], 32, dark_text=dark_text, noise=5,
                    seed=2)
    result = reader.read(s.image)
    assert result.text == "全场满299减50元，包邮。"
    (line,) = result.lines
    assert len(line.glyphs) == len(s.lines[0].boxes)
    for glyph, gt in zip(line.glyphs, s.lines[0].boxes, strict=True):
        assert abs(glyph.box[0] - gt[0]) <= 3 and abs(glyph.box[2] - gt[2]) <= 3
        assert glyph.candidates[0][0] == glyph.char and 0 < glyph.confidence <= 1
    assert 0 < result.confidence <= 1


@needs_fonts
def test_reads_a_banner_line_by_line(reader):
    s = render_banner(["年终大促销", "全场满299减50元"], FONTS[0], 32, noise=3, seed=5)
    assert reader.read(s.image).text == "年终大促销\n全场满299减50元"


@needs_fonts
def test_split_characters_with_recognition_cut(reader):
    s = render_line("川明好收电视机", FONTS[0], 36, seed=1)
    assert reader.read(s.image).text == "川明好收电视机"


@needs_fonts
def test_no_text_gives_empty_text(reader):
    from PIL import Image, ImageDraw

    blank = np.full((80, 240, 3), 250, dtype=np.uint8)
    result = reader.read(blank)
    assert result.text == "" and result.lines == [] and result.confidence is None
    img = Image.new("RGB", (300, 200), (240, 240, 240))
    ImageDraw.Draw(img).ellipse((20, 20, 160, 160), fill=(200, 30, 30))
    assert reader.read(np.asarray(img)).text == ""
    rng = np.random.default_rng(2)
    noise = np.clip(rng.normal(128, 40, (80, 300, 3)), 0, 255).astype(np.uint8)
    assert reader.read(noise).text == ""


@needs_fonts
def test_decoder_gets_the_candidates_and_its_text_is_used():
    seen = []

    def decoder(cands):
        seen.append(cands)
        return "x" * len(cands), [0.5] * len(cands)

    r = OcrReader(TemplateClassifier(ALPHABET, FONTS[0]), decoder)
    s = render_line("电视机", FONTS[0], 32, seed=0)
    result = r.read(s.image)
    assert result.text == "xxx" and len(seen) == 1 and len(seen[0]) == 3
    assert all(len(c) <= OcrOptions().top_k and c[0][1] >= c[-1][1] for c in seen[0])
    assert result.confidence == 0.5


@needs_fonts
def test_geometric_cut_only_classifies_the_chosen_glyphs():
    clf = TemplateClassifier(ALPHABET, FONTS[0])
    r = OcrReader(clf, options=OcrOptions(recognition_cut=False))
    s = render_line("电视机12月", FONTS[0], 32, seed=0)
    assert r.read(s.image).text == "电视机12月"
    assert clf.calls == 6


@needs_fonts
def test_glyph_crops_are_dark_on_light():
    s = render_line("电", FONTS[0], 40, dark_text=False, seed=0)
    analysis = analyse(s.image)
    (line,) = analysis.lines
    crop = glyph_crop(analysis.gray, line, (0, 0, line.mask.shape[1], line.mask.shape[0]), 2)
    assert crop.dtype == np.uint8
    assert np.median(crop) > 200 and crop.min() < 60  # mostly light ground, dark ink


@needs_fonts
def test_stages_are_swappable():
    calls = []
    base = Stages.from_options(OcrOptions())

    def layers(gray):
        calls.append("layers")
        return base.layers(gray)

    stages = Stages(base.preprocess, layers, base.lines, base.cut)
    r = OcrReader(TemplateClassifier(ALPHABET, FONTS[0]), stages=stages)
    assert r.read(render_line("电视", FONTS[0], 30, seed=0).image).text == "电视"
    assert calls == ["layers"]


@needs_fonts
def test_timings_and_line_dicts(reader):
    s = render_line("电视机", FONTS[0], 30, seed=0)
    result = reader.read(s.image)
    assert {"read", "layers", "regions", "cutting", "classify"} <= set(result.timings)
    d = result.lines[0].to_dict()
    assert d["text"] == "电视机" and len(d["glyphs"]) == 3
    assert set(d["glyphs"][0]) == {"box", "char", "confidence", "candidates"}


@needs_fonts
def test_real_classifier_when_shipped():
    from jiema_ocr.classifier import MODELS_DIR

    if not (MODELS_DIR / "gb2312-cnn.safetensors").is_file():
        pytest.skip("the char CNN (gb2312-cnn) is not shipped yet")
    pytest.importorskip("torch")
    from jiema_ocr.pipeline import default_reader

    s = render_line("中华人民共和国", FONTS[0], 36, seed=0)
    assert default_reader().read(s.image).text == "中华人民共和国"


def test_layout_prior_uses_place_and_size():
    from jiema_ocr.layout_prior import layout_prior

    band = (0.0, 40.0)  # the line's full-height glyphs span rows 0..40
    low_mark = (0, 30, 8, 40)  # small, at the bottom: a comma, not an apostrophe
    out = layout_prior([("’", 0.6), ("，", 0.3), ("丶", 0.1)], low_mark, band)
    assert out[0][0] == "，" and abs(sum(p for _, p in out) - 1.0) < 1e-6
    high_mark = (0, 0, 8, 10)
    assert layout_prior([("’", 0.6), ("，", 0.4)], high_mark, band)[0][0] == "’"
    dot = (0, 15, 10, 25)  # a dot-sized glyph is no hanzi
    assert layout_prior([("口", 0.7), ("。", 0.3)], dot, band)[0][0] == "。"
    zero = (0, 8, 20, 40)  # narrow: the digit
    assert layout_prior([("O", 0.6), ("0", 0.4)], zero, band)[0][0] == "0"
    assert layout_prior([("O", 0.6)], zero, None) == [("O", 0.6)]  # no band: unchanged


def test_layout_prior_tells_minus_from_one_and_comma_from_middle_dot():
    from jiema_ocr.layout_prior import layout_prior

    band = (0.0, 40.0)
    minus = (0, 18, 22, 21)  # a bar half an em wide: a minus sign, not 一 or an em dash
    assert layout_prior([("一", 0.7), ("—", 0.2), ("-", 0.1)], minus, band)[0][0] == "-"
    one = (0, 18, 38, 21)  # a bar across the em is 一
    assert layout_prior([("一", 0.7), ("-", 0.3)], one, band)[0][0] == "一"
    low_dot = (0, 32, 4, 38)  # a comma whose tail faded: low in the line, so not a middle dot
    assert layout_prior([("·", 0.6), ("，", 0.4)], low_dot, band)[0][0] == "，"
    mid_dot = (0, 18, 4, 22)
    assert layout_prior([("·", 0.6), ("，", 0.4)], mid_dot, band)[0][0] == "·"
    # a centred dot the classifier calls a full stop is no full stop: a middle dot (吐逊江·热介甫)
    # or a Ming comma, as likely as each other; on the baseline it stays one
    centred = dict(layout_prior([(".", 0.07), ("·", 0.03)], mid_dot, band))
    assert "." not in centred and centred["·"] == centred["，"] > 0.03
    assert layout_prior([(".", 0.07), ("·", 0.03)], low_dot, band)[0][0] == "."
    small_ring = (0, 28, 11, 39)  # 。 is smaller than @ and o
    assert layout_prior([("@", 0.5), ("o", 0.3), ("。", 0.2)], small_ring, band)[0][0] == "。"


def test_text_band_is_not_pulled_in_by_a_glyph_in_pieces():
    from types import SimpleNamespace

    from jiema_ocr.cutting import Segment
    from jiema_ocr.layout_prior import text_band

    full = [Segment(0, 40, 0, 48), Segment(44, 84, 1, 47), Segment(88, 128, 0, 48)]
    er = [Segment(132 + 10 * k, 140 + 10 * k, 6, 42) for k in range(3)]  # 二, cut in three
    band = text_band(SimpleNamespace(segments=full + er, line_height=44.0))
    assert band is not None and band[0] <= 1.0 and band[1] >= 47.0
    assert text_band(SimpleNamespace(segments=er[:1], line_height=60.0)) is None


def test_layout_prior_shares_the_bars_out_by_their_shape():
    from jiema_ocr.bar_shapes import bar_posterior
    from jiema_ocr.layout_prior import layout_prior

    band = (0.0, 40.0)
    raw = [("—", 0.45), ("_", 0.25), ("一", 0.2), ("-", 0.05)]  # the CNN favours — for any bar
    one = (0, 16, 39, 20)  # 0.97 of the band long, 0.1 thick, centred at 0.45: 一
    dash = (0, 19, 44, 21)  # longer, thinner, at mid-height: the em dash
    minus = (0, 20, 20, 23)  # half as long: the minus sign (－)
    for box, want in ((one, "一"), (dash, "—"), (minus, "-")):
        out = layout_prior(raw, box, band)
        assert out[0][0] == want
        assert sum(p for _, p in out) == pytest.approx(sum(p for _, p in raw), abs=1e-3)
    shares = bar_posterior(0.97, 0.10, 0.45)
    assert sum(shares.values()) == pytest.approx(1.0) and shares["一"] > 0.9



def test_a_bar_far_shorter_than_an_em_is_a_hyphen():
    # a proportional font's hyphen (2014-02-24 on a screen): 0.29 of the band long, far from
    # every measured cluster, where the widest one (a font's em dash) won the mixture
    from jiema_ocr.bar_shapes import BARS, bar_log_likelihoods, bar_posterior

    assert BARS[int(bar_log_likelihoods(0.29, 0.10, 0.58).argmax())] == "—"
    assert bar_posterior(0.29, 0.10, 0.58) == {"一": 0.0, "—": 0.0, "-": 1.0}
    assert bar_posterior(1.0, 0.06, 0.5)["—"] > 0.5  # an em-long thin bar is still the dash


class _SureOfRadicals(TemplateClassifier):
    """Like the char CNN, very sure that half of 化 is the radical 亻 (or the 匕)."""

    def topk(self, glyphs, k=5):
        out = []
        for cands in super().topk(glyphs, k):
            if cands[0][0] in "亻匕":
                rest = sum(p for _, p in cands[1:]) or 1.0
                cands = [(cands[0][0], 0.95)] + [(c, 0.05 * p / rest) for c, p in cands[1:]]
            out.append(cands)
        return out


@needs_fonts
def test_a_half_character_read_as_a_radical_is_joined():
    # in the kai face the halves of 化 stand apart and are shorter than the line's tall glyphs,
    # so geometry cuts them apart; a radical alone is no text, so the whole glyph is tried
    from jiema_ocr.cutting import CutOptions

    font = next((f for f in FONTS if f.name == "arphic-ukai"), None)
    if font is None:
        pytest.skip("fonts-arphic-ukai not installed")
    s = render_line("中华文化", font, 39, seed=0)
    clf = _SureOfRadicals("中华文化北京亻匕〈）", font)
    assert OcrReader(clf).read(s.image).text == "中华文化"
    # digits and letters side by side still cost more than one glyph, but less than before
    strict = OcrOptions(cutting=CutOptions(short_group_cost=1.0))
    assert OcrReader(clf, options=strict).read(s.image).text != "中华文化"


def test_lm_weight_defaults_agree_with_the_decoder():
    from jiema_ocr.lm_decode import DEFAULT_LM_WEIGHT
    from jiema_ocr.pipeline import LMDecoder

    assert LMDecoder(lm=None).lm_weight == DEFAULT_LM_WEIGHT
    assert LMDecoder(lm=None, lm_weight=2.0).lm_weight == 2.0


@needs_fonts
def test_a_line_hidden_by_a_gradient_is_found_with_the_ground_flattened():
    font = next((f for f in FONTS if f.name == "arphic-ukai"), None)
    if font is None:
        pytest.skip("fonts-arphic-ukai not installed")
    s = render_line("每逢佳节倍思", font, 25, dark_text=True, noise=8.0, blur=0.5,
                    gradient=True, seed=608038515)
    assert analyse(s.image, OcrOptions(flatten_retry=False)).lines == []
    (line,) = analyse(s.image).lines
    x0, _, x1, _ = (v / 2 for v in line.box)  # the small image was upscaled 2x
    assert abs(x0 - s.lines[0].box[0]) <= 3 and abs(x1 - s.lines[0].box[2]) <= 3


def test_a_small_ring_at_the_top_of_the_line_is_a_degree_sign():
    from jiema_ocr.layout_prior import layout_prior

    band = (0.0, 40.0)
    high_ring = (0, 1, 10, 11)  # the ° of ℃, read by the char model as 。 or o
    out = layout_prior([("。", 0.5), ("o", 0.3), ("C", 0.2)], high_ring, band)
    assert out[0][0] == "°" and out[0][1] > 0.8 and "。" not in dict(out)
    low_ring = (0, 28, 10, 38)
    assert layout_prior([("。", 0.5), ("o", 0.3), ("C", 0.2)], low_ring, band)[0][0] == "。"
    high_quote = (0, 1, 10, 11)
    assert layout_prior([("“", 0.9), ("。", 0.1)], high_quote, band)[0][0] == "“"


def test_an_unsure_line_of_odd_size_among_three_is_dropped():
    from jiema_ocr.results import GlyphResult, LineResult

    def line(y0, height, prob, text="字字"):
        glyphs = [GlyphResult((0, y0, 30, y0 + height), ch, prob, [(ch, prob)]) for ch in text]
        return LineResult((0, y0, 300, y0 + height), text, prob, glyphs)

    text1, text2 = line(0, 32, 0.9), line(50, 30, 0.9)
    picture = line(100, 110, 0.4)  # a banner picture's rim: three times as tall, read unsurely
    reader = OcrReader(UnusedClassifier())
    assert reader.drop_odd_lines([text1, text2, picture]) == [text1, text2]
    title = line(100, 70, 0.9)  # a large line read surely stays
    assert reader.drop_odd_lines([text1, text2, title]) == [text1, text2, title]
    specks = line(100, 12, 0.3)
    assert reader.drop_odd_lines([text1, specks, text2]) == [text1, text2]
    assert reader.drop_odd_lines([text1, picture]) == [text1, picture]  # two: no majority
    off = OcrReader(reader.classifier, options=OcrOptions(odd_line_confidence=0.0,
                                                          short_line_confidence=0.0))
    assert len(off.drop_odd_lines([text1, text2, picture])) == 3


def test_a_short_unsure_line_among_three_is_dropped_whatever_its_size():
    from jiema_ocr.results import GlyphResult, LineResult

    def line(y0, text, prob):
        glyphs = [GlyphResult((0, y0, 30, y0 + 30), ch, prob, [(ch, prob)]) for ch in text]
        return LineResult((0, y0, 300, y0 + 30), text, prob, glyphs)

    text1, text2 = line(0, "全场满元", 0.9), line(40, "包邮", 0.9)
    reader = OcrReader(UnusedClassifier())
    specks = line(80, "7\\", 0.6)  # parts of a picture, as tall as the text
    assert reader.drop_odd_lines([text1, specks, text2]) == [text1, text2]
    unsure_text = line(80, "电视机柜", 0.6)  # four glyphs: a line of text, read unsurely
    assert reader.drop_odd_lines([text1, text2, unsure_text]) == [text1, text2, unsure_text]
    assert reader.drop_odd_lines([text1, specks]) == [text1, specks]  # two: no majority
    assert reader.drop_odd_lines([text1, text2, line(80, "包邮", 0.7)])[-1].text == "包邮"
    # a short line both readers read alike is text however unsure (a white 新闻 on a dark bar)
    news = line(80, "新闻", 0.59)
    assert reader.drop_odd_lines([text1, text2, news]) == [text1, text2]
    assert reader.drop_odd_lines([text1, text2, news], agreed=[news]) == [text1, text2, news]


def test_a_line_of_drawn_shapes_alone_is_a_picture_not_text():
    from jiema_ocr.results import GlyphResult, LineResult

    def line(y0, text, prob=0.95):
        glyphs = [GlyphResult((0, y0, 30, y0 + 30), ch, prob, [(ch, prob)]) for ch in text]
        return LineResult((0, y0, 300, y0 + 30), text, prob, glyphs)

    reader = OcrReader(UnusedClassifier())
    circle, bullets = line(40, "○"), line(80, "● ▲")
    date, item = line(0, "二○○○年"), line(120, "●要闻")
    assert reader.drop_odd_lines([date, circle]) == [date]
    assert reader.drop_odd_lines([circle, bullets]) == []
    assert reader.drop_odd_lines([date, item]) == [date, item]  # shapes inside text stay


def test_glyphs_a_longer_line_also_read_are_taken_from_the_shorter_one():
    from jiema_ocr.results import GlyphResult, LineResult

    def line(x0, y0, text, prob=0.95):
        glyphs = [GlyphResult((x0 + 30 * k, y0, x0 + 30 * k + 28, y0 + 30), ch, prob,
                              [(ch, prob)]) for k, ch in enumerate(text)]
        return LineResult((x0, y0, x0 + 30 * len(text), y0 + 30), text, prob, glyphs)

    reader = OcrReader(UnusedClassifier())
    text = line(100, 50, "作人员的组成部")
    ghost = line(70, 52, "○作人", 0.6)  # a picture's ring taking in two glyphs of the text
    top = line(100, 0, "的阿拉伯语")
    kept = reader.drop_repeated_glyphs([top, ghost, text])
    assert [ln.text for ln in kept] == ["的阿拉伯语", "○", "作人员的组成部"]
    assert kept[1].box == (70, 52, 98, 82) and kept[1].glyphs == ghost.glyphs[:1]
    assert reader.drop_odd_lines([top, ghost, text]) == [top, text]
    apart = line(100, 100, "作人")  # the same words on another row are no repeat
    assert reader.drop_repeated_glyphs([text, apart]) == [text, apart]


def test_a_line_of_marks_alone_beside_text_is_part_of_a_picture():
    from jiema_ocr.results import GlyphResult, LineResult

    def line(y0, text, prob=0.95):
        glyphs = [GlyphResult((0, y0, 30, y0 + 30), ch, prob, [(ch, prob)]) for ch in text]
        return LineResult((0, y0, 300, y0 + 30), text, prob, glyphs)

    reader = OcrReader(UnusedClassifier())
    text, marks, digits = line(0, "奥申委执行主席、"), line(40, "、（）"), line(80, "9·11")
    assert reader.drop_odd_lines([text, marks]) == [text]
    assert reader.drop_odd_lines([text, digits]) == [text, digits]  # digits are words
    dots = line(0, "……")  # marks alone in the image are what there is to read
    assert reader.drop_odd_lines([dots]) == [dots]


def test_a_banner_reads_the_flattened_ground_too_when_that_finds_every_line_and_more():
    from jiema_ocr.pipeline import Stages, analyse
    from jiema_ocr.regions import TextLine

    def line(y0, n=2):
        return TextLine((10, y0, 200, y0 + 30), 1, np.ones((30, 190), bool), 30.0, 20.0, 200.0,
                        components=[(0, 0, 1, 1)] * n)

    plain, flat = np.full((120, 300), 1, np.uint8), np.full((120, 300), 2, np.uint8)
    found = {1: [line(10)], 2: [line(12), line(60)]}  # a gradient hid the second line
    stages = Stages(lambda rgb: (plain, 1), lambda gray: None,
                    lambda gray, layers: found[int(gray[0, 0])], lambda mask: None,
                    retry=lambda rgb: (flat, 1))
    image = np.zeros((120, 300, 3), np.uint8)
    assert len(analyse(image, OcrOptions(), stages=stages).lines) == 2
    assert len(analyse(image, OcrOptions(flatten_more=False), stages=stages).lines) == 1
    found[2] = [line(60), line(90)]  # ... but it lost the first: keep the plain pass
    assert analyse(image, OcrOptions(), stages=stages).lines[0].box[1] == 10
    found[2] = [line(12), line(60)]
    plain, flat = plain[:60], flat[:60]  # no room for another line: one pass only
    assert len(analyse(image, OcrOptions(), stages=stages).lines) == 1


def test_a_page_of_many_lines_gets_no_second_pass_for_more_lines():
    """PAGE_LINES lines found: a flat-ground page, whose second pass would only cost time."""
    from jiema_ocr.analysis import PAGE_LINES
    from jiema_ocr.pipeline import Stages, analyse
    from jiema_ocr.regions import TextLine

    def line(y0):  # as wide as the page: no room beside the lines either
        return TextLine((10, y0, 290, y0 + 20), 1, np.ones((20, 280), bool), 20.0, 20.0, 200.0,
                        components=[(0, 0, 1, 1)] * 2)

    passes: list[int] = []

    def lines(gray, layers):
        passes.append(int(gray[0, 0]))
        return [line(30 * k) for k in range(count + int(gray[0, 0] == 2))]

    plain, flat = np.full((400, 300), 1, np.uint8), np.full((400, 300), 2, np.uint8)
    stages = Stages(lambda rgb: (plain, 1), lambda gray: None, lines, lambda mask: None,
                    retry=lambda rgb: (flat, 1))
    image = np.zeros((400, 300, 3), np.uint8)
    count = PAGE_LINES - 1  # a banner-like few: the flattened pass is tried, and finds one more
    assert len(analyse(image, OcrOptions(), stages=stages).lines) == PAGE_LINES
    assert passes == [1, 2]
    passes.clear()
    count = PAGE_LINES
    assert len(analyse(image, OcrOptions(), stages=stages).lines) == PAGE_LINES
    assert passes == [1]


def test_a_line_found_in_part_is_read_on_the_flattened_ground_when_that_finds_it_whole():
    from jiema_ocr.pipeline import Stages, analyse
    from jiema_ocr.regions import TextLine

    def line(x0, x1, y0=10, height=30):
        return TextLine((x0, y0, x1, y0 + height), 1, np.ones((height, x1 - x0), bool),
                        float(height), 20.0, 200.0, components=[(0, 0, 1, 1)] * 2)

    plain, flat = np.full((50, 400), 1, np.uint8), np.full((50, 400), 2, np.uint8)
    # the gradient put the first glyphs in another layer; a speck above the line is no line
    found = {1: [line(200, 390), line(150, 160, 0, 8)], 2: [line(10, 390)]}
    stages = Stages(lambda rgb: (plain, 1), lambda gray: None,
                    lambda gray, layers: found[int(gray[0, 0])], lambda mask: None,
                    retry=lambda rgb: (flat, 1))
    image = np.zeros((50, 400, 3), np.uint8)
    assert [ln.box for ln in analyse(image, OcrOptions(), stages=stages).lines] == [
        (10, 10, 390, 40)]
    assert len(analyse(image, OcrOptions(flatten_more=False), stages=stages).lines) == 2
    found[2] = [line(10, 180)]  # the flattened pass lost the rest: keep the plain one
    assert analyse(image, OcrOptions(), stages=stages).lines[0].box[0] == 200
    found[1], found[2] = [line(30, 390)], [line(10, 390)]  # no room beside: one pass only
    assert analyse(image, OcrOptions(), stages=stages).lines[0].box[0] == 30


def test_a_page_of_small_text_is_searched_again_twice_as_large():
    """Lines mostly under `small_text_height` px: the image is searched again upscaled, and
    that pass is kept when it finds each line again; its boxes map back by the scale."""
    from jiema_ocr.regions import TextLine

    def line(y0, height, scale=1):
        box = (10 * scale, y0 * scale, 290 * scale, (y0 + height) * scale)
        return TextLine(box, 1, np.ones((height * scale, 280 * scale), bool), float(height),
                        20.0, 200.0, components=[(0, 0, 1, 1)] * 2)

    seen: list[tuple[int, ...]] = []

    def preprocess(rgb):
        seen.append(rgb.shape)
        return rgb[..., 0], 1

    found = {1: [line(20 * k, 14) for k in range(8)], 2: [line(20 * k, 14, 2) for k in range(8)]}
    stages = Stages(preprocess, lambda gray: None,
                    lambda gray, layers: found.get(gray.shape[0] // 200, []), lambda mask: None)
    image = np.zeros((200, 300, 3), np.uint8)
    an = analyse(image, OcrOptions(), stages=stages)
    assert an.scale == 2 and an.gray.shape == (400, 600) and len(an.lines) == 8
    assert seen == [(200, 300, 3), (400, 600, 3)]
    assert analyse(image, OcrOptions(small_text_height=0), stages=stages).scale == 1
    assert analyse(image, OcrOptions(small_text_height=14), stages=stages).scale == 1
    assert analyse(image, OcrOptions(small_text_upscale=3), stages=stages).scale == 1  # none
    two_rows = found[2][:6] + [line(120, 34, 2)]  # the last two lines found as one
    found[2] = found[2][1:]  # the larger image lost a line (a banner's picture): keep the first
    assert analyse(image, OcrOptions(), stages=stages).scale == 1
    found[2] = two_rows
    assert analyse(image, OcrOptions(), stages=stages).scale == 1
    found[2] = two_rows[:6] + [line(120, 14, 2), line(140, 14, 2)]
    assert analyse(image, OcrOptions(), stages=stages).scale == 2


def test_the_small_text_pass_leaves_out_images_it_would_make_too_large():
    from jiema_ocr.analysis import SMALL_TEXT_MAX_PIXELS, _small_text
    from jiema_ocr.regions import TextLine

    lines = [TextLine((0, 0, 50, 12), 1, np.ones((12, 50), bool), 12.0, 20.0, 200.0)]
    side = int(SMALL_TEXT_MAX_PIXELS ** 0.5) // 2
    assert _small_text(lines, 20, (side, side), 2)
    assert not _small_text(lines, 20, (side + 2, side + 2), 2)
    assert not _small_text([], 20, (100, 100), 2)


def test_upscaled_images_keep_their_type_and_grow_by_the_factor():
    from jiema_ocr.analysis import upscaled

    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[2, 3] = 255
    big = upscaled(rgb, 2)
    assert big.shape == (10, 14, 3) and big.dtype == np.uint8
    assert big[4:6, 6:8].min() > 100 and big[0, 0].max() == 0
    assert upscaled(rgb[..., 0], 3).shape == (15, 21)


def test_a_photographed_line_in_a_tall_image_is_found_whole_under_falling_light():
    """Real stages: light falls off across the image, so plain layering finds the left part of
    the line only; the image has room for more lines too, and the wider flattened line wins."""
    from jiema_ocr.pipeline import analyse

    h, w = 160, 640
    ground = 235 - 150 * np.linspace(0, 1, w)[None, :]
    gray = np.repeat(ground, h, axis=0)
    for k in range(14):  # a row of H-like marks, 70 grey levels darker than their ground
        x0 = 30 + k * 42
        for x, y, dx, dy in ((x0, 60, 5, 40), (x0 + 25, 60, 5, 40), (x0, 78, 30, 5)):
            gray[y:y + dy, x:x + dx] = ground[0, x:x + dx] - 70
    image = np.repeat(np.clip(gray, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    assert [ln.box for ln in analyse(image, OcrOptions()).lines] == [(30, 60, 606, 100)]
    assert analyse(image, OcrOptions(flatten_more=False)).lines[0].box[2] < w // 2


def test_unsure_glyphs_at_the_ends_of_a_line_are_left_out():
    from jiema_ocr.text_rules import trim_unsure_ends

    boxes = [(k * 30, 0, k * 30 + 28, 30) for k in range(5)]
    cands = [[("i", 0.10)], [("过", 0.9)], [("，", 0.12)], [("了", 0.94)], [("：", 0.001)]]
    kept_boxes, kept = trim_unsure_ends(boxes, cands, 0.15)
    assert kept_boxes == boxes[1:4] and kept == cands[1:4]  # the unsure ， inside stays
    assert trim_unsure_ends(boxes, cands, 0.0) == (boxes, cands)
    assert trim_unsure_ends(boxes[:1], cands[:1], 0.15) == ([], [])
    # the other reader's text vouches for an end glyph with its end character as a candidate
    end = [*cands[:4], [("浣", 0.10), ("皖", 0.06), ("完", 0.05)]]
    assert trim_unsure_ends(boxes, end, 0.15, ("过", "完"))[1] == end[1:]
    assert trim_unsure_ends(boxes, end, 0.15, ("i", "完"))[1] == end  # both ends vouched for
    assert trim_unsure_ends(boxes, end, 0.15, ("i", ""))[1] == end[:4]
    assert trim_unsure_ends(boxes, end, 0.15, ("", "了"))[1] == end[1:4]  # 了 is not one
    assert trim_unsure_ends([], [], 0.15, ("过", "完")) == ([], [])
    with pytest.raises(ValidationError):
        OcrOptions(edge_glyph_confidence=1.5)


def test_a_lone_dash_between_hanzi_is_read_as_yi():
    from jiema_ocr.text_rules import lone_dashes_as_one

    bar = [("—", 0.5), ("一", 0.5)]
    def cands(text):
        return [bar if ch in "一—" else [(ch, 0.9)] for ch in text]

    assert lone_dashes_as_one("—当被告", cands("—当被告")) == "—当被告"  # half of a ——?
    assert lone_dashes_as_one("法塔赫—高官", cands("法塔赫—高官")) == "法塔赫一高官"
    assert lone_dashes_as_one("地——挪威", cands("地——挪威")) == "地——挪威"
    assert lone_dashes_as_one("晴—8℃", cands("晴—8℃")) == "晴—8℃"  # a minus, not 一
    only_dash = [[(ch, 0.9)] for ch in "赫—高"]
    assert lone_dashes_as_one("赫—高", only_dash) == "赫—高"  # 一 is no candidate


def test_a_lone_dash_before_a_digit_is_a_minus():
    from jiema_ocr.text_rules import minus_before_digits

    minus = [("-", 0.6), ("—", 0.1)]  # read as a minus, decoded as the commoner dash
    def cands(text):
        return [minus if ch == "—" else [(ch, 0.9)] for ch in text]

    assert minus_before_digits("晴—8℃／—2℃", cands("晴—8℃／—2℃")) == "晴-8℃／-2℃"
    assert minus_before_digits("——2001年", cands("——2001年")) == "——2001年"
    dash = [[("时", 0.9)], [("—", 0.6), ("-", 0.1)], [("1", 0.9)]]
    assert minus_before_digits("时—1", dash) == "时—1"  # read as a dash: a range


def test_a_dot_mark_too_big_for_one_at_a_line_end_is_left_out():
    from jiema_ocr.text_rules import without_oversized_edge_dots

    band = (0.0, 40.0)
    boxes = [(0, 0, 20, 10), (30, 0, 66, 36), (70, 2, 108, 40), (110, 30, 120, 40),
             (130, 0, 168, 40), (170, 28, 180, 38)]
    cands = [[("/", 0.05)], [("、", 0.93)], [("镇", 0.97)], [("，", 0.9)], [("府", 0.96)],
             [("。", 0.95)]]
    kept_boxes, kept = without_oversized_edge_dots(boxes, cands, band, 0.15)
    # the speck and the picture's arc read as 、 go; the real ， and 。 (a quarter of the band)
    # stay, inside the line and at its end
    assert kept_boxes == boxes[2:] and kept == cands[2:]
    assert without_oversized_edge_dots(boxes, cands, None, 0.15) == (boxes, cands)
    big_end = boxes[:5] + [(170, 0, 206, 36)]
    assert without_oversized_edge_dots(big_end, cands, band, 0.15)[0] == boxes[2:5]
    assert without_oversized_edge_dots(boxes, cands, band, 0.15, ("/", ""))[0] == boxes
    # ... for an unsure glyph, never for a dot too big for one
    assert without_oversized_edge_dots(boxes[1:], cands[1:], band, 0.15, ("、", ""))[0] \
        == boxes[2:]


def test_zeros_between_letters_are_the_letter_o():
    from jiema_ocr.text_rules import zeros_among_letters

    assert zeros_among_letters("件OUTL00K地址") == "件OUTLOOK地址"
    assert zeros_among_letters("G0D") == "GOD"
    assert zeros_among_letters("A100") == "A100"  # a digit beside the zeros: a number
    assert zeros_among_letters("Win2000") == "Win2000"
    assert zeros_among_letters("X00年") == "X00年"  # a letter on one side only
    assert zeros_among_letters("0") == "0"
    # circles read for a screen font's round o: lowercase beside a lowercase letter
    assert zeros_among_letters("6℃G○○gle作") == "6℃Google作"
    assert zeros_among_letters("L〇〇K") == "LOOK"
    assert zeros_among_letters("二○○一年") == "二○○一年"  # the Chinese zero stays


def test_letters_that_look_like_digits_beside_digits_are_digits():
    from jiema_ocr.text_rules import digits_among_digits

    def cands(text):
        alike = {"O": [("O", 0.9), ("0", 0.1)], "l": [("l", 0.5), ("1", 0.4)]}
        return [alike.get(ch, [(ch, 0.9)]) for ch in text]

    assert digits_among_digits("晴ll℃", cands("晴ll℃")) == "晴11℃"
    assert digits_among_digits("多云O°C", cands("多云O°C")) == "多云0°C"
    assert digits_among_digits("2O0", cands("2O0")) == "200"
    assert digits_among_digits("LOOK", cands("LOOK")) == "LOOK"  # among letters
    assert digits_among_digits("CO2", cands("CO2")) == "CO2"
    assert digits_among_digits("好O", cands("好O")) == "好O"  # nothing numeric beside it
    no_digit = [[("O", 0.9)], [("℃", 0.9)]]
    assert digits_among_digits("O℃", no_digit) == "O℃"  # 0 is no candidate


def test_a_dot_between_hanzi_is_a_comma():
    from jiema_ocr.text_rules import dots_between_hanzi_as_commas

    assert dots_between_hanzi_as_commas("撤诉.银杏.") == "撤诉，银杏."
    assert dots_between_hanzi_as_commas("是平时的2.5倍") == "是平时的2.5倍"
    assert dots_between_hanzi_as_commas("www.people") == "www.people"


def test_two_single_quotes_side_by_side_are_one_double_quote():
    from jiema_ocr.text_rules import paired_quotes

    boxes = [(0, 0, 30, 30), (32, 2, 38, 10), (40, 2, 46, 10), (48, 0, 78, 30)]
    cands = [[("现", 0.9)], [("‘", 0.87)], [("‘", 0.96)], [("十", 0.9)]]
    kept_boxes, kept = paired_quotes(boxes, cands, 32.0)
    assert kept_boxes == [boxes[0], (32, 2, 46, 10), boxes[3]]
    assert kept == [cands[0], [("“", 0.87)], cands[3]]
    far = [(0, 0, 30, 30), (32, 2, 38, 10), (70, 2, 76, 10)]  # two quotes an em apart
    assert paired_quotes(far, cands[:3], 32.0)[0] == far


def test_a_glyph_read_as_a_dot_may_be_a_comma():
    from jiema_ocr.text_rules import dots_may_be_commas

    dot = [(".", 0.6), ("、", 0.3), ("，", 0.01)]
    name_dot = [(".", 0.57), ("·", 0.34)]  # 玛丽·维乔: as likely the name dot
    out = dots_may_be_commas([[("中", 0.9)], dot, name_dot])
    assert out[0] == [("中", 0.9)] and out[2] == name_dot
    assert dict(out[1])["，"] == 0.6 and out[1][0] == (".", 0.6)


@needs_fonts
def test_the_text_rules_can_be_switched_off():
    s = render_line("晴。", FONTS[0], 40, dark_text=True, noise=0.0, blur=0.0, seed=1)

    class Dot:  # reads the first glyph as 晴 and the others as a dot
        def topk(self, crops, k=5):
            return [[("晴", 0.9)]] + [[(".", 0.9), ("、", 0.1)] for _ in crops[1:]]

    def read(rules):
        reader = OcrReader(Dot(), None, OcrOptions(text_rules=rules, layout_prior=False))
        return [g.candidates for ln in reader.read(s.image).lines for g in ln.glyphs]

    assert ("，", 0.9) in read(True)[1]
    assert read(False)[1] == [(".", 0.9), ("、", 0.1)]


@needs_fonts
def test_touching_glyphs_are_cut_on_the_pitch_grid():
    # wqy-zenhei at 27 px: the 子 of 好 touches the 亻 of 似, one column run across the cell
    # boundary; the surely read glyphs around them give the pitch that splits it
    font = next((f for f in FONTS if f.name == "wqy-zenhei"), None)
    if font is None:
        pytest.skip("fonts-wqy-zenhei not installed")
    text = "的心，好似为我而作的"
    s = render_line(text, font, 27, dark_text=True, noise=8.0, blur=0.5, gradient=True,
                    seed=981357413)
    clf = TemplateClassifier(text + "女子亻", font)
    assert OcrReader(clf).read(s.image).text == text
    assert OcrReader(clf, options=OcrOptions(pitch_splits=False)).read(s.image).text != text


def test_a_raised_mark_glued_to_an_unsure_glyph_is_split_off():
    from jiema_ocr.cutting import cut_graph, glued_mark_splits
    from jiema_ocr.layout_prior import text_band

    # a quote-like mark in the top of the band touches the next glyph's top stroke by a thin
    # bridge (x = 55..57): one segment with the glyph, off any pitch grid
    mask = np.zeros((40, 190), dtype=bool)
    for x0, x1 in ((0, 40), (57, 96), (104, 144), (148, 188)):
        mask[:, x0:x1] = True
    mask[3:13, 46:55] = True
    mask[3:5, 55:57] = True
    graph = cut_graph(mask)
    band = text_band(graph)
    geo = [(0, 1), (1, len(graph.segments) - 2)] + [
        (k, k + 1) for k in range(len(graph.segments) - 2, len(graph.segments))]
    assert graph.box(*geo[1])[0] == 46 and graph.box(*geo[1])[2] == 96
    cands = {graph.box(i, j): [("甲", 0.99)] for i, j in geo}
    cands[graph.box(*geo[1])] = [("乙", 0.3)]
    # split at the bridge's thinnest column: the mark alone on the left
    assert glued_mark_splits(graph, geo, cands, mask, band, 0.9) == [55]
    # a surely read glyph keeps its cut; without a band there is no "raised"
    assert glued_mark_splits(graph, geo, cands, mask, band, 0.2) == []
    assert glued_mark_splits(graph, geo, cands, mask, None, 0.9) == []
    # a mark reaching down the band is no raised mark
    low = mask.copy()
    low[3:30, 46:55] = True
    assert glued_mark_splits(graph, geo, cands, low, band, 0.9) == []
    # the mirror image: a closing mark glued after the glyph
    flipped = mask[:, ::-1].copy()
    graph = cut_graph(flipped)
    n = len(graph.segments)
    geo = [(0, 1), (1, 2), (2, n - 1), (n - 1, n)]
    assert graph.box(*geo[2])[2] == 190 - 46
    cands = {graph.box(i, j): [("甲", 0.99)] for i, j in geo}
    cands[graph.box(*geo[2])] = [("乙", 0.3)]
    assert glued_mark_splits(graph, geo, cands, flipped, text_band(graph), 0.9) == [190 - 55]


def test_pitch_grid_splits_need_a_steady_pitch():
    from jiema_ocr.cutting import cut_graph, pitch_grid_splits

    # 40 px glyphs on a 44 px pitch; the third and fourth are left-right glyphs whose inner
    # halves touch by a thin bridge at x = 128..132, a cell boundary (130)
    mask = np.zeros((40, 264), dtype=bool)
    for x0, x1 in ((0, 40), (44, 84), (88, 100), (104, 128), (132, 144), (148, 172),
                   (176, 216), (220, 260)):
        mask[:, x0:x1] = True
    mask[18:20, 128:132] = True
    graph = cut_graph(mask)
    assert [(g.x0, g.x1) for g in graph.segments][3] == (104, 144)
    geo = [(k, k + 1) for k in range(len(graph.segments))]
    cands = {graph.box(i, j): [("甲", 0.99)] for i, j in geo}
    for k in (2, 3, 4):
        cands[graph.box(k, k + 1)] = [("乙", 0.3)]
    (x,) = pitch_grid_splits(graph, geo, cands, mask, 0.9)
    assert 128 <= x <= 132
    # with one step between sure full-width glyphs there is no pitch to go by
    cands[graph.box(6, 7)] = [("乙", 0.3)]
    assert pitch_grid_splits(graph, geo, cands, mask, 0.9) == []


@needs_fonts
def test_glyphs_another_reader_agrees_with_are_not_cut_again():
    # a classifier unsure of everything tries other cuts around every glyph; where the line
    # recogniser's text has the glyph's best candidate at that place, the glyph stands
    text = "全场满减元包邮"
    s = render_line(text, FONTS[0], 32, seed=3)
    unsure = TemplateClassifier(ALPHABET, FONTS[0], sharpness=3.0)
    reader = OcrReader(unsure)
    analysis = analyse(s.image, reader.options)
    (line,) = analysis.lines
    boxes, cands = reader.cut(analysis, line)
    assert max(c[0][1] for c in cands) < reader.options.sure_prob
    alone = unsure.calls
    unsure.calls = 0
    hinted_boxes, hinted = reader.cut(analysis, line, other_reading="全场满 减元包邮")
    assert unsure.calls == len(text) < alone
    assert "".join(c[0][0] for c in hinted) == text
    # a reading that differs everywhere saves nothing
    unsure.calls = 0
    reader.cut(analysis, line, other_reading="川明好收电视机")
    assert unsure.calls == alone


def test_agreeing_glyphs_are_the_aligned_equal_characters():
    from jiema_ocr.pipeline import agreeing_glyphs

    assert agreeing_glyphs(list("电柳机"), "电视机") == {0, 2}
    assert agreeing_glyphs(list("ab c"), "a bc") == {0, 1, 3}  # spaces in the other ignored
    assert agreeing_glyphs(["亻", "匕", "改"], "化改") == {2}
    assert agreeing_glyphs([], "电视") == set()


def test_pieces_of_lines_lower_than_a_sure_line_do_not_keep_the_flattened_pass_out():
    # an unflattened page of 12 px text: 10-11 px pieces of its lines, more of them than lines
    from jiema_ocr.analysis import SURE_LINE_HEIGHT
    from jiema_ocr.pipeline import Stages, analyse
    from jiema_ocr.regions import TextLine

    def line(x0, x1, y0, height):
        return TextLine((x0, y0, x1, y0 + height), 1, np.ones((height, x1 - x0), bool),
                        float(height), 20.0, 200.0, components=[(0, 0, 1, 1)] * 2)

    low = SURE_LINE_HEIGHT - 1
    plain, flat = np.full((85, 500), 1, np.uint8), np.full((85, 500), 2, np.uint8)
    found = {1: [line(100, 360, 15, low), line(30, 100, 38, low), line(200, 300, 38, low)],
             2: [line(17, 365, 15, low + 1), line(24, 301, 38, low + 1)]}
    stages = Stages(lambda rgb: (plain, 1), lambda gray: None,
                    lambda gray, layers: found[int(gray[0, 0])], lambda mask: None,
                    retry=lambda rgb: (flat, 1))
    image = np.zeros((85, 500, 3), np.uint8)
    assert [ln.box[0] for ln in analyse(image, OcrOptions(), stages=stages).lines] == [17, 24]
    found[2] = []  # nothing surer on the flattened ground: the pieces are what there is
    assert len(analyse(image, OcrOptions(), stages=stages).lines) == 3


def test_the_small_text_pass_through_the_flattened_ground_drops_rims_as_the_first_did():
    """Where the flattened retry found the lines, the larger search runs it again, and drops
    its one-component lines as the first flattened search did (a filled shape's rim)."""
    from jiema_ocr.regions import TextLine

    def line(y0, height, scale=1, parts=2):
        box = (10 * scale, y0 * scale, 290 * scale, (y0 + height) * scale)
        return TextLine(box, 1, np.ones((height * scale, 280 * scale), bool), float(height),
                        20.0, 200.0, components=[(0, 0, 1, 1)] * parts)

    rim = line(170, 14, 2, parts=1)
    found = {(200, 1): [], (200, 2): [line(20 * k, 14) for k in range(8)],
             (400, 2): [line(20 * k, 14, 2) for k in range(8)] + [rim]}
    stages = Stages(lambda rgb: (np.full(rgb.shape[:2], 1, np.uint8), 1), lambda gray: None,
                    lambda gray, layers: found[(gray.shape[0], int(gray[0, 0]))],
                    lambda mask: None, retry=lambda rgb: (np.full(rgb.shape[:2], 2, np.uint8), 1))
    an = analyse(np.zeros((200, 300, 3), np.uint8), OcrOptions(), stages=stages)
    assert an.scale == 2 and len(an.lines) == 8 and rim not in an.lines
