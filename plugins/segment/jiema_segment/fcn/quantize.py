"""Int8 embedding tables for model files: the bigram table is most of an FCN model's bytes.

An embedding row is stored as int8 with one float16 scale (its largest magnitude / 127), under
`<name>.q8` and `<name>.q8scale` in place of `<name>`; loading restores float32. Only lookup
tables are stored so (their rows are independent); convolutions stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

Q8, Q8_SCALE = ".q8", ".q8scale"
EMBEDDING_SUFFIX = "embed.weight"


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, dim) floats -> int8 values and float16 per-row scales."""
    w = np.asarray(weight, dtype=np.float32)
    peak = np.abs(w).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float16)
    q = np.clip(np.rint(w / scale.astype(np.float32)[:, None]), -127, 127).astype(np.int8)
    return q, scale


def quantize_embeddings(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every 2-D float tensor whose name ends in `embed.weight` stored as int8 + scales."""
    out: dict[str, np.ndarray] = {}
    for key, value in tensors.items():
        if key.endswith(EMBEDDING_SUFFIX) and value.ndim == 2 and value.dtype.kind == "f":
            out[key + Q8], out[key + Q8_SCALE] = quantize_rows(value)
        else:
            out[key] = value
    return out


def dequantize(tensors: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse on loaded (torch or NumPy) tensors: `<name>.q8` + scales -> float32 `<name>`."""
    out: dict[str, Any] = {}
    for key, value in tensors.items():
        if key.endswith(Q8_SCALE):
            continue
        if key.endswith(Q8):
            name = key.removesuffix(Q8)
            scale = tensors[name + Q8_SCALE]
            out[name] = value.float() * scale.float()[:, None] if hasattr(value, "float") else (
                value.astype(np.float32) * scale.astype(np.float32)[:, None]
            )
        else:
            out[key] = value
    return out
