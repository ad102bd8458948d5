"""Training checkpoints a killed run can resume from, exactly: one safetensors file holds the
network's and the optimizer's tensors (plus any extra arrays) and, in its header, the loop's own
state as JSON; it is written to a temporary name and renamed, so a kill mid-write leaves the
previous checkpoint whole, and tensors and state always come from the same moment. A `.json`
copy of the state is written beside it for people and tools that read (or edit) it.

A resumed run repeats an unbroken one bit for bit only if everything a step depends on comes
back: the weights and optimizer moments (`pack`/`restore`), the data stream's position (each
trainer's own state), the random generators (`random_state`/`set_random_state`) and torch's
thread count (`hold_threads`: float sums split across threads round differently).

Plugins that train PyTorch models share this layout (`net.<param>`, `opt.<index>.<key>`)
instead of each packing state dicts its own way; torch is imported only inside the functions
that need it, so importing this module stays light.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .atomic import atomic_path, write_text

NET, OPT = "net.", "opt."
STATE_KEY = "jiema.state"  # the safetensors header entry holding the loop's JSON state
CHECKPOINT_ID = "checkpoint_id"  # the state entry pairing a `.json` with its tensors


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
    """Write `name.safetensors` (tensors, and `state` in its header) atomically, then
    `name.json` (`state`, for people and tools); both carry one fresh checkpoint id, so
    `read_state` can tell a `.json` left from an older checkpoint (a kill between the two
    writes) and take the header's state instead."""
    import uuid

    from safetensors.torch import save_file

    out = Path(out_dir)
    text = json.dumps({**state, CHECKPOINT_ID: uuid.uuid4().hex}, ensure_ascii=False)
    with atomic_path(out / f"{name}.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={STATE_KEY: text})
    write_text(out / f"{name}.json", text)


def read_state(out_dir: str | os.PathLike[str], name: str) -> dict[str, Any] | None:
    """The state of checkpoint `name`, or None when the run has none yet: its `.json` file
    (edits to it count) unless that belongs to another checkpoint than the tensors, then the
    state in the tensors' header."""
    from safetensors import safe_open

    out = Path(out_dir)
    tensors, path = out / f"{name}.safetensors", out / f"{name}.json"
    data: dict[str, Any] | None = (
        json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    )
    if tensors.is_file():
        with safe_open(str(tensors), framework="numpy") as f:
            header = (f.metadata() or {}).get(STATE_KEY)
        if header is not None:
            saved: dict[str, Any] = json.loads(header)
            if data is None or data.get(CHECKPOINT_ID) != saved[CHECKPOINT_ID]:
                return saved
    return data


def load_tensors(out_dir: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """The tensor half of checkpoint `name` (torch tensors)."""
    from safetensors.torch import load_file

    return load_file(str(Path(out_dir) / f"{name}.safetensors"))


def random_state(generators: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The random generators a training step may draw from, as JSON: torch's CPU generator
    (dropout; CUDA's too once CUDA is in use), numpy's and Python's global ones, and the
    numpy `Generator`s of `generators` (a trainer's data streams) by name."""
    import numpy as np
    import torch

    version, internal, gauss = random.getstate()
    legacy = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state().tolist(),
        "python": [version, list(internal), gauss],
        "numpy": _jsonable(legacy),
        "generators": {k: _jsonable(g.bit_generator.state)
                       for k, g in (generators or {}).items()},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def set_random_state(state: Mapping[str, Any], generators: Mapping[str, Any] | None = None
                     ) -> None:
    """Put back what `random_state` saved: the global generators and, by name, `generators`."""
    import numpy as np
    import torch

    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(_arrays(state["numpy"]))
    for name, gen in (generators or {}).items():
        gen.bit_generator.state = _arrays(state["generators"][name])


def hold_threads(threads: int) -> None:
    """Give torch `threads` intra-op threads again if something changed them. The core's
    parallel Numba kernels (Viterbi, marginals) share OpenMP with torch and set its thread
    count to Numba's when they run, so after a run's first validation torch would silently
    train on more threads, whose float sums round differently: a resumed run, which has not
    validated yet, then drifts away from an unbroken one. Trainers call this before each step."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _jsonable(value: Any) -> Any:
    """numpy arrays (the Mersenne Twister's key) as lists, recursively."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return {"uint32": value.tolist()} if str(value.dtype) == "uint32" else value.tolist()
    return value


def _arrays(value: Any) -> Any:
    """`_jsonable` undone."""
    import numpy as np

    if isinstance(value, dict):
        if set(value) == {"uint32"}:
            return np.asarray(value["uint32"], dtype=np.uint32)
        return {k: _arrays(v) for k, v in value.items()}
    return value


@contextmanager
def stop_requests() -> Iterator[dict[str, int]]:
    """Ctrl-C or SIGTERM asks a training loop to stop at its next step boundary (the loop then
    saves a checkpoint that a resume continues exactly: stopping mid-step could save half an
    optimizer update); a second Ctrl-C leaves at once. The dict holds the signal once asked."""
    asked: dict[str, int] = {}
    if threading.current_thread() is not threading.main_thread():
        yield asked  # signal handlers can only be set from the main thread
        return

    def on_signal(signum: int, frame: Any) -> None:
        if asked:
            raise KeyboardInterrupt
        asked["signal"] = signum

    saved = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield asked
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def raise_stop(asked: Mapping[str, int]) -> None:
    """After a loop stopped on `stop_requests`: leave as the signal asked (KeyboardInterrupt
    for Ctrl-C, exit status 128 + signal for SIGTERM)."""
    if asked["signal"] == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + asked["signal"])


def seed_step(seed: int, *position: int) -> None:
    """Seed torch's generator from the run's seed and a step's position, so the step's dropout
    masks are the same in a resumed run whatever happened before it (an interrupted step)."""
    import numpy as np
    import torch

    words = np.random.SeedSequence([seed, *position]).generate_state(1, np.uint64)
    torch.manual_seed(int(words[0]))
