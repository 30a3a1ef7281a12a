"""Samplers by name: ``get_sampler("anneal")``."""

from __future__ import annotations

from typing import Any

from qtrain._registry import LazyRegistry
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["available_samplers", "get_sampler", "register_sampler"]

# name -> "module:Class", imported on first use so optional SDKs stay lazy.
_REGISTRY = LazyRegistry("sampler", {
    "exact": "qtrain.qubo.exact:ExactSampler",
    "milp": "qtrain.qubo.milp:MILPSampler",
    "anneal": "qtrain.qubo.anneal:AnnealSampler",
    "steepest": "qtrain.qubo.anneal:SteepestDescentSampler",
    "dwave-sa": "qtrain.qubo.dwave_samplers:DWaveSASampler",
    "tabu": "qtrain.qubo.dwave_samplers:DWaveTabuSampler",
    "dwave": "qtrain.qubo.dwave_qpu:DWaveQPUSampler",
    "sb": "qtrain.qubo.sb:SimulatedBifurcationSampler",
})
# The quantum samplers ("grover", "qaoa") live a layer above, in qtrain.quantum: qtrain declares them
# as entry points of the group "qtrain.samplers" (pyproject.toml), like any plugin.


def register_sampler(name: str, target: str) -> None:
    """Register ``"module:Class"`` under ``name`` for this process (an installed package declares
    an entry point in the group ``qtrain.samplers`` instead)."""
    _REGISTRY.register(name, target)


def available_samplers() -> list[str]:
    """Names :func:`get_sampler` accepts."""
    return _REGISTRY.names()


def get_sampler(name: str | QUBOSampler, **kwargs: Any) -> QUBOSampler:
    """The sampler registered as ``name``, constructed with ``kwargs`` (default parameters); a
    :class:`QUBOSampler` instance passes through unchanged (``kwargs`` must then be empty).

    Names: ``exact`` (brute force), ``milp`` (exact, HiGHS on the linearised program),
    ``anneal`` (qtrain's simulated annealer), ``steepest``
    (greedy descent), ``sb`` (simulated bifurcation, ballistic or discrete),
    ``dwave-sa`` and ``tabu`` (dwave-samplers), ``dwave`` (a QPU; extra
    ``dwave``), ``grover`` and ``qaoa`` (simulated quantum samplers of :mod:`qtrain.quantum`), and
    those other packages register through the entry-point group ``qtrain.samplers``.

    Raises:
        ValueError: unknown name (the message lists the known ones), or keywords given with an
            instance.
        TypeError: ``name`` is neither a string nor a ``QUBOSampler``.
    """
    return _REGISTRY.make(name, QUBOSampler, **kwargs)
