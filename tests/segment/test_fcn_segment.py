"""FCN mode end to end on a tiny model trained here: Segmenter, hard decoding, CLI, registry."""

from __future__ import annotations

import jiema
import jiema_segment.plugin as plugin
import numpy as np
import pytest
from click.testing import CliRunner
from jiema.cli import build_cli
from jiema.errors import InvalidInputError
from jiema_segment import Segmenter

pytest.importorskip("torch")

CORPUS = (
    "扫描/v  二维码/n  ，/w  关注/v  微信/n  。/w\n"
    "我们/r  关注/v  国家/n  的/u  新/a  世纪/n  。/w\n"
    "\n"
    "国家/n  充满/v  希望/n  ，/w  我们/r  扫描/v  文件/n  。/w\n"
) * 4


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("fcnseg")
    corpus = root / "pd.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = CliRunner().invoke(cli, [
        "train", "segment", "--corpus", str(corpus), "--out", str(root / "run"), "--epochs", "3",
        "--dim", "16", "--layers", "2", "--dilations", "1,2", "--dropout", "0", "--lr", "0.02",
        "--batch-chars", "64", "--dev-fraction", "0.25", "--name", "tiny", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    assert "best: " in result.output and "dev_f=" in result.output
    return root / "run" / "tiny.safetensors"


def test_fcn_segmenter_keeps_the_text(model):
    seg = Segmenter(mode="fcn", model=model)
    for text in ["扫描二维码，关注微信号。", "", "Ａ 我们  关注\t国家", "龘龘"]:
        words = seg.cut(text)
        assert "".join(words) == text
        assert all(w.isspace() or not any(c.isspace() for c in w) for w in words)
    assert seg.cut("我们 国家")[1] == " "
    assert seg.cut("北京\n\n的")[1:3] == ["\n", "\n"]
    assert [len(w) for w in seg.cut_lines(["", "我们", ""])][::2] == [0, 0]


def test_hard_decoding_forces_listed_words(model):
    seg = Segmenter(mode="fcn", model=model, hard={"微信号": 1e6, "二维码": 1e6})
    words = seg.cut("扫描二维码，关注微信号。")
    assert "微信号" in words and "二维码" in words
    # a factor < 1 discourages: a huge penalty on 微信号 and on the single-char 号 reading
    seg2 = Segmenter(mode="fcn", model=model, hard={"微信号": 1e-9, "号": 1e6})
    words = seg2.cut("关注微信号。")
    assert "微信号" not in words and "号" in words
    # add_word / del_word edit the hard list (default factor)
    seg3 = Segmenter(mode="fcn", model=model, hard_default=1e6)
    seg3.add_word("注微")
    assert "注微" in seg3.cut("关注微信号")
    assert seg3.del_word("注微") and not seg3.del_word("注微")


def test_user_dict_is_a_hard_list_in_fcn_mode(model, tmp_path):
    user = tmp_path / "user.txt"
    user.write_text("注微信 3 n\n", encoding="utf-8")
    seg = Segmenter(mode="fcn", model=model, user_dict=user, hard_default=1e6)
    assert "注微信" in seg.cut("关注微信号")


def test_plain_single_characters_get_no_factor(model, tmp_path):
    """A list's single characters say nothing (every character stands alone somewhere); only an
    explicit factor moves one."""
    assert Segmenter(mode="fcn", model=model, hard={"信": 1e6}).cut("关注微信。")[1:3] == [
        "微", "信"]
    user = tmp_path / "user.txt"
    user.write_text("信 3 n\n", encoding="utf-8")
    hard = tmp_path / "hard.txt"
    hard.write_text("信\n", encoding="utf-8")
    for options in ({"user_dict": user}, {"hard": hard}, {"hard": ["信"]}):
        seg = Segmenter(mode="fcn", model=model, hard_default=1e6, **options)
        assert "微信" in seg.cut("关注微信。"), options


def test_long_line_windows_give_the_same_scores(model, monkeypatch):
    from jiema_segment.fcn import tagger as tagger_module

    seg = Segmenter(mode="fcn", model=model)
    text = "扫描二维码，关注微信号。我们关注国家的新世纪。" * 20
    whole = seg.tagger.log_probs([text])[0]
    monkeypatch.setattr(tagger_module, "WINDOW", 7)
    pieces = seg.tagger.log_probs([text, "我们"])
    assert np.allclose(whole, pieces[0], atol=1e-5)
    assert pieces[1].shape == (2, 4)


