"""Shared fixtures: nlp-zero as the oracle, and small corpora built in the tests."""

from __future__ import annotations

import collections
import collections.abc
import random

import pytest


@pytest.fixture(scope="session")
def nz():
    """nlp-zero 0.1.6 (the `dev` extra); it imports `collections.Iterable`, gone in Python 3.10."""
    if not hasattr(collections, "Iterable"):
        collections.Iterable = collections.abc.Iterable  # type: ignore[attr-defined]
    return pytest.importorskip("nlp_zero")


# A toy language: a few "words" over a small character set, so strong pairs and pruning happen.
WORDS = ["我们", "北京", "大学", "学习", "中国", "人民", "银行", "今天", "发布", "经济", "数据",
         "的", "了", "在", "是", "和", "可以", "吃", "吗", "鸡蛋", "中国人民银行", "北京大学",
         "研究生", "生命", "起源", "研究", "科学空间", "网站", "Python", "3", "GDP", "年"]
PUNCT = ["，", "。", "、", "！", "？", " ", "（", "）", "ｘ"]


def make_corpus(seed: int, lines: int = 120, ascii_words: bool = True) -> list[str]:
    """Lines of random words and punctuation; deterministic per seed."""
    rng = random.Random(seed)
    vocab = WORDS if ascii_words else [w for w in WORDS if not w.isascii()]
    weights = [1.0 / (i + 1) ** 0.7 for i in range(len(vocab))]
    out = []
    for _ in range(lines):
        parts = []
        for _ in range(rng.randint(0, 14)):
            parts.append(rng.choices(vocab, weights)[0])
            if rng.random() < 0.12:
                parts.append(rng.choice(PUNCT))
        out.append("".join(parts))
    return out


@pytest.fixture
def corpus():
    return make_corpus(0)


@pytest.fixture(name="make_corpus")
def make_corpus_fixture():
    return make_corpus
