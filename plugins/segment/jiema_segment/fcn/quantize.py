"""Quantized embedding tables for model files: the bigram table is most of an FCN model's bytes.

An embedding row is stored as small integers with one float16 scale (its largest magnitude /
127 for int8, / 7 for int4): int8 under `<name>.q8` and `<name>.q8scale`, int4 (two values a
byte, low nibble first, each stored + 8) under `<name>.q4` and `<name>.q4scale`, in place of
`<name>`; loading restores float32. Only lookup tables are stored so (their rows are
independent); convolutions stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

Q8, Q8_SCALE = ".q8", ".q8scale"
Q4, Q4_SCALE = ".q4", ".q4scale"
EMBEDDING_SUFFIX = "embed.weight"
BIGRAM_TABLE = "bigram_embed.weight"


def quantize_rows(weight: np.ndarray, levels: int = 127) -> tuple[np.ndarray, np.ndarray]:
    """(rows, dim) floats -> int8 values in [-levels, levels] and float16 per-row scales."""
    w = np.asarray(weight, dtype=np.float32)
    peak = np.abs(w).max(axis=1)
    scale = np.where(peak > 0, peak / levels, 1.0).astype(np.float16)
    q = np.clip(np.rint(w / scale.astype(np.float32)[:, None]), -levels, levels).astype(np.int8)
    return q, scale


def pack_int4(q: np.ndarray) -> np.ndarray:
    """(rows, dim) int8 in [-7, 7], dim even -> (rows, dim // 2) uint8, low nibble first."""
    u = (q.astype(np.int16) + 8).astype(np.uint8)
    return u[:, 0::2] | (u[:, 1::2] << 4)


def unpack_int4(packed: np.ndarray) -> np.ndarray:
    """The inverse of `pack_int4`, as float32."""
    p = np.asarray(packed, dtype=np.uint8)
    out = np.empty((p.shape[0], p.shape[1] * 2), dtype=np.float32)
    out[:, 0::2] = (p & 15).astype(np.float32) - 8
    out[:, 1::2] = (p >> 4).astype(np.float32) - 8
    return out


def quantize_embeddings(
    tensors: Mapping[str, np.ndarray], int4: Iterable[str] = ()
) -> dict[str, np.ndarray]:
    """Every 2-D float tensor whose name ends in `embed.weight` stored as int8 + scales; those
    whose name ends in one of `int4` (e.g. `BIGRAM_TABLE`) as int4, if their width is even."""
    four = tuple(int4)
    out: dict[str, np.ndarray] = {}
    for key, value in tensors.items():
        if not (key.endswith(EMBEDDING_SUFFIX) and value.ndim == 2 and value.dtype.kind == "f"):
            out[key] = value
        elif four and key.endswith(four) and value.shape[1] % 2 == 0:
            q, out[key + Q4_SCALE] = quantize_rows(value, levels=7)
            out[key + Q4] = pack_int4(q)
        else:
            out[key + Q8], out[key + Q8_SCALE] = quantize_rows(value)
    return out


def dequantize(tensors: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse on loaded (torch or NumPy) tensors: quantized `<name>` + scales -> float32."""
    out: dict[str, Any] = {}
    for key, value in tensors.items():
        if key.endswith((Q8_SCALE, Q4_SCALE)):
            continue
        if not key.endswith((Q8, Q4)):
            out[key] = value
            continue
        four = key.endswith(Q4)
        name = key.removesuffix(Q4 if four else Q8)
        is_torch = hasattr(value, "numpy")
        values = value.numpy() if is_torch else np.asarray(value)
        scale = tensors[name + (Q4_SCALE if four else Q8_SCALE)]
        scale = (scale.float().numpy() if is_torch else np.asarray(scale)).astype(np.float32)
        rows = unpack_int4(values) if four else values.astype(np.float32)
        restored = rows * scale[:, None]
        if is_torch:
            import torch

            out[name] = torch.from_numpy(restored)
        else:
            out[name] = restored
    return out
