"""Character-bigram features of the FCN tagger: vocabulary, training, export (float16), windows."""

from __future__ import annotations

import numpy as np
import pytest
from jiema_segment.fcn import FCNSettings, TrainOptions
from jiema_segment.fcn.vocab import UNK, BigramVocab
from pd_lines import PD_LINES

CORPUS = [PD_LINES[0], *PD_LINES[2:]] * 6


def test_bigram_vocab_keeps_frequent_pairs_and_the_line_end():
    vocab = BigramVocab.count(["希望希望", "希望。"], min_count=2)
    # 希望 x3, 望希 x1, 望<end> x1, 望。 x1, 。<end> x1
    assert len(vocab) == 2 + 1
    ids = vocab.encode("希望希")
    assert ids[0] == 2 and ids[1] == UNK and ids[2] == UNK
    # width normalisation: full-width digits share the half-width bigram
    digits = BigramVocab.count(["12", "１２"], min_count=2)
    assert digits.encode("１２")[0] == digits.encode("12")[0] != UNK
    assert BigramVocab.count([], 1).encode("ab").tolist() == [UNK, UNK]
    assert vocab.encode("").shape == (0,)


def test_encoding_many_lines_at_once_equals_one_at_a_time():
    from jiema_segment.fcn.vocab import CharVocab

    lines = ["", "希望", "新世纪", "", "ＡＢ希", "希", ""]
    chars = CharVocab.count(lines)
    bigrams = BigramVocab.count(lines)
    for vocab in (chars, bigrams):
        many = vocab.encode_many(lines)
        assert [a.tolist() for a in many] == [vocab.encode(t).tolist() for t in lines]
        assert vocab.encode_many([]) == []
    # a line's last character pairs with the line end, not with the next line's first
    assert bigrams.encode_many(["希望", "新"])[0][-1] == bigrams.encode("望")[0] != UNK


def test_cosine_schedule_goes_from_lr_to_a_twentieth():
    pytest.importorskip("torch")
    from jiema_segment.fcn.train import Trainer

    trainer = Trainer.__new__(Trainer)
    trainer.options = TrainOptions(epochs=5, lr=0.02, lr_schedule="cosine")
    lrs = []
    for epoch in range(5):
        trainer.epoch = epoch
        lrs.append(trainer.epoch_lr())
    assert lrs[0] == pytest.approx(0.02) and lrs[-1] == pytest.approx(0.001)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    trainer.options = TrainOptions(epochs=5, lr=0.02)
    assert trainer.epoch_lr() == pytest.approx(0.02)


def test_bigram_model_trains_exports_half_and_windows_match(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from jiema_segment.fcn import tagger as tagger_mod
    from jiema_segment.fcn.tagger import FCNTagger
    from jiema_segment.fcn.train import Trainer, export_model

    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    settings = FCNSettings(dim=8, layers=2, dilations=(1, 2), dropout=0.0, bigram_dim=4)
    options = TrainOptions(epochs=2, batch_chars=64, lr=0.02, dev_fraction=0.25, min_count=1,
                           min_bigram_count=1, lr_schedule="cosine")
    trainer = Trainer([str(corpus)], tmp_path / "run", settings, options, log=lambda s: None)
    trainer.run(progress=False)
    assert trainer.bigrams is not None and len(trainer.bigrams) > 10
    again = Trainer([str(corpus)], tmp_path / "run", resume=True, log=lambda s: None)
    assert np.array_equal(again.bigrams.keys, trainer.bigrams.keys)

    full, _ = export_model(tmp_path / "run", tmp_path / "full.safetensors")
    half, _ = export_model(tmp_path / "run", tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < full.stat().st_size
    a, b = FCNTagger.load(full), FCNTagger.load(half)
    assert a.context == 1 + 2 + 1  # the bigram reads one character to the right
    line = "我们的希望在新世纪。国家充满希望。" * 5
    lp_full, lp_half = a.log_probs([line])[0], b.log_probs([line])[0]
    assert np.allclose(lp_full, lp_half, atol=2e-2)
    # long lines run as overlapping windows: the same scores as one piece
    monkeypatch.setattr(tagger_mod, "WINDOW", 7)
    assert np.allclose(a.log_probs([line])[0], lp_full, atol=1e-5)
    # a bigram network refuses to run without its bigram ids
    with pytest.raises(ValueError, match="bigram"):
        FCNTagger(a.network, a.vocab, a.settings)
