"""The QUBO layer: the dense ``QUBO`` batch type, samplers behind one interface, ``get_sampler``.

A ``QCBO`` adds linear equality and inequality rows (:mod:`qtrain.qubo.qcbo`).

Energy convention: ``E(x) = x^T Q x + offset`` with ``x`` in {0, 1}^n and the full matrix ``Q``.
"""

from qtrain.qubo.model import QUBO
from qtrain.qubo.qcbo import QCBO, InfeasibleProgramError, QCBOSolution
from qtrain.qubo.registry import available_samplers, get_sampler, register_sampler
from qtrain.qubo.sampler import TIMING_KEYS, QUBOResult, QUBOSampler

__all__ = [
    "QCBO",
    "QCBOSolution",
    "InfeasibleProgramError",
    "QUBO",
    "QUBOResult",
    "QUBOSampler",
    "TIMING_KEYS",
    "available_samplers",
    "get_sampler",
    "register_sampler",
]
