"""The Latin-letter text counted into the OCR language model (`jiema_ocr.english_text`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jiema_ocr.english_text import letters_only, main, sampled, stdlib_paragraphs

PROSE = "Return the number of items in the container, or zero when it is empty."


def _library(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text(
        f'"""{PROSE}\n\nShort one."""\n\n'
        'def f():\n    """>>> f()  # an example, not prose; long enough to count"""\n\n'
        'class C:\n    """Text with a non-ASCII letter: caf\u00e9 is not plain ASCII prose."""\n',
        encoding="utf-8")
    (root / "test").mkdir()
    (root / "test" / "t.py").write_text(f'"""{PROSE} (a test file)"""\n', encoding="utf-8")
    (root / "broken.py").write_text("def (:\n", encoding="utf-8")
    return root


def test_paragraphs_are_the_ascii_prose_of_docstrings_outside_tests(tmp_path: Path) -> None:
    assert list(stdlib_paragraphs(_library(tmp_path))) == [PROSE]


def test_letters_only_drops_punctuation_and_digits() -> None:
    assert letters_only("--help: see http://x.org/a-b, 3.5 >>> f()") == "help see http x org a b f"


def test_sample_is_seeded_and_sized() -> None:
    paragraphs = [f"p{i}" for i in range(100)]
    one = sampled(paragraphs, 0.1, seed=3)
    assert len(one) == 10 and one == sampled(paragraphs, 0.1, seed=3)
    assert one != sampled(paragraphs, 0.1, seed=4)
    with pytest.raises(ValueError, match="share"):
        sampled(paragraphs, 0.0, seed=3)


def test_main_writes_letter_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "en.txt"
    main([str(out), "--share", "1", "--root", str(_library(tmp_path / "lib"))])
    assert out.read_text(encoding="utf-8") == letters_only(PROSE) + "\n"
    assert "1 paragraphs" in capsys.readouterr().out
    for bad in (["--share", "2", "--root", str(tmp_path / "lib")],
                ["--root", str(tmp_path / "no-such-folder")]):
        with pytest.raises(SystemExit):
            main([str(out), *bad])
    with pytest.raises(SystemExit):
        main([str(tmp_path / "no-such-folder" / "en.txt"), "--root", str(tmp_path / "lib")])
    assert out.read_text(encoding="utf-8") == letters_only(PROSE) + "\n"  # left as it was
