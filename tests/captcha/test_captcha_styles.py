"""The many-style captcha generator: reproducible, labelled as drawn, held-out fonts kept out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("PIL")

from jiema.errors import InvalidInputError  # noqa: E402
from jiema_captcha import styles  # noqa: E402

FONTS = styles.training_fonts()
needs_fonts = pytest.mark.skipif(not FONTS, reason="fc-list finds no Latin font here")


def _png(image: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")  # type: ignore[attr-defined]
    return buf.getvalue()


@pytest.mark.parametrize("path, allowed", [
    ("/usr/share/fonts/truetype/lato/Lato-Bold.ttf", True),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", False),  # the held-out styles' font
    ("/x/LXGWWenKai-Regular.ttf", False),  # withheld typeface
    ("/x/DroidSansFallbackFull.ttf", False),  # withheld typeface
    ("/x/RobotoMono-Bold.ttf", False),  # flask-simple-captcha's font
    ("/x/LiberationSans-Regular.ttf", False),  # Arial's metric clone (gvcode draws Arial)
    ("/usr/share/fonts/X11/Type1/NimbusSans-Regular.pfb", False),  # not a FreeType suffix here
])
def test_font_filter(path: str, allowed: bool) -> None:
    assert styles._allowed(path) is allowed


def test_training_fonts_exclude_held_out() -> None:
    assert all(styles._allowed(f) for f in FONTS)


@needs_fonts
def test_same_seed_and_index_same_image_and_label() -> None:
    a, la = styles.sample(3, 17)
    b, lb = styles.sample(3, 17)
    c, _ = styles.sample(3, 18)
    assert la == lb and _png(a) == _png(b)
    assert _png(a) != _png(c)


@needs_fonts
def test_labels_are_lowercase_alphabet_with_allowed_lengths() -> None:
    labels = [styles.sample(0, i)[1] for i in range(40)]
    assert all(set(label) <= set(styles.ALPHABET) for label in labels)
    assert {len(label) for label in labels} <= set(styles.LENGTHS)
    assert len(set(labels)) == len(labels)


@needs_fonts
def test_images_are_rgb_within_height_range() -> None:
    for i in range(12):
        image, label = styles.sample(1, i)
        assert image.mode == "RGB"
        assert styles.HEIGHT_RANGE[0] <= image.height <= styles.HEIGHT_RANGE[1]
        assert image.width >= image.height  # a row of characters, never a square crop


def test_no_fonts_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="no Latin fonts"):
        styles.sample(0, 0, fonts=())


@needs_fonts
def test_write_folder_resumes_without_rewriting(tmp_path: Path) -> None:
    assert styles.write_folder(tmp_path, 3, seed=5) == 3
    first = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.png")}
    assert styles.write_folder(tmp_path, 5, seed=5) == 2
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(names) == 5 and not list(tmp_path.glob(".*part"))
    assert all(tmp_path.joinpath(n).stat().st_mtime_ns == t for n, t in first.items())
    for name in names:  # the file name is the label of that stream image
        label, index = Path(name).stem.rsplit("_", 1)
        assert styles.sample(5, int(index))[1] == label


def test_a_file_in_place_of_the_folder_is_a_clear_error(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(InvalidInputError, match="is a file, not a folder"):
        styles.write_folder(taken, 2)
    with pytest.raises(SystemExit) as exit_:
        styles.main([str(taken), "--n", "2"])
    assert exit_.value.code == 1
