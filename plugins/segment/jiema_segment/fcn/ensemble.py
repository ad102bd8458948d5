"""Ensembles: one model file holding several FCN networks trained alike but from different seeds.

Their mean log-probabilities make fewer errors than any one of them (the members disagree on
different characters), at the cost of one forward pass per member. All members share the first
one's vocabulary, bigram vocabulary, network shape and lexicon, so they are stored once; member 0's
tensors keep the single-network prefix `net.`, member i >= 1 uses `net{i}.`. A one-network file is
an ensemble of one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
_MEMBER_KEY = re.compile(r"^net(\d*)\.(.+)$")
# tensors every member must share exactly
_SHARED = ("vocab.codepoints", "vocab.bigram_keys")


def member_prefix(i: int) -> str:
    return "net." if i == 0 else f"net{i}."


def split_members(tensors: Mapping[str, T]) -> list[dict[str, T]]:
    """Network tensors (vocabulary and lexicon already taken out) -> one state dict per member."""
    from jiema.errors import ModelFileError

    members: dict[int, dict[str, T]] = {}
    stray = []
    for key, value in tensors.items():
        m = _MEMBER_KEY.match(key)
        if m is None or m.group(1).startswith("0"):  # member 0 is `net.`, never `net0.`
            stray.append(key)
            continue
        members.setdefault(int(m.group(1) or 0), {})[m.group(2)] = value
    if stray:
        raise ModelFileError(f"unexpected tensors in an FCN model: {', '.join(sorted(stray)[:5])}")
    if sorted(members) != list(range(len(members))) or not members:
        raise ModelFileError(
            f"FCN model networks must be net., net1., net2., ...; found prefixes for members "
            f"{sorted(members)}"
        )
    return [members[i] for i in range(len(members))]


def merge_models(
    paths: Sequence[str | os.PathLike], out: str | os.PathLike, name: str | None = None,
    int8_embeddings: bool = False, int4_bigrams: bool = False,
) -> Path:
    """Write the networks of the models `paths` (each one network or an ensemble) as one
    ensemble model `out` (a new file). They must share vocabulary and network settings; the
    lexicon and card are the first model's, with the members listed in the card. With
    `int8_embeddings` the embedding tables are stored as int8 (`fcn.quantize`); with
    `int4_bigrams` the bigram tables as int4 (and the others as int8)."""
    from jiema.errors import InvalidInputError
    from jiema.models import find_model_files, load_tensors, provenance, save_model

    from .lexicon import TEXT_KEY, WORDNESS_KEY
    from .quantize import dequantize

    if len(paths) < 2:
        raise InvalidInputError("an ensemble needs at least two models")
    target = Path(out)
    loaded: list[tuple[Path, Any, dict[str, np.ndarray]]] = []
    for p in paths:
        weights, card = find_model_files(p)
        if target.resolve() == weights.resolve():
            raise InvalidInputError(f"write the ensemble to a new file, not {weights}")
        # quantized members are restored first (as float16), so the output is stored as asked
        raw = load_tensors(weights)
        restored = {
            k: v if k in raw else v.astype(np.float16) for k, v in dequantize(raw).items()
        }
        loaded.append((weights, card, restored))
    first_path, first_card, first = loaded[0]
    settings = first_card.hyperparameters.get("network")
    tensors = {k: v for k, v in first.items() if not _MEMBER_KEY.match(k)}
    nets: list[dict[str, np.ndarray]] = []
    members: list[dict[str, Any]] = []
    for weights, card, t in loaded:
        if card.component != first_card.component:
            raise InvalidInputError(
                f"{weights} is a {card.component}, not a {first_card.component}"
            )
        if card.hyperparameters.get("network") != settings:
            raise InvalidInputError(f"{weights} has other network settings than {first_path}")
        for key in _SHARED:
            a, b = first.get(key), t.get(key)
            same = a is None and b is None or (
                a is not None and b is not None and np.array_equal(a, b)
            )
            if not same:
                raise InvalidInputError(
                    f"{weights} has another {key} than {first_path}: ensemble members must be "
                    "trained on the same corpus split with the same vocabulary options"
                )
        own = split_members({k: v for k, v in t.items() if _MEMBER_KEY.match(k)})
        nets.extend(own)
        listed = card.hyperparameters.get("members")
        members.extend(listed if listed else [_member_entry(card)])
    for i, state in enumerate(nets):
        tensors.update({member_prefix(i) + k: v for k, v in state.items()})
    hyper = {**first_card.hyperparameters, "members": members}
    if int8_embeddings or int4_bigrams:
        from .quantize import BIGRAM_TABLE, quantize_embeddings

        tensors = quantize_embeddings(tensors, int4=(BIGRAM_TABLE,) if int4_bigrams else ())
        hyper["storage"] = (
            "bigram tables int4, other embedding tables int8" if int4_bigrams
            else "embedding tables int8"
        ) + ", with a float16 scale per row (fcn.quantize)"
    lexicon = TEXT_KEY in tensors and WORDNESS_KEY in tensors
    update = {
        "name": name or target.stem,
        "files": [target.name],
        "description": f"Ensemble of {len(nets)} FCN S/B/M/E taggers (gated residual dilated "
        "convolutions; mean log-probabilities), SBME Viterbi.",
        "hyperparameters": hyper,
        # the members' own scores are in `members`; the ensemble's are measured afresh
        "scores": {},
        # each member's training (in order), then this merge
        **provenance(earlier=[card.rebuild for _, card, _ in loaded]),
    }
    if not lexicon:
        hyper["lexicon"] = "none"
    saved, _ = save_model(tensors, first_card.model_copy(update=update), target)
    return saved


def _member_entry(card: Any) -> dict[str, Any]:
    training = card.hyperparameters.get("training", {})
    return {
        "name": card.name,
        "seed": training.get("seed"),
        "epochs_trained": card.hyperparameters.get("epochs_trained"),
        "dev_f": card.scores.get("dev_f"),
    }
