"""The reading-command output convention: plain text or JSON lines, bad inputs don't stop a run."""

from __future__ import annotations

import io
import json

import click
import pytest
from click.testing import CliRunner
from jiema.output import (
    Record,
    as_record,
    inputs_argument,
    jsonl_option,
    run_reading_command,
)


def read_one(name: str):
    if name.startswith("bad"):
        raise ValueError(f"cannot read {name}")
    if name.startswith("conf"):
        return name.upper(), 0.25
    if name.startswith("rec"):
        return Record(name, text="R", confidence=1, extra={"n_chars": 1})
    if name.startswith("map"):
        return {"text": "M", "confidence": 0.5, "boxes": [1, 2]}
    return name.upper()


def run(inputs, **kw):
    out, err = io.StringIO(), io.StringIO()
    status = run_reading_command(inputs, read_one, out=out, err=err, progress=False, **kw)
    return status, out.getvalue(), err.getvalue()


def test_jsonl_one_record_per_input_and_a_bad_one_in_the_middle():
    status, out, err = run(["a", "bad1", "conf", "rec", "map"], jsonl=True)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in records] == ["a", "bad1", "conf", "rec", "map"]
    assert records[0] == {"file": "a", "text": "A", "confidence": None, "error": None}
    assert records[1]["error"] == "ValueError: cannot read bad1" and records[1]["text"] is None
    assert records[2]["confidence"] == 0.25
    assert records[3]["n_chars"] == 1 and records[3]["confidence"] == 1.0
    assert records[4]["boxes"] == [1, 2]
    assert status == 1
    assert "1 of 5 input(s) failed" in err


def test_all_good_exits_zero():
    assert run(["a", "b"], jsonl=True)[0] == 0


def test_plain_text_single_and_several_inputs():
    assert run(["abc"]) == (0, "ABC\n", "")
    status, out, err = run(["ab", "bad", "cd"])
    assert out == "ab\tAB\ncd\tCD\n"  # results only on stdout
    assert "jiema: bad: ValueError: cannot read bad" in err and status == 1


def test_custom_plain_format():
    status, out, _ = run(["ab"], plain_format=lambda r: f"<{r.text}>")
    assert out == "<AB>\n"


def test_record_extra_keys_may_not_shadow_standard_ones():
    with pytest.raises(ValueError, match="overwrite"):
        Record("f", extra={"text": "x"}).to_dict()
    assert json.loads(Record("文", text="字").to_json())["text"] == "字"
    with pytest.raises(TypeError, match="read_one must return"):
        as_record("f", 42)  # type: ignore[arg-type]


def test_shared_click_options():
    @click.command()
    @inputs_argument
    @jsonl_option
    def cmd(inputs, jsonl):
        click.echo(f"{list(inputs)} {jsonl}")

    runner = CliRunner()
    assert runner.invoke(cmd, ["a", "b", "--jsonl"]).stdout == "['a', 'b'] True\n"
    assert runner.invoke(cmd, []).exit_code == 2  # FILE... is required


def test_describe_error_is_one_line_without_the_input_name_twice(tmp_path):
    from jiema.errors import InputDecodeError
    from jiema.output import describe_error

    missing = str(tmp_path / "gone.txt")
    try:
        open(missing)
    except OSError as exc:
        assert describe_error(exc, missing) == "FileNotFoundError: No such file or directory"
    err = InputDecodeError("a.txt", 9, "invalid UTF-8 (invalid start byte)")
    assert describe_error(err, "a.txt") == (
        "InputDecodeError: invalid UTF-8 (invalid start byte) at byte offset 9")
    assert describe_error(ValueError("a.txt: two\nlines"), "a.txt") == "ValueError: two lines"


def test_refuse_input_as_output_sees_links_and_relative_paths(tmp_path, monkeypatch):
    import click
    from jiema.output import refuse_input_as_output

    src = tmp_path / "in.txt"
    src.write_text("x")
    (tmp_path / "link.txt").symlink_to(src)
    monkeypatch.chdir(tmp_path)
    for out in ("in.txt", "./in.txt", str(tmp_path / "link.txt")):
        with pytest.raises(click.UsageError, match="is also an input"):
            refuse_input_as_output(out, [str(src)])
    refuse_input_as_output("other.txt", [str(src), "-", "", None])
    refuse_input_as_output(None, [str(src)])
    refuse_input_as_output("-", ["-"])  # stdout and stdin are not files


def test_reporter_counts_failures_and_writes_each_mode_its_way():
    from jiema.output import Reporter

    out, err = io.StringIO(), io.StringIO()
    plain = Reporter(jsonl=False, out=out, err=err)
    plain.write(Record("a", text="A"), "A")
    plain.write(Record("", error="InvalidInputError: empty path"))
    assert plain.finish(2) == 1
    assert out.getvalue() == "A\n"
    assert err.getvalue().splitlines() == [
        "jiema: '': InvalidInputError: empty path", "jiema: 1 of 2 input(s) failed"]
    out = io.StringIO()
    jsonl = Reporter(jsonl=True, out=out, err=io.StringIO())
    jsonl.write(Record("b", error="boom"))
    assert json.loads(out.getvalue())["error"] == "boom" and jsonl.finish() == 1
