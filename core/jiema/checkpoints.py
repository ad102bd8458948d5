"""Training checkpoints a killed run can resume from: one safetensors file (the network's and
the optimizer's tensors, plus any extra arrays) and one JSON file (the loop's own state), each
written to a temporary name and renamed, so a kill mid-write leaves the previous pair whole.

Plugins that train PyTorch models share this layout (`net.<param>`, `opt.<index>.<key>`)
instead of each packing state dicts its own way; torch is imported only inside the functions
that need it, so importing this module stays light.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

NET, OPT = "net.", "opt."


def pack(net: Any, optimizer: Any | None = None) -> dict[str, Any]:
    """`net`'s state dict as `net.*` tensors and, when given, the optimizer's per-parameter
    state (Adam's moments and step) as `opt.<index>.<key>` tensors."""
    import torch

    tensors = {f"{NET}{k}": v.detach().contiguous() for k, v in net.state_dict().items()}
    if optimizer is not None:
        for idx, st in optimizer.state_dict()["state"].items():
            for key, val in st.items():
                tensors[f"{OPT}{idx}.{key}"] = torch.as_tensor(val).detach().contiguous()
    return tensors


def restore(tensors: dict[str, Any], net: Any, optimizer: Any | None = None) -> None:
    """Load what `pack` wrote back into `net` (and `optimizer`: its hyperparameters and
    parameter groups stay as constructed, its per-parameter state comes from `tensors`)."""
    net.load_state_dict({k[len(NET):]: v for k, v in tensors.items() if k.startswith(NET)})
    if optimizer is None:
        return
    sd = optimizer.state_dict()
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith(OPT):
            idx, key = k[len(OPT):].split(".", 1)
            state.setdefault(int(idx), {})[key] = v
    sd["state"] = state
    optimizer.load_state_dict(sd)


def save(out_dir: str | os.PathLike[str], name: str, tensors: dict[str, Any],
         state: dict[str, Any]) -> None:
    """Write `name.safetensors` and `name.json` in `out_dir`, each atomically."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    tmp = out / f"{name}.tmp.safetensors"
    save_file(tensors, str(tmp))
    os.replace(tmp, out / f"{name}.safetensors")
    tmpj = out / f"{name}.tmp.json"
    tmpj.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmpj, out / f"{name}.json")


def read_state(out_dir: str | os.PathLike[str], name: str) -> dict[str, Any] | None:
    """The JSON half of checkpoint `name`, or None when the run has none yet."""
    path = Path(out_dir) / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_tensors(out_dir: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """The tensor half of checkpoint `name` (torch tensors)."""
    from safetensors.torch import load_file

    return load_file(str(Path(out_dir) / f"{name}.safetensors"))
