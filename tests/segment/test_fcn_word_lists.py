"""Word-lattice decoding of the tagger's S/B/M/E scores with the user's and built-in word lists,
word lists as users write them, runs kept whole, and jieba's verbs."""

from __future__ import annotations

import json

import jiema
import jiema_segment
import jiema_segment.plugin as plugin
import numpy as np
import pytest
from click.testing import CliRunner
from jiema.cli import build_cli
from jiema_segment import Segmenter
from jiema_segment.fcn.tagger import decode_tags
from jiema_segment.fcn.vocab import words_from_tags
from jiema_segment.fcn.word_lattice import EditedWordList, WordList, decode_words
from jiema_segment.word_lists import ListEntry, parse_list_line, read_word_list

SURE = np.log(0.999)
UNSURE = np.log(0.001 / 3)


def _emissions(tags: str) -> np.ndarray:
    """Log-probabilities of a tagger sure of `tags` (one of S/B/M/E per character)."""
    em = np.full((len(tags), 4), UNSURE)
    em[np.arange(len(tags)), ["SBME".index(t) for t in tags]] = SURE
    return em


def test_without_lists_the_lattice_gives_the_tagger_s_own_path():
    rng = np.random.default_rng(0)
    lines = ["扫描二维码关注微信号", "国家", "", "的",
             "我们关注国家的新世纪的发展和中华人民共和国成立"]
    ems = [np.log(rng.dirichlet(np.ones(4), size=len(x))) for x in lines]
    want = [words_from_tags(x, t) for x, t in zip(lines, decode_tags(ems), strict=True)]
    assert decode_words(lines, ems) == want
    assert decode_words([], []) == [] and decode_words(["", ""], [np.zeros((0, 4))] * 2) == [[], []]


def test_a_user_word_outranks_the_tagger_and_the_built_in_words():
    text = "科学空间挺好"
    em = [_emissions("BEBESS")]  # the tagger is sure of 科学 空间 挺 好
    builtin = WordList({"科学": 1000.0, "空间": 1000.0})
    assert decode_words([text], em, None, builtin) == [["科学", "空间", "挺", "好"]]
    user = WordList({"科学空间": 10.0})
    assert decode_words([text], em, user, builtin) == [["科学空间", "挺", "好"]]
    # a factor below 1 splits a word the tagger joins
    assert decode_words([text], em, WordList({"科学": 0.01}))[0][:2] == ["科", "学"]
    # two user words in conflict: the larger log factor times joins wins
    both = WordList({"科学空间": 10.0, "学空": 1e6})
    assert "学空" in decode_words([text], em, both)[0]


def test_a_sure_word_no_list_holds_is_not_cut_into_listed_pieces():
    text = "露宿者很多"
    em = [_emissions("BMESE")]  # 露宿者 as one word, sure
    assert decode_words([text], em, WordList({"露宿": 100.0}))[0][0] == "露宿者"
    # but the built-in lexicon knowing the string leaves it to the user's list
    known = WordList({"露宿者": 2.0})
    assert decode_words([text], em, WordList({"露宿": 100.0}), known)[0][0] == "露宿"


def test_digit_and_latin_runs_stay_whole():
    text = "用iPhone15看3.5%和www.example.com"
    em = [_emissions("S" * len(text))]  # a tagger that cuts every character
    words = decode_words([text], em)[0]
    for run in ("iPhone15", "3.5%", "www.example.com"):
        assert run in words
    # a listed word may reach past a run, but never cuts into one
    assert "用iPhone15" in decode_words([text], em, WordList({"用iPhone15": 10.0}))[0]
    assert "iPh" not in decode_words([text], em, WordList({"iPh": 1e6}))[0]


def test_edited_word_list_finds_what_a_fresh_list_finds():
    base = WordList({"二维码": 50.0, "微信": 3.0, "关注": 2.0})
    edited = EditedWordList(base, {"微信号": 10.0, "微信": 1.0, "关注": 0.5})
    fresh = WordList({"二维码": 50.0, "微信号": 10.0, "关注": 0.5})
    text = "扫描二维码关注微信号"
    assert sorted(zip(*(a.tolist() for a in edited.find(text)), strict=True)) == sorted(
        zip(*(a.tolist() for a in fresh.find(text)), strict=True))