def test_a_long_line_cut_in_windows_equals_the_whole_decode(model, monkeypatch):
    from jiema_segment.fcn import tagger as tagger_module

    seg = Segmenter(mode="fcn", model=model, hard={"新世纪": 50.0})
    text = "扫描二维码，关注微信号。我们关注国家的新世纪。" * 30
    whole = seg.cut(text)
    monkeypatch.setattr(tagger_module, "WINDOW", 7)  # 90 windows, one lattice
    assert seg.cut(text) == whole
    assert whole.count("新世纪") == 30


def test_cutting_keeps_torch_s_thread_count(model):
    """The first launch of the core's parallel Numba kernels in a process sets OpenMP's thread
    count (torch's) to Numba's; a cut must leave the caller's torch.set_num_threads in force for
    the next forward pass. A fresh process, so that launch happens inside the cut."""
    import subprocess
    import sys

    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba runs one thread here: nothing can change torch's count")
    code = (
        "import sys, torch; from jiema_segment import Segmenter; torch.set_num_threads(1); "
        "Segmenter(mode='fcn', model=sys.argv[1]).cut('扫描二维码\\n关注微信\\n' * 50); "
        "print(torch.get_num_threads())"
    )
    out = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["1"]


def test_missing_model_and_bad_options(model):
    from jiema_segment import ModeNotAvailableError
    from jiema_segment.fcn.tagger import model_path_default

    if not model_path_default().is_file():
        with pytest.raises(ModeNotAvailableError, match="needs a model"):
            Segmenter(mode="fcn")
    with pytest.raises(InvalidInputError, match="finite and > 0"):
        Segmenter(mode="fcn", model=model, hard={"微信号": 0.0})


