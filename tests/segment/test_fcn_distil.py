"""Distillation on a tiny corpus: a teacher's soft targets (`--teacher`) and starting a student
from a trained model (`--init`)."""

from __future__ import annotations

import numpy as np
import pytest
from jiema.errors import InvalidInputError
from jiema_segment.fcn import FCNSettings, TrainOptions

pytest.importorskip("torch")
from pd_lines import PD_LINES  # noqa: E402

CORPUS = PD_LINES * 6
OPTIONS = dict(batch_chars=64, lr=0.02, dev_fraction=0.25, min_count=1, min_bigram_count=1)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A tiny trained model with bigrams, exported."""
    from jiema_segment.fcn.train import Trainer, export_model

    root = tmp_path_factory.mktemp("distil")
    corpus = root / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    settings = FCNSettings(dim=16, layers=2, dilations=(1, 2), dropout=0.0, bigram_dim=8)
    trainer = Trainer([str(corpus)], root / "t", settings, TrainOptions(epochs=3, **OPTIONS),
                      log=lambda s: None)
    trainer.run(progress=False)
    weights, _ = export_model(root / "t", root / "teacher.safetensors", lexicon=False)
    return root, corpus, weights


def _student(root, corpus, name, settings, **options):
    from jiema_segment.fcn.train import Trainer

    return Trainer([str(corpus)], root / name, settings,
                   TrainOptions(**{**OPTIONS, "epochs": 1, **options}), log=lambda s: None)


def _kl(trainer, corpus, probs):
    """Mean KL(teacher || student) over the training characters."""
    from jiema_segment.fcn.tagger import FCNTagger

    tagger = FCNTagger(trainer.net, trainer.vocab, trainer.settings, bigrams=trainer.bigrams,
                       precision="float32")
    texts = ["".join(words) for words in _training_lines(corpus, OPTIONS["dev_fraction"])]
    lp = np.concatenate(tagger.log_probs(texts))
    p = np.concatenate(probs).astype(np.float64)
    return float((p * (np.log(np.maximum(p, 1e-12)) - lp)).sum(axis=1).mean())


def test_teacher_targets_are_the_teachers_probabilities_per_training_line(teacher):
    from jiema_segment.fcn.tagger import FCNTagger

    root, corpus, weights = teacher
    settings = FCNSettings(dim=8, layers=1, dilations=(1,), dropout=0.0, bigram_dim=8)
    student = _student(root, corpus, "s1", settings, teacher=str(weights))
    assert (root / "s1" / "teacher.npz").is_file()
    probs = student.teacher_probs
    assert probs is not None and len(probs) == len(student.train_tags)
    assert [p.shape[0] for p in probs] == [t.shape[0] for t in student.train_tags]
    texts = ["".join(words) for words in _training_lines(corpus, OPTIONS["dev_fraction"])]
    want = np.exp(np.concatenate(FCNTagger.load(weights, precision="float32").log_probs(texts)))
    assert np.allclose(np.concatenate(probs), want, atol=2e-3)
    # a second run over the same lines reads the cache instead of running the teacher
    (root / "s1" / "teacher.npz").touch()
    stamp = (root / "s1" / "teacher.npz").stat().st_mtime_ns
    _student(root, corpus, "s1", settings, teacher=str(weights))
    assert (root / "s1" / "teacher.npz").stat().st_mtime_ns == stamp


def _training_lines(corpus, fraction):
    from jiema_segment.fcn.train import load_corpus, split_dev

    return split_dev(load_corpus([str(corpus)]), fraction)[0]


def test_a_student_on_soft_targets_moves_towards_the_teacher(teacher):
    root, corpus, weights = teacher
    settings = FCNSettings(dim=8, layers=1, dilations=(1,), dropout=0.0, bigram_dim=8)
    kl = {}
    for w in (1.0, 0.0):  # the same run on soft targets only, then on the gold tags only
        student = _student(root, corpus, f"s2-{w}", settings, teacher=str(weights),
                           teacher_weight=w, epochs=4)
        before = _kl(student, corpus, student.teacher_probs)
        student.run(progress=False)
        kl[w] = _kl(student, corpus, student.teacher_probs)
    assert kl[1.0] < 0.5 * before
    assert kl[1.0] < 0.5 * kl[0.0]


def test_init_with_the_same_shape_starts_as_the_model(teacher):
    root, corpus, weights = teacher
    settings = FCNSettings(dim=16, layers=2, dilations=(1, 2), dropout=0.0, bigram_dim=8)
    student = _student(root, corpus, "s3", settings, init=str(weights))
    _assert_scores_as(student, weights, atol=1e-3)


def _assert_scores_as(student, weights, atol):
    """The student's network gives the model's log-probabilities on two lines."""
    from jiema_segment.fcn.tagger import FCNTagger

    model = FCNTagger.load(weights, precision="float32")
    same = FCNTagger(student.net, student.vocab, student.settings, bigrams=student.bigrams,
                     precision="float32")
    text = ["迈向充满希望的新世纪", "国家主席"]
    for a, b in zip(same.log_probs(text), model.log_probs(text), strict=True):
        assert np.allclose(a, b, atol=atol)


def test_init_narrower_copies_bigrams_and_keeps_the_main_embedding_directions(teacher):
    import torch
    from jiema.models import load_tensors
    from jiema_segment.fcn.train import init_from_model

    root, corpus, weights = teacher
    settings = FCNSettings(dim=8, layers=1, dilations=(1,), dropout=0.0, bigram_dim=8)
    student = _student(root, corpus, "s4", settings)
    copied = init_from_model(student.net, weights, student.vocab, student.bigrams)
    assert {"embed.weight", "bigram_embed.weight", "bigram_proj.weight"} <= set(copied)
    assert not any(k.startswith("convs.") for k in copied)  # other shapes stay fresh
    src = load_tensors(weights)
    assert torch.equal(student.net.bigram_embed.weight,
                       torch.from_numpy(src["net.bigram_embed.weight"].astype(np.float32)))
    # an orthogonal projection onto the top 8 directions keeps their share of the energy
    top = np.linalg.svd(src["net.embed.weight"].astype(np.float64), compute_uv=False)[:8]
    kept = float((student.net.embed.weight.detach().double() ** 2).sum())
    assert kept == pytest.approx(float((top**2).sum()), rel=1e-4)


def test_init_refuses_a_model_of_other_vocabularies(teacher):
    root, corpus, weights = teacher
    settings = FCNSettings(dim=8, layers=1, dilations=(1,), dropout=0.0, bigram_dim=8)
    with pytest.raises(InvalidInputError, match="other vocabularies"):
        _student(root, corpus, "s5", settings, init=str(weights), max_lines=2)


def test_init_wider_starts_as_the_model_and_its_new_channels_learn(teacher):
    import torch

    root, corpus, weights = teacher
    settings = FCNSettings(dim=24, layers=2, dilations=(1, 2), dropout=0.0, bigram_dim=8)
    student = _student(root, corpus, "s5", settings, init=str(weights))
    _assert_scores_as(student, weights, atol=1e-4)
    text = "迈向充满希望的新世纪"
    # the new channels carry activity, and the output's weights on them get gradients
    net = student.net
    ids = torch.from_numpy(student.vocab.encode(text)[None])
    bis = torch.from_numpy(student.bigrams.encode(text)[None])
    net.zero_grad()
    net(ids, None, bis).sum().backward()
    assert net.out.weight.grad[:, 16:].abs().sum() > 0
    assert net.convs[0].weight.grad[:16, 16:].abs().sum() > 0
