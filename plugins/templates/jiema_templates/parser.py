"""Template parser: cover a sentence with nested templates of maximal total log-score.

Model (nlp-zero's `Parser`): a template scores log(count / total); a span that some template
matches takes its best-scoring match, plus the best parses of the spans its slots cover; a span
no template matches is a row of isolated words scoring `null_score` per word after the first.
Among matches whose scores agree to 4 decimals, the one with more template words wins.

Unlike nlp-zero (which re-parses every sub-span once per template that exposes it, exponential
in the sentence length), each span's best parse is computed once (memoised DP over spans), and
all template matches of a sentence come from one walk of the template trie per start position.
Matching follows the template: words must be adjacent unless a slot lies between them, and a
slot covers one or more words. (nlp-zero also lets any words be skipped between two template
words, an off-by-one in its `XTrie._search`; here `A B` matches only `A B`.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jiema.errors import InvalidInputError

from .template import Template, TemplateSet
from .tree import SentTree

__all__ = ["Parser"]

_END = ""  # trie key of a template's end (words are never empty)


class _Info:
    __slots__ = ("template", "score", "length")

    def __init__(self, template: Template, score: float) -> None:
        self.template = template
        self.score = score
        self.length = template.length


class Parser:
    """Parses sentences with a template set and a tokenizer (callable text -> words, or a
    `Tokenizer`). `templates`: a `TemplateSet`, a mapping template -> count (templates or their
    `[X] 可以 [X] 吗` strings), or a path to a templates file."""

    def __init__(self, templates: Any, tokenize: Any, *, null_score: float = -20.0) -> None:
        if isinstance(templates, str) or hasattr(templates, "__fspath__"):
            templates = TemplateSet.load(templates)
        if isinstance(templates, Mapping):
            templates = TemplateSet({t if isinstance(t, Template) else Template.parse(t): int(c)
                                     for t, c in templates.items()})
        if not isinstance(templates, TemplateSet):
            raise InvalidInputError(
                f"templates must be a TemplateSet, a mapping or a path, got {type(templates)}")
        if not callable(tokenize):
            raise InvalidInputError(f"tokenize must be callable, got {type(tokenize).__name__}")
        if not math.isfinite(null_score) or null_score > 0:
            raise InvalidInputError(f"null_score must be a finite value <= 0, got {null_score}")
        bad = [t for t, c in templates.counts.items() if c <= 0]
        if bad:
            raise InvalidInputError(f"template counts must be positive; bad: {bad[:3]}")
        self.templates = templates
        self.tokenize = tokenize
        self.null_score = float(null_score)
        self._trie: dict = {}
        for t, lp in templates.log_probs().items():
            if not t.literals:
                continue  # a lone slot covers nothing
            node = self._trie
            for w in t.words:
                node = node.setdefault(w, {})
            node[_END] = _Info(t, lp)

    def __len__(self) -> int:
        return len(self.templates)

    def parse(self, sentence: str) -> SentTree:
        """Tokenize `sentence` and parse it."""
        if not isinstance(sentence, str):
            raise InvalidInputError(f"sentence must be a str, got {type(sentence).__name__}")
        return self.parse_words(self.tokenize(sentence))

    def parse_many(self, sentences: Iterable[str]) -> list[SentTree]:
        """Parse many sentences (tokenized in one batch when the tokenizer has `cut_many`)."""
        sentences = list(sentences)
        many = getattr(self.tokenize, "cut_many", None)
        words = many(sentences) if many is not None else [self.tokenize(s) for s in sentences]
        return [self.parse_words(ws) for ws in words]

    def matches(self, words: Sequence[str]) -> dict[tuple[int, int], list[tuple[tuple[int, ...],
                                                                                 _Info]]]:
        """Every template match: span (i, j) -> [(positions of template words, info)]."""
        ws = list(words)
        n = len(ws)
        out: dict[tuple[int, int], list] = {}
        root = self._trie
        for i in range(n):
            stack: list[tuple[dict, int, tuple[int, ...]]] = [(root, i, ())]
            while stack:
                node, k, lits = stack.pop()
                info = node.get(_END)
                if info is not None and lits:
                    out.setdefault((i, k), []).append((lits, info))
                if k >= n:
                    continue
                child = node.get(ws[k])
                if child is not None:
                    stack.append((child, k + 1, (*lits, k)))
                slot = node.get(None)
                if slot is None:
                    continue
                end = slot.get(_END) if lits else None
                for m in range(k + 1, n + 1):
                    if end is not None:
                        out.setdefault((i, m), []).append((lits, end))
                    if m < n:
                        nxt = slot.get(ws[m])
                        if nxt is not None:
                            stack.append((nxt, m + 1, (*lits, m)))
        return out

    def parse_words(self, words: Sequence[str]) -> SentTree:
        """Parse a tokenized sentence."""
        ws = list(words)
        n = len(ws)
        if n == 0:
            return SentTree(Template(()), "", [], 0.0, matched=False)
        score, choice = self._chart(ws)

        def build(i: int, j: int) -> SentTree:
            content = "".join(ws[i:j])
            picked = choice[(i, j)]
            if picked is None:
                return SentTree(Template(tuple(ws[i:j])), content, [], score[(i, j)],
                                matched=False)
            lits, info = picked
            modules = []
            prev = i - 1
            for p in (*lits, j):
                if prev + 1 < p:
                    modules.append(build(prev + 1, p))
                prev = p
            return SentTree(info.template, content, modules, score[(i, j)])

        return build(0, n)

    def _chart(self, ws: list[str]) -> tuple[dict, dict]:
        """Best score and choice of every span, by a right-to-left sweep over start positions.

        For a start i, states (trie node, position k) hold the best score of a template prefix
        over words i..k-1 (slots scored by their spans' best parses, all already known: a slot
        inside the span starts after i, and a leading slot [i, m) is applied once best(i, m) is
        final). O(n^2) states per sentence, each slot tried against O(n) ends."""
        n = len(ws)
        root = self._trie
        root_id = id(root)
        lead = root.get(None)
        null = self.null_score
        score: dict[tuple[int, int], float] = {}
        choice: dict[tuple[int, int], Any] = {}
        positions: dict[str, list[int]] = {}
        for p, w in enumerate(ws):
            positions.setdefault(w, []).append(p)
        for i in range(n - 1, -1, -1):
            chart: list[dict[int, tuple]] = [{} for _ in range(n + 2)]
            slot_end: list[list[tuple]] = [[] for _ in range(n + 1)]
            chart[i][root_id] = (0.0, root, -1, 0)

            def update(k: int, node: dict, value: float, pk: int, pid: int) -> None:
                have = chart[k].get(id(node))
                if have is None or value > have[0]:
                    chart[k][id(node)] = (value, node, pk, pid)

            for k in range(i, n + 1):
                if k > i:
                    top_key: tuple[float, int] | None = None
                    top: tuple | None = None
                    for nid, (sc, node, _, _) in chart[k].items():
                        info = node.get(_END)
                        if info is not None:
                            total = sc + info.score
                            key = (round(total, 4), info.length)
                            if top_key is None or key > top_key:
                                top_key, top = key, (total, info, k, nid)
                    for total, info, pk, pid in slot_end[k]:
                        key = (round(total, 4), info.length)
                        if top_key is None or key > top_key:
                            top_key, top = key, (total, info, pk, pid)
                    if top is None:
                        score[(i, k)] = null * (k - i - 1)
                        choice[(i, k)] = None
                    else:
                        total, info, pk, pid = top
                        lits: list[int] = []
                        while True:
                            entry = chart[pk][pid]
                            if entry[2] < 0:
                                break
                            lits.append(pk - 1)
                            pk, pid = entry[2], entry[3]
                        score[(i, k)] = total
                        choice[(i, k)] = (tuple(reversed(lits)), info)
                    if lead is not None and k < n:
                        nxt = lead.get(ws[k])
                        if nxt is not None:
                            update(k + 1, nxt, score[(i, k)], i, root_id)
                if k == n:
                    break
                for nid, (sc, node, _, _) in list(chart[k].items()):
                    child = node.get(ws[k])
                    if child is not None:
                        update(k + 1, child, sc, k, nid)
                    if nid == root_id:
                        continue
                    slot = node.get(None)
                    if slot is None:
                        continue
                    end = slot.get(_END)
                    if end is not None:
                        for m in range(k + 1, n + 1):
                            slot_end[m].append((sc + score[(k, m)] + end.score, end, k, nid))
                    for w in slot:
                        if w is _END or w is None:
                            continue
                        for m in positions.get(w, ()):
                            if m > k:
                                update(m + 1, slot[w], sc + score[(k, m)], k, nid)
        return score, choice