def test_long_texts_are_matched_by_the_array_trie_alike(monkeypatch):
    """Past ARRAY_MATCH_CHARS the lists are matched by the core's array trie: the same
    occurrences (full-width forms included) in the same order as the automaton finds."""
    import jiema_segment.fcn.word_lattice as wl

    base = WordList({"二维码": 50.0, "微信": 3.0, "GDP": 2.0, "码关": 0.5})
    edited = EditedWordList(base, {"微信号": 10.0, "微信": 1.0})
    text = "扫描二维码关注微信号\nＧＤＰ和GDP\n" * 3
    found = {}
    for limit in (len(text) + 1, len(text)):  # the automaton, then the array trie
        monkeypatch.setattr(wl, "ARRAY_MATCH_CHARS", limit)
        found[limit] = [[a.tolist() for a in words.find(text)] for words in (base, edited)]
    assert found[len(text)] == found[len(text) + 1]
    assert len(found[len(text)][0][0]) == 5 * 3


@pytest.mark.parametrize(("line", "entry", "fits"), [
    ("科学空间", ListEntry("科学空间"), True),
    ("科学空间,10", ListEntry("科学空间", 10.0), True),
    (" 微信号 , 2.5 ", ListEntry("微信号", 2.5), True),
    ("科学空间\t5", ListEntry("科学空间", 5.0), True),
    ("4,200", ListEntry("4,200"), True),
    ("10,560,770", ListEntry("10,560,770"), True),
    ("17,092亿", ListEntry("17,092亿"), True),
    ("4,200\t10", ListEntry("4,200", 10.0), True),
    ("2024,1000", ListEntry("2024", 1000.0), True),
    ("云计算 5 n", ListEntry("云计算", freq=5), True),
    ("云计算 5", ListEntry("云计算", freq=5), True),
    ("云计算 n", ListEntry("云计算"), True),
    ("云计算 0", ListEntry("云计算", freq=0), True),
    ("New York 5 ns", ListEntry("New York", freq=5), True),
    ("hot dog", ListEntry("hot dog"), True),
    ("Phang\u3000Nga", ListEntry("Phang\u3000Nga"), True),
    ("foo,bar", ListEntry("foo,bar"), True),
    ("词,-1", ListEntry("词,-1"), False),
    ("词,0", ListEntry("词,0"), False),
    ("词\tx", ListEntry("词\tx"), False),
])
def test_word_list_lines(line, entry, fits):
    assert parse_list_line(line) == (entry, fits)


def test_read_word_list_skips_blanks_and_comments_and_counts_odd_lines():
    entries, odd = read_word_list(["\ufeff# a comment", "", "科学空间,10", "词,-1", "4,200"])
    assert [e.word for e in entries] == ["科学空间", "词,-1", "4,200"] and odd == 1


def _fcn_or_skip():
    from jiema_segment.segmenter import default_mode

    if default_mode() != "fcn":
        pytest.skip("the shipped fcn model or torch is not installed")


