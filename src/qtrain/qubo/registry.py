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
    "grover": "qtrain.quantum.samplers:GroverSampler",
    "qaoa": "qtrain.quantum.samplers:QAOASampler",
})


def register_sampler(name: str, target: str) -> None:
    """Register ``"module:Class"`` under ``name`` (later packages add their samplers this way)."""
    _REGISTRY.register(name, target)


def available_samplers() -> list[str]:
    """Names :func:`get_sampler` accepts."""
    return _REGISTRY.names()


def get_sampler(name: str, **kwargs: Any) -> QUBOSampler:
    """The sampler registered as ``name``, constructed with ``kwargs`` (default parameters).

    Names: ``exact`` (brute force), ``milp`` (exact, HiGHS on the linearised program),
    ``anneal`` (qtrain's simulated annealer), ``steepest``
    (greedy descent), ``dwave-sa`` and ``tabu`` (dwave-samplers), ``dwave`` (a QPU; extra
    ``dwave``), and those registered by other packages.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    return _REGISTRY.load(name)(**kwargs)
