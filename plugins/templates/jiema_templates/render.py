"""Drawing a SentTree with matplotlib (imported here only: the `ocr` extra)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tree import SentTree

_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
              "AR PL UMing CN", "SimHei", "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback")


def _font(name: str | None) -> Any:
    from matplotlib import font_manager

    if name is not None:
        if os.path.isfile(name):
            return font_manager.FontProperties(fname=name)
        return font_manager.FontProperties(family=name)
    have = {f.name for f in font_manager.fontManager.ttflist}
    for family in _CJK_FONTS:
        if family in have:
            return font_manager.FontProperties(family=family)
    return font_manager.FontProperties()


def _layout(tree: SentTree, depth: int, leaves: list[int], out: list) -> float:
    """Post-order placement: leaves left to right, parents centred over their children."""
    xs = [_layout(m, depth + 1, leaves, out) for m in tree.modules]
    if xs:
        x = (xs[0] + xs[-1]) / 2
    else:
        x = float(leaves[0])
        leaves[0] += 1
    out.append((tree, x, depth, xs))
    return x


def render_tree(tree: SentTree, path: str | os.PathLike | None = None, *,
                font: str | None = None) -> Any:
    from jiema.errors import require

    require("matplotlib", "ocr", "drawing a SentTree")
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    nodes: list = []
    _layout(tree, 0, [0], nodes)
    width = max(x for _, x, _, _ in nodes) + 1
    depth = max(d for _, _, d, _ in nodes) + 1
    longest = max(len(t.bracketed()) for t, _, _, _ in nodes)
    fig, ax = plt.subplots(figsize=(max(4.0, width * max(1.6, 0.22 * longest)), 1.3 * depth + 0.6))
    props = _font(font)
    for node, x, d, child_xs in nodes:
        for cx in child_xs:
            ax.plot([x, cx], [-d, -(d + 1)], color="0.55", lw=1, zorder=1)
        face = "#e8f0fe" if node.matched else "#f3f3f3"
        ax.text(x, -d, node.bracketed(), ha="center", va="center", fontproperties=props,
                fontsize=12, zorder=2,
                bbox={"boxstyle": "round,pad=0.35", "fc": face, "ec": "#4a6fa5" if node.matched
                      else "0.6"})
    ax.set_xlim(-0.8, width - 0.2)
    ax.set_ylim(-depth + 0.4, 0.6)
    ax.axis("off")
    fig.tight_layout()
    if path is not None:
        from jiema.atomic import atomic_path

        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120)
        plt.close(fig)
    return fig
