"""Lazy access to torch and the network module (MissingExtraError names the `torch` extra)."""

from __future__ import annotations

from types import ModuleType


def require_torch(purpose: str = "the FCN segment mode") -> ModuleType:
    from jiema.errors import MissingExtraError

    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("torch", "torch", purpose) from exc
    return torch


def import_network(purpose: str = "the FCN segment mode") -> ModuleType:
    require_torch(purpose)
    from . import network

    return network


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where autocast to
    bfloat16 speeds the network up; elsewhere it is emulated and slower than float32."""
    torch = require_torch()
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)
