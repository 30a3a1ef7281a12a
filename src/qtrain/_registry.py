"""Name -> ``"module:Class"`` registries, imported on first use so optional SDKs stay lazy, and open to
plugins through ``importlib.metadata`` entry points.

One mechanism behind :func:`qtrain.qubo.get_sampler`, :func:`qtrain.linalg.get_linear_solver`,
:func:`qtrain.quantum.get_search_solver` and the benchmark registry of ``qtrain bench``. Another
package adds a solver by declaring an entry point in its own ``pyproject.toml``::

    [project.entry-points."qtrain.samplers"]
    my-sampler = "my_package.module:MySampler"

Groups: ``qtrain.samplers``, ``qtrain.linear_solvers``, ``qtrain.search_solvers``,
``qtrain.benchmarks``. qtrain's own quantum samplers (``grover``, ``qaoa``) are declared the same way,
so the QUBO layer never names the quantum layer.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata
from typing import Any

__all__ = ["ENTRY_POINT_GROUPS", "LazyRegistry"]

#: The entry-point group of each registry kind.
ENTRY_POINT_GROUPS = {
    "sampler": "qtrain.samplers",
    "linear solver": "qtrain.linear_solvers",
    "search solver": "qtrain.search_solvers",
    "benchmark": "qtrain.benchmarks",
}


class LazyRegistry(dict):
    """A ``dict`` of ``name -> "package.module:Class"`` whose classes are imported on lookup.

    Names come from the table given here, from :meth:`register`, and from the entry points of
    ``group`` in every installed distribution (read at lookup, so a package installed while the
    process runs is found). A name registered here wins over an entry point of the same name; two
    distributions exporting one name with different targets is an error naming both.

    Args:
        kind: what the names are, for error messages ("sampler", "linear solver", ...).
        entries: the initial ``name -> "module:Class"`` table.
        group: the entry-point group (default: :data:`ENTRY_POINT_GROUPS` of ``kind``; ``None`` for
            a kind without plugins).
    """

    def __init__(self, kind: str, entries: dict[str, str], group: str | None = "default"):
        super().__init__()
        self.kind = kind
        self.group = ENTRY_POINT_GROUPS.get(kind) if group == "default" else group
        for name, target in entries.items():
            self.register(name, target)

    def register(self, name: str, target: str) -> None:
        """Register ``"module:Class"`` under ``name`` (``ValueError`` on a malformed target)."""
        if ":" not in target:
            raise ValueError(f"target must look like 'package.module:Class', got {target!r}")
        self[name] = target

    def plugins(self) -> dict[str, str]:
        """``name -> "module:Class"`` of the entry points in this registry's group.

        Raises:
            ValueError: two distributions export one name with different targets.
        """
        if self.group is None:
            return {}
        found: dict[str, tuple[str, str]] = {}
        for ep in metadata.entry_points(group=self.group):
            dist = getattr(getattr(ep, "dist", None), "name", "?")
            if ep.name in found and found[ep.name][0] != ep.value:
                raise ValueError(f"{self.kind} {ep.name!r} is provided twice, by {found[ep.name][1]} "
                                 f"({found[ep.name][0]}) and {dist} ({ep.value}); uninstall one")
            found.setdefault(ep.name, (ep.value, dist))
        return {name: value for name, (value, _) in found.items()}

    def names(self) -> list[str]:
        """The registered names and those of the entry points, sorted."""
        return sorted(set(self) | set(self.plugins()))

    def load(self, name: str) -> Any:
        """The class registered as ``name``; ``ValueError`` listing the known names otherwise."""
        target = self.get(name)
        if target is None:
            target = self.plugins().get(name)
        if target is None:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {self.names()}")
        module, attr = target.split(":", 1)
        return functools.reduce(getattr, attr.strip().split("."), importlib.import_module(module.strip()))

    def make(self, name: Any, base: type, **kwargs: Any) -> Any:
        """An instance of ``base``: ``name`` itself when it already is one (``kwargs`` must then be
        empty), else the class registered as ``name`` constructed with ``kwargs``.

        Raises:
            ValueError: an unknown name, or keywords given with an instance.
            TypeError: ``name`` is neither a string nor a ``base``.
        """
        if isinstance(name, base):
            if kwargs:
                raise ValueError(f"keywords {sorted(kwargs)} cannot be applied to an existing {self.kind} "
                                 f"instance {name!r}; pass them to its constructor")
            return name
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} must be a name or a {base.__name__}, got {type(name).__name__}")
        return self.load(name)(**kwargs)
