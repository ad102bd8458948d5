"""jiema (解码): one decoder core (lattices, Numba Viterbi) for structured-prediction tasks.

Importing jiema is cheap: names are loaded on first use, so `import jiema` pulls in neither
Numba-compiled kernels nor any task's heavy dependencies (torch never).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .lazy import lazy_exports

__version__ = "0.1.0"

from pluggy import HookimplMarker

# Numba's `cache=True` writes compiled kernels into `__pycache__` beside the sources. In an
# installed jiema those files outlive `pip uninstall`, and the leftover `jiema/` folder then
# shadows a later editable install as an empty namespace package. Keep the cache in the user's
# cache folder instead, unless the user chose one.
# (os.path, not pathlib: `jiema.Path` is the lattice's best-path type, loaded lazily.)
os.environ.setdefault(
    "NUMBA_CACHE_DIR",
    os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                  ".cache"), "jiema", "numba"),
)

hookimpl = HookimplMarker("jiema")

_LAZY = {
    # lattices and results
    "Trellis": "jiema.lattice",
    "CandidateLattice": "jiema.lattice",
    "WordLattice": "jiema.lattice",
    "CTCLattice": "jiema.lattice",
    "Path": "jiema.lattice",
    "BatchPath": "jiema.lattice",
    "Marginals": "jiema.lattice",
    # transitions
    "DenseTransitions": "jiema.transitions",
    "BigramModel": "jiema.bigram",
    # decoding
    "viterbi": "jiema.decode",
    "kbest": "jiema.decode",
    "marginals": "jiema.decode",
    # plugin host and deployment
    "Engine": "jiema.engine",
    "default_engine": "jiema.engine",
    "Task": "jiema.registry",
    "Stage": "jiema.registry",
    "Component": "jiema.registry",
    "ModelSpec": "jiema.registry",
    "ModelCard": "jiema.models",
    "errors": "jiema.errors",
}

__all__ = ["__version__", "hookimpl", *sorted(_LAZY)]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)




if TYPE_CHECKING:  # pragma: no cover
    from . import errors  # noqa: F401
    from .bigram import BigramModel  # noqa: F401
    from .decode import kbest, marginals, viterbi  # noqa: F401
    from .engine import Engine, default_engine  # noqa: F401
    from .lattice import (  # noqa: F401
        BatchPath,
        CandidateLattice,
        CTCLattice,
        Marginals,
        Path,
        Trellis,
        WordLattice,
    )
    from .models import ModelCard  # noqa: F401
    from .registry import Component, ModelSpec, Stage, Task  # noqa: F401
    from .transitions import DenseTransitions  # noqa: F401
