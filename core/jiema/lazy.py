"""Packages whose names load on first use, so importing them stays cheap (no Numba kernels, no
torch): the core and every plugin package declare their public names once, in a mapping, and get
a module `__getattr__` / `__dir__` from here instead of each writing its own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`: attribute `name` is `names[name]`'s attribute of
    that name, imported on first use and then cached in the package; a name that maps to its own
    module path (`"errors": "jiema.errors"`) is that module.

    >>> getattr_, dir_ = lazy_exports("jiema", {"lazy_exports": "jiema.lazy"})
    >>> getattr_("lazy_exports") is lazy_exports
    True
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        mod = import_module(module)
        value = mod if module.rsplit(".", 1)[-1] == name else getattr(mod, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
