"""`jiema eval segment` against hand-counted figures and, when available, the official perl
script (run on fixtures written here; only the script itself comes from ../shared)."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import jiema
import jiema_segment.plugin as plugin
import pytest
from click.testing import CliRunner
from jiema.cli import build_cli
from jiema.errors import InvalidInputError
from jiema_segment.score import matched, score_files

SCORE_SCRIPT = Path(__file__).resolve().parents[3] / "shared/data/icwb2/score"

GOLD = "我们 在 北京大学 学习\n\n中国 人民 银行 行长\n今天 天气 好\n"
PRED = "我们 在 北京 大学 学习\n\n中国人民 银行 行长\n今天天气好\n"
WORDS = "我们\n在\n学习\n中国\n银行\n今天\n"


def write(tmp_path: Path, gold: str, pred: str, words: str, *, raw: bool = False) -> list[Path]:
    paths = []
    for name, text in (("gold.txt", gold), ("pred.txt", pred), ("words.txt", words)):
        path = tmp_path / name
        path.write_bytes(text if raw else text.encode("utf-8"))  # type: ignore[arg-type]
        paths.append(path)
    return paths


def test_hand_counted_figures(tmp_path):
    gold, pred, words = write(tmp_path, GOLD, PRED, WORDS)
    s = score_files(gold, words, pred)
    # gold 11 words, pred 9; matched: 我们 在 学习 银行 行长 = 5
    assert (s.true_words, s.test_words, s.recall_hits) == (11, 9, 5)
    assert s.recall == pytest.approx(5 / 11) and s.precision == pytest.approx(5 / 9)
    # OOV gold words: 北京大学 人民 行长 天气 好 (5); recalled: 行长
    assert (s.oov, s.oov_missed, s.iv, s.iv_missed) == (5, 4, 6, 2)
    assert s.oov_recall == pytest.approx(1 / 5) and s.iv_recall == pytest.approx(4 / 6)


def test_crlf_bom_and_ideographic_space_change_nothing(tmp_path):
    clean = score_files(*(lambda g, p, w: (g, w, p))(*write(tmp_path, GOLD, PRED, WORDS)))
    other = tmp_path / "other"
    other.mkdir()
    gold = ("\ufeff" + GOLD.replace(" ", "\u3000")).replace("\n", "\r\n")
    pred = "\ufeff" + PRED.replace("\n", "\r\n")
    words = ("\ufeff" + WORDS).replace("\n", "\r\n")
    g, p, w = write(other, gold, pred, words)
    assert score_files(g, w, p) == clean


def test_lcs_alignment():
    assert matched([b"a", b"b", b"c"], [b"a", b"b", b"c"]) == [True] * 3
    assert matched([b"ab", b"c"], [b"a", b"bc"]) == [False, False]
    # different texts fall back to one LCS table
    assert matched([b"x", b"y", b"x"], [b"y", b"x"]) == [False, True, True]
    assert matched([b"x"], []) == [False]


def test_nothing_to_score_is_an_error(tmp_path):
    gold, pred, words = write(tmp_path, "\n\n", "\n\n", "a\n")
    with pytest.raises(InvalidInputError, match="nothing to score"):
        score_files(gold, words, pred)


def test_eval_segment_command(tmp_path):
    gold, pred, words = write(tmp_path, GOLD, PRED, WORDS)
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    result = CliRunner().invoke(
        cli, ["eval", "segment", "--gold", str(gold), "--words", str(words), str(pred)]
    )
    assert result.exit_code == 0, result.output
    assert "=== F MEASURE:\t0.500\n" in result.stdout
    assert "=== OOV Rate:\t0.455\n" in result.stdout
    assert "=== OOV Recall Rate:\t0.200\n" in result.stdout
    assert "=== IV Recall Rate:\t0.667\n" in result.stdout


def _perl_summary(tmp_path: Path, gold: Path, words: Path, pred: Path) -> list[str]:
    out = subprocess.run(
        ["perl", str(SCORE_SCRIPT), str(words), str(gold), str(pred)],
        cwd=tmp_path, capture_output=True, check=True,
    ).stdout.decode("utf-8", "replace")
    keep = ("=== TOTAL TRUE WORD COUNT", "=== TOTAL TEST WORD COUNT", "=== TOTAL TRUE WORDS",
            "=== TOTAL TEST WORDS", "=== F MEASURE", "=== OOV", "=== IV")
    return [line for line in out.splitlines() if line.startswith(keep)]


def _random_fixture(rng: random.Random) -> tuple[str, str, str]:
    chars = "的一是在不了有和人这中大为上个国我以要他"
    gold_lines, pred_lines = [], []
    for _ in range(rng.randint(3, 12)):
        if rng.random() < 0.15:
            gold_lines.append("")
            pred_lines.append("")
            continue
        text = "".join(rng.choice(chars) for _ in range(rng.randint(1, 30)))

        def cut(t: str) -> list[str]:
            words, i = [], 0
            while i < len(t):
                k = rng.choice((1, 1, 2, 2, 3))
                words.append(t[i:i + k])
                i += k
            return words

        gold_lines.append(" ".join(cut(text)))
        pred_lines.append(" ".join(cut(text)) if rng.random() < 0.9 else "".join(cut(text)))
    words = sorted({w for line in gold_lines for w in line.split() if rng.random() < 0.6})
    return ("\n".join(gold_lines) + "\n", "\n".join(pred_lines) + "\n", "\n".join(words) + "\n")


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")
@pytest.mark.skipif(shutil.which("diff") is None, reason="diff (the score script needs it) missing")
@pytest.mark.skipif(not SCORE_SCRIPT.is_file(), reason=f"no score script at {SCORE_SCRIPT}")
@pytest.mark.parametrize("seed", range(16))
def test_same_figures_as_the_official_perl_script(tmp_path, seed):
    gold_text, pred_text, words_text = (
        (GOLD.replace("北京大学", "北京大学\u3000"), PRED.replace("\n", "\r\n"), WORDS)
        if seed == 0 else _random_fixture(random.Random(seed))
    )
    gold, pred, words = write(tmp_path, gold_text, pred_text, words_text)
    ours = score_files(gold, words, pred).summary().splitlines()
    ours = [line for line in ours if line != "=== SUMMARY:"]
    assert ours == _perl_summary(tmp_path, gold, words, pred)
