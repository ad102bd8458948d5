"""Linking seeds into lines: seeds side by side at a similar height are joined (pairwise tests,
vectorised, then connected components), and groups of one row split by small pieces or
punctuation are merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .components import Comps, covered, within_band

if TYPE_CHECKING:
    from .regions import RegionOptions

# Sizes x a seed's or group's height unless stated. Set by hand while developing on rendered
# lines and banners; no per-value error counts were recorded.
BRIDGE_MAX_HEIGHT = 0.6  # a bridge (a small mark between seeds) is at most this x a seed's height
FLAT_SEED_ASPECT = 0.75  # a seed lower than this x its width is flat (half of 会, 条, 吕)
STACK_SHARED_WIDTH = 0.6  # a flat seed and one stacked on it share this x the narrower width ...
STACK_MAX_GAP = 0.25  # ... are at most this x the higher one's height apart ...
STACK_ASPECT = (0.7, 1.3)  # ... and together make a box about square (height / width)
# a flat seed stacked on a taller one shares at most this x its own height of the other's rows:
# the flat top of 爱 or 亲 stands over its bottom, an arc of a banner's picture lies across the
# ring beside it (those chained into one tall unit that linked to the title beside them)
STACK_MIXED_OVERLAP = 0.5
GROUP_OVERLAP_AREA = 0.3  # groups sharing this x the smaller box's area lie over each other
ROW_HEIGHT_RATIO = 0.6  # groups of one row: the lower one at least this x the taller one's height
SHARED_ROW_BAND = 0.6  # groups sharing a component share this x the taller one's rows: one row


def link_seeds(c: Comps, seeds: np.ndarray, bridges: np.ndarray, marks: np.ndarray,
                opts: RegionOptions) -> list[list[int]]:
    """Groups of seeds standing side by side at a similar height (pairwise tests, vectorised,
    then connected components of the link graph)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(seeds)
    h = c.h.astype(np.float64)
    x0, y0, x1, y1 = _stacked_units(c, seeds)
    hs = (y1 - y0).astype(np.float64)
    rows, cols = _rows_sharing_pairs(y0, y1)
    small = np.minimum(hs[rows], hs[cols])
    large = np.maximum(hs[rows], hs[cols])
    overlap = np.minimum(y1[rows], y1[cols]) - np.maximum(y0[rows], y0[cols])
    gap = np.maximum(x0[cols] - x1[rows], x0[rows] - x1[cols])
    linked = ((small >= opts.height_ratio * large) & (overlap >= opts.link_overlap * small)
              & (gap <= opts.link_gap * large))
    rows, cols = rows[linked], cols[linked]
    extra_r = extra_c = np.zeros(0, dtype=np.int64)
    # small components (punctuation, 一) bridge the seeds on either side of them
    if len(bridges):
        bgap = np.maximum(x0[None, :] - c.x1[bridges][:, None],
                          c.x0[bridges][:, None] - x1[None, :])
        near = (within_band(c.y0[bridges][:, None], c.y1[bridges][:, None], y0[None, :],
                            y1[None, :], hs[None, :])
                & (bgap <= opts.link_gap * hs[None, :])
                & (h[bridges][:, None] <= BRIDGE_MAX_HEIGHT * hs[None, :]))
        near = near[near.sum(axis=1) >= 2]
        if len(near):
            # only seeds of one row: each must overlap the tallest near seed vertically
            anchor = np.where(near, hs[None, :], -1.0).argmax(axis=1)
            ov = (np.minimum(y1[None, :], y1[anchor][:, None])
                  - np.maximum(y0[None, :], y0[anchor][:, None]))
            row = (near & (ov >= opts.link_overlap * hs[None, :])
                   & (hs[None, :] >= opts.height_ratio * hs[anchor][:, None]))
            k, extra_c = np.nonzero(row)
            extra_r = anchor[k]
    r = np.concatenate([rows, extra_r])
    cc = np.concatenate([cols, extra_c])
    graph = coo_matrix((np.ones(len(r)), (r, cc)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for pos in np.argsort(x0, kind="stable"):
        groups.setdefault(int(comp[pos]), []).append(int(seeds[pos]))
    return _merge_row_groups(c, list(groups.values()), marks, opts)


def _rows_sharing_pairs(y0: np.ndarray, y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair `(i, j)`, `i < j`, of boxes whose rows `y0..y1` overlap: the only pairs the
    link test (a positive vertical overlap) can join. Found by a sweep over the boxes sorted by
    top, so a page of a thousand glyphs in twenty rows tests tens of thousands of pairs, not a
    million."""
    n = len(y0)
    order = np.argsort(y0, kind="stable")
    ends = np.searchsorted(y0[order], y1[order], side="left")  # later tops above each bottom
    counts = np.maximum(ends - np.arange(n) - 1, 0)
    first = np.repeat(np.arange(n), counts)
    second = first + 1 + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts,
                                                                  counts)
    a, b = order[first], order[second]
    return np.minimum(a, b), np.maximum(a, b)


def _stacked_units(c: Comps, seeds: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per seed, the box it links by: its own, or with the seed stacked right above or below it
    when one of the two is flat and together they make one square glyph (the halves of 会, 条,
    吕; 爱 and 亲 in a bold sign face, whose flat tops stand apart from taller bottoms). Alone,
    either part is too low to link to the full-height glyphs beside it, and where every glyph
    of a line is split the bottoms alone set its band, cutting the tops off."""
    x0, y0, x1, y1 = (a[seeds].copy() for a in (c.x0, c.y0, c.x1, c.y1))
    w, h = x1 - x0, y1 - y0
    flat = h < FLAT_SEED_ASPECT * w
    if not flat.any() or len(seeds) < 2:
        return x0, y0, x1, y1
    # only boxes sharing columns can stack: pairs from a sweep over x, not every flat x seed
    i, j = _rows_sharing_pairs(x0, x1)
    keep = flat[i] | flat[j]
    i, j = i[keep], j[keep]
    shared = np.minimum(x1[i], x1[j]) - np.maximum(x0[i], x0[j])
    gap = np.maximum(y0[j] - y1[i], y0[i] - y1[j])
    ux0, ux1 = np.minimum(x0[i], x0[j]), np.maximum(x1[i], x1[j])
    uy0, uy1 = np.minimum(y0[i], y0[j]), np.maximum(y1[i], y1[j])
    mixed = flat[i] != flat[j]
    pair = ((shared >= STACK_SHARED_WIDTH * np.minimum(w[i], w[j]))
            & (gap <= STACK_MAX_GAP * np.maximum(h[i], h[j]))
            & (~mixed | (-gap <= STACK_MIXED_OVERLAP * np.minimum(h[i], h[j])))
            & (uy1 - uy0 <= STACK_ASPECT[1] * (ux1 - ux0))
            & (uy1 - uy0 >= STACK_ASPECT[0] * (ux1 - ux0)))
    for k in np.flatnonzero(pair):
        for m in (i[k], j[k]):
            x0[m], y0[m] = min(x0[m], ux0[k]), min(y0[m], uy0[k])
            x1[m], y1[m] = max(x1[m], ux1[k]), max(y1[m], uy1[k])
    return x0, y0, x1, y1
    ox0, oy0, ox1, oy1 = x0.copy(), y0.copy(), x1.copy(), y1.copy()
    fx0, fy0, fx1, fy1, fw, fh = x0[flat], y0[flat], x1[flat], y1[flat], w[flat], h[flat]
    shared = np.minimum(fx1[:, None], ox1[None, :]) - np.maximum(fx0[:, None], ox0[None, :])
    gap = np.maximum(oy0[None, :] - fy1[:, None], fy0[:, None] - oy1[None, :])
    ux0 = np.minimum(fx0[:, None], ox0[None, :])
    ux1 = np.maximum(fx1[:, None], ox1[None, :])
    uy0 = np.minimum(fy0[:, None], oy0[None, :])
    uy1 = np.maximum(fy1[:, None], oy1[None, :])
    pair = ((shared >= STACK_SHARED_WIDTH * np.minimum(fw[:, None], w[None, :]))
            & (gap <= STACK_MAX_GAP * np.maximum(fh[:, None], h[None, :]))
            & (uy1 - uy0 <= STACK_ASPECT[1] * (ux1 - ux0))
            & (uy1 - uy0 >= STACK_ASPECT[0] * (ux1 - ux0)))
    pair[np.arange(len(flat)), flat] = False
    for a, b in zip(*np.nonzero(pair), strict=True):
        for k in (flat[a], b):
            x0[k], y0[k] = min(x0[k], ux0[a, b]), min(y0[k], uy0[a, b])
            x1[k], y1[k] = max(x1[k], ux1[a, b]), max(y1[k], uy1[a, b])
    return x0, y0, x1, y1


def _merge_row_groups(c: Comps, groups: list[list[int]], marks: np.ndarray,
                      opts: RegionOptions) -> list[list[int]]:
    """Join groups of one row split by a character made of small pieces (会, 二, 心) or by
    punctuation: same band, similar height, a gap under `row_gap` x their height (not counting
    small components standing in the gap), or boxes lying over each other (one broken line).
    All pairs are tested at once (the covered-gap test only for each group's nearest same-row
    neighbour); merged groups are tested again until nothing merges."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(groups) < 2:
        return groups
    bx0, bx1 = c.x0[marks], c.x1[marks]
    bcy = (c.y0[marks] + c.y1[marks]) / 2
    groups = [list(g) for g in groups]
    boxes = np.array([[c.x0[g].min(), c.y0[g].min(), c.x1[g].max(), c.y1[g].max()]
                      for g in (np.asarray(gr) for gr in groups)], dtype=np.int64)
    while len(groups) > 1:
        x0, y0, x1, y1 = boxes.T
        h, n = y1 - y0, len(groups)
        small = np.minimum(h[:, None], h[None, :])
        large = np.maximum(h[:, None], h[None, :])
        overlap = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
        inter = (np.maximum(overlap, 0)
                 * np.maximum(np.minimum(x1[:, None], x1[None, :])
                              - np.maximum(x0[:, None], x0[None, :]), 0))
        area = h * (x1 - x0)
        stacked = inter >= GROUP_OVERLAP_AREA * np.minimum(area[:, None], area[None, :])
        idx = np.arange(n)
        right = (x0[None, :] > x0[:, None]) | ((x0[None, :] == x0[:, None])
                                                & (idx[None, :] > idx[:, None]))
        same = (right & (small >= ROW_HEIGHT_RATIO * large)
                & (stacked | (overlap >= opts.link_overlap * small)))
        gap = x0[None, :] - x1[:, None]
        limit = opts.row_gap * large
        ok = same & (stacked | (gap <= limit))
        far = same & ~ok
        for i in np.flatnonzero(far.any(axis=1) & ~ok.any(axis=1)):
            j = int(np.flatnonzero(far[i])[np.argmin(x0[far[i]])])  # the nearest to the right
            top, bottom = max(y0[i], y0[j]), min(y1[i], y1[j])
            inside = (bx1 > x1[i]) & (bx0 < x0[j]) & (bcy >= top) & (bcy <= bottom)
            if gap[i, j] - covered(bx0[inside], bx1[inside], int(x1[i]), int(x0[j])) \
                    <= limit[i, j]:  # punctuation in the gap (a comma, a dash) does not count
                ok[i, j] = True
        if not ok.any():
            break
        rows, cols = np.nonzero(ok)
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        count, comp = connected_components(graph, directed=False)
        merged: list[list[int]] = [[] for _ in range(count)]
        new_boxes = np.zeros((count, 4), dtype=np.int64)
        new_boxes[:, :2] = np.iinfo(np.int64).max
        new_boxes[:, 2:] = np.iinfo(np.int64).min
        for k in np.argsort(x0, kind="stable"):
            t = comp[k]
            merged[t].extend(groups[k])
            new_boxes[t, :2] = np.minimum(new_boxes[t, :2], boxes[k, :2])
            new_boxes[t, 2:] = np.maximum(new_boxes[t, 2:], boxes[k, 2:])
        groups, boxes = merged, new_boxes
    return groups


def join_shared(c: Comps, rows: list[tuple[np.ndarray, set[int], float]]
                 ) -> list[tuple[np.ndarray, set[int], float]]:
    """Groups of one row that took in the same component (a dense glyph or a mark between
    them, reached from both sides) are one line: joined, not kept as two overlapping copies.
    Groups of two rows, or a line and a taller picture, sharing a component stay apart."""
    out: list[tuple[np.ndarray, set[int], float]] = []
    for g, members, med in rows:
        ay0, ay1 = int(c.y0[g].min()), int(c.y1[g].max())
        for k, (og, om, omed) in enumerate(out):
            by0, by1 = int(c.y0[og].min()), int(c.y1[og].max())
            band = min(ay1, by1) - max(ay0, by0)
            if members & om and band >= SHARED_ROW_BAND * max(ay1 - ay0, by1 - by0):
                out[k] = (np.union1d(og, g), om | members, max(omed, med))
                break
        else:
            out.append((g, members, med))
    if len(out) < len(rows):
        return join_shared(c, out)
    return out
