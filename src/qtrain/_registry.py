"""Name -> ``"module:Class"`` registries, imported on first use so optional SDKs stay lazy.

One mechanism behind :func:`qtrain.qubo.get_sampler`, :func:`qtrain.linalg.get_linear_solver` and
the benchmark registry of ``qtrain bench``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LazyRegistry"]


class LazyRegistry(dict):
    """A ``dict`` of ``name -> "package.module:Class"`` whose classes are imported on lookup.

    Args:
        kind: what the names are, for error messages ("sampler", "linear solver", ...).
        entries: the initial ``name -> "module:Class"`` table.
    """

    def __init__(self, kind: str, entries: dict[str, str]):
        super().__init__()
        self.kind = kind
        for name, target in entries.items():
            self.register(name, target)

    def register(self, name: str, target: str) -> None:
        """Register ``"module:Class"`` under ``name`` (``ValueError`` on a malformed target)."""
        if ":" not in target:
            raise ValueError(f"target must look like 'package.module:Class', got {target!r}")
        self[name] = target

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self)

    def load(self, name: str) -> Any:
        """The class registered as ``name``; ``ValueError`` listing the known names otherwise."""
        if name not in self:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {self.names()}")
        module, cls = self[name].split(":")
        return getattr(importlib.import_module(module), cls)
