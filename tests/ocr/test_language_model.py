"""Character bigram counts, the compact counts file and the shipped People's Daily LM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jiema.errors import ModelFileError
from jiema_ocr.language_model import (
    MODELS_DIR,
    UNK,
    CharLM,
    count_chars,
    load_default_lm,
    load_lm,
    text_counts,
    train_lm,
)

SHARED_PD = Path(__file__).resolve().parents[3] / "shared/data/corpora/peoples_daily_199801.txt"


def test_counts_join_lines_normalise_and_drop_spaces() -> None:
    c = count_chars(["电视 机", "１电视"])
    assert c.labels[0] == UNK and sorted(c.labels[1:]) == c.labels[1:]
    assert set(c.labels) == {UNK, "电", "视", "机", "1"}  # full-width digit folded to ASCII
    ids = {ch: i for i, ch in enumerate(c.labels)}
    pairs = {(c.labels[p], c.labels[n]): k
             for p, n, k in zip(c.prev, c.next, c.counts, strict=True)}
    assert pairs == {("电", "视"): 2, ("视", "机"): 1, ("机", "1"): 1, ("1", "电"): 1}
    assert c.unigram[ids["电"]] == 2 and c.unigram.sum() == 6


def test_rare_characters_become_unk() -> None:
    c = count_chars(["aab", "aa"], min_count=2)
    assert c.labels == [UNK, "a"]
    assert c.unigram.tolist() == [1, 4]


def test_model_rows_are_proper_and_smoothing_is_applied_below_the_threshold() -> None:
    lm = CharLM.from_counts(count_chars(["电视电视电话", "电脑"]), alpha=0.1, threshold=1.0)
    np.testing.assert_allclose(lm.model.row_logsumexp(), 0.0, atol=1e-9)
    assert lm.logprob("电", "视") > lm.logprob("电", "话") > lm.logprob("电", "电")
    assert lm.logprob("电", "镕") == lm.logprob("电", UNK)


def test_counts_file_round_trip_and_cli_style_training(tmp_path: Path) -> None:
    corpus = tmp_path / "seg.txt"
    corpus.write_text("电视  机\n电脑  电视\n", encoding="utf-8")
    weights, summary = train_lm([str(corpus)], tmp_path / "lm.safetensors", name="tiny",
                                alpha=0.5, threshold=2.0)
    assert summary["pairs"] > 0 and weights.is_file() and weights.with_suffix(".json").is_file()
    lm = load_lm(weights)
    direct = CharLM.from_counts(count_chars(["电视机", "电脑电视"]), alpha=0.5, threshold=2.0)
    assert lm.labels == direct.labels
    for a, b in [("电", "视"), ("视", "机"), ("机", "电"), ("脑", "脑")]:
        assert lm.logprob(a, b) == pytest.approx(direct.logprob(a, b))
    assert load_lm(weights, alpha=0.1).logprob("脑", "脑") < lm.logprob("脑", "脑")
    # the text's counts, characters normalised as counted (full-width ａ is a)
    counts = text_counts(["电", "视", "机", "ａ", "脑", "x"], weights)
    assert counts.tolist() == [3.0, 2.0, 1.0, 0.0, 1.0, 0.0]


def test_bad_model_files_are_model_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        load_lm("no-such-model")
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        load_lm(bad)


@pytest.mark.skipif(not (MODELS_DIR / "pd98-char-bigram.json").is_file(),
                    reason="the shipped LM is not built")
def test_shipped_lm_is_compact_and_knows_common_words() -> None:
    size = (MODELS_DIR / "pd98-char-bigram.safetensors").stat().st_size
    assert size < 5_000_000
    lm = load_default_lm()
    assert lm.model.vocab_size > 4000
    v = lm.model.vocab_size  # CSR: the stored pairs are a small part of V x V, never dense
    assert lm.model.indices.size < 0.05 * v * v and lm.model.indptr.size == v + 1
    assert lm.logprob("电", "视") > lm.logprob("电", "柳") + 5
    assert lm.logprob("中", "国") > lm.logprob("中", "宙")
    # Latin letters have English odds (`english_text`): Python, not Pvthon, read on a screen
    assert lm.logprob("P", "y") > lm.logprob("P", "v") + 1
    assert lm.logprob("y", "t") > lm.logprob("v", "t") + 5


@pytest.mark.skipif(not SHARED_PD.is_file(), reason="../shared People's Daily corpus missing")
def test_people_s_daily_counts_cover_most_of_gb2312_level_1() -> None:
    import itertools

    from jiema_ocr.charset import gb2312_hanzi
    from jiema_ocr.language_model import corpus_lines

    c = count_chars(itertools.islice(corpus_lines([str(SHARED_PD)]), 2000))
    level1 = set(gb2312_hanzi((1,)))
    assert len(level1 & set(c.labels)) > 2000
