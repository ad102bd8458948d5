"""Model files (safetensors + JSON card) and the registry records' own validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from jiema.errors import ModelFileError, PluginError
from jiema.models import ModelCard, card_path_for, find_model_files, load_card, save_model
from jiema.registry import Component, ModelSpec, NoOptions, Stage, Task


def card(**kw) -> ModelCard:
    fields = {"name": "tiny", "component": "x.tiny.v1", "task": "t"} | kw
    return ModelCard(**fields)


def test_save_and_load_round_trip(tmp_path):
    tensors = {"w": np.arange(6, dtype=np.float64).reshape(2, 3), "b": np.ones(2, np.float32)}
    c = card(labels=["a", "b"], hyperparameters={"k": 2}, scores={"f1": 0.5}, licence="MIT")
    weights, card_file = save_model(tensors, c, tmp_path / "tiny.safetensors")
    assert card_file == tmp_path / "tiny.json" == card_path_for(weights)
    loaded = load_card(card_file)
    assert loaded.files == ["tiny.safetensors"]
    assert loaded.model_copy(update={"files": []}) == c
    spec = ModelSpec("tiny", "x.tiny.v1", weights)
    assert spec.card == loaded
    out = spec.load_tensors()
    assert out["w"].dtype == np.float64 and (out["w"] == tensors["w"]).all()
    assert out["b"].dtype == np.float32


def test_save_model_creates_missing_folders(tmp_path):
    weights, card_file = save_model({"w": np.zeros(1)}, card(), tmp_path / "a/b/tiny.safetensors")
    assert weights.is_file() and card_file == tmp_path / "a/b/tiny.json" and card_file.is_file()


def test_find_model_files_accepts_weights_card_or_folder(tmp_path):
    weights, card_file = save_model({"w": np.zeros(1)}, card(), tmp_path / "tiny.safetensors")
    for ref in (weights, card_file, tmp_path):
        found, c = find_model_files(ref)
        assert found == weights and c.name == "tiny"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not readable JSON"),
        (json.dumps({"name": "x", "component": "c.v1", "task": "t", "oops": 1}), "oops"),
        (json.dumps({"name": "x"}), "component"),
        # a run's best.json / last.json: one line naming it, not a wall of validation errors
        (json.dumps({"step": 5, "checkpoint_id": "ab12", "history": []}),
         r"^\S*m.json is a training run's checkpoint, not a model: a run exports its model"),
    ],
)
def test_bad_cards_are_model_file_errors(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message):
        load_card(path)


def test_folder_needs_exactly_one_card(tmp_path):
    with pytest.raises(ModelFileError, match="exactly one model card.*found: none"):
        find_model_files(tmp_path)
    save_model({"w": np.zeros(1)}, card(), tmp_path / "a.safetensors")
    save_model({"w": np.zeros(1)}, card(name="b"), tmp_path / "b.safetensors")
    with pytest.raises(ModelFileError, match="a.json, b.json"):
        find_model_files(tmp_path)


def test_other_files_and_missing_weights(tmp_path):
    with pytest.raises(ModelFileError, match="not a model"):
        find_model_files(tmp_path / "model.pkl")
    (tmp_path / "m.json").write_text(card(files=["gone.safetensors"]).model_dump_json())
    with pytest.raises(ModelFileError, match="gone.safetensors does not exist"):
        find_model_files(tmp_path / "m.json")
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelFileError, match="cannot read weights"):
        ModelSpec("bad", "x.tiny.v1", tmp_path / "bad.safetensors", card()).load_tensors()


def test_model_spec_rejects_a_card_for_another_component(tmp_path):
    weights, _ = save_model({"w": np.zeros(1)}, card(), tmp_path / "tiny.safetensors")
    with pytest.raises(PluginError, match="registered for component 'y.v1' but its card says"):
        ModelSpec("tiny", "y.v1", weights)


def test_records_validate_names_and_normalise_stages():
    task = Task("t", factory=lambda e, c: None, stages={"s": ("k", "c.v1")}, input_type=str)
    assert task.stages["s"] == Stage("k", "c.v1") and task.input_type == "str"
    with pytest.raises(PluginError, match="invalid task name"):
        Task("bad name", factory=lambda e, c: None)
    with pytest.raises(PluginError, match="must be a Stage"):
        Task("t", factory=lambda e, c: None, stages={"s": 3})
    comp = Component("k", "seg.fcn.v12", factory=lambda o, m: None)
    assert (comp.version, comp.family, comp.options) == (12, "seg.fcn", NoOptions)
    for bad in ("seg.fcn", "Seg.v1", "seg.fcn.v1x"):
        with pytest.raises(PluginError, match="end in a version"):
            Component("k", bad, factory=lambda o, m: None)
    with pytest.raises(PluginError, match="pydantic model class"):
        Component("k", "x.v1", factory=lambda o, m: None, options=dict)  # type: ignore[arg-type]