def test_golden_user_words_with_the_default_segmenter(tmp_path):
    """Seed 003's examples with the shipped pd98-fcn: a user's word beats the built-in lexicon."""
    _fcn_or_skip()
    assert Segmenter(mode="fcn").cut("科学空间挺好") == ["科学", "空间", "挺", "好"]
    assert Segmenter(mode="fcn", hard=["科学空间,10"]).cut("科学空间挺好") == [
        "科学空间", "挺", "好"]
    assert Segmenter(mode="fcn", hard=["微信号,10"]).cut("扫描二维码，关注微信号。") == [
        "扫描", "二维码", "，", "关注", "微信号", "。"]
    # a factor below 1 splits a word the network joins
    assert Segmenter(mode="fcn").cut("科学很好")[0] == "科学"
    assert Segmenter(mode="fcn", hard=["科学,0.1"]).cut("科学很好")[:2] == ["科", "学"]
    # the plain command
    src, words = tmp_path / "in.txt", tmp_path / "words.txt"
    src.write_text("科学空间挺好\n扫描二维码，关注微信号。\n", encoding="utf-8")
    words.write_text("科学空间,10\n微信号,10\n", encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = CliRunner().invoke(cli, ["segment", "--mode", "fcn", "--hard-dict", str(words),
                                      str(src)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "科学空间 挺 好\n扫描 二维码 ， 关注 微信号 。\n"


def test_modern_words_come_out_whole_without_any_list():
    """The built-in post-1998 words pull as a user's words do where no user word overlaps:
    unweighted, the 1998 lexicon's 信号 and 支付 drowned them (微 信号, 支付 宝)."""
    _fcn_or_skip()
    seg = Segmenter(mode="fcn")
    assert "支付宝" in seg.cut("我用支付宝付款。")
    assert seg.cut("关注微信号。")[1] == "微信"
    assert "微信号" in Segmenter(mode="fcn", hard=["微信号,10"]).cut("关注微信号。")


def test_runs_stay_whole_in_fcn_mode_as_in_dict_mode():
    _fcn_or_skip()
    text = "newline和iPhone15涨了3.5%，见www.example.com，ABC123abc"
    for mode in ("fcn", "dict"):
        words = Segmenter(mode=mode).cut(text)
        for run in ("newline", "iPhone15", "3.5%", "www.example.com", "ABC123abc"):
            assert run in words, (mode, words)


def test_jieba_style_lists_in_fcn_mode(tmp_path, capsys):
    _fcn_or_skip()
    path = tmp_path / "user.txt"
    path.write_text("科学空间 5 n\n微信号\t10\n17,092亿\n词,-1\n", encoding="utf-8")
    seg = Segmenter(mode="fcn", user_dict=path)
    assert "1 line(s) fit no word-list format" in capsys.readouterr().err
    assert seg._user_words["科学空间"] == pytest.approx(seg.factor_of_freq("科学空间", 5))
    assert seg._user_words["微信号"] == 10 and "17,092亿" in seg._user_words
    assert seg.cut("科学空间挺好")[0] == "科学空间"
    assert "17,092亿" in seg.cut("总额17,092亿元")
    # frequency 0 removes a word, as in jieba; add_word's frequency counts
    seg.load_hard(["科学空间 0"])
    assert seg.cut("科学空间挺好")[0] == "科学"
    seg.add_word("科学空间", 5)
    assert seg.cut("科学空间挺好")[0] == "科学空间"
    seg.add_word("科学空间", 0)
    assert seg.cut("科学空间挺好")[0] == "科学"


def test_jieba_verbs_on_a_segmenter():
    seg = Segmenter(mode="dict")
    text = "我们 关注国家"
    tokens = seg.tokenize(text)
    assert [w for w, _, _ in tokens] == seg.cut(text) == seg.lcut(text)
    assert all(text[a:b] == w for w, a, b in tokens) and tokens[-1][2] == len(text)
    search = seg.cut_for_search("中华人民共和国成立")
    assert search[-2:] == ["中华人民共和国", "成立"] and "人民" in search and "共和国" in search
    freq = seg.suggest_freq("科学空间")
    assert freq >= 1 and seg.suggest_freq("科学空间", tune=True) == freq
    assert seg.cut("科学空间") == ["科学空间"]
    assert seg.suggest_freq(("科学", "空间"), tune=True) < freq
    assert seg.cut("科学空间") == ["科学", "空间"]
    with pytest.raises(jiema.errors.InvalidInputError):
        seg.suggest_freq(["科学"])  # type: ignore[arg-type]


def test_module_verbs_share_one_default_segmenter():
    dt = jiema_segment.dt
    assert dt is jiema_segment.default_segmenter() is jiema_segment.dt
    text = "北京大学生前来应聘"
    assert jiema_segment.lcut(text) == dt.cut(text)
    assert [w for w, _, _ in jiema_segment.tokenize(text)] == dt.cut(text)
    assert jiema_segment.cut_for_search(text)[-1] == dt.cut(text)[-1]
    try:
        jiema_segment.add_word("生前来应")
        assert "生前来应" in jiema_segment.lcut(text)
    finally:
        jiema_segment.del_word("生前来应")
    assert "生前来应" not in jiema_segment.lcut(text)


def test_cli_tokens(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("我们 关注国家\n\n", encoding="utf-8")
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = CliRunner().invoke(cli, ["segment", "--mode", "dict", "--tokens", str(src)])
    assert result.exit_code == 0, result.output
    first, empty = result.stdout.splitlines()
    assert first.split() == ["我们/0/2", "关注/3/5", "国家/5/7"] and empty == ""
    result = CliRunner().invoke(cli, ["segment", "--mode", "dict", "--tokens", "--jsonl",
                                      str(src)])
    record = json.loads(result.stdout.splitlines()[0])
    assert record["tokens"] == [["我们", 0, 2], ["关注", 3, 5], ["国家", 5, 7]]
