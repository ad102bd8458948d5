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
