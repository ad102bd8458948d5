"""Bad inputs to every reading command and public entry point (issue 24).

Each bad input gives ONE line naming it and the reason, the other inputs are still processed,
the exit status is 1 for a bad input and 2 for a usage error (an unknown model, a model of
another task, a file that is not a model, an output that is an input), and no traceback ever.
"""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import jiema
import jiema_captcha.plugin as captcha_plugin
import jiema_ocr.plugin as ocr_plugin
import jiema_segment.plugin as segment_plugin
import jiema_templates.plugin as templates_plugin
import pytest
from click.testing import CliRunner
from jiema.cli import build_cli
from jiema.output import shown_name

GOOD_TEXT = "我们在北京"
GOOD_WORDS = "我们 在 北京"
WORDS = "我们 10\n可以 5\n吃 3\n吗 4\n鸡蛋 2\n在 3\n北京 3\n"
TEMPLATES = "# jiema templates v1\n# words: words.txt\n5\t[X] 可以 [X] 吗\n3\t[X] 在 [X]\n"

# bytes that are not UTF-8 text; each is one bad input to a text command
BAD_TEXT = {
    "random-bytes": bytes((i * 97 + 13) % 128 + 128 for i in range(512)),
    "gbk": GOOD_TEXT.encode("gbk") + b"\n",
    "lone-surrogate": b"ab\xed\xa0\x80cd\n",  # U+D800 encoded as if it were a character
}
# inputs that are fine to a text command: nothing to cut
FINE_TEXT = {"empty": b"", "whitespace-only": b"  \t\n\n"}
NOT_A_FILE = ("directory", "missing", "empty-path")


@functools.cache
def _cli():
    """One CLI (and Engine) for the module: its models load once."""
    plugins = [segment_plugin, templates_plugin, ocr_plugin, captcha_plugin]
    return build_cli(jiema.Engine(plugins=plugins, load_entry_points=False))


def _run(args, **kw):
    result = CliRunner().invoke(_cli(), args, **kw)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def _jiema_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("jiema: ")]


