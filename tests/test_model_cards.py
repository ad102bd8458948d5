"""Every shipped model's card says how to rebuild it, in command lines today's CLI understands."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from jiema.cli import build_cli
from jiema.models import load_card

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(ROOT.glob("plugins/*/jiema_*/models/*.json"))


def test_the_shipped_models_are_checked():
    assert {p.stem for p in SHIPPED} >= {
        "pd98-fcn", "pd98-fcn-fast", "pd98-dict", "gb2312-cnn", "gb2312-line-ctc",
        "pd98-char-bigram", "upper4", "letters4-ci", "general"}


@pytest.mark.parametrize("card_path", SHIPPED, ids=lambda p: p.stem)
def test_a_shipped_card_lists_the_commands_that_rebuild_it(card_path):
    card = load_card(card_path)
    assert card.rebuild, f"{card_path.name}: no rebuild lines"
    train = build_cli().commands["train"]
    for line in card.rebuild:
        words = shlex.split(line)
        assert words[0] in ("jiema", "python"), line
        if words[0] != "jiema":
            continue
        assert words[1] == "train", line
        command = train.commands[words[2]]  # type: ignore[attr-defined]
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        unknown = [w for w in words[3:] if w.startswith("--") and w not in known]
        assert not unknown, f"{card_path.name}: {line}: unknown options {unknown}"
    # scores the rebuild did not write name the command that measured them
    for name, command_text in card.scores_from.items():
        assert name in card.scores and shlex.split(command_text)[0] in ("jiema", "python")
