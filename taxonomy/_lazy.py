"""Lazy public names for a package's ``__init__`` (PEP 562): a worker that imports
``taxonomy.io.records`` does not pull in pandas through ``taxonomy.io.writers``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def attach(package: str, exports: dict[str, str],
           defined: tuple[str, ...] = ()) -> tuple[list[str], Callable, Callable]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package``: ``exports`` maps a public
    name to its submodule (relative), ``defined`` names the package defines itself."""
    names = sorted([*exports, *defined])

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return names, __getattr__, __dir__
