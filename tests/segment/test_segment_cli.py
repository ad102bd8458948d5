"""`jiema segment`, `jiema train dictionary` and `jiema eval segment` through click."""

from __future__ import annotations

import json

import jiema
import jiema_segment.plugin as plugin
import pytest
from jiema.cli import build_cli
from jiema.text import Dictionary
from jiema_segment.dictionary_model import load_dictionary_model


@pytest.fixture
def cli():
    return build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))


def test_one_output_line_per_input_line(cli, runner, tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes("我们在北京大学学习\n\n  \n价格3.14元\r\n".encode())
    result = runner.invoke(cli, ["segment", str(src)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "我们 在 北京大学 学习\n\n\n价格 3.14 元\n"


def test_stdin_delimiter_and_out_file(cli, runner, tmp_path):
    out = tmp_path / "out.txt"
    result = runner.invoke(
        cli, ["segment", "-", "--delimiter", "/", "--out", str(out)], input="我们在北京\n学习"
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "我们/在/北京\n学习\n"


def test_jsonl_records(cli, runner, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("我们在北京\n\n", encoding="utf-8")
    result = runner.invoke(cli, ["segment", "--jsonl", str(src)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["words"] for r in records] == [["我们", "在", "北京"], []]
    assert records[0]["text"] == "我们 在 北京" and records[0]["error"] is None
    assert records[0]["file"] == str(src) and records[1]["line"] == 2
    assert set(records[0]) >= {"file", "text", "confidence", "error"}


def test_invalid_utf8_names_file_and_byte_offset(cli, runner, tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes("北京\n".encode() + b"ab\xffcd\n" + "学习\n".encode())
    result = runner.invoke(cli, ["segment", str(src)])
    assert result.exit_code != 0
    assert str(src) in result.output and "9" in result.output  # 7 bytes line 1, then 'ab'
    assert result.stdout == "北京\n"  # the lines before the bad one are written
    result = runner.invoke(cli, ["segment", "--jsonl", str(src)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3 and records[1]["error"] and records[2]["words"] == ["学习"]
    assert "9" in records[1]["error"]


def test_user_dict_and_mode_fcn(cli, runner, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("我们在北京\n", encoding="utf-8")
    user = tmp_path / "user.txt"
    user.write_text("在北京\n", encoding="utf-8")
    result = runner.invoke(cli, ["segment", "--mode", "dict", "--user-dict", str(user), str(src)])
    assert result.stdout == "我们 在北京\n"
    # --mode fcn is tested in test_fcn_segment.py
    result = runner.invoke(cli, ["segment", "--mode", "dict", "--hard-dict", str(user), str(src)])
    assert result.exit_code != 0 and "--hard-dict needs --mode fcn" in result.output


PD = (
    "19980101-01-001-001/m  迈向/v  充满/v  希望/n  的/u  新/a  世纪/n\n"
    "\n"
    "19980101-01-001-002/m  [中央/n  人民/n  广播/vn  电台/n]nt  的/u  新/a  节目/n\n"
)


def test_train_dictionary_jieba_text_and_model(cli, runner, tmp_path):
    corpus = tmp_path / "pd.txt"
    corpus.write_text(PD, encoding="utf-8")
    bakeoff = tmp_path / "bakeoff.txt"
    bakeoff.write_text("我们 的 世纪\n", encoding="utf-8")
    out = tmp_path / "dict.txt"
    result = runner.invoke(
        cli, ["train", "dictionary", "--corpus", str(corpus), "--corpus", str(bakeoff),
              "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    d = Dictionary.load(out)
    assert d.freq("的") == 3 and d.freq("新") == 2 and d.freq("中央") == 1
    assert d.freq("世纪") == 2 and d.freq("我们") == 1 and "中央人民广播电台" not in d
    assert out.read_text(encoding="utf-8").splitlines()[0] == "的 3"  # most frequent first

    model = tmp_path / "mini.safetensors"
    result = runner.invoke(
        cli, ["train", "dictionary", "--corpus", str(corpus), "--out", str(model),
              "--licence", "MIT", "--training-data", "a test corpus"]
    )
    assert result.exit_code == 0, result.output
    loaded = load_dictionary_model(model)
    assert loaded.freq("的") == 2 and len(loaded) == len(Dictionary.load(out)) - 1
    card = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["licence"] == "MIT" and card["component"] == "segment.dict.v1"

    src = tmp_path / "in.txt"
    src.write_text("迈向新世纪\n", encoding="utf-8")
    conf = tmp_path / "deploy.toml"
    conf.write_text('[segment.segmenter]\nmodel = "mini.safetensors"\n', encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(conf), "segment", str(src)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "迈向 新 世纪\n"


def test_dask_output_is_identical_to_local(cli, runner, tmp_path):
    pytest.importorskip("distributed")
    src = tmp_path / "in.txt"
    lines = ["我们在北京大学学习", "", "价格3.14元", "扫描二维码关注微信号"] * 30
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    user = tmp_path / "user.txt"
    user.write_text("二维码 5\n微信号\n", encoding="utf-8")
    args = ["segment", "--mode", "dict", "--user-dict", str(user), str(src)]
    local = runner.invoke(cli, args)
    assert local.exit_code == 0, local.output
    assert "二维码 关注 微信号" in local.stdout  # the user dictionary reached the segmenter
    # several blocks and several partitions, each built on a worker from the same stage
    remote = runner.invoke(cli, [*args, "--dask", "--block-chars", "200"])
    assert remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout
    assert len(remote.stdout.splitlines()) == len(lines)
