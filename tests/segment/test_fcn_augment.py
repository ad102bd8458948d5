"""Word-swapped training lines (`fcn.augment`) and training on them with `extra_corpora`."""

from __future__ import annotations

import jiema
import numpy as np
import pytest
from click.testing import CliRunner
from jiema.cli import build_cli
from jiema_segment import plugin
from jiema_segment.fcn.augment import swap_words, tagged_lines
from pd_lines import PD_LINES


def _corpus(tmp_path, lines=PD_LINES):
    path = tmp_path / "pd.txt"
    text = "19980101-01-001-001/m  " + lines[0] + "\n" + "\n".join(lines[1:])
    path.write_text(text + "\n[中央/n  人民/n  广播/vn  电台/n]nt  。/w\n", encoding="utf-8")
    return path


def test_tagged_lines_read_words_and_tags_without_ids_or_brackets(tmp_path):
    lines = list(tagged_lines(_corpus(tmp_path)))
    assert lines[0][:2] == [("迈向", "v"), ("充满", "v")]
    assert lines[-1] == [("中央", "n"), ("人民", "n"), ("广播", "vn"), ("电台", "n"), ("。", "w")]


def test_swaps_keep_length_tag_and_the_kept_parts_of_speech():
    lines = [[("国家", "n"), ("的", "u"), ("希望", "n"), ("。", "w")],
             [("世纪", "n"), ("的", "u"), ("主席", "n"), ("！", "w")]]
    nouns = {"国家", "希望", "世纪", "主席"}
    out = list(swap_words(lines, 1.0, np.random.default_rng(0), copies=3))
    assert len(out) == 6
    for words, pairs in zip(out, lines * 3, strict=True):
        assert [len(w) for w in words] == [len(w) for w, _ in pairs]
        assert words[1] == "的" and words[3] == pairs[3][0]  # u and w never move
        assert {words[0], words[2]} <= nouns
    assert any(words[0] != pairs[0][0] for words, pairs in zip(out, lines * 3, strict=True))
    # share 0 copies the lines as they are
    same = list(swap_words(lines, 0.0, np.random.default_rng(0)))
    assert same == [[w for w, _ in pairs] for pairs in lines]


def test_the_command_leaves_out_the_dev_lines(tmp_path):
    corpus = _corpus(tmp_path, PD_LINES * 2)  # 8 lines + the compound line: 9
    out = tmp_path / "aug.txt"
    result = CliRunner().invoke(build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False)),
                                ["train", "segment-swaps", "--corpus", str(corpus), "--out",
                                 str(out), "--share", "0", "--dev-fraction", "0.5"])
    assert result.exit_code == 0, result.output
    got = out.read_text(encoding="utf-8").splitlines()
    # every 2nd line is dev: lines 1, 3, 5, 7 (0-based) are left out
    assert len(got) == 5
    assert got[0] == "迈向 充满 希望 的 新 世纪"
    assert got[1] == "我们 的 希望 在 新 世纪 。"
    plain = tmp_path / "plain.txt"
    plain.write_text("我们 的 希望\n", encoding="utf-8")  # no word/tag tokens: nothing to swap
    result = CliRunner().invoke(build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False)),
                                ["train", "segment-swaps", "--corpus", str(plain), "--out",
                                 str(tmp_path / "none.txt")])
    assert result.exit_code == 2 and "no People's Daily word/tag lines" in result.output


def test_extra_lines_train_but_stay_out_of_the_vocabularies_and_dev(tmp_path):
    pytest.importorskip("torch")
    from jiema_segment.fcn import FCNSettings, TrainOptions
    from jiema_segment.fcn.train import Trainer
    from jiema_segment.fcn.vocab import B, E

    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(PD_LINES * 4) + "\n", encoding="utf-8")
    extra = tmp_path / "extra.txt"
    extra.write_text("新奇 字词\n", encoding="utf-8")
    settings = FCNSettings(dim=8, layers=1, dilations=(1,), dropout=0.0, bigram_dim=4)
    common = dict(epochs=1, batch_chars=64, dev_fraction=0.25, min_count=1, min_bigram_count=1)
    plain = Trainer([str(corpus)], tmp_path / "a", settings, TrainOptions(**common),
                    log=lambda s: None)
    more = Trainer([str(corpus)], tmp_path / "b", settings,
                   TrainOptions(**common, extra_corpora=(str(extra),)), log=lambda s: None)
    assert more.vocab.chars == plain.vocab.chars and "奇" not in more.vocab.chars
    assert np.array_equal(more.bigrams.keys, plain.bigrams.keys)
    assert more.dev_words == plain.dev_words
    assert len(more.train_ids) == len(plain.train_ids) + 1
    assert more.train_ids[-1].tolist() == [more.vocab.encode(c)[0] for c in "新奇字词"]
    assert more.train_tags[-1].tolist() == [B, E, B, E]
