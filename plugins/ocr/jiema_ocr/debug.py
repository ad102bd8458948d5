"""Debug pictures a person can check: the KDE with its maxima and minima, each layer, and the
kept lines, components and glyph boxes drawn over the image (`jiema ocr --debug-dir`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .layering import Layers
from .regions import TextLine

Box = tuple[int, int, int, int]


def plot_kde(layers: Layers, path: str | Path) -> Path:
    """The gray-level histogram, its KDE, maxima (layers) and minima (boundaries)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    levels = np.arange(len(layers.density))
    hist = layers.histogram / max(layers.histogram.sum(), 1.0)
    ax.bar(levels, hist, width=1.0, color="0.8", label="histogram")
    ax.plot(levels, layers.density, color="tab:blue", label=f"KDE (bw {layers.bandwidth:.1f})")
    ax.plot(layers.maxima, layers.density[layers.maxima], "o", color="tab:red", label="maxima")
    for m in layers.minima:
        ax.axvline(m, color="tab:green", linestyle="--", linewidth=1)
    if len(layers.minima):
        ax.plot([], [], "--", color="tab:green", label="minima (boundaries)")
    ax.set_xlim(0, 255)
    ax.set_ylim(0, max(float(layers.density.max()), float(hist.max()) * 0.5) * 1.15 or 1.0)
    ax.set_xlabel("gray level (after the power transform)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    from jiema.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return path


def save_layers(gray: np.ndarray, layers: Layers, prefix: str | Path) -> list[Path]:
    """One black-on-white picture per layer: `<prefix>-layer<k>.png`."""
    from jiema.atomic import atomic_path
    from PIL import Image

    lab = layers.label(gray)
    out = []
    for k in range(layers.count):
        path = Path(f"{prefix}-layer{k}.png")
        with atomic_path(path) as tmp:
            Image.fromarray(np.where(lab == k, 0, 255).astype(np.uint8)).save(tmp)
        out.append(path)
    return out


def draw_boxes(
    image: np.ndarray,
    lines: Sequence[TextLine],
    glyphs: Sequence[Sequence[Box]] = (),
    path: str | Path | None = None,
    scale: float = 1.0,
) -> Any:
    """Lines (red), their components (thin gray) and glyph boxes (blue) over the image; boxes are
    in preprocessed coordinates and divided by `scale`."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(image if image.ndim == 3 else np.stack([image] * 3, -1)).convert("RGB")
    draw = ImageDraw.Draw(img)

    def sc(b: Box) -> list[float]:
        return [b[0] / scale, b[1] / scale, (b[2] - 1) / scale, (b[3] - 1) / scale]

    for i, line in enumerate(lines):
        for comp in line.components:
            draw.rectangle(sc(comp), outline=(150, 150, 150))
        draw.rectangle(sc(line.box), outline=(255, 0, 0), width=2)
        draw.text((line.box[0] / scale, max(0, line.box[1] / scale - 11)), str(i),
                  fill=(255, 0, 0))
    for boxes in glyphs:
        for b in boxes:
            draw.rectangle(sc(b), outline=(0, 90, 255))
    if path is not None:
        from jiema.atomic import atomic_path

        with atomic_path(path) as tmp:
            img.save(tmp)
    return img
