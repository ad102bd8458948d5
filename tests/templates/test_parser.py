"""The template parser: nlp-zero's blog example, DP against brute force, SentTree output."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from jiema_templates import Parser, SentTree, Template, TemplateSet

EGG = {"[X] 可以 [X] 吗": 10, "[X] 可以": 5, "鸡蛋": 3, "吃 吗": 2, "[X] 吗": 4}


def words(s: str) -> list[str]:
    return {"鸡蛋可以吃吗": ["鸡蛋", "可以", "吃", "吗"]}.get(s, list(s))


def test_blog_example_like_nlp_zero(nz):
    tree = Parser(EGG, words).parse("鸡蛋可以吃吗")
    assert str(tree) == "(鸡蛋)可以(吃)吗"
    assert [m.content for m in tree.modules] == ["鸡蛋", "吃"]
    # nlp-zero, same templates and words
    trie = nz.XTrie([(tuple(Template.parse(t).words), c) for t, c in EGG.items()])
    theirs = nz.Parser(trie, words).parse("鸡蛋可以吃吗")
    assert theirs.plot().splitlines()[0] == "+---> (鸡蛋)可以(吃)吗"
    assert tree.plot().splitlines()[0] == theirs.plot().splitlines()[0]
    assert len(tree.plot().splitlines()) == len(theirs.plot().splitlines())


def _brute(parser: Parser, ws: list[str], i: int, j: int) -> float:
    """Best score of span [i, j) by trying every template at every alignment, no memo."""
    n = j - i
    best = None
    for t, lp in parser.templates.log_probs().items():
        if not t.literals:
            continue
        # choose slot lengths: every slot covers >= 1 word; literals must match in order
        slots = sum(w is None for w in t.words)
        lits = len(t.words) - slots
        free = n - lits
        if free < slots or (slots == 0 and free != 0):
            continue
        for cut in itertools.product(range(1, free + 1), repeat=slots):
            if sum(cut) != free:
                continue
            k, score, ok, c = i, lp, True, iter(cut)
            for w in t.words:
                if w is None:
                    size = next(c)
                    score += _brute(parser, ws, k, k + size)
                    k += size
                elif ws[k] != w:
                    ok = False
                    break
                else:
                    k += 1
            if ok and (best is None or round(score, 4) > round(best, 4)):
                best = score
    return best if best is not None else parser.null_score * (n - 1)


@pytest.mark.parametrize("seed", range(12))
def test_dp_matches_brute_force(seed):
    rng = random.Random(seed)
    vocab = ["的", "是", "我", "你", "好"]
    templates = {}
    for _ in range(12):
        parts: list[str | None] = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.4 and (not parts or parts[-1] is not None):
                parts.append(None)
            parts.append(rng.choice(vocab))
        if rng.random() < 0.5:
            parts.append(None)
        templates[Template(tuple(parts))] = rng.randint(1, 50)
    parser = Parser(TemplateSet(templates), list)
    for _ in range(5):
        ws = [rng.choice(vocab) for _ in range(rng.randint(1, 7))]
        tree = parser.parse_words(ws)
        assert math.isclose(tree.score, _brute(parser, ws, 0, len(ws)), abs_tol=1e-3)
        assert tree.content == "".join(ws)


def test_long_sentence_is_polynomial():
    # nlp-zero re-parses every slot span per template (exponential in the length); 75 words here
    templates = {"[X] 的 [X]": 50, "[X] 的": 20, "的 [X]": 20, "是 [X]": 5, "[X] 是 [X]": 9}
    ws = ["我", "的", "是"] * 25
    tree = Parser(templates, list).parse_words(ws)
    assert tree.content == "".join(ws) and tree.depth() > 2


def test_tree_outputs_and_render(tmp_path):
    tree = Parser(EGG, words).parse("鸡蛋可以吃吗")
    assert isinstance(tree, SentTree)
    d = tree.to_dict()
    assert d["template"] == "[X] 可以 [X] 吗" and d["modules"][0]["content"] == "鸡蛋"
    assert tree.bracketed(nested=True) == "(鸡蛋)可以(吃)吗"
    pytest.importorskip("matplotlib")
    out = tmp_path / "tree.png"
    tree.render(out)
    assert out.stat().st_size > 1000
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_unmatched_and_empty():
    p = Parser({"可以": 1}, list)
    tree = p.parse("abc")
    assert not tree.matched and tree.score == -40.0 and str(tree) == "abc"
    assert str(p.parse("")) == "" and p.parse("").modules == []


def test_parser_errors(tmp_path):
    with pytest.raises(ValueError, match="null_score"):
        Parser({"可以": 1}, list, null_score=1.0)
    with pytest.raises(ValueError, match="callable"):
        Parser({"可以": 1}, "list")
    with pytest.raises(ValueError, match="positive"):
        Parser({"可以": 0}, list)
    with pytest.raises(OSError):
        Parser(str(tmp_path / "missing.txt"), list)


def test_threads_and_pickle_give_the_same_trees():
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    parser = Parser(EGG, words)
    sentences = ["鸡蛋可以吃吗", "可以吃吗", "鸡蛋可以", "吃吗吃吗"] * 20
    expected = [str(parser.parse(s)) for s in sentences]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda s: str(parser.parse(s)), sentences)) == expected
    again = pickle.loads(pickle.dumps(Parser(EGG, list)))
    assert str(again.parse("鸡蛋")) == str(Parser(EGG, list).parse("鸡蛋"))
