"""FCN tagger pieces on tiny inputs: vocabulary, tags, grammar, hard decoding, train + export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from jiema.errors import MissingExtraError
from jiema_segment.fcn import CharVocab, FCNSettings, TrainOptions, tags_for_words, words_from_tags
from jiema_segment.fcn.tagger import HardDictionary, decode_tags
from jiema_segment.fcn.vocab import B, E, M, S

pytest.importorskip("torch")
from pd_lines import PD_LINES  # noqa: E402

CORPUS = PD_LINES * 6


def test_vocab_normalises_width_and_maps_unknown_to_unk():
    vocab = CharVocab.count(["ＡＢ希望", "希望"], min_count=1)
    assert len(vocab) == 4 + 2
    ids = vocab.encode("AB希望龘")
    assert ids[:4].tolist() == vocab.encode("ＡＢ希望")[:4].tolist()
    assert ids[4] == 1 and (ids[:4] >= 2).all()
    assert vocab.encode("").shape == (0,)
    again = CharVocab.from_codepoints(vocab.codepoints())
    assert again.encode("AB希望龘").tolist() == ids.tolist()


def test_tags_round_trip():
    words = ["中共中央", "、", "国家", "主席"]
    tags = tags_for_words(words)
    assert tags.tolist() == [B, M, M, E, S, B, E, B, E]
    assert words_from_tags("".join(words), tags) == words


def test_viterbi_follows_the_sbme_grammar():
    # the argmax B B E is ungrammatical; the best legal path is B M E or S B E
    em = np.log(np.array([[0.1, 0.8, 0.05, 0.05], [0.1, 0.5, 0.4, 0.0 + 1e-9],
                          [0.1, 0.1, 0.1, 0.7]]))
    tags = decode_tags([em, np.zeros((0, 4))])
    assert tags[0].tolist() == [B, M, E]
    assert tags[1].shape == (0,)
    # starting with M or ending with B is impossible
    em2 = np.log(np.array([[0.01, 0.01, 0.97, 0.01], [0.01, 0.97, 0.01, 0.01]]))
    assert decode_tags([em2])[0].tolist() in ([B, E], [S, S])


def test_hard_dictionary_adds_log_factors_and_overlaps_multiply():
    hard = HardDictionary({"微信号": 10.0, "信": 2.0, "微信": 3.0})
    em = hard.apply("关注微信号", np.zeros((5, 4)))
    lf = np.log
    assert em[2, B] == pytest.approx(lf(10) + lf(3))
    assert em[3, M] == pytest.approx(lf(10))
    assert em[3, E] == pytest.approx(lf(3))
    assert em[3, S] == pytest.approx(lf(2))
    assert em[4, E] == pytest.approx(lf(10))
    assert em[0].tolist() == [0, 0, 0, 0]
    with pytest.raises(Exception, match="positive"):
        HardDictionary.load(["微信号,0"])


def test_hard_dictionary_plain_words_get_the_default_factor():
    hard = HardDictionary.load(["微信号", "二维码,5", "号", "码,3"], default=4.0)
    em = hard.apply("二维码微信号", np.zeros((6, 4)))
    assert em[0, B] == pytest.approx(np.log(5.0))
    assert em[3, B] == pytest.approx(np.log(4.0))
    # a plain single character gets no factor; an explicit one keeps its own
    assert em[5, S] == 0.0
    assert em[2, S] == pytest.approx(np.log(3.0))
    assert len(hard) == 3


def test_lexicon_wordness_is_the_share_of_occurrences_that_are_the_word():
    from jiema_segment.fcn.lexicon import (
        count_lexicon,
        lexicon_factors,
        lexicon_from_tensors,
        lexicon_tensors,
    )

    lines = [["就", "是", "说"], ["就是"], ["经济", "的"], ["经济"], ["就是", "经济"], []]
    wordness = count_lexicon(lines)
    assert wordness == {"就是": pytest.approx(2 / 3), "经济": 1.0}
    tensors = lexicon_tensors(wordness)
    back = lexicon_from_tensors(tensors["lexicon.text"], tensors["lexicon.wordness"])
    assert back.keys() == wordness.keys()
    assert back["就是"] == pytest.approx(2 / 3, abs=1e-3)  # float16
    assert lexicon_factors({"经济": 1.0, "就是": 0.5}, base=100) == {"经济": 100.0, "就是": 10.0}
    assert count_lexicon([["的"]]) == {}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from jiema_segment.fcn.train import Trainer

    root = tmp_path_factory.mktemp("fcn")
    corpus = root / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    settings = FCNSettings(dim=16, layers=2, dilations=(1, 2), dropout=0.0)
    options = TrainOptions(epochs=2, batch_chars=64, lr=0.02, dev_fraction=0.25, min_count=1)
    trainer = Trainer([str(corpus)], root / "run", settings, options, log=lambda s: None)
    scores = trainer.run(progress=False)
    return root, corpus, trainer, scores


def test_training_writes_checkpoints_and_dev_scores(trained):
    root, _, trainer, scores = trained
    assert (root / "run" / "last.safetensors").is_file()
    assert (root / "run" / "best.safetensors").is_file()
    state = json.loads((root / "run" / "last.json").read_text(encoding="utf-8"))
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert 0.0 <= scores["dev_f"] <= 1.0
    assert trainer.history[-1]["train_loss"] < 1.4  # below uniform log(4)


def test_resume_continues_from_the_checkpoint(trained):
    from jiema_segment.fcn.train import Trainer

    root, corpus, trainer, _ = trained
    state = json.loads((root / "run" / "last.json").read_text(encoding="utf-8"))
    state["options"]["epochs"] = 3
    (root / "run" / "last.json").write_text(json.dumps(state), encoding="utf-8")
    again = Trainer([str(corpus)], root / "run", resume=True, log=lambda s: None)
    assert again.epoch == 2 and again.vocab.chars == trainer.vocab.chars
    for a, b in zip(again.net.state_dict().values(), trainer.net.state_dict().values(),
                    strict=True):
        assert np.allclose(a.numpy(), b.numpy())
    assert len(again.opt.state_dict()["state"]) == len(list(again.net.parameters()))
    again.run(progress=False)
    assert again.epoch == 3


def test_export_and_load_give_the_same_log_probs(trained):
    from jiema.models import load_card
    from jiema_segment.fcn.tagger import FCNTagger
    from jiema_segment.fcn.train import export_model

    root, _, _, _ = trained
    (root / "m").mkdir()
    weights, card_path = export_model(root / "run", root / "m" / "tiny.safetensors",
                                      extra_scores={"x": 1.0})
    card = load_card(card_path)
    assert card.component == "segment.fcn.v1" and card.labels == ["S", "B", "M", "E"]
    assert card.scores["x"] == 1.0 and "dev_f" in card.scores
    assert card.hyperparameters["network"]["dim"] == 16
    tagger = FCNTagger.load(weights)
    lines = ["国家充满希望。", "", "新世纪", "龘"]
    lps = tagger.log_probs(lines)
    assert [lp.shape for lp in lps] == [(7, 4), (0, 4), (3, 4), (1, 4)]
    alone = tagger.log_probs(["新世纪"])[0]
    assert np.allclose(alone, lps[2], atol=1e-5)  # padding in a batch changes nothing
    assert np.allclose(np.exp(lps[0]).sum(1), 1.0, atol=1e-5)
    cut = tagger.cut_lines(lines)
    assert ["".join(w) for w in cut] == lines


def test_missing_torch_names_the_extra(monkeypatch):
    import builtins

    from jiema_segment.fcn._torch import require_torch

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(MissingExtraError, match=r"jiema\[torch\]"):
        require_torch()


def test_unk_dropout_hides_a_share_of_the_real_ids_only():
    from jiema_segment.fcn.train import _unk_dropout

    ids = np.zeros((4, 1000), dtype=np.int64)
    ids[:, :800] = 5
    ids[:, 0] = 1
    untouched = ids.copy()
    _unk_dropout(untouched, 0.0, np.random.default_rng(0))
    assert (untouched == ids).all()
    _unk_dropout(ids, 0.25, np.random.default_rng(0))
    assert (ids[:, 800:] == 0).all() and set(np.unique(ids).tolist()) == {0, 1, 5}
    assert 0.2 < (ids[:, 1:800] == 1).mean() < 0.3
    with pytest.raises(ValueError):
        TrainOptions(bigram_unk_dropout=1.0)


def test_resume_after_a_kill_mid_epoch(tmp_path):
    from jiema_segment.fcn.train import Trainer

    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    settings = FCNSettings(dim=8, layers=1, dropout=0.0)
    options = TrainOptions(epochs=1, batch_chars=32, dev_fraction=0.25, min_count=1,
                           checkpoint_minutes=1e-9)  # a checkpoint after every batch
    trainer = Trainer([str(corpus)], tmp_path / "run", settings, options, log=lambda s: None)
    real_step, calls = trainer.opt.step, []

    def dying_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # killed during the 4th batch
        return real_step(*args, **kwargs)

    trainer.opt.step = dying_step
    with pytest.raises(KeyboardInterrupt):
        trainer.run(progress=False)
    state = json.loads((tmp_path / "run" / "last.json").read_text(encoding="utf-8"))
    assert state["epoch"] == 0 and state["batch_done"] == 3
    again = Trainer([str(corpus)], tmp_path / "run", resume=True, log=lambda s: None)
    assert again.batch_done == 3
    again.run(progress=False)
    assert again.epoch == 1 and (tmp_path / "run" / "best.safetensors").is_file()


def test_a_paused_and_resumed_run_is_bit_identical_to_an_unbroken_one(tmp_path):
    """Dropout, UNK dropout and bigrams on, a dev split decoded (the core's Numba Viterbi) at
    each epoch end; the pause falls mid-epoch, after an epoch's dev decoding."""
    import torch
    from jiema import checkpoints
    from jiema_segment.fcn.train import Trainer

    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    settings = FCNSettings(dim=8, layers=1, dropout=0.2, bigram_dim=4)
    options = TrainOptions(epochs=2, batch_chars=32, dev_fraction=0.25, min_count=1,
                           unk_dropout=0.1, threads=1)
    straight = Trainer([str(corpus)], tmp_path / "a", settings, options, log=lambda s: None)
    straight.run(progress=False)
    steps_per_epoch = straight.steps // 2
    paused = Trainer([str(corpus)], tmp_path / "b", settings, options, log=lambda s: None)
    paused.run(progress=False, stop_at=steps_per_epoch + 2)
    del paused
    rest = Trainer([str(corpus)], tmp_path / "b", resume=True, log=lambda s: None)
    assert (rest.epoch, rest.batch_done) == (1, 2)
    rest.run(progress=False)
    assert rest.history == straight.history
    a, b = checkpoints.load_tensors(tmp_path / "a", "last"), checkpoints.load_tensors(
        tmp_path / "b", "last")
    assert a.keys() == b.keys() and any(k.startswith("opt.") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_run_without_a_dev_split_keeps_its_first_epoch_as_the_best(tmp_path):
    """Without dev lines the best epoch is the lowest training loss; the first epoch's loss is
    above 1, and a best of -1 to beat once kept it (and so the run) from ever being best."""
    from jiema_segment.fcn.train import Trainer

    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    options = TrainOptions(epochs=1, batch_chars=32, dev_fraction=0.0, min_count=1)
    trainer = Trainer([str(corpus)], tmp_path / "run", FCNSettings(dim=8, layers=1), options,
                      log=lambda s: None)
    scores = trainer.run(progress=False)
    assert scores["train_loss"] > 1 and "dev_f" not in scores
    assert json.loads((tmp_path / "run" / "best.json").read_text(encoding="utf-8"))["epoch"] == 1


def test_a_checkpoint_from_before_the_shared_loop_resumes(tmp_path):
    """Run folders written when the trainer had its own loop name the step `steps`, the best
    `best_f` (-1 before any) and the epochs without one `bad_epochs`."""
    from jiema import checkpoints
    from jiema_segment.fcn.train import Trainer

    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    settings = FCNSettings(dim=8, layers=1, dropout=0.0)
    options = TrainOptions(epochs=2, batch_chars=32, dev_fraction=0.25, min_count=1, threads=1)
    straight = Trainer([str(corpus)], tmp_path / "a", settings, options, log=lambda s: None)
    straight.run(progress=False)
    Trainer([str(corpus)], tmp_path / "b", settings, options, log=lambda s: None).run(
        progress=False, stop_at=straight.steps // 2 + 1)  # into the second epoch
    state = json.loads((tmp_path / "b" / "last.json").read_text(encoding="utf-8"))
    assert state["best"] is not None
    for old, new in (("steps", "step"), ("best_f", "best"), ("bad_epochs", "bad")):
        state[old] = state.pop(new)
    (tmp_path / "b" / "last.json").write_text(json.dumps(state), encoding="utf-8")
    rest = Trainer([str(corpus)], tmp_path / "b", resume=True, log=lambda s: None)
    assert (rest.steps, rest.loop.best) == (straight.steps // 2 + 1, state["best_f"])
    rest.run(progress=False)
    assert rest.steps == straight.steps and rest.loop.best == straight.loop.best
    assert torch_equal(checkpoints.load_tensors(tmp_path / "a", "last"),
                       checkpoints.load_tensors(tmp_path / "b", "last"))


def torch_equal(a, b) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_without_a_checkpoint_is_an_error(tmp_path):
    from jiema.errors import ModelFileError
    from jiema_segment.fcn.train import Trainer

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(PD_LINES) + "\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="no checkpoint in"):
        Trainer([str(corpus)], tmp_path / "run", resume=True, log=lambda s: None)
    assert not (tmp_path / "run").exists()
