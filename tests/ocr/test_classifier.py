"""CharClassifier: loading safetensors + card, top-k format, batching, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from jiema.errors import InvalidValueError, ModelFileError, ShapeError  # noqa: E402
from jiema_ocr.charset import Charset, default_charset  # noqa: E402
from jiema_ocr.classifier import MODELS_DIR, CharClassifier  # noqa: E402
from jiema_ocr.cnn.net import CharNet  # noqa: E402
from jiema_ocr.cnn.train import TrainOptions, export  # noqa: E402
from jiema_ocr.glyphs import default_fonts, normalize_glyph, render_glyph  # noqa: E402

LABELS = list("电视宙柳规0A")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = CharNet(len(LABELS), width=8, hidden=16).eval()
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    export(net, Charset(LABELS), TrainOptions(width=8, hidden=16, name="tiny"), path, {}, {})
    return path


def _crops() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for h, w in [(30, 24), (12, 40), (64, 64), (5, 5)]:
        img = np.full((h, w), 220, dtype=np.uint8)
        img[rng.random((h, w)) < 0.3] = 20
        out.append(img)
    return out


def test_topk_lists_are_sorted_probabilities_above_the_floor(tiny_model: Path) -> None:
    clf = CharClassifier.load(tiny_model)
    out = clf.topk(_crops(), k=3, min_prob=0.05)
    assert len(out) == 4
    for cands in out:
        assert 1 <= len(cands) <= 3
        probs = [p for _, p in cands]
        assert probs == sorted(probs, reverse=True)
        assert all(ch in LABELS for ch, _ in cands)
        assert all(p >= 0.05 for p in probs[1:])
    full = clf.probabilities(_crops())
    np.testing.assert_allclose(full.sum(axis=1), 1.0, rtol=1e-5)
    assert out[0][0][1] == pytest.approx(float(full[0].max()), rel=1e-6)


def test_batching_does_not_change_results(tiny_model: Path) -> None:
    clf = CharClassifier.load(tiny_model)
    together = clf.probabilities(_crops())
    clf.batch_size = 1
    alone = clf.probabilities(_crops())
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_fp16_weights_are_what_the_net_holds(tiny_model: Path) -> None:
    clf = CharClassifier.load(tiny_model)
    x = torch.from_numpy(np.stack([normalize_glyph(c) for c in _crops()])[:, None])
    with torch.inference_mode():
        logits = clf.net(x)
    assert torch.isfinite(logits).all()


def test_bad_inputs_and_files(tiny_model: Path, tmp_path: Path) -> None:
    clf = CharClassifier.load(tiny_model)
    assert clf.topk([]) == []
    with pytest.raises(InvalidValueError):
        clf.topk(_crops(), k=0)
    with pytest.raises(ShapeError):
        clf.topk([np.zeros(5, np.uint8)])
    with pytest.raises(ModelFileError, match="not a file"):
        CharClassifier.load("no-such-model")
    (tmp_path / "x.safetensors").write_bytes(b"junk")
    with pytest.raises(ModelFileError):
        CharClassifier.load(tmp_path / "x.safetensors")


@pytest.mark.skipif(not (MODELS_DIR / "gb2312-cnn.json").is_file(),
                    reason="the shipped char CNN is not in the package")
@pytest.mark.skipif(not default_fonts(), reason="no Debian CJK font installed")
def test_shipped_model_reads_rendered_characters() -> None:
    clf = CharClassifier.load()
    assert clf.charset.labels == default_charset().labels
    text = "中华人民共和国成立了电视机12AB"
    rng = np.random.default_rng(5)
    fonts = default_fonts()
    crops = [render_glyph(ch, fonts[i % len(fonts)], rng, invert=False)
             for i, ch in enumerate(text)]
    got = clf.topk(crops, k=5)
    top5 = sum(ch in [c for c, _ in cands] for ch, cands in zip(text, got, strict=True))
    assert top5 >= 0.8 * len(text)
