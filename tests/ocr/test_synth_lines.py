"""Training lines like users' images: styles, fonts (and the withheld ones), text, the trainer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("fontTools")
from jiema.errors import InvalidValueError  # noqa: E402
from jiema_ocr.charset import default_charset  # noqa: E402
from jiema_ocr.line_ctc import normalize_line  # noqa: E402
from jiema_ocr.synth import Font  # noqa: E402
from jiema_ocr.synth_fonts import (  # noqa: E402
    TRAINING_FAMILIES,
    allowed,
    card_text,
    training_fonts,
    withheld_reason,
)
from jiema_ocr.synth_lines import STYLES, LineStyleOptions, render_training_line  # noqa: E402
from jiema_ocr.synth_text import (  # noqa: E402
    ENTITIES,
    PAIRED_MARKS,
    PUNCT_RUNS,
    TEXT_SOURCES,
    TextMaker,
    quoted,
)
from ocr_fonts import FONTS, needs_fonts  # noqa: E402
from pydantic import ValidationError  # noqa: E402

TEXT = "电视 12月 OK，川"


@needs_fonts
@pytest.mark.parametrize("style", STYLES)
def test_every_style_draws_its_text_with_the_right_label(style: str) -> None:
    line = render_training_line(TEXT, FONTS[0], 7, style)
    assert line.style == style and line.label == "电视12月OK，川" and line.text == TEXT
    assert line.image.dtype == np.uint8 and line.image.ndim == 3 and line.image.shape[2] == 3
    ink = normalize_line(line.gray, 40, "dark" if line.dark_text else "light")
    columns = (ink > 0.5).any(axis=0).mean()
    assert ink.max() > 0.9 and columns > 0.3  # ink across the line, with the stated polarity
    short = render_training_line("电", FONTS[0], 7, style)
    assert short.image.shape[1] < line.image.shape[1]  # the text is what makes it wide


@needs_fonts
def test_screen_text_is_small_and_both_polarities_occur() -> None:
    lines = [render_training_line("设置", FONTS[0], k, "screen") for k in range(40)]
    assert all(12 <= ln.size <= 20 for ln in lines)
    assert {ln.dark_text for ln in lines} == {True, False}
    dark = [ln for ln in lines if not ln.dark_text][0]  # light text: its ground is the darker
    gray = dark.gray.astype(float)
    assert np.median(gray) < gray.max() - 60
    buttons = [render_training_line("登录", FONTS[0], k, "button") for k in range(20)]
    assert any(not b.dark_text for b in buttons)  # white text on coloured buttons


@needs_fonts
@pytest.mark.parametrize("style", STYLES)
def test_the_same_seed_gives_the_same_image(style: str) -> None:
    a = render_training_line(TEXT, FONTS[-1], 11, style)
    b = render_training_line(TEXT, FONTS[-1], np.random.default_rng(11), style)
    np.testing.assert_array_equal(a.image, b.image)
    others = [render_training_line(TEXT, FONTS[-1], s, style).image for s in (12, 13)]
    assert any(o.shape != a.image.shape or not np.array_equal(o, a.image) for o in others)


@needs_fonts
def test_bad_options_are_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidValueError, match="style must be one of"):
        render_training_line(TEXT, FONTS[0], 0, "poster")
    with pytest.raises(InvalidValueError, match="no glyph"):
        render_training_line("中\U0001F600", FONTS[0], 0)
    with pytest.raises(InvalidValueError, match="whitespace"):
        render_training_line("  ", FONTS[0], 0)
    with pytest.raises(ValidationError, match="unknown style"):
        LineStyleOptions(weights={"poster": 1.0})
    with pytest.raises(ValidationError, match="not all 0"):
        LineStyleOptions(weights={"screen": 0.0})
    with pytest.raises(ValidationError, match="screen_sizes"):
        LineStyleOptions(screen_sizes=(20, 12))
    with pytest.raises(ValidationError):
        LineStyleOptions(colour=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="word source"):
        TextMaker(["中文"], default_charset(), words=["wikipedia"])
    with pytest.raises(ValueError, match="lo <= hi"):
        TextMaker(["中文"], default_charset(), lo=5, hi=3)


@needs_fonts
def test_style_weights_choose_the_styles() -> None:
    only = LineStyleOptions(weights={"photo": 1.0, "screen": 0.0})
    assert {render_training_line("中文", FONTS[0], k, None, only).style
            for k in range(5)} == {"photo"}


# ------------------------------------------------------------------ fonts


def _named_font(path: Path, family: str) -> None:
    """A tiny real font file whose name table says `family`."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "a"])
    fb.setupCharacterMap({ord("a"): "a"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((0, 500))
    pen.lineTo((500, 0))
    pen.closePath()
    glyph = pen.glyph()
    fb.setupGlyf({".notdef": glyph, "a": glyph})
    fb.setupHorizontalMetrics({".notdef": (600, 0), "a": (600, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": family, "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))


def test_the_withheld_typefaces_are_dropped_by_file_and_by_face_name(tmp_path: Path) -> None:
    fake = [Font("x", "/nowhere/LXGWWenKai-Regular.ttf"),
            Font("x", "/nowhere/LXGWWenKaiMono-Light.ttf"),
            Font("x", "/nowhere/lxgw-wenkai-screen.ttf"),
            Font("x", "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"),
            Font("x", "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf"),
            Font("x", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
            Font("AR PL SungtiL GB", "/nowhere/renamed.ttf"),
            Font("ok", "/nowhere/NotoSansCJK-Regular.ttc", 2)]
    assert allowed(fake) == [fake[-1]]
    for name in ("fonts-lxgw-wenkai", "fonts-arphic-gkai00mp", "fonts-droid-fallback",
                 "AR PL KaitiM GB", "霞鹜文楷 TC"):
        assert "withheld" in (withheld_reason(name) or ""), name
    assert withheld_reason("Noto Serif CJK SC") is None
    assert withheld_reason("WenQuanYi Micro Hei") is None
    # a file with an innocent name whose face says it is a withheld typeface
    hidden = tmp_path / "innocent.ttf"
    _named_font(hidden, "LXGW WenKai Lite")
    plain = tmp_path / "plain.ttf"
    _named_font(plain, "Some Free Sans")
    kept = training_fonts(dirs=[str(tmp_path / "none")], extra=[str(hidden), str(plain)])
    assert [f.path for f in kept] == [str(plain)]
    assert "licence not recorded" in card_text(kept)


def test_every_training_family_names_its_package_and_licence() -> None:
    for fam in TRAINING_FAMILIES:
        assert fam.package.startswith("fonts-") and fam.licence and fam.files
        assert withheld_reason(fam.family, fam.package, *(f for f, _ in fam.files)) is None


@needs_fonts
def test_installed_training_fonts_are_the_simplified_chinese_faces() -> None:
    from jiema_ocr.synth_fonts import face_names

    fonts = training_fonts()
    assert len(fonts) >= len(FONTS)
    for font in fonts:
        if "Noto" in font.name:
            assert any(" SC" in n for n in face_names(font.path, font.index)), font
    text = card_text(fonts)
    for fam in TRAINING_FAMILIES:
        if any(f.name.startswith(fam.family + " ") for f in fonts):
            assert f"{fam.family} ({fam.package}; {fam.licence})" in text


# ------------------------------------------------------------------- text


def test_text_mixes_entities_punctuation_runs_and_long_lines_into_the_corpus() -> None:
    cs = default_charset()
    corpus = ["中国人民银行今天发布了最新的金融数据，经济增长平稳。"] * 3
    maker = TextMaker(corpus, cs, words=["modern"], lo=2, hi=10)
    texts = [maker.line(np.random.default_rng([5, k])) for k in range(300)]
    assert texts == [maker.line(np.random.default_rng([5, k])) for k in range(300)]
    labels = ["".join(t.split()) for t in texts]
    assert all((cs.encode(t) >= 0).all() and len(t) >= 2 for t in labels)
    assert any(any(run in t for run in PUNCT_RUNS) for t in labels)
    assert any(t.count("「") == t.count("」") == 1 and t.index("「") < t.index("」")
               for t in labels)  # a stretch in paired marks
    assert any(len(t) > 20 for t in labels)  # long lines
    assert any(ch.isascii() and ch.isalpha() for t in labels for ch in t)  # Latin words
    assert any(" " in t for t in texts)  # set off by spaces
    modern = {"二维码", "微信", "微博"}
    assert any(w in t for t in labels for w in modern)
    rng = np.random.default_rng(0)
    for name, make in ENTITIES.items():
        item = make(rng)
        assert item and (cs.encode("".join(item.split())) >= 0).all(), name


def test_quoted_sets_a_stretch_of_the_text_in_one_pair_of_marks() -> None:
    for k in range(50):
        rng = np.random.default_rng(k)
        out = quoted("中国人民银行", rng)
        pair = next(p for p in PAIRED_MARKS if p[0] in out)
        inner = out[out.index(pair[0]) + 1: out.index(pair[1])]
        assert len(out) == 8 and inner and inner in "中国人民银行"
        assert out.replace(pair[0], "").replace(pair[1], "") == "中国人民银行"
    assert quoted("中", np.random.default_rng(0))[1] == "中"  # a short text is quoted whole


def test_text_sources_name_their_licences() -> None:
    assert all(name and licence for name, licence in TEXT_SOURCES)
    assert any("People's Daily" in name for name, _ in TEXT_SOURCES)


# ----------------------------------------------------------------- trainer


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    pytest.importorskip("torch")
    if not FONTS:
        pytest.skip("no Debian CJK font installed")
    path = tmp_path / "pd.txt"
    path.write_text("\n".join(["中国/ns  人民/n  银行/n", "今天/t  发布/v  了/u  数据/n"] * 3)
                    + "\n", encoding="utf-8")
    return path


def test_the_line_trainer_draws_synth_lines_by_default_and_names_them_in_the_card(
        tmp_path: Path, corpus: Path) -> None:
    from jiema_ocr.cnn.line_train import (
        LineSampler,
        LineTrainOptions,
        SynthLineSampler,
        make_sampler,
        train_lines,
    )

    opts = LineTrainOptions(corpus=[str(corpus)], init=None, steps=2, batch_size=2,
                            eval_lines=2, max_chars=4)
    cs = default_charset()
    assert opts.data == "synth" and isinstance(make_sampler(opts, ["中文"], cs), SynthLineSampler)
    plain = opts.model_copy(update={"data": "plain"})
    assert type(make_sampler(plain, ["中文"], cs)) is LineSampler
    with pytest.raises(ValidationError):
        LineTrainOptions(corpus=[str(corpus)], data="fancy")  # type: ignore[arg-type]
    sampler = make_sampler(opts, ["中文"], cs)
    a, ta = sampler.batch(3, np.random.default_rng([0, 4]))
    b, tb = sampler.batch(3, np.random.default_rng([0, 4]))
    np.testing.assert_array_equal(a, b)
    assert ta == tb and a.shape[:3] == (3, 1, 40)

    train_lines(tmp_path / "run", opts, progress=False)
    card = json.loads((tmp_path / "run" / "best.json").read_text(encoding="utf-8"))
    assert "synth_lines" in card["training_data"] and "People's Daily" in card["training_data"]
    assert "fonts: " in card["licence"] and "MIT" in card["licence"]


def test_a_run_saved_before_the_data_option_resumes_on_the_plain_lines(
        tmp_path: Path, corpus: Path) -> None:
    from jiema import checkpoints
    from jiema_ocr.cnn.line_train import LineTrainOptions, train_lines

    opts = LineTrainOptions(corpus=[str(corpus)], init=None, steps=2, batch_size=2,
                            eval_lines=0, max_chars=4, data="plain")
    train_lines(tmp_path / "run", opts, progress=False, stop_at=1)
    last = tmp_path / "run" / "last.json"
    state = json.loads(last.read_text(encoding="utf-8"))
    for key in ("data", "words", "plain_share"):  # as an older jiema saved it
        del state["options"][key]
    last.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    train_lines(tmp_path / "run", LineTrainOptions(corpus=[str(corpus)]), resume=True,
                progress=False)
    saved = checkpoints.read_state(tmp_path / "run", "last")["options"]
    assert saved["data"] == "plain" and saved["plain_share"] == 0.0


def test_the_plain_share_of_synth_lines_is_drawn_as_plain_lines(corpus: Path) -> None:
    from jiema_ocr.cnn.line_train import (
        LineSampler,
        LineTrainOptions,
        SynthLineSampler,
        data_card,
    )

    texts, cs = ["中国人民银行今天发布数据"], default_charset()
    mixed = SynthLineSampler(texts, cs, 2, 6, plain_share=1.0)
    plain = LineSampler(texts, cs, 2, 6)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        rng.random()  # the draw that picks plain or synth
        want, text = plain.one(rng)
        got, label = mixed.one(np.random.default_rng(seed))
        np.testing.assert_array_equal(got, want)
        assert label == text
    alone = SynthLineSampler(texts, cs, 2, 6, plain_share=0.0)
    assert alone.plain is None
    opts = LineTrainOptions(corpus=[str(corpus)], plain_share=0.25)
    assert "25% of the lines plain" in data_card(opts, SynthLineSampler(
        texts, cs, 2, 6, plain_share=0.25))["training_data"]
    assert "plain" not in data_card(opts, alone)["training_data"]


@needs_fonts
def test_small_ui_text_never_uses_a_hairline_weight() -> None:
    from jiema_ocr.synth_lines import draw_line

    base = FONTS[0]
    fonts = [Font("Some Sans Thin", base.path, base.index),
             Font("Some Sans Regular", base.path, base.index)]
    maker = TextMaker(["中国人民银行今天发布数据"], default_charset(), words=[])
    for k in range(6):
        for style in ("screen", "button"):
            assert draw_line(maker, fonts, np.random.default_rng(k), style).font.endswith(
                "Regular")
    a = draw_line(maker, fonts, np.random.default_rng(3))
    b = draw_line(maker, fonts, np.random.default_rng(3))
    assert a.text == b.text and np.array_equal(a.image, b.image)


def test_rendering_workers_deliver_the_same_batches_as_the_training_process(
        corpus: Path) -> None:
    import torch
    from jiema_ocr.cnn.line_train import LineBatches, SynthLineSampler

    sampler = SynthLineSampler(["中国人民银行今天发布数据"], default_charset(), 2, 6)
    inline = LineBatches(sampler, 2, seed=4, start=3)
    want = [b for _, b in zip(range(4), inline, strict=False)]
    loader = torch.utils.data.DataLoader(LineBatches(sampler, 2, seed=4, start=3),
                                         batch_size=None, num_workers=2)
    got = [b for _, b in zip(range(4), loader, strict=False)]
    for (x, texts), (y, texts2) in zip(want, got, strict=True):
        np.testing.assert_array_equal(x, np.asarray(y))
        assert texts == list(texts2)


def test_jieba_words_bring_modern_vocabulary_when_jieba_is_installed() -> None:
    pytest.importorskip("jieba")
    from jiema_ocr.synth_text import jieba_words

    words, counts = jieba_words()
    assert len(words) > 10000 and (np.diff(counts) <= 0).all()  # most frequent first
    maker = TextMaker([], default_charset(), words=["jieba"])
    texts = {maker.line(np.random.default_rng(k)) for k in range(50)}
    assert len(texts) == 50  # no corpus needed: words alone make lines


def test_an_empty_corpus_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.cnn.line_train import LineTrainOptions, train_lines

    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    for share in (0.0, 0.5):
        with pytest.raises(InvalidValueError, match="hold no text line"):
            train_lines(tmp_path / "run", LineTrainOptions(corpus=[str(empty)], init=None,
                                                           steps=1, plain_share=share),
                        progress=False)
