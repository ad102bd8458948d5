"""SentTree: a sentence parsed by templates (nlp-zero's `SentTree`), printable and drawable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .template import Template

__all__ = ["SentTree"]


@dataclass(slots=True)
class SentTree:
    """`template`: the template covering `content` (for a span no template covers, all its words
    as one template of literals, `matched` False); `modules`: one SentTree per slot, in order;
    `score`: the log-score of this subtree."""

    template: Template
    content: str
    modules: list[SentTree] = field(default_factory=list)
    score: float = 0.0
    matched: bool = True

    def bracketed(self, nested: bool = False) -> str:
        """The sentence with each slot's text in parentheses: `(鸡蛋)可以(吃)吗`; with `nested`,
        slots show their own structure: `((我)的(朋友))说…`."""
        out = []
        modules = iter(self.modules)
        for w in self.template:
            if w is None:
                m = next(modules)
                out.append("(" + (m.bracketed(True) if nested else m.content) + ")")
            else:
                out.append(w)
        return "".join(out)

    def __str__(self) -> str:
        return self.bracketed()

    def plot(self, prefix: str = "+---> ") -> str:
        """nlp-zero's text drawing: one line per template word or slot, slots indented."""
        lines = [prefix + self.bracketed()]
        modules = iter(self.modules)
        for w in self.template:
            if w is None:
                lines.append(next(modules).plot("|     " + prefix))
            else:
                lines.append("|     " + prefix + w)
        return "\n".join(lines)

    def depth(self) -> int:
        return 1 + max((m.depth() for m in self.modules), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template.key() if self.matched else None,
            "content": self.content,
            "score": self.score,
            "modules": [m.to_dict() for m in self.modules],
        }

    def render(self, path: str | os.PathLike | None = None, *, font: str | None = None) -> Any:
        """Draw the tree as a picture (matplotlib, the `ocr` extra): each node a box with its
        bracketed text, slots linked to their subtrees. Saves to `path` (PNG, SVG, PDF by
        suffix) when given; returns the matplotlib Figure."""
        from .render import render_tree

        return render_tree(self, path, font=font)


