"""Model files: weights as safetensors plus a JSON model card beside them (never a pickle).

Layout: `NAME.safetensors` with `NAME.json` (the card) in the same folder; the card's `files`
lists the weight files relative to the card. A folder holding exactly one card also names a model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .atomic import atomic_path, write_text
from .checkpoints import CHECKPOINT_ID
from .errors import ModelFileError
from .provenance import provenance

__all__ = [
    "CARD_SUFFIX", "WEIGHTS_SUFFIX", "ModelCard", "card_path_for", "find_model_files",
    "load_card", "load_tensors", "provenance", "save_card", "save_model",
]

CARD_SUFFIX = ".json"
WEIGHTS_SUFFIX = ".safetensors"


class ModelCard(BaseModel):
    """What a model is, what it was trained on (and under which licence), how well it does, and
    how to rebuild it.

    `rebuild`: the command lines, in order, that made the model (`jiema train ...`, e.g. each
    ensemble member's training, then the merge); data paths as they were given (the project's
    data relative to `../shared`). `software`: the versions they ran under (python, jiema, numpy,
    numba, torch, ...; `deb:NAME` for system packages such as fonts). Trainers fill both from
    `jiema.provenance`. `rebuild_note`: what in `rebuild` is reconstructed or uncertain.
    `scores_from`: score name -> the command that measured it, for scores the last rebuild line
    did not write. All four are optional: a card without them still loads.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    component: str = Field(description="versioned component name the weights load into")
    task: str
    description: str = ""
    files: list[str] = Field(default_factory=list, description="weight files, relative to the card")
    vocabulary_size: int | None = None
    labels: list[str] | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    training_data: str = ""
    licence: str = ""
    scores: dict[str, float] = Field(default_factory=dict)
    rebuild: list[str] = Field(default_factory=list, description="command lines that made it")
    rebuild_note: str = ""
    scores_from: dict[str, str] = Field(default_factory=dict)
    software: dict[str, str] = Field(default_factory=dict)


def card_path_for(weights: str | os.PathLike[str]) -> Path:
    """The card that sits beside a weights file: same stem, `.json`."""
    return Path(weights).with_suffix(CARD_SUFFIX)


def load_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read and validate a model card; ModelFileError says which file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(f"model card {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"model card {path} is not readable JSON: {exc}") from exc
    if isinstance(data, dict) and CHECKPOINT_ID in data:
        raise ModelFileError(f"{path} is a training run's checkpoint, not a model: a run exports "
                             "its model (NAME.safetensors + card) in its folder when it ends or "
                             "pauses")
    try:
        return ModelCard.model_validate(data)
    except ValidationError as exc:
        raise ModelFileError(f"model card {path} is invalid: {exc}") from exc


def save_card(card: ModelCard, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    write_text(path, card.model_dump_json(indent=2) + "\n")
    return path


def find_model_files(path: str | os.PathLike[str]) -> tuple[Path, ModelCard]:
    """`(weights file, card)` for a safetensors file, a card, or a folder with exactly one card."""
    path = Path(path)
    if path.is_dir():
        cards = sorted(path.glob("*" + CARD_SUFFIX))
        if len(cards) != 1:
            found = ", ".join(c.name for c in cards) or "none"
            raise ModelFileError(
                f"model folder {path} must hold exactly one model card (*.json); found: {found}"
            )
        path = cards[0]
    if path.suffix == CARD_SUFFIX:
        card_path = path
        card = load_card(card_path)
        if not card.files:
            raise ModelFileError(f"model card {card_path} lists no weight files in 'files'")
        weights = card_path.parent / card.files[0]
    elif path.suffix == WEIGHTS_SUFFIX:
        weights = path
        card = load_card(card_path_for(path))
    else:
        raise ModelFileError(
            f"{path} is not a model: expected a {WEIGHTS_SUFFIX} file, its {CARD_SUFFIX} card, "
            "or a folder holding one card"
        )
    if not weights.is_file():
        raise ModelFileError(f"weights file {weights} does not exist")
    return weights, card


def load_tensors(path: str | os.PathLike[str]) -> dict[str, Any]:
    """All tensors of a safetensors file as NumPy arrays (no torch needed, nothing unpickled)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise ModelFileError(f"cannot read weights {path}: {exc}") from exc


def save_model(
    tensors: dict[str, Any], card: ModelCard, weights: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write `weights` (safetensors) and its card beside it; the card lists the weights file."""
    from safetensors.numpy import save_file

    weights = Path(weights)
    if weights.suffix != WEIGHTS_SUFFIX:
        raise ModelFileError(f"weights file must end in {WEIGHTS_SUFFIX}, got {weights}")
    weights.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(weights) as tmp:  # a killed export leaves the previous file whole
        save_file(tensors, str(tmp))
    if weights.name not in card.files:
        card = card.model_copy(update={"files": [weights.name, *card.files]})
    return weights, save_card(card, card_path_for(weights))
