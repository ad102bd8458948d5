"""Every writer of a user-visible file goes through `jiema.atomic` (issue 24): when the write
fails at the last step, the old file is still there, whole, and no temporary file is left."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest


def _dictionary(path: Path) -> None:
    from jiema.text import Dictionary

    Dictionary([("北京", 3, None), ("我们", 2, "r")]).save(path)


def _word_table(path: Path) -> None:
    from jiema_templates import WordTable

    WordTable(counts={"北京": 3, "我们": 2}).save(path)


def _template_set(path: Path) -> None:
    from jiema_templates import TemplateSet

    source = path.parent / "source.txt"
    source.write_text("# jiema templates v1\n5\t[X] 可以 [X] 吗\n", encoding="utf-8")
    TemplateSet.load(source).save(path)


def _model_card(path: Path) -> None:
    from jiema.models import ModelCard, save_card

    save_card(ModelCard(name="m", component="toy.thing.v1", task="toy"), path)


def _model(path: Path) -> None:
    from jiema.models import ModelCard, save_model

    card = ModelCard(name="m", component="toy.thing.v1", task="toy")
    save_model({"w": np.zeros(3, np.float32)}, card, path)


def _bigram(path: Path) -> None:
    from jiema.bigram import BigramModel

    BigramModel.from_sequences([[0, 1, 2, 1]], 3).save(path)


def _debug_boxes(path: Path) -> None:
    pytest.importorskip("PIL")
    from jiema_ocr.debug import draw_boxes

    draw_boxes(np.full((20, 30, 3), 255, np.uint8), [], path=path)


def _captcha_labels(path: Path) -> None:
    pytest.importorskip("captcha")
    from jiema_captcha.cli import _generated
    from jiema_captcha.generator import CaptchaSettings

    _generated(SimpleNamespace(captcha=CaptchaSettings()), 1, 7, str(path.parent))


WRITERS = {
    "dict.txt": _dictionary,
    "words.txt": _word_table,
    "templates.txt": _template_set,
    "card.json": _model_card,
    "model.safetensors": _model,
    "bigram.safetensors": _bigram,
    "boxes.png": _debug_boxes,
    "labels.tsv": _captcha_labels,
}


@pytest.mark.parametrize("name", WRITERS)
def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch, name):
    import jiema.atomic

    target = tmp_path / name
    target.write_bytes(b"the old file")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jiema.atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        WRITERS[name](target)
    assert target.read_bytes() == b"the old file"
    assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("name", WRITERS)
def test_a_write_replaces_the_file(tmp_path, name):
    target = tmp_path / name
    target.write_bytes(b"the old file")
    WRITERS[name](target)
    assert target.read_bytes() != b"the old file" and target.stat().st_size > 0
    assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]