def _input(tmp_path: Path, kind: str, data: dict[str, bytes]) -> str:
    """A path for each kind of bad input."""
    if kind == "directory":
        return str(tmp_path)
    if kind == "missing":
        return str(tmp_path / "missing.txt")
    if kind == "empty-path":
        return ""
    path = tmp_path / f"{kind}.bin"
    path.write_bytes(data[kind])
    return str(path)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.txt"
    path.write_text(GOOD_TEXT + "\n", encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------------ segment
@pytest.mark.parametrize("kind", [*BAD_TEXT, *NOT_A_FILE])
def test_segment_reports_a_bad_input_in_one_line_and_cuts_the_rest(tmp_path, good, kind):
    bad = _input(tmp_path, kind, BAD_TEXT)
    result = _run(["segment", "--mode", "dict", bad, good])
    assert result.exit_code == 1
    lines = _jiema_lines(result.stderr)
    assert len(lines) == 2 and lines[0].startswith(f"jiema: {shown_name(bad)}: ")
    assert lines[1] == "jiema: 1 input(s) failed"
    assert result.stdout == GOOD_WORDS + "\n"  # the good file after it is still cut


@pytest.mark.parametrize("kind", [*BAD_TEXT, *NOT_A_FILE])
def test_segment_jsonl_gives_the_bad_input_an_error_record(tmp_path, good, kind):
    bad = _input(tmp_path, kind, BAD_TEXT)
    result = _run(["segment", "--mode", "dict", "--jsonl", bad, good])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["file"] == (bad if bad else "") and records[0]["error"]
    assert records[-1]["text"] == GOOD_WORDS and records[-1]["error"] is None


@pytest.mark.parametrize("kind", FINE_TEXT)
def test_segment_empty_and_blank_files_are_fine(tmp_path, good, kind):
    src = _input(tmp_path, kind, FINE_TEXT)
    result = _run(["segment", "--mode", "dict", src, good])
    assert result.exit_code == 0 and not _jiema_lines(result.stderr)
    assert result.stdout.splitlines()[-1] == GOOD_WORDS


def test_segment_names_the_line_and_offset_of_a_bad_byte(tmp_path, good):
    src = tmp_path / "mixed.txt"
    src.write_bytes("北京\n".encode() + b"ab\xffcd\n")
    result = _run(["segment", "--mode", "dict", str(src), good])
    assert _jiema_lines(result.stderr)[0] == (
        f"jiema: {src}: InputDecodeError: invalid UTF-8 (invalid start byte) at byte offset 9 "
        "(line 2)")


# ------------------------------------------------------------------------- --out = input
def test_segment_refuses_to_write_over_its_input(tmp_path, good):
    before = Path(good).read_bytes()
    result = _run(["segment", "--mode", "dict", good, "--out", good])
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert Path(good).read_bytes() == before
    link = tmp_path / "link.txt"
    link.symlink_to(good)
    result = _run(["segment", "--mode", "dict", str(link), "--out", good])
    assert result.exit_code == 2 and Path(good).read_bytes() == before
    hard = tmp_path / "hard.txt"
    os.link(good, hard)
    result = _run(["segment", "--mode", "dict", good, "--out", str(hard)])
    assert result.exit_code == 2 and Path(good).read_bytes() == before
    out = tmp_path / "out.txt"  # another file is fine
    assert _run(["segment", "--mode", "dict", good, "--out", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == GOOD_WORDS + "\n"


def test_segment_out_keeps_the_old_file_when_the_run_fails(tmp_path, good, monkeypatch):
    from jiema_segment.segmenter import Segmenter

    out = tmp_path / "out.txt"
    out.write_text("old result\n", encoding="utf-8")

    def broken(self, lines):
        raise RuntimeError("the segmenter broke")

    monkeypatch.setattr(Segmenter, "cut_lines", broken)
    result = CliRunner().invoke(_cli(), ["segment", "--mode", "dict", good, "--out", str(out)])
    assert result.exit_code != 0
    assert out.read_text(encoding="utf-8") == "old result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.txt", "out.txt"]


@pytest.fixture
def parse_files(tmp_path):
    (tmp_path / "words.txt").write_text(WORDS, encoding="utf-8")
    templates = tmp_path / "templates.txt"
    templates.write_text(TEMPLATES, encoding="utf-8")
    return templates


@pytest.mark.parametrize("args", [
    ["discover", "words", "--quiet", "{corpus}", "--out", "{corpus}"],
    ["discover", "templates", "--quiet", "{corpus}", "--out", "{corpus}"],
    ["discover", "templates", "--quiet", "{corpus}", "--out", "{tmp}/t.txt",
     "--words-out", "{corpus}"],
    ["discover", "templates", "--quiet", "{corpus}", "--words", "{tmp}/words.txt",
     "--out", "{tmp}/words.txt"],
    ["parse", "--templates", "{tmp}/templates.txt", "--input", "{corpus}", "--render",
     "{corpus}"],
    ["parse", "--templates", "{tmp}/templates.txt", "鸡蛋可以吃吗", "--render",
     "{tmp}/templates.txt"],
    ["train", "dictionary", "--corpus", "{corpus}", "--out", "{corpus}"],
])
def test_commands_refuse_an_output_that_is_an_input(tmp_path, parse_files, args):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("我们 在 北京\n鸡蛋 可以 吃 吗\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    result = _run([a.format(corpus=corpus, tmp=tmp_path) for a in args])
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before


# -------------------------------------------------------------------------------- parse
@pytest.mark.parametrize("kind", [*BAD_TEXT, *NOT_A_FILE])
def test_parse_reports_a_bad_input_in_one_line_and_parses_the_rest(tmp_path, parse_files,
                                                                     kind):
    bad = _input(tmp_path, kind, BAD_TEXT)
    good = tmp_path / "sentences.txt"
    good.write_text("鸡蛋可以吃吗\n", encoding="utf-8")
    args = ["parse", "--quiet", "--templates", str(parse_files)]
    result = _run([*args, "--input", str(good), "--input", bad])
    assert result.exit_code == 1
    lines = _jiema_lines(result.stderr)
    assert len(lines) == 2 and lines[0].startswith(f"jiema: {shown_name(bad)}: ")
    assert result.stdout == "(鸡蛋)可以(吃)吗\n"
    result = _run([*args, "--jsonl", "--input", bad, "--input", str(good)])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1 and records[0]["error"] and records[0]["text"] is None
    assert records[-1]["text"] == "(鸡蛋)可以(吃)吗"


@pytest.mark.parametrize("kind", FINE_TEXT)
def test_parse_empty_and_blank_files_are_fine(tmp_path, parse_files, kind):
    src = _input(tmp_path, kind, FINE_TEXT)
    result = _run(["parse", "--quiet", "--templates", str(parse_files), "--input", src])
    assert result.exit_code == 0 and not _jiema_lines(result.stderr)


@pytest.mark.parametrize("kind", ["gbk", "missing", "directory"])
def test_parse_a_bad_templates_file_is_one_line(tmp_path, kind):
    bad = _input(tmp_path, kind, BAD_TEXT)
    result = _run(["parse", "--templates", bad, "鸡蛋可以吃吗"])
    assert result.exit_code in (1, 2)
    assert len([ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]) == 1


@pytest.mark.parametrize("kind", [*BAD_TEXT, "missing"])
def test_discover_stops_at_a_bad_corpus_file_in_one_line_writing_nothing(tmp_path, good, kind):
    """Counting is over the whole corpus: a count without one file would be silently wrong."""
    bad = _input(tmp_path, kind, BAD_TEXT)
    out = tmp_path / "words-out.txt"
    result = _run(["discover", "words", "--quiet", good, bad, "--out", str(out)])
    assert result.exit_code == 1 and not out.exists()
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {bad}: ")


# -------------------------------------------------------------------------------- models
MODEL_COMMANDS = {
    "segment": (["segment"], {"pd98-dict", "pd98-fcn", "pd98-fcn-fast"}),
    "ocr": (["ocr"], {"gb2312-cnn", "gb2312-line-ctc"}),
    "captcha": (["captcha"], {"upper4", "letters4-ci", "general"}),
}
ALL_MODELS = {"pd98-dict", "pd98-fcn", "pd98-fcn-fast", "gb2312-cnn", "gb2312-line-ctc",
              "pd98-char-bigram", "upper4", "letters4-ci", "general"}


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_an_unknown_model_is_a_usage_error_listing_only_that_tasks_models(good, command):
    args, valid = MODEL_COMMANDS[command]
    result = _run([*args, "--model", "nosuch", good])
    assert result.exit_code == 2
    error = result.stderr.strip().splitlines()[-1]
    assert "unknown model 'nosuch'; valid models: " + ", ".join(sorted(valid)) in error
    assert not any(name in error for name in ALL_MODELS - valid)


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_a_model_of_another_task_is_a_usage_error(good, command):
    args, valid = MODEL_COMMANDS[command]
    other = "pd98-char-bigram" if command != "ocr" else "upper4"
    result = _run([*args, "--model", other, good])
    assert result.exit_code == 2 and "not one this option takes" in result.stderr
    other = next(iter(sorted(ALL_MODELS - valid - {"pd98-char-bigram"})))
    result = _run([*args, "--model", other, good])
    assert result.exit_code == 2 and f"{other} is a model of component" in result.stderr


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_a_path_that_is_not_a_model_says_so(tmp_path, good, command):
    args, _ = MODEL_COMMANDS[command]
    result = _run([*args, "--model", good, good])
    assert result.exit_code == 2 and f"not a jiema model file: {good}" in result.stderr
    assert "unknown model" not in result.stderr
    result = _run([*args, "--model", str(tmp_path / "gone.safetensors"), good])
    assert result.exit_code == 2 and "no such model file" in result.stderr


def test_segment_model_implies_its_mode(good):
    by_model = _run(["segment", "--model", "pd98-dict", good])
    by_mode = _run(["segment", "--mode", "dict", good])
    assert by_model.exit_code == 0 and by_model.stdout == by_mode.stdout == GOOD_WORDS + "\n"
    assert _run(["segment", "--mode", "dict", "--model", "pd98-dict", good]).exit_code == 0
    result = _run(["segment", "--mode", "fcn", "--model", "pd98-dict", good])
    assert result.exit_code == 2 and "is a dict model" in result.stderr
    result = _run(["segment", "--mode", "dict", "--model", "pd98-fcn", good])
    assert result.exit_code == 2 and "is a fcn model" in result.stderr


def test_help_texts_show_values_not_code_names():
    import re

    import click

    cli = _cli()
    seen = []

    def walk(command, path):
        with click.Context(command, info_name=" ".join(path)) as ctx:
            text = command.get_help(ctx)
        seen.append(path)
        assert not re.search(r"jiema_\w+\.\w+|\w\(\)", text), (path, text)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, ["jiema"])
    assert ["jiema", "segment"] in seen and len(seen) > 10


# ------------------------------------------------------------------------ images
def _png(kind: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    if kind == "blank":
        Image.new("RGB", (200, 60), "white").save(buf, "PNG")
    elif kind == "one-pixel":
        Image.new("RGB", (1, 1), "white").save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _bad_images(good_png: bytes) -> dict[str, bytes]:
    return {
        "zero-bytes": b"",
        "random-bytes": BAD_TEXT["random-bytes"],
        "gbk-text": BAD_TEXT["gbk"],
        "truncated": good_png[: len(good_png) // 3],
        "huge": b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(
            ">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)) + _chunk(b"IEND", b""),
        "one-pixel": _png("one-pixel"),
        "blank": _png("blank"),
    }


BAD_IMAGE_REASONS = {
    "zero-bytes": "empty file", "random-bytes": "not an image", "gbk-text": "not an image",
    "truncated": "", "huge": "", "one-pixel": "no text found", "blank": "no text found",
    "directory": "Is a directory", "missing": "No such file", "empty-path": "empty path",
}


def _image_run(tmp_path: Path, command: list[str], good_png: bytes):
    """One run over every bad image and a good one last (the models load once)."""
    folder = tmp_path / "images"
    folder.mkdir()
    inputs = {}
    for kind, data in _bad_images(good_png).items():
        path = folder / f"{kind}.png"
        path.write_bytes(data)
        inputs[kind] = str(path)
    inputs.update(directory=str(folder), missing=str(folder / "missing.png"), **{"empty-path": ""})
    good = folder / "good.png"
    good.write_bytes(good_png)
    result = _run([*command, *inputs.values(), str(good)])
    return inputs, str(good), result


@pytest.fixture(scope="module")
def captcha_run(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    from jiema_captcha.generator import CaptchaGenerator, CaptchaSettings

    good_png, _ = CaptchaGenerator(CaptchaSettings(), 2026).png(0)
    return _image_run(tmp_path_factory.mktemp("captcha"), ["captcha"], good_png)


@pytest.fixture(scope="module")
def ocr_run(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("scipy")
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (360, 80), "white")
    ImageDraw.Draw(img).text((12, 16), "2026 OCR", fill="black",
                             font=ImageFont.load_default(size=40))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return _image_run(tmp_path_factory.mktemp("ocr"), ["ocr", "--no-lm"], buf.getvalue())


@pytest.mark.parametrize("kind", BAD_IMAGE_REASONS)
@pytest.mark.parametrize("run", ["captcha_run", "ocr_run"])
def test_a_bad_image_is_one_line_naming_it(request, run, kind):
    inputs, _, result = request.getfixturevalue(run)
    assert result.exit_code == 1
    mine = [ln for ln in _jiema_lines(result.stderr)
            if ln.startswith(f"jiema: {shown_name(inputs[kind])}: ")]
    assert len(mine) == 1 and BAD_IMAGE_REASONS[kind] in mine[0]
    assert _jiema_lines(result.stderr)[-1] == (
        f"jiema: {len(inputs)} of {len(inputs) + 1} input(s) failed")


@pytest.mark.parametrize("run", ["captcha_run", "ocr_run"])
def test_the_good_image_after_the_bad_ones_is_still_read(request, run):
    _, good, result = request.getfixturevalue(run)
    (line,) = result.stdout.splitlines()
    name, text = line.split("\t")
    assert name == good and text.strip()


def test_a_low_confidence_captcha_reading_keeps_its_text(tmp_path):
    pytest.importorskip("torch")
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)  # ink-like dots all over, but no letters
    noise = rng.integers(0, 256, (60, 160), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    result = _run(["captcha", "--jsonl", str(path)])
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and record["error"] is None
    assert len(record["text"]) == 4 and record["confidence"] < 0.5


def test_eval_captcha_reports_each_bad_labelled_image_in_one_line(tmp_path):
    pytest.importorskip("torch")
    from jiema_captcha.generator import CaptchaGenerator, CaptchaSettings

    png, label = CaptchaGenerator(CaptchaSettings(), 5).png(0)
    (tmp_path / "good.png").write_bytes(png)
    (tmp_path / "blank.png").write_bytes(_png("blank"))
    (tmp_path / "labels.tsv").write_text(
        f"good.png\t{label}\nblank.png\tABCD\nmissing.png\tWXYZ\n", encoding="utf-8")
    result = _run(["eval", "captcha", "--labels", str(tmp_path)])
    assert result.exit_code == 1
    assert _jiema_lines(result.stderr) == [
        f"jiema: {tmp_path / 'blank.png'}: NoTextError: no text found (a blank image: "
        "contrast 0 of 255)",
        f"jiema: {tmp_path / 'missing.png'}: FileNotFoundError: No such file or directory"]
    assert "images\t3" in result.stdout and "unreadable\t2" in result.stdout


def test_ocr_debug_dir_may_not_overwrite_an_input(tmp_path):
    img = tmp_path / "x.png"
    img.write_bytes(_png("blank"))
    kde = tmp_path / "x-kde.png"
    kde.write_bytes(b"my picture")
    result = _run(["ocr", "--debug-dir", str(tmp_path), str(img), str(kde)])
    assert result.exit_code == 2 and "would overwrite the input" in result.stderr
    assert kde.read_bytes() == b"my picture"


# ------------------------------------------------------------------------ extras
@pytest.mark.parametrize("command", [["ocr"], ["captcha"]])
def test_without_torch_the_reader_says_which_extra_to_install(tmp_path, monkeypatch, command):
    pytest.importorskip("PIL")
    img = tmp_path / "x.png"
    img.write_bytes(_png("blank"))
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails
    result = _run([*command, str(img)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert f'pip install "jiema[{command[0]}]"' in line


def test_the_ocr_and_captcha_extras_bring_torch_with_its_cap():
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    for extra in ("ocr", "captcha"):
        assert "torch>=2.2,<2.14" in extras[extra], extra
    assert extras["torch"] == ["torch>=2.2,<2.14"]


# ------------------------------------------------------------------- public entry points
@pytest.mark.parametrize("mode", ["dict", "fcn"])
def test_segmenter_takes_lone_surrogates_and_refuses_non_text(mode):
    from jiema.errors import InvalidInputError
    from jiema_segment import Segmenter

    if mode == "fcn":
        pytest.importorskip("torch")
    seg = Segmenter(mode=mode)
    assert "".join(seg.cut("我们\ud800在北京")) == "我们\ud800在北京"
    assert seg.cut("") == []
    for bad in (b"abc", None, 5):
        with pytest.raises(InvalidInputError, match="must be a str"):
            seg.cut(bad)  # type: ignore[arg-type]


def test_cut_takes_a_lone_surrogate():
    import jiema_segment

    assert "".join(jiema_segment.cut("\udfff北京")) == "\udfff北京"


@pytest.mark.parametrize("source", ["", "/nonexistent/x.png", b"", b"not an image"])
def test_ocr_read_text_raises_one_named_error(source):
    pytest.importorskip("scipy")
    from jiema.images import ImageReadError, read_rgb

    with pytest.raises((ImageReadError, FileNotFoundError)) as info:
        read_rgb(source)
    assert "\n" not in str(info.value)
    if source == "":
        assert "empty path" in str(info.value)


def test_readers_refuse_a_huge_image_by_its_header():
    pytest.importorskip("PIL")
    from jiema.images import ImageTooLargeError, read_rgb
    from jiema_captcha.images import ImageInputError, load_image

    huge = _bad_images(b"")["huge"]
    with pytest.raises(ImageTooLargeError):
        read_rgb(huge)
    with pytest.raises(ImageInputError):
        load_image(huge)


def test_captcha_read_functions_refuse_a_blank_image():
    pytest.importorskip("torch")
    import numpy as np
    from jiema.errors import NoTextError
    from jiema_captcha.reader import CaptchaReader, read_captchas

    blank = np.full((60, 160, 3), 255, np.uint8)
    with pytest.raises(NoTextError, match="no text found"):
        read_captchas([blank])
    (result,) = CaptchaReader().read_each([blank])
    assert isinstance(result, NoTextError)
    with pytest.raises(ValueError, match="empty path"):
        read_captchas([""])
