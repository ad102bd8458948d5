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
import threading
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
        infos: list[_Info] = []
        for t, lp in templates.log_probs().items():
            if not t.literals:
                continue  # a lone slot covers nothing
            node = self._trie
            for w in t.words:
                node = node.setdefault(w, {})
            node[_END] = _Info(t, lp)
            infos.append(node[_END])
        self._flatten()

    def _flatten(self) -> None:
        """The trie as arrays for the Numba chart (see `jiema_templates.chart`)."""
        import numpy as np

        vocab: dict[str, int] = {}
        nodes: list[dict] = [self._trie]
        children: list[list[tuple[int, int]]] = []
        slot: list[int] = []
        ends: list[_Info | None] = []
        at = 0
        while at < len(nodes):
            node = nodes[at]
            kids = []
            slot_id = -1
            for key, child in node.items():
                if key == _END:
                    continue
                nodes.append(child)
                if key is None:
                    slot_id = len(nodes) - 1
                else:
                    kids.append((vocab.setdefault(key, len(vocab)), len(nodes) - 1))
            kids.sort()
            children.append(kids)
            slot.append(slot_id)
            ends.append(node.get(_END))
            at += 1
        self._vocab = vocab
        self._infos = [e for e in ends if e is not None]
        index = {id(e): k for k, e in enumerate(self._infos)}
        counts = np.array([len(k) for k in children], dtype=np.int64)
        self._child_off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._child_word = np.array([w for k in children for w, _ in k], dtype=np.int64)
        self._child_node = np.array([c for k in children for _, c in k], dtype=np.int64)
        self._slot_child = np.array(slot, dtype=np.int64)
        self._end_score = np.array([e.score if e else -np.inf for e in ends], dtype=np.float64)
        self._end_len = np.array([e.length if e else 0 for e in ends], dtype=np.int64)
        self._end_tid = np.array([index[id(e)] if e else -1 for e in ends], dtype=np.int64)
        self._max_lits = max((e.length for e in self._infos), default=1)
        in_lead = np.zeros(len(nodes), dtype=np.int64)  # under the root's slot child
        if slot[0] >= 0:
            stack = [slot[0]]
            while stack:
                x = stack.pop()
                in_lead[x] = 1
                stack.extend(c for _, c in children[x])
                if slot[x] >= 0:
                    stack.append(slot[x])
        self._in_lead = in_lead

    def _scratch(self) -> tuple[Any, Any]:
        """Per-thread scratch arrays of the chart (one entry per trie node)."""
        import numpy as np

        local = self.__dict__.setdefault("_local", threading.local())
        arrays = getattr(local, "arrays", None)
        if arrays is None:
            size = self._slot_child.shape[0]
            arrays = local.arrays = (np.full(size, -1, dtype=np.int64),
                                     np.zeros(size, dtype=np.int64))
        return arrays

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_local", None)
        return state

    def __len__(self) -> int:
        return len(self.templates)

    def __call__(self, sentence: str) -> SentTree:
        """The parser is the `parse` task's stage: calling it parses one sentence."""
        return self.parse(sentence)

    def parse(self, sentence: str) -> SentTree:
        """Tokenize `sentence` and parse it."""
        if not isinstance(sentence, str):
            raise InvalidInputError(f"sentence must be a str, got {type(sentence).__name__}")
        return self.parse_words(self.tokenize(sentence))

    def parse_many(self, sentences: Iterable[str], *, progress: bool = False) -> list[SentTree]:
        """Parse many sentences (tokenized in one batch when the tokenizer has `cut_many`);
        `progress`: a tqdm bar on stderr when it is a terminal."""
        import sys

        from tqdm.auto import tqdm

        sentences = list(sentences)
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise InvalidInputError(f"sentence {i} is {type(s).__name__}, expected str")
        many = getattr(self.tokenize, "cut_many", None)
        words = many(sentences) if many is not None else [self.tokenize(s) for s in sentences]
        bar = tqdm(words, unit="sentence", file=sys.stderr, disable=None if progress else True,
                   mininterval=1.0, leave=False)
        return [self.parse_words(ws) for ws in bar]

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
        import numpy as np

        from .chart import chart_parse, tree_nodes

        ws = list(words)
        n = len(ws)
        if n == 0:
            return SentTree(Template(()), "", [], 0.0, matched=False)
        ids = np.fromiter((self._vocab.get(w, -1) for w in ws), dtype=np.int64, count=n)
        score, tid, nlits, lits = chart_parse(
            ids, self._child_off, self._child_word, self._child_node, self._slot_child,
            self._end_score, self._end_len, self._end_tid, self._in_lead, self.null_score,
            self._max_lits, *self._scratch())
        infos = self._infos
        ni, nj, parent = tree_nodes(tid, nlits, lits, n)
        tids = tid[ni, nj].tolist()
        scores = score[ni, nj].tolist()
        nodes: list[SentTree] = []
        for i, j, up, t, sc in zip(ni.tolist(), nj.tolist(), parent.tolist(), tids, scores,
                                   strict=True):
            if t < 0:
                node = SentTree(Template.of_words(tuple(ws[i:j])), "".join(ws[i:j]), [], sc,
                                False)
            else:
                node = SentTree(infos[t].template, "".join(ws[i:j]), [], sc, True)
            nodes.append(node)
            if up >= 0:
                nodes[up].modules.append(node)
        return nodes[0]

