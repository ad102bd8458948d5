"""FCN ensembles: several networks in one model file, decoded by their mean log-probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from jiema.errors import InvalidInputError, ModelFileError
from jiema_segment.fcn import FCNSettings, TrainOptions

pytest.importorskip("torch")
from pd_lines import PD_LINES  # noqa: E402

CORPUS = PD_LINES * 4
LINES = ["国家充满希望。", "", "新世纪的中共中央", "龘"]


def _train(root, corpus, seed: int, dim: int = 8):
    from jiema_segment.fcn.train import Trainer, export_model

    run = root / f"run{seed}-{dim}"
    settings = FCNSettings(dim=dim, layers=1, dropout=0.0, bigram_dim=4)
    options = TrainOptions(epochs=1, batch_chars=64, lr=0.02, dev_fraction=0.25, min_count=1,
                           min_bigram_count=1, seed=seed)
    Trainer([str(corpus)], run, settings, options, log=lambda s: None).run(progress=False)
    weights, _ = export_model(run, root / f"m{seed}-{dim}" / f"m{seed}.safetensors")
    return weights


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    root = tmp_path_factory.mktemp("ens")
    corpus = root / "pd.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return root, corpus, [_train(root, corpus, seed) for seed in (0, 1, 2)]


def test_an_ensemble_decodes_by_the_members_mean_log_probs(members):
    from jiema.models import find_model_files
    from jiema_segment.fcn.ensemble import merge_models
    from jiema_segment.fcn.tagger import FCNTagger

    root, _, paths = members
    merged = merge_models(paths[:2], root / "ens" / "pair.safetensors")
    singles = [FCNTagger.load(p).log_probs(LINES) for p in paths[:2]]
    pair = FCNTagger.load(merged)
    assert len(pair.networks) == 2 and pair.lexicon == FCNTagger.load(paths[0]).lexicon
    got = pair.log_probs(LINES)
    for k in range(len(LINES)):
        assert np.allclose(got[k], (singles[0][k] + singles[1][k]) / 2, atol=1e-5)
    # the seeds give different networks, so the mean differs from either member
    assert not np.allclose(got[0], singles[0][0], atol=1e-3)
    assert ["".join(w) for w in pair.cut_lines(LINES)] == LINES
    # an ensemble joins further members; the card lists all of them, in order
    three = merge_models([merged, paths[2]], root / "ens" / "three.safetensors", name="trio")
    _, card = find_model_files(three)
    assert card.name == "trio" and card.files == ["three.safetensors"]
    assert [m["seed"] for m in card.hyperparameters["members"]] == [0, 1, 2]
    assert card.scores == {}
    assert len(FCNTagger.load(three).networks) == 3
    # decoding with the first networks only is the ensemble of those
    first_two = FCNTagger.load(three, networks=2)
    assert len(first_two.networks) == 2
    for a, b in zip(first_two.log_probs(LINES), got, strict=True):
        assert np.allclose(a, b, atol=1e-5)
    with pytest.raises(InvalidInputError, match="holds 3 network"):
        FCNTagger.load(three, networks=4)


def test_members_must_share_vocabulary_and_shape(members, tmp_path):
    from jiema_segment.fcn.ensemble import merge_models

    root, corpus, paths = members
    wider = _train(root, corpus, 0, dim=12)
    with pytest.raises(InvalidInputError, match="network settings"):
        merge_models([paths[0], wider], tmp_path / "x.safetensors")
    other = tmp_path / "other.txt"
    other.write_text("\n".join(CORPUS[:2] * 4) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="vocab"):
        merge_models([paths[0], _train(tmp_path, other, 5)], tmp_path / "x.safetensors")
    with pytest.raises(InvalidInputError, match="at least two"):
        merge_models(paths[:1], tmp_path / "x.safetensors")
    with pytest.raises(InvalidInputError, match="new file"):
        merge_models(paths[:2], paths[1])


def test_member_prefixes_must_run_without_gaps():
    from jiema_segment.fcn.ensemble import member_prefix, split_members

    parts = split_members({"net.w": 0, "net1.w": 1, "net2.w": 2})
    assert parts == [{"w": 0}, {"w": 1}, {"w": 2}]
    assert [member_prefix(i) for i in range(3)] == ["net.", "net1.", "net2."]
    with pytest.raises(ModelFileError, match="members"):
        split_members({"net.w": 0, "net2.w": 2})
    with pytest.raises(ModelFileError, match="unexpected"):
        split_members({"net0.w": 0})
    with pytest.raises(ModelFileError, match="unexpected"):
        split_members({"net.w": 0, "other": 1})


def test_segment_ensemble_command_scores_the_dev_split(members, tmp_path):
    from jiema.cli import build_cli
    from jiema.models import find_model_files

    _, corpus, paths = members
    out = tmp_path / "cli.safetensors"
    args = ["train", "segment-ensemble", "--member", str(paths[0]), "--member", str(paths[1]),
            "--out", str(out), "--corpus", str(corpus)]
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output
    assert "2 members" in result.output
    _, card = find_model_files(out)
    # the members were trained through the Python API (no command to record): only the merge
    assert len(card.rebuild) == 1
    assert card.rebuild[0].startswith("jiema train segment-ensemble --member ")
    assert 0.0 <= card.scores["dev_f"] <= 1.0
    assert 0.0 <= card.scores["dev_f_with_lexicon"] <= 1.0
    seg = CliRunner().invoke(build_cli(), ["segment", "--mode", "fcn", "--model", str(out)],
                             input="国家充满希望。\n")
    assert seg.exit_code == 0, seg.output
    assert seg.output.replace(" ", "") == "国家充满希望。\n"


def test_int8_embeddings_round_trip_within_half_a_step():
    from jiema_segment.fcn.quantize import dequantize, quantize_embeddings, quantize_rows

    rng = np.random.default_rng(0)
    w = rng.normal(size=(50, 8)).astype(np.float32)
    w[0] = 0.0  # the padding row
    q, scale = quantize_rows(w)
    assert q.dtype == np.int8 and scale.dtype == np.float16 and np.abs(q).max() == 127
    back = dequantize(quantize_embeddings({"net.embed.weight": w, "net.out.weight": w}))
    assert set(back) == {"net.embed.weight", "net.out.weight"}
    assert back["net.out.weight"] is w  # only embedding tables are quantized
    step = np.abs(w).max(axis=1, keepdims=True) / 127
    assert (np.abs(back["net.embed.weight"] - w) <= step / 2 + 1e-3 * step).all()
    assert (back["net.embed.weight"][0] == 0).all()


def test_int4_bigram_tables_pack_two_values_a_byte_within_half_a_step():
    from jiema_segment.fcn.quantize import (
        BIGRAM_TABLE,
        Q4,
        Q8,
        dequantize,
        pack_int4,
        quantize_embeddings,
        unpack_int4,
    )

    q = np.array([[-7, 7, 0, 3], [1, -2, -7, 6]], dtype=np.int8)
    packed = pack_int4(q)
    assert packed.dtype == np.uint8 and packed.shape == (2, 2)
    assert (unpack_int4(packed) == q).all()
    rng = np.random.default_rng(1)
    w = rng.normal(size=(40, 6)).astype(np.float32)
    odd = rng.normal(size=(40, 5)).astype(np.float32)
    stored = quantize_embeddings(
        {"net.bigram_embed.weight": w, "net.embed.weight": w, "net1.bigram_embed.weight": odd},
        int4=(BIGRAM_TABLE,),
    )
    assert "net.bigram_embed.weight" + Q4 in stored and "net.embed.weight" + Q8 in stored
    assert "net1.bigram_embed.weight" + Q8 in stored  # an odd width stays int8
    assert stored["net.bigram_embed.weight" + Q4].shape == (40, 3)
    back = dequantize(stored)
    step = np.abs(w).max(axis=1, keepdims=True) / 7
    assert (np.abs(back["net.bigram_embed.weight"] - w) <= step / 2 + 1e-3 * step).all()
    assert np.abs(back["net.embed.weight"] - w).max() < step.max() / 10  # int8 is finer


def test_an_int4_ensemble_of_an_int8_one_is_smaller_still(members):
    from jiema_segment.fcn.ensemble import merge_models
    from jiema_segment.fcn.tagger import FCNTagger

    root, _, paths = members
    (root / "q4").mkdir()
    small = merge_models(paths[:2], root / "q4" / "int8.safetensors", int8_embeddings=True)
    again = merge_models([small, paths[2]], root / "q4" / "three.safetensors")
    assert len(FCNTagger.load(again).networks) == 3  # quantized members are restored
    smaller = merge_models([small, paths[2]], root / "q4" / "int4.safetensors",
                           int4_bigrams=True)
    assert smaller.stat().st_size < again.stat().st_size
    a, b = FCNTagger.load(again).log_probs(LINES), FCNTagger.load(smaller).log_probs(LINES)
    for x, y in zip(a, b, strict=True):
        assert np.allclose(x, y, atol=0.1)


def test_an_int8_ensemble_is_smaller_and_scores_alike(members):
    from jiema_segment.fcn.ensemble import merge_models
    from jiema_segment.fcn.tagger import FCNTagger

    root, _, paths = members
    full = merge_models(paths[:2], root / "q" / "full.safetensors")
    small = merge_models(paths[:2], root / "q" / "small.safetensors", int8_embeddings=True)
    assert small.stat().st_size < full.stat().st_size
    a, b = FCNTagger.load(full).log_probs(LINES), FCNTagger.load(small).log_probs(LINES)
    for x, y in zip(a, b, strict=True):
        assert np.allclose(x, y, atol=0.05)


def test_a_merge_keeps_the_members_rebuild_lines_then_adds_its_own(members, tmp_path):
    import shlex
    import shutil

    from jiema.cli import build_cli
    from jiema.models import card_path_for, find_model_files, save_card
    from jiema_segment.cli import train_segment_ensemble_command

    _, _, paths = members
    copies = []
    for seed, path in enumerate(paths[:2]):
        copy = tmp_path / f"seed{seed}" / path.name
        copy.parent.mkdir()
        shutil.copy(path, copy)
        card = find_model_files(path)[1].model_copy(
            update={"rebuild": [f"jiema train segment --seed {seed}"]})
        save_card(card, card_path_for(copy))
        copies.append(copy)
    out = tmp_path / "joined.safetensors"
    args = ["train", "segment-ensemble", "--member", str(copies[0]), "--member", str(copies[1]),
            "--out", str(out), "--int4-bigrams"]
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output
    rebuild = find_model_files(out)[1].rebuild
    assert rebuild[:2] == ["jiema train segment --seed 0", "jiema train segment --seed 1"]
    words = shlex.split(rebuild[2])
    assert words[:3] == ["jiema", "train", "segment-ensemble"] and len(rebuild) == 3
    params = train_segment_ensemble_command.make_context("x", words[3:]).params
    assert params["members"] == (str(copies[0]), str(copies[1]))
    assert params["out"] == str(out) and params["int4_bigrams"] is True
