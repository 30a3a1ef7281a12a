"""Quantum training of discrete sinusoidal networks (Wen, Huang, Dahlsten, arXiv:2410.22016).

The weight register holds every configuration of a :class:`~qtrain.nn.DSinNN`; phase estimation
writes each configuration's training cost into a register and Durr-Hoyer minimum search finds the
global minimum. Modules: :mod:`~qtrain.train.sinusoidal.search` (the search shell,
:class:`QuantumWeightSearch`), :mod:`~qtrain.train.sinusoidal.circuit` (the DSinNN-specific
gate-level wiring) and :mod:`~qtrain.train.sinusoidal.classical` (batched GD, enumeration, brute
force: the classical references).
"""

from qtrain.data.sinusoidal import deep_data, toy_data
from qtrain.train.sinusoidal.classical import (
    BruteForceResult,
    GDResult,
    bad_minimum_mask,
    brute_force_search,
    config_weights,
    enumerate_losses,
    gd_train,
    point_errors,
)
from qtrain.train.sinusoidal.search import (
    BYTES_PER_CONFIG,
    QuantumSearchResult,
    QuantumWeightSearch,
)

__all__ = [
    "BYTES_PER_CONFIG",
    "BruteForceResult",
    "GDResult",
    "QuantumSearchResult",
    "QuantumWeightSearch",
    "bad_minimum_mask",
    "brute_force_search",
    "config_weights",
    "deep_data",
    "enumerate_losses",
    "gd_train",
    "point_errors",
    "toy_data",
]
