"""`jiema discover words|templates` and `jiema parse` through click, and the Engine task."""

from __future__ import annotations

import json

import jiema
import jiema_templates.plugin as plugin
import pytest
from click.testing import CliRunner
from jiema.cli import build_cli
from jiema_templates import Parser, WordTable


@pytest.fixture
def cli():
    return build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))


@pytest.fixture
def files(tmp_path, corpus):
    src = tmp_path / "corpus.txt"
    src.write_text("\n".join(corpus) + "\n", encoding="utf-8")
    return tmp_path, src


def test_discover_words_then_templates_then_parse(cli, files, corpus):
    tmp, src = files
    runner = CliRunner()
    words = tmp / "dict.txt"
    res = runner.invoke(cli, ["discover", "words", str(src), "--min-proba", "1e-4",
                              "--out", str(words), "--quiet"])
    assert res.exit_code == 0, res.output
    from jiema_templates import discover_words

    assert WordTable.load(words).counts == discover_words(corpus, min_proba=1e-4).counts
    templates = tmp / "templates.txt"
    res = runner.invoke(cli, ["discover", "templates", str(src), "--words", str(words),
                              "--out", str(templates), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "# words: dict.txt" in templates.read_text(encoding="utf-8")
    res = runner.invoke(cli, ["parse", "--templates", str(templates), "中国人民银行今天发布了数据",
                              "我们在北京大学学习"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].replace("(", "").replace(")", "") == "中国人民银行今天发布了数据"
    res = runner.invoke(cli, ["parse", "--templates", str(templates), "--jsonl"],
                        input="我们在北京\n")
    rec = json.loads(res.stdout)
    assert rec["error"] is None and rec["tree"]["content"] == "我们在北京"


def test_discover_templates_discovers_words_when_not_given(cli, files):
    tmp, src = files
    out = tmp / "t.txt"
    res = CliRunner().invoke(cli, ["discover", "templates", str(src), "--out", str(out),
                                   "--quiet"])
    assert res.exit_code == 0, res.output
    assert (tmp / "t.words.txt").is_file()


def test_words_to_stdout_and_errors(cli, tmp_path):
    runner = CliRunner()
    src = tmp_path / "c.txt"
    src.write_text("我们在北京\n我们在上海\n", encoding="utf-8")
    res = runner.invoke(cli, ["discover", "words", str(src), "--quiet"])
    from jiema_templates import FileCorpus, discover_words

    assert res.exit_code == 0
    assert res.stdout == discover_words(FileCorpus([src])).dumps() == "我们在北京 1\n我们在上海 1\n"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\n")
    res = runner.invoke(cli, ["discover", "words", str(bad), "--quiet"])
    assert res.exit_code == 1 and "bad.txt" in res.output and "byte offset 3" in res.output
    res = runner.invoke(cli, ["discover", "words", str(src), "--min-proba", "2"])
    assert res.exit_code == 2 and "min-proba" in res.output
    empty = tmp_path / "empty.txt"
    empty.write_text("，。\n", encoding="utf-8")
    res = runner.invoke(cli, ["discover", "words", str(empty), "--quiet"])
    assert res.exit_code == 1 and "no characters" in res.output
    assert "Traceback" not in res.output
    ones = tmp_path / "ones.txt"
    ones.write_text("我\n们\n的，了\n", encoding="utf-8")
    for cmd in (["discover", "words"], ["discover", "templates"]):
        res = runner.invoke(cli, [*cmd, str(ones), "--quiet"])
        assert res.exit_code == 1 and "no two adjacent characters" in res.output, res.output
    for bad_opt in (["--window", "0"], ["--min-pmi", "-1"], ["--min-proba", "0"]):
        res = runner.invoke(cli, ["discover", "templates", str(src), *bad_opt])
        assert res.exit_code == 2 and bad_opt[0] in res.output
    res = runner.invoke(cli, ["parse", "--templates", str(empty), "x"])
    assert res.exit_code == 1 and "line 1: expected 'count<TAB>template'" in res.output
    blank = tmp_path / "blank.txt"
    blank.write_text("", encoding="utf-8")
    res = runner.invoke(cli, ["parse", "--templates", str(blank), "x"])
    assert res.exit_code == 1 and "no templates" in res.output


def test_engine_task_from_config(tmp_path, corpus):
    from jiema_templates import discover_templates, discover_words

    table = discover_words(corpus, min_proba=1e-4)
    table.save(tmp_path / "w.txt")
    found = discover_templates(corpus, table.tokenizer())
    found.words = "w.txt"
    found.save(tmp_path / "t.txt")
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False,
                          config={"templates": {"parser": {"options": {
                              "templates": str(tmp_path / "t.txt"), "null_score": -10}}}})
    parse = engine.task("templates")
    assert isinstance(parse, Parser)  # the stage itself is what the task calls
    tree = parse("我们在北京大学学习")
    assert tree.content == "我们在北京大学学习"
    finder = engine.task("discover-words")
    assert finder(corpus).counts == discover_words(corpus).counts
    with pytest.raises(jiema.errors.ConfigError, match="templates file"):
        jiema.Engine(plugins=[plugin], load_entry_points=False).task("templates")


def test_help_texts(cli):
    runner = CliRunner()
    for cmd, words in ((["discover", "words"], ["--min-proba", "--min-pmi", "--out", "jieba"]),
                       (["discover", "templates"], ["--words", "--window", "--min-pmi", "[X]"]),
                       (["parse"], ["--templates", "(鸡蛋)可以(吃)吗", "--render", "--jsonl"])):
        res = runner.invoke(cli, [*cmd, "--help"])
        assert res.exit_code == 0
        assert all(w in res.output for w in words), (cmd, res.output)
    res = runner.invoke(cli, ["discover", "templates", "--help"])
    assert "Least probability" in res.output


def test_parse_input_file_with_bad_utf8(cli, tmp_path):
    (tmp_path / "w.txt").write_text("鸡蛋 5\n可以 4\n吃 3\n吗 2\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("# words: w.txt\n10\t[X] 可以 [X] 吗\n", encoding="utf-8")
    src = tmp_path / "in.txt"
    src.write_bytes("鸡蛋可以吃吗\n".encode() + b"\xfe\n" + "可以吃吗\n".encode())
    runner = CliRunner()
    res = runner.invoke(cli, ["parse", "--templates", str(tmp_path / "t.txt"), "--jsonl",
                              "--input", str(src)])
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert res.exit_code == 1 and len(records) == 3
    assert records[0]["text"] == "(鸡蛋)可以(吃)吗" and records[2]["error"] is None
    assert "byte offset" in records[1]["error"] or "offset" in records[1]["error"]
    res = runner.invoke(cli, ["parse", "--templates", str(tmp_path / "t.txt"), "--input",
                              str(src)])
    assert res.exit_code == 1 and "offset 19" in res.output


def test_parse_render_and_tree(cli, tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "w.txt").write_text("鸡蛋 5\n可以 4\n吃 3\n吗 2\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("# words: w.txt\n10\t[X] 可以 [X] 吗\n3\t鸡蛋\n",
                                    encoding="utf-8")
    png = tmp_path / "tree.png"
    runner = CliRunner()
    res = runner.invoke(cli, ["parse", "--templates", str(tmp_path / "t.txt"), "--tree",
                              "--render", str(png), "鸡蛋可以吃吗"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "(鸡蛋)可以(吃)吗"
    assert "+---> (鸡蛋)可以(吃)吗" in res.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(cli, ["parse", "--templates", str(tmp_path / "t.txt"), "--render",
                              str(png), "a", "b"])
    assert res.exit_code == 2 and "one sentence" in res.output
