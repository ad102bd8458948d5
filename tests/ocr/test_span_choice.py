"""The span chooser: its features, its file, its fit, and the merge it decides."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from jiema.errors import InvalidValueError
from jiema_ocr.fit_span_choice import fit_chooser, fit_on, label_image
from jiema_ocr.language_model import CharLM, count_chars
from jiema_ocr.results import GlyphResult, LineResult
from jiema_ocr.span_choice import FEATURES, MIN_SPAN_WIDTH, SpanChooser, span_features
from jiema_ocr.surer_reader import merged_reading


def _glyphs(text: str, confidence: float, alts: dict[str, float] | None = None
            ) -> list[GlyphResult]:
    return [GlyphResult((10 * k, 0, 10 * k + 8, 10), ch, confidence,
                        [(ch, confidence), *(alts or {}).items()])
            for k, ch in enumerate(text)]


def _line(text: str, confidence: float) -> LineResult:
    glyphs = _glyphs(text, confidence)
    return LineResult((0, 0, 10 * len(text), 10), text, confidence, glyphs)


def _lm() -> CharLM:
    return CharLM.from_counts(count_chars(["人工智能和实体经济"] * 20 + ["猁"]))


def _chooser(bias: float, weights: dict[str, float] | None = None) -> SpanChooser:
    w = np.zeros(len(FEATURES))
    for name, value in (weights or {}).items():
        w[FEATURES.index(name)] = value
    return SpanChooser(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), w, bias)


def test_span_features_read_both_readers_and_the_lm() -> None:
    cut = _glyphs("猁", 0.9, {"和": 0.05})
    whole = _glyphs("和", 0.4, {"猁": 0.01})
    row = span_features(cut, whole, "能", "实", 0.8, _lm())
    f = dict(zip(FEATURES, row, strict=True))
    assert row.dtype == np.float64 and row.shape == (len(FEATURES),)
    assert f["cut_mean"] == 0.9 and f["whole_mean"] == 0.4
    assert f["mean_gain"] == pytest.approx(-0.5)
    assert f["lm_gain"] > 5  # 能和实 is the LM's text, 能猁实 is not
    assert f["cut_vouched"] == 0.01 and f["whole_vouched"] == 0.05  # each by the other's list
    assert f["pair"] == 1.0 and f["cut_hanzi"] == 1.0 and f["whole_latin"] == 0.0
    assert f["agreement"] == 0.8
    # no LM, or nothing beside the span: no LM evidence
    assert dict(zip(FEATURES, span_features(cut, whole, "能", "实", 0.8), strict=True))[
        "lm_gain"] == 0.0
    # an empty side: its confidences are 0, the gains say how much the other has
    lone = dict(zip(FEATURES, span_features([], _glyphs("、", 0.7), "鹏", "朱", 0.9), strict=True))
    assert lone["cut_empty"] == 1.0 and lone["whole_marks"] == 1.0 and lone["whole_length"] == 1
    assert lone["length_gain"] == 1 and lone["pair"] == 0.0


def test_span_features_say_how_many_characters_each_side_puts_into_the_width() -> None:
    # the recogniser's one 评 over the width of the cut reader's 砰砰 (boxes 10 px apart, 10 tall)
    cut = _glyphs("砰砰", 0.4)
    whole = [GlyphResult((0, 0, 18, 10), "评", 0.5, [("评", 0.5)])]
    f = dict(zip(FEATURES, span_features(cut, whole, "“", "”", 0.8), strict=True))
    assert f["span_width"] == pytest.approx(1.8)
    assert f["cut_per_width"] == pytest.approx(2 / 1.8)
    assert f["whole_per_width"] == pytest.approx(1 / 1.8)
    assert f["per_width_gain"] == pytest.approx(-1 / 1.8)
    assert f["cut_widest"] == pytest.approx(0.8) and f["whole_widest"] == pytest.approx(1.8)
    # a lone mark's sliver of a box counts over MIN_SPAN_WIDTH ems, not its own width
    sliver = [GlyphResult((0, 0, 1, 10), "、", 0.9, [("、", 0.9)])]
    lone = dict(zip(FEATURES, span_features([], sliver, "", "", 0.5), strict=True))
    assert lone["whole_per_width"] == pytest.approx(1 / MIN_SPAN_WIDTH)
    assert lone["cut_per_width"] == 0.0 and lone["cut_widest"] == 0.0
    empty = dict(zip(FEATURES, span_features([], [], "", "", 0.5), strict=True))
    assert empty["span_width"] == 0.0 and empty["per_width_gain"] == 0.0


def test_a_chooser_with_a_hidden_layer_round_trips_and_checks_its_shapes(tmp_path) -> None:
    from jiema.models import ModelCard

    n, rng = len(FEATURES), np.random.default_rng(2)
    chooser = SpanChooser(rng.normal(size=n), np.ones(n), rng.normal(size=3), -0.2,
                          hidden_weights=rng.normal(size=(n, 3)), hidden_bias=rng.normal(size=3))
    x = rng.normal(size=(5, n))
    z = np.tanh((x - chooser.mean) @ chooser.hidden_weights + chooser.hidden_bias)
    np.testing.assert_allclose(chooser.whole_odds(x), z @ chooser.weights - 0.2)
    path = chooser.save(tmp_path / "h.safetensors",
                        ModelCard(name="h", component="", task="", description="tiny"))
    back = SpanChooser.load(path)
    assert back.hidden_weights is not None and back.hidden_weights.shape == (n, 3)
    np.testing.assert_allclose(back.whole_odds(x), chooser.whole_odds(x))
    with pytest.raises(InvalidValueError, match="both its weights and its biases"):
        SpanChooser(np.zeros(n), np.ones(n), np.zeros(3), 0.0, hidden_weights=np.zeros((n, 3)))
    with pytest.raises(InvalidValueError, match="units"):
        SpanChooser(np.zeros(n), np.ones(n), np.zeros(3), 0.0, hidden_weights=np.zeros((n, 4)),
                    hidden_bias=np.zeros(3))
    with pytest.raises(InvalidValueError, match="weights must hold 3"):
        SpanChooser(np.zeros(n), np.ones(n), np.zeros(n), 0.0, hidden_weights=np.zeros((n, 3)),
                    hidden_bias=np.zeros(3))


def test_a_chooser_round_trips_through_its_model_files_and_refuses_a_wrong_one(tmp_path) -> None:
    from jiema.errors import ModelFileError
    from jiema.models import ModelCard, load_card, save_card

    chooser = _chooser(0.5, {"mean_gain": 2.0})
    path = chooser.save(tmp_path / "c.safetensors",
                        ModelCard(name="c", component="", task="", description="tiny"))
    back = SpanChooser.load(path)
    assert back.bias == 0.5 and back.card is not None and back.card.description == "tiny"
    assert back.card.component == "ocr.span_choice.v1" and back.card.labels == list(FEATURES)
    assert SpanChooser.load(tmp_path / "c.json").bias == 0.5  # the card names it too
    x = np.random.default_rng(0).normal(size=(4, len(FEATURES)))
    np.testing.assert_allclose(back.whole_odds(x), chooser.whole_odds(x))
    card = load_card(tmp_path / "c.json")
    save_card(card.model_copy(update={"labels": list(FEATURES[:-1])}), tmp_path / "c.json")
    with pytest.raises(InvalidValueError, match="fit it again"):
        SpanChooser.load(path)
    with pytest.raises(InvalidValueError, match="missing.safetensors does not exist"):
        SpanChooser.load(tmp_path / "missing.safetensors")
    (tmp_path / "lone.safetensors").write_bytes(path.read_bytes())
    with pytest.raises(ModelFileError, match="lone.json does not exist"):
        SpanChooser.load(tmp_path / "lone.safetensors")
    with pytest.raises(InvalidValueError, match="no span chooser 'nosuch'"):
        SpanChooser.load("nosuch")
    with pytest.raises(InvalidValueError, match="columns"):
        chooser.whole_odds(np.zeros((2, 3)))
    with pytest.raises(InvalidValueError, match="scales"):
        SpanChooser(np.zeros(len(FEATURES)), np.zeros(len(FEATURES)), np.zeros(len(FEATURES)),
                    0.0)


def test_the_shipped_chooser_loads_by_name() -> None:
    from jiema_ocr.plugin import SPAN_CHOOSER

    chooser = SpanChooser.load(SPAN_CHOOSER)
    assert chooser.card is not None
    assert chooser.card.hyperparameters["line_model"] == "gb2312-line-ctc"


def test_with_a_chooser_it_decides_every_differing_span() -> None:
    cut, whole = _line("人工智能猁实体", 0.9), _line("人工智能和实体经济", 0.3)
    # rules: the surer pair wins, and what only the recogniser saw is left out
    assert merged_reading(cut, whole).text == "人工智能猁实体"
    # a chooser that always takes the recogniser's side
    assert merged_reading(cut, whole, chooser=_chooser(5.0)).text == "人工智能和实体经济"
    assert merged_reading(cut, whole, chooser=_chooser(-5.0)).text == "人工智能猁实体"
    # a winning recogniser's span leaves out its unsure extra glyphs, as many as it is longer
    placed = _glyphs("任务努越", 0.9)  # standing 10 px apart, 努 a 0.2 guess
    placed[2] = replace(placed[2], confidence=0.2, candidates=[("努", 0.2)])
    extra = LineResult((0, 0, 40, 10), "任务努越", 0.7, placed)
    assert merged_reading(_line("任务越", 0.9), extra, chooser=_chooser(5.0)).text == "任务越"
    assert merged_reading(_line("任务樾", 0.9), extra, chooser=_chooser(5.0)).text == "任务越"
    # one that listens to the LM takes 和 and leaves the lone 经济 out
    lm_only = _chooser(0.0, {"lm_gain": 1.0, "cut_empty": -100.0})
    assert merged_reading(cut, whole, chooser=lm_only, lm=_lm()).text == "人工智能和实体"


def test_label_image_labels_each_span_by_the_reading_with_fewer_errors() -> None:
    cut, whole = _line("人工智能猁实体经", 0.9), _line("人工智能和实体经济", 0.3)
    x, y = label_image([(cut, whole)], "人工智能和实体经济")
    assert x.shape == (2, len(FEATURES))
    assert y.tolist() == [1.0, 1.0]  # 和 over 猁, and 济 kept
    # a span whose choice changes nothing is left out
    x, y = label_image([(cut, whole)], "人工智能")
    assert len(y) <= 2
    x, y = label_image([(cut, None), (None, None)], "人工智能猁实体经")
    assert x.shape == (0, len(FEATURES))


def test_fit_chooser_learns_a_separable_rule() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, FEATURES.index("lm_gain")] + 0.2 * x[:, 0] > 0).astype(float)
    chooser = fit_chooser(x, y, hidden=0)
    assert chooser.hidden_weights is None
    assert np.mean((chooser.whole_odds(x) > 0) == y) > 0.95
    # the hidden layer learns what no weighted sum can: the recogniser wins where the LM and the
    # width per character agree, either both for it or both against it
    both = x[:, FEATURES.index("lm_gain")] * x[:, FEATURES.index("per_width_gain")]
    y2 = (both > 0).astype(float)
    logistic, hidden = fit_chooser(x, y2, hidden=0), fit_chooser(x, y2, hidden=8)
    assert hidden.hidden_weights is not None and hidden.hidden_weights.shape == (len(x[0]), 8)
    assert np.mean((logistic.whole_odds(x) > 0) == y2) < 0.7
    assert np.mean((hidden.whole_odds(x) > 0) == y2) > 0.9
    with pytest.raises(ValueError, match="hidden units"):
        fit_chooser(x, y, hidden=-1)
    with pytest.raises(ValueError, match="both"):
        fit_chooser(x, np.ones(len(x)))
    with pytest.raises(ValueError, match="features"):
        fit_chooser(x[:, :3], y)
    # fit_on goes from readings to a chooser and says how it does on its own spans
    cut, whole = _line("人工智能猁实体经", 0.9), _line("人工智能和实体经济", 0.3)
    samples = [([(cut, whole)], "人工智能和实体经济"), ([(cut, whole)], "人工智能猁实体经")]
    chooser, scores = fit_on(samples * 3, _lm())
    assert scores["spans"] == 12 and 0 <= scores["fitted_right"] <= 1


def test_a_labelled_folder_names_its_bad_rows(tmp_path) -> None:
    from jiema.errors import InvalidInputError
    from jiema_ocr.fit_span_choice import labelled_folder

    with pytest.raises(InvalidInputError, match="no labels.tsv"):
        labelled_folder(tmp_path)
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "labels.tsv").write_text("a.png\t电视\\n机\n\n", encoding="utf-8")
    assert labelled_folder(tmp_path) == [(tmp_path / "a.png", "电视\n机")]
    (tmp_path / "labels.tsv").write_text(
        "a.png\t电视\nb.png\t机\nc.png\n" + "".join(f"d{k}.png\tx\n" for k in range(5)),
        encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        labelled_folder(tmp_path)
    assert "line 2: b.png does not exist" in str(err.value)
    assert "line 3: no FILE<TAB>TEXT" in str(err.value) and "(and 2 more)" in str(err.value)
    (tmp_path / "labels.tsv").write_bytes(b"a.png\t\xff\xfe\n")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        labelled_folder(tmp_path)
    (tmp_path / "labels.tsv").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="lists no images"):
        labelled_folder(tmp_path)


def test_train_ocr_spans_fits_a_chooser_on_a_labelled_folder(tmp_path, monkeypatch) -> None:
    pytest.importorskip("torch")
    import jiema
    import jiema_ocr.fit_span_choice as fit
    import jiema_ocr.plugin as plugin
    from click.testing import CliRunner
    from jiema.cli import build_cli

    cut, whole = _line("人工智能猁实体经", 0.9), _line("人工智能和实体经济", 0.3)
    texts = ["人工智能和实体经济", "人工智能猁实体经", "人工智能和实体经", "人工智能猁实体经济"]
    rows = []
    for k in range(8):
        (tmp_path / f"{k}.png").write_bytes(b"")
        rows.append(f"{k}.png\t{texts[k % 4]}")
    (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    seen = []

    def read_both(reader, image):  # the readers are real; the images' readings are canned
        seen.append(image)
        return [[(cut, whole, 10.0)]]

    monkeypatch.setattr(fit, "read_both", read_both)
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    out = tmp_path / "mine.safetensors"
    res = CliRunner().invoke(cli, ["train", "ocr-spans", "--labels", str(tmp_path), "--out",
                                   str(out), "--name", "mine"])
    assert res.exit_code == 0, res.output
    assert '"spans": 16' in res.stdout and len(seen) == 8
    chooser = SpanChooser.load(out)
    assert chooser.card is not None and chooser.card.name == "mine"
    assert chooser.card.training_data.startswith("8 labelled images")
    assert chooser.card.rebuild and chooser.card.rebuild[-1].startswith("jiema train ocr-spans")
    assert chooser.hidden_weights is not None and chooser.card.hyperparameters["hidden_units"] == 32
    res = CliRunner().invoke(cli, ["train", "ocr-spans", "--labels", str(tmp_path), "--out",
                                   str(out), "--hidden-units", "0"])
    assert res.exit_code == 0, res.output
    assert SpanChooser.load(out).hidden_weights is None  # logistic
    # a folder whose spans all teach one thing cannot be fitted: said in one line
    (tmp_path / "labels.tsv").write_text("\n".join(rows[:1]) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["train", "ocr-spans", "--labels", str(tmp_path), "--out",
                                   str(out)])
    assert res.exit_code == 1 and "label more images" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["train", "ocr-spans", "--labels", str(tmp_path), "--out",
                                   str(tmp_path / "mine.json")])
    assert res.exit_code == 2 and "must end in .safetensors" in res.output


def test_unsure_signs_only_the_cut_reader_saw_at_a_line_end_go_even_when_chosen() -> None:
    def cut_line(quote_confidence: float) -> LineResult:
        glyphs = [*_glyphs("生活馆", 0.9),
                  GlyphResult((30, 0, 32, 4), "'", quote_confidence, [("'", quote_confidence)])]
        return LineResult((0, 0, 32, 10), "生活馆'", 0.8, glyphs)

    whole = _line("生活馆", 0.9)
    keep_cut = _chooser(-5.0)  # the chooser keeps the cut side of every span
    assert merged_reading(cut_line(0.4), whole, chooser=keep_cut).text == "生活馆"
    assert merged_reading(cut_line(0.4), whole).text == "生活馆"  # the rules drop it too
    assert merged_reading(cut_line(0.9), whole, chooser=keep_cut).text == "生活馆'"  # sure
    # the recogniser ends with the same sign: not the cut reader's alone
    quoted = LineResult((0, 0, 40, 10), "生活馆'", 0.9,
                        [*_glyphs("生活馆", 0.9), GlyphResult((30, 0, 32, 4), "'", 0.5, [])])
    assert merged_reading(cut_line(0.4), quoted, chooser=keep_cut).text.endswith("'")
