"""Every Python block of the README runs as written, in a folder holding the few small files
the examples name (user.txt, banner.png, corpus.txt): the README's examples cannot rot."""

from __future__ import annotations

import random
import re
import sys
import types
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
WORDS = ["鸡蛋", "可以", "吃", "吗", "我们", "今天", "北京", "大学", "学习", "苹果", "不", "买",
         "的", "了", "在", "是", "和", "发布", "数据", "经济"]


def _corpus() -> str:
    """Lines of random words: enough repeated pairs for words and templates to be found."""
    rng = random.Random(0)
    return "".join("".join(rng.choices(WORDS, k=rng.randint(3, 9))) + "。\n" for _ in range(600))


@pytest.fixture
def example_folder(tmp_path, monkeypatch):
    (tmp_path / "user.txt").write_text("科学空间 10 n\n微信号\n", encoding="utf-8")
    (tmp_path / "corpus.txt").write_text(_corpus(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _needs(code: str) -> list[str]:
    """The optional packages a block uses, to skip it (with the reason) where they are absent."""
    return [name for name, used in (("torch", "fcn" in code or "captcha" in code or "ocr" in code),
                                    ("PIL", "captcha" in code or "ocr" in code))
            if used]


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code, example_folder, monkeypatch):
    for name in _needs(code):
        pytest.importorskip(name)
    if "banner.png" in code:
        from jiema_ocr.synth import find_fonts, render_banner
        from PIL import Image

        fonts = find_fonts()
        if not fonts:
            pytest.skip("no CJK font installed (fonts-wqy-microhei ...): .ci/run installs them")
        banner = render_banner(["电视节目"], fonts[0])
        Image.fromarray(banner.image).save(example_folder / "banner.png")
    if code.startswith("# jiema_foo/plugin.py"):
        module = types.ModuleType("jiema_foo_readme")
        monkeypatch.setitem(sys.modules, module.__name__, module)  # as an import would
        exec(compile(code, "README.md", "exec"), module.__dict__)
        import jiema

        engine = jiema.Engine(plugins=[module], load_entry_points=False)
        assert engine.task("foo")("ab") == "ABAB"
        return
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