def test_cli_segment_fcn_with_hard_dict(model, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("扫描二维码，关注微信号。\n\n我们 国家\n", encoding="utf-8")
    hard = tmp_path / "hard.txt"
    hard.write_text("微信号,1000000\n二维码\n", encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = CliRunner().invoke(cli, [
        "segment", "--mode", "fcn", "--model", str(model), "--hard-dict", str(hard),
        "--hard-default", "1000000", str(src),
    ])
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[3] == ""
    assert "微信号" in lines[0].split(" ") and "二维码" in lines[0].split(" ")
    assert lines[0].replace(" ", "") == "扫描二维码，关注微信号。"
    assert lines[2].replace(" ", "") == "我们国家"


def test_fcn_component_through_the_engine(model):
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    assert "segment.fcn.v1" in engine.components_of("segment.segmenter")
    seg = engine.component("segment.fcn.v1", options={"hard_dict": None}, model=str(model))
    assert seg.mode == "fcn" and "".join(seg.cut("我们关注")) == "我们关注"
    swapped = engine.with_config(
        {"segment": {"segmenter": {"component": "segment.fcn.v1", "model": str(model),
                                   "options": {"hard_dict": None, "hard_default": 1e6}}}}
    )
    assert "".join(swapped.task("segment")("我们关注")) == "我们关注"
    with pytest.raises(InvalidInputError, match="not a dictionary"):
        Segmenter(["我们 3"], mode="fcn", model=model)  # type: ignore[arg-type]


def test_train_segment_refuses_icwb2_data(tmp_path):
    folder = tmp_path / "icwb2"
    folder.mkdir()
    corpus = folder / "pku_training.utf8"
    corpus.write_text("我们 关注 国家\n", encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = CliRunner().invoke(cli, ["train", "segment", "--corpus", str(corpus),
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code != 0 and "research only" in result.output
    clean = tmp_path / "pd.txt"
    clean.write_text("我们 关注 国家\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", "segment", "--corpus", str(clean), "--extra-corpus",
                                      str(corpus), "--out", str(tmp_path / "run")])
    assert result.exit_code != 0 and "research only" in result.output


def test_shipped_model_with_the_issue_example(tmp_path):
    from jiema_segment import cut
    from jiema_segment.fcn.tagger import model_path_default
    from jiema_segment.segmenter import default_mode

    if not model_path_default().is_file():
        pytest.skip("pd98-fcn is not shipped in this checkout")
    assert default_mode() == "fcn"
    # the issue's example, exactly: 二维码 comes from the built-in post-1998 words
    words = cut("扫描二维码，关注微信号。", mode="fcn", hard=["微信号,10"])
    assert words == ["扫描", "二维码", "，", "关注", "微信号", "。"]
    assert "微信号" not in cut("扫描二维码，关注微信号。", mode="fcn", hard=["微信号,1e-6"])
    for precision in ("float32", "bfloat16"):
        seg = Segmenter(mode="fcn", hard=["微信号,10"], precision=precision)  # type: ignore[arg-type]
        assert seg.cut("扫描二维码，关注微信号。") == words
    hard = tmp_path / "hard.txt"
    hard.write_text("微信号,10\n", encoding="utf-8")
    src = tmp_path / "in.txt"
    src.write_text("扫描二维码，关注微信号。\n", encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    assert "pd98-fcn" in jiema.Engine(plugins=[plugin], load_entry_points=False).models
    result = CliRunner().invoke(cli, ["segment", "--hard-dict", str(hard), str(src)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "扫描 二维码 ， 关注 微信号 。\n"


def test_builtin_words_start_the_hard_list(model, tmp_path, monkeypatch):
    import jiema_segment.fcn.tagger as tagger
    from jiema_segment.fcn.tagger import BUILTIN_WORDS_FACTOR
    from jiema_segment.fcn.word_lattice import LIST_WEIGHT

    seg = Segmenter(mode="fcn", model=model)
    # the tagger never saw them, so their factor counts as much as a user's does
    assert seg._builtin_words["二维码"] == pytest.approx(BUILTIN_WORDS_FACTOR ** LIST_WEIGHT)
    assert len(seg._builtin_words) > 50
    no_builtin = Segmenter(mode="fcn", model=model, builtin_words=False, lexicon=False)
    assert no_builtin._builtin_words == {}
    # a user factor replaces the built-in one; del_word removes a built-in word
    seg = Segmenter(mode="fcn", model=model, hard={"二维码": 1e-9})
    assert "二维码" not in seg.cut("扫描二维码")
    assert seg.del_word("微信") and "微信" not in seg._builtin_words
    # the CLI flag and the config option turn them off
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    src = tmp_path / "in.txt"
    src.write_text("扫描二维码\n", encoding="utf-8")
    words = tmp_path / "builtin.txt"
    words.write_text("# a word the tiny model never makes\n描二\n", encoding="utf-8")
    monkeypatch.setattr(tagger, "builtin_words_path", lambda: words)
    monkeypatch.setattr(tagger, "BUILTIN_WORDS_FACTOR", 1e6)
    args = ["segment", "--mode", "fcn", "--model", str(model), "--no-lexicon"]
    on = CliRunner().invoke(cli, [*args, str(src)])
    assert on.exit_code == 0 and "描二" in on.stdout.split()
    off = CliRunner().invoke(cli, [*args, "--no-builtin-words", str(src)])
    assert off.exit_code == 0 and "描二" not in off.stdout.split()
    bad = CliRunner().invoke(cli, ["segment", "--mode", "dict", "--no-builtin-words", str(src)])
    assert bad.exit_code != 0 and "need --mode fcn" in bad.output
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    seg = engine.component("segment.fcn.v1", options={"builtin_words": False, "lexicon": False},
                           model=str(model))
    assert seg._builtin_words == {}


def _with_lexicon(model, out, wordness):
    """A copy of `model` whose training lexicon is `wordness`."""
    from jiema_segment.fcn.train import write_with_lexicon

    return write_with_lexicon(model, wordness, out)


def test_the_model_lexicon_starts_the_hard_list(model, tmp_path):
    from jiema_segment.fcn.lexicon import LEXICON_BASE, lexicon_factors

    # the exported model carries the words of its training split, single characters left out
    seg = Segmenter(mode="fcn", model=model, builtin_words=False)
    lexicon = seg.tagger.lexicon
    assert lexicon is not None and lexicon["扫描"] == 1.0 and "的" not in lexicon
    assert seg._builtin_words == lexicon_factors(lexicon)
    assert seg._builtin_words["扫描"] == pytest.approx(LEXICON_BASE)
    assert "lexicon" in seg.tagger.card.hyperparameters
    # the user's words are a tier of their own: a plain word gets the default, lexicon or not
    seg = Segmenter(mode="fcn", model=model, hard=["扫描", "描文", "关注,2"], hard_default=50)
    assert seg._user_words == {"扫描": 50, "描文": 50, "关注": 2}
    # it decodes: a lexicon word the network never makes comes out, unless turned off
    odd = _with_lexicon(model, tmp_path / "odd.safetensors", {"描二": 1.0, "就是": 0.0})
    assert "描二" in Segmenter(mode="fcn", model=odd, builtin_words=False).cut("扫描二维码")
    off = Segmenter(mode="fcn", model=odd, builtin_words=False, lexicon=False)
    assert "描二" not in off.cut("扫描二维码")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    src = tmp_path / "in.txt"
    src.write_text("扫描二维码\n", encoding="utf-8")
    args = ["segment", "--mode", "fcn", "--model", str(odd), "--no-builtin-words", str(src)]
    assert "描二" in CliRunner().invoke(cli, args).stdout.split()
    assert "描二" not in CliRunner().invoke(cli, [*args, "--no-lexicon"]).stdout.split()
    bad = CliRunner().invoke(cli, ["segment", "--mode", "dict", "--no-lexicon", str(src)])
    assert bad.exit_code != 0 and "need --mode fcn" in bad.output


def test_train_segment_lexicon_adds_the_training_split_lexicon(model, tmp_path):
    from jiema_segment.fcn.tagger import FCNTagger

    corpus = tmp_path / "pd.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    bare = _with_lexicon(model, tmp_path / "bare.safetensors", {})
    assert not FCNTagger.load(bare).lexicon
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    out = tmp_path / "with" / "lex.safetensors"
    args = ["train", "segment-lexicon", "--model", str(bare), "--corpus", str(corpus)]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    # the same lexicon as `jiema train segment` exported with the model
    assert FCNTagger.load(out).lexicon == FCNTagger.load(model).lexicon
    assert "lexicon" in FCNTagger.load(out).card.hyperparameters
    same = CliRunner().invoke(cli, [*args, "--out", str(bare)])
    assert same.exit_code != 0 and "new file" in same.output


def test_builtin_words_are_absent_from_the_training_text():
    """The list's promise: words the 1998 corpus never shows (so the tagger cannot know them)."""
    import re
    from pathlib import Path

    from jiema.text.dictionary import load_weighted_words
    from jiema_segment.fcn.tagger import builtin_words_path

    corpus = Path(__file__).resolve().parents[3] / "shared/data/corpora/peoples_daily_199801.txt"
    if not corpus.is_file():
        pytest.skip(f"needs ../shared: {corpus} is missing")
    text = re.sub(r"/[A-Za-z]+|[\s\[\]]", "", corpus.read_text(encoding="utf-8"))
    words = load_weighted_words(builtin_words_path(), 1.0)
    assert len(words) > 50
    assert [w for w in words if w in text] == []


def test_precision_auto_follows_the_cpu(monkeypatch):
    from jiema_segment.fcn import _torch
    from jiema_segment.fcn.tagger import resolve_precision

    monkeypatch.setattr(_torch, "native_bfloat16", lambda: False)
    assert resolve_precision("auto") == "float32"
    monkeypatch.setattr(_torch, "native_bfloat16", lambda: True)
    assert resolve_precision("auto") == "bfloat16"
    assert resolve_precision("float32") == "float32"
    with pytest.raises(InvalidInputError, match="unknown precision 'half'"):
        resolve_precision("half")


def test_bfloat16_decoding_is_close_to_float32(model, tmp_path):
    from jiema_segment.fcn.tagger import FCNTagger
    from jiema_segment.plugin import FCNOptions
    from pydantic import ValidationError

    lines = ["扫描二维码，关注微信号。", "我们关注国家的新世纪。", "国"]
    f32, b16 = FCNTagger.load(model, "float32"), FCNTagger.load(model, "bfloat16")
    assert (f32.precision, b16.precision) == ("float32", "bfloat16")
    a, b = f32.log_probs(lines), b16.log_probs(lines)
    diff = max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))
    assert 0 < diff < 0.1  # really computed in bfloat16, and close
    for y in b:  # the log-softmax is taken in float32
        assert y.dtype == np.float32 and np.allclose(np.exp(y).sum(1), 1.0, atol=1e-5)
    assert f32.cut_lines(lines) == b16.cut_lines(lines)
    seg = Segmenter(mode="fcn", model=model, precision="float32")
    assert seg.tagger.precision == "float32"
    with pytest.raises(InvalidInputError, match="precision and networks are for mode='fcn'"):
        Segmenter(mode="dict", precision="bfloat16")
    with pytest.raises(InvalidInputError, match="precision and networks are for mode='fcn'"):
        Segmenter(mode="dict", networks=1)
    assert len(Segmenter(mode="fcn", model=model, networks=1).tagger.networks) == 1
    with pytest.raises(ValidationError):
        FCNOptions(precision="half")  # type: ignore[arg-type]
    src = tmp_path / "in.txt"
    src.write_text("我们关注国家\n", encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    ok = CliRunner().invoke(cli, ["segment", "--mode", "fcn", "--model", str(model),
                                  "--precision", "bfloat16", str(src)])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.replace(" ", "") == "我们关注国家\n"
    bad = CliRunner().invoke(cli, ["segment", "--mode", "dict", "--precision", "float32",
                                   str(src)])
    assert bad.exit_code == 2 and "--precision needs --mode fcn" in bad.output
    bad = CliRunner().invoke(cli, ["segment", "--mode", "dict", "--networks", "1", str(src)])
    assert bad.exit_code == 2 and "--networks needs --mode fcn" in bad.output
    too_many = CliRunner().invoke(cli, ["segment", "--mode", "fcn", "--model", str(model),
                                        "--networks", "2", str(src)])
    assert too_many.exit_code != 0 and "holds 1 network(s)" in too_many.output


def test_word_edits_keep_the_built_automaton_and_decode_as_a_fresh_list(model, monkeypatch):
    import jiema_segment.segmenter as segmenter_module
    from jiema_segment.fcn.word_lattice import WordList

    lines = ["扫描二维码，关注微信号。", "我们关注国家的新世纪。"]
    seg = Segmenter(mode="fcn", model=model, hard={"二维码": 50.0, "国家的": 3.0, "新世纪": 2.0},
                    builtin_words=False, lexicon=False)
    seg.cut(lines[0])
    base = seg._user_base
    seg.add_word("微信号")  # new word
    seg.load_hard({"二维码": 0.5})  # a changed factor
    assert seg.del_word("国家的") and not seg.del_word("没有的词")
    seg.cut(lines[0])
    assert seg._user_base is base  # the large automaton was not rebuilt
    user, _ = seg._word_lists()
    text = "\n".join(lines)
    fresh = WordList(seg._user_words).find(text)

    def occurrences(found):
        return sorted(zip(*(a.tolist() for a in found), strict=True))

    assert occurrences(user.find(text)) == occurrences(fresh)
    assert "微信号" in seg.cut(lines[0])
    monkeypatch.setattr(segmenter_module, "_REBUILD_EDITS", 2)
    for w in ("关注国", "注国家", "描二维"):
        seg.add_word(w)
    seg.cut(lines[0])
    assert seg._user_base is not base and not seg._edited  # many edits: rebuilt whole


def test_the_card_records_the_command_that_trained_it(model):
    """The card's rebuild line, parsed by the same command, gives the options it was run with."""
    import shlex

    from jiema.models import find_model_files
    from jiema_segment.cli import train_segment_command

    _, card = find_model_files(model)
    assert len(card.rebuild) == 1
    words = shlex.split(card.rebuild[0])
    assert words[:3] == ["jiema", "train", "segment"]
    params = train_segment_command.make_context("segment", words[3:]).params
    root = model.parent.parent
    assert params["corpora"] == (str(root / "pd.txt"),)
    assert params["out_dir"] == str(root / "run") and params["name"] == "tiny"
    assert (params["epochs"], params["dim"], params["layers"], params["dilations"]) == (
        3, 16, 2, "1,2")
    assert (params["lr"], params["batch_chars"], params["dev_fraction"]) == (0.02, 64, 0.25)
    assert params["seed"] == 0  # a default, written out
    assert {"python", "jiema", "numpy", "torch"} <= set(card.software)


def test_the_default_is_one_network_and_the_ensemble_is_there_by_name(tmp_path):
    from jiema_segment.fcn.tagger import ENSEMBLE_MODEL, FCN_MODEL, shipped_model_path

    if not (shipped_model_path(FCN_MODEL).is_file() and shipped_model_path(ENSEMBLE_MODEL)
            .is_file()):
        pytest.skip("the fcn models are not shipped in this checkout")
    assert len(Segmenter(mode="fcn").tagger.networks) == 1
    ensemble = Segmenter(mode="fcn", model=ENSEMBLE_MODEL)
    assert len(ensemble.tagger.networks) == 5
    assert ensemble.cut("扫描二维码，关注微信号。")[0] == "扫描"
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    assert {FCN_MODEL, ENSEMBLE_MODEL} <= set(engine.models)
    assert engine.task_config("segment")["segmenter"].model.name == FCN_MODEL
    src = tmp_path / "in.txt"
    src.write_text("扫描二维码\n", encoding="utf-8")
    result = CliRunner().invoke(build_cli(engine), ["segment", "--model", ENSEMBLE_MODEL,
                                                    str(src)])
    assert result.exit_code == 0, result.output
    assert result.stdout.replace(" ", "") == "扫描二维码\n"
