"""`jiema ocr`: plain and JSONL output, bad inputs as records, debug pictures, overrides."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("scipy")
pytest.importorskip("PIL")
pytest.importorskip("fontTools")
import jiema  # noqa: E402
import jiema_ocr.plugin as plugin  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from jiema.cli import build_cli  # noqa: E402
from jiema_ocr.synth import render_line  # noqa: E402
from ocr_fonts import FONTS, needs_fonts  # noqa: E402
from ocr_stub import TemplateClassifier  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture
def stub_classifier(monkeypatch):
    """Every CharClassifier.load gives a template classifier over a small alphabet."""
    from jiema_ocr import classifier

    clf = TemplateClassifier("电视机月全场满元包邮0123456789，。", FONTS[0])
    monkeypatch.setattr(classifier.CharClassifier, "load",
                        classmethod(lambda cls, path_or_name=None: clf))
    return clf


@pytest.fixture
def images(tmp_path):
    one = tmp_path / "one.png"
    Image.fromarray(render_line("电视机12月", FONTS[0], 32, seed=0).image).save(one)
    two = tmp_path / "two.png"
    line = render_line("全场满299元", FONTS[0], 30, dark_text=False, seed=1)
    Image.fromarray(line.image).save(two)
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((60, 200, 3), 240, np.uint8)).save(blank)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not a png")
    return one, two, blank, bad


def _cli():
    return build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))


def _run(args):
    return CliRunner().invoke(_cli(), args, catch_exceptions=False)


@needs_fonts
def test_plain_text_one_image(stub_classifier, images):
    one, *_ = images
    res = _run(["ocr", "--no-lm", str(one)])
    assert res.exit_code == 0, res.output
    assert res.stdout == "电视机12月\n"


@needs_fonts
def test_plain_text_several_images_prefix_the_file(stub_classifier, images):
    one, two, blank, _ = images
    res = _run(["ocr", "--no-lm", str(one), str(two), str(blank)])
    assert res.exit_code == 1  # an image without text is an error, not an empty reading
    assert res.stdout.splitlines() == [f"{one}\t电视机12月", f"{two}\t全场满299元"]
    assert f"jiema: {blank}: NoTextError: no text found\n" in res.stderr


@needs_fonts
def test_jsonl_records_and_a_bad_file(stub_classifier, images):
    one, _, blank, bad = images
    res = _run(["ocr", "--no-lm", "--jsonl", str(one), str(bad), str(blank)])
    assert res.exit_code == 1
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["file"] for r in recs] == [str(one), str(bad), str(blank)]
    assert recs[0]["text"] == "电视机12月" and recs[0]["error"] is None
    assert 0 < recs[0]["confidence"] <= 1
    line = recs[0]["lines"][0]
    assert len(line["box"]) == 4 and len(line["glyphs"]) == 6
    assert line["glyphs"][0]["candidates"][0][0] == "电"
    assert recs[1]["text"] is None and "not an image" in recs[1]["error"]
    assert recs[1]["lines"] == [] and set(recs[1]) == set(recs[0])  # one schema for all
    assert recs[2]["text"] is None and recs[2]["lines"] == []
    assert recs[2]["error"] == "NoTextError: no text found"


@needs_fonts
def test_debug_dir_pictures(stub_classifier, images, tmp_path):
    one, *_ = images
    out = tmp_path / "dbg"
    res = _run(["ocr", "--no-lm", "--debug-dir", str(out), str(one)])
    assert res.exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert "one-kde.png" in names and "one-boxes.png" in names
    assert any(n.startswith("one-layer") for n in names)
    with Image.open(out / "one-boxes.png") as boxes, Image.open(one) as source:
        assert boxes.size == source.size


def test_a_debug_picture_that_fails_loses_no_reading(stub_classifier, images, tmp_path,
                                                     monkeypatch):
    from jiema_ocr import debug

    def broken(*args, **kwargs):
        raise ValueError("x1 must be greater than or equal to x0")

    monkeypatch.setattr(debug, "draw_boxes", broken)
    one, *_ = images
    res = _run(["ocr", "--no-lm", "--debug-dir", str(tmp_path / "dbg"), str(one)])
    assert res.exit_code == 0 and res.stdout.strip()
    assert "--debug-dir pictures failed" in res.stderr and "x1 must be" in res.stderr


def test_debug_pictures_of_inputs_sharing_a_name_are_kept_apart():
    from jiema_ocr.cli import _debug_stem

    seen: set[str] = set()
    files = ("a/one.png", "b/one.jpg", "one-2.png", "c/one.gif")
    assert [_debug_stem(f, seen) for f in files] == ["one", "one-2", "one-2-2", "one-3"]


@needs_fonts
def test_bad_inputs_each_give_a_one_line_error(stub_classifier, tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    files = {
        "empty.png": b"",
        "text.png": b"hello, not an image\n",
        "giga.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
            ">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)) + chunk(b"IEND", b""),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    good = tmp_path / "good.png"
    Image.fromarray(render_line("电视机", FONTS[0], 32, seed=0).image).save(good)
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(good.read_bytes()[:200])
    args = [str(tmp_path / n) for n in (*files, "trunc.png", "missing.png")] + [str(tmp_path)]
    res = CliRunner().invoke(_cli(), ["ocr", "--no-lm", *args, str(good)],
                             catch_exceptions=False)
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("jiema: ")]
    assert len(errors) == len(args) + 1  # one line per bad input, then the count
    assert "empty file" in errors[0] and "not an image" in errors[1]
    assert "over the cap" in errors[2] and "truncated" in errors[3]
    assert errors[-1] == f"jiema: {len(args)} of {len(args) + 1} input(s) failed"
    assert res.stdout.strip().endswith("电视机")  # the good image is still read


@needs_fonts
def test_the_lm_decoder_runs_by_default(stub_classifier, images):
    one, *_ = images
    res = _run(["ocr", str(one)])
    assert res.exit_code == 0 and res.stdout.strip() == "电视机12月"
    res = _run(["ocr", "--lm-weight", "0.5", str(one)])
    assert res.exit_code == 0 and res.stdout.strip() == "电视机12月"


def test_help_and_unknown_model(tmp_path):
    res = _run(["ocr", "--help"])
    assert res.exit_code == 0 and "--debug-dir" in res.stdout and "--jsonl" in res.stdout
    image = tmp_path / "one.png"
    Image.fromarray(np.full((40, 90, 3), 200, np.uint8)).save(image)
    res = CliRunner().invoke(_cli(), ["ocr", "--model", "no-such-model", str(image)])
    assert res.exit_code != 0 and "no-such-model" in res.output


@needs_fonts
def test_deployment_config_swaps_stages(stub_classifier, images):
    """A config names other components and options: no LM, a stricter region filter."""
    from jiema_ocr.pipeline import OcrReader, first_candidates

    one, *_ = images
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False, config={
        "ocr": {
            "decoder": {"component": "ocr.no_lm.v1"},
            "regions": {"options": {"min_line_height": 500}},
            "reader": {"component": "ocr.cut_classify.v1", "options": {"top_k": 3}},
        }
    })
    reader = engine.task("ocr")
    assert isinstance(reader, OcrReader) and reader.decoder is first_candidates
    assert reader.options.top_k == 3 and reader.options.regions.min_line_height == 500
    assert reader.read(str(one)).text == ""  # every line is lower than 500 px
    default = jiema.Engine(plugins=[plugin], load_entry_points=False).task("ocr")
    assert default.decoder is not None and default.read(str(one)).text == "电视机12月"


class Backwards:
    """Another plugin's line decoder: each glyph's best candidate, the line read backwards."""

    @jiema.hookimpl
    def register_components(self, register):
        from jiema_ocr.pipeline import first_candidates

        def backwards(cands):
            text, confs = first_candidates(cands[::-1])
            return text, confs[::-1]

        register("ocr.decoder", "elsewhere.backwards.v1", factory=lambda options, model: backwards)


@needs_fonts
def test_a_config_swaps_in_another_plugins_decoder(stub_classifier, images):
    one, *_ = images
    # the merge's rules keep what both readers saw (the fitted span chooser would judge the
    # backwards text against the line recogniser's forwards one)
    config = {"ocr": {"decoder": {"component": "elsewhere.backwards.v1"},
                      "reader": {"component": "ocr.surer.v1",
                                 "options": {"span_chooser": "none"}}}}
    engine = jiema.Engine(plugins=[plugin, Backwards()], load_entry_points=False, config=config)
    assert engine.task("ocr").read(str(one)).text == "月21机视电"
    res = CliRunner().invoke(build_cli(engine), ["ocr", str(one)])
    assert res.exit_code == 0 and res.stdout.strip() == "月21机视电"



@needs_fonts
def test_a_batch_worker_builds_the_same_reader_from_the_recipe(tmp_path):
    """What a `--jobs` worker process runs, here in this process: the command's engine rebuilt
    from its recipe (entry points, --config), the reader from the same options."""
    import pickle
    from functools import partial

    from jiema.cli import EngineRecipe, engine_recipe
    from jiema_ocr.cli import _worker_reader

    image = tmp_path / "line.png"
    Image.fromarray(render_line("电视机12月", FONTS[0], 30, seed=0).image).save(image)
    make = pickle.loads(pickle.dumps(partial(_worker_reader, EngineRecipe(None), None, None,
                                             False, None)))
    record = make()(str(image))
    res = CliRunner().invoke(build_cli(), ["ocr", "--jsonl", str(image)], catch_exceptions=False)
    assert record.to_dict() == json.loads(res.stdout)
    assert record.text == "电视机12月"
    assert engine_recipe() is None  # outside a command no engine can be rebuilt
