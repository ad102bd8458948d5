"""Measure where the bars 一, — and － sit in rendered lines: the table in `jiema_ocr.bar_shapes`.

Renders lines of the PKU test text that hold a bar, in the four Debian CJK fonts at 24-48 px
with the noise, blur, gradients and polarities of `benchmarks/ocr.py`, but from other seeds
(90-95 by default; the benchmark uses 2026, the dev sets 77-82). Each bar the reader cuts
where the renderer drew it gives (length, thickness, centre height) over the band of the
line's full-height glyphs. Prints per bar and font the mean and spread, the table as Python,
and how often the shape alone names the bar on a seed left out of the fit.

    python benchmarks/bar_shapes.py [--seeds 90-95] [--lines 500]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

import numpy as np
from ocr import _overlap_1d, render_eval_line, text_chunks

BARS = {"一": "一", "—": "—", "－": "-", "-": "-"}  # drawn char -> class
SD_FLOOR = 0.01  # of the band: a font whose bars all measure alike still gets some spread


def measure(seed: int, n_lines: int) -> list[tuple[str, str, np.ndarray]]:
    """(class, font, features) of each bar cut where it was drawn, from lines of one seed."""
    from jiema_ocr.layout_prior import text_band
    from jiema_ocr.pipeline import analyse, default_reader
    from jiema_ocr.synth import find_fonts, font_covers
    from tqdm import tqdm

    fonts = find_fonts()
    rng = np.random.default_rng(seed)
    texts = [t for t in text_chunks(20000, rng) if any(c in BARS for c in t)][:n_lines]
    reader = default_reader()
    out = []
    for k, text in enumerate(tqdm(texts, desc=f"seed {seed}", file=sys.stderr, leave=False)):
        font = fonts[k % len(fonts)]
        if not font_covers(font, text):
            continue
        image = render_eval_line(text, font, rng)
        analysis = analyse(image.image, reader.options)
        s = analysis.scale
        drawn = [(ch, b) for ch, b in zip([c for c in text if not c.isspace()],
                                          image.lines[0].boxes, strict=True) if ch in BARS]
        for line in analysis.lines:
            band = text_band(reader.stages.cut(line.mask))
            if band is None:
                continue
            boxes, _ = reader.cut(analysis, line)
            lx, ly = line.box[0], line.box[1]
            lh = max(band[1] - band[0], 1.0)
            for ch, b in drawn:
                g = (b[0] * s - lx, b[1] * s - ly, b[2] * s - lx, b[3] * s - ly)
                if not 0 <= (g[1] + g[3]) / 2 <= line.box[3] - ly:
                    continue
                hit = [x for x in boxes if _overlap_1d(g[0], g[2], x[0], x[2]) >= 0.6]
                if hit:
                    x = hit[0]
                    out.append((BARS[ch], font.name, np.array([
                        (x[2] - x[0]) / lh, (x[3] - x[1]) / lh,
                        ((x[1] + x[3]) / 2 - band[0]) / lh])))
    return out


def fit(rows) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    by = defaultdict(list)
    for cls, font, f in rows:
        by[cls, font].append(f)
    table: dict[str, list] = defaultdict(list)
    for (cls, _font), fs in sorted(by.items()):
        x = np.array(fs)
        if len(x) >= 5:
            table[cls].append((x.mean(axis=0), np.sqrt(x.var(axis=0) + SD_FLOOR ** 2)))
    return table


def loglik(table, cls: str, f: np.ndarray) -> float:
    """-inf where too few of this bar were measured to fit."""
    from jiema_ocr.bar_shapes import mixture_log_likelihood

    comps = table[cls]
    return mixture_log_likelihood(f, np.array([m for m, _ in comps]).reshape(-1, 3),
                                  np.array([sd for _, sd in comps]).reshape(-1, 3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="90-95", help="render seeds, FIRST-LAST")
    ap.add_argument("--lines", type=int, default=500, help="lines with a bar per seed (at most)")
    args = ap.parse_args()
    lo, hi = (int(v) for v in args.seeds.split("-"))
    per_seed = {seed: measure(seed, args.lines) for seed in range(lo, hi + 1)}
    rows = [r for rs in per_seed.values() for r in rs]
    print(f"{len(rows)} bars from seeds {lo}-{hi}\n")
    print(f"{'bar':4} {'font':14} {'n':>4}  {'length':>12} {'thickness':>12} {'centre':>12}")
    by = defaultdict(list)
    for cls, font, f in rows:
        by[cls, font].append(f)
    for (cls, font), fs in sorted(by.items()):
        x = np.array(fs)
        cells = " ".join(f"{m:6.3f}±{sd:5.3f}" for m, sd in zip(x.mean(0), x.std(0), strict=True))
        print(f"{cls:4} {font:14} {len(x):4d}  {cells}")
    table = fit(rows)
    print("\n_SHAPES = {")
    for cls in ("一", "—", "-"):
        comps = ",\n          ".join(
            "((" + ", ".join(f"{v:.3f}" for v in m) + "), (" + ", ".join(f"{v:.3f}" for v in sd)
            + "))" for m, sd in table[cls])
        print(f'    "{cls}": [{comps}],')
    print("}")
    if len(per_seed) < 2:
        return  # nothing to hold out
    wrong, total = Counter(), 0
    for seed, held in per_seed.items():
        t = fit([r for s, rs in per_seed.items() if s != seed for r in rs])
        for cls, _font, f in held:
            total += 1
            best = max(("一", "—", "-"), key=lambda c, f=f, t=t: loglik(t, c, f))
            if best != cls:
                wrong[cls, best] += 1
    print(f"\nshape alone, each seed left out of the fit: {sum(wrong.values())} of {total} bars "
          f"named wrong ({100 * sum(wrong.values()) / max(total, 1):.1f}%): "
          + ", ".join(f"{a}->{b} {n}" for (a, b), n in wrong.most_common()))


if __name__ == "__main__":
    main()
