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
