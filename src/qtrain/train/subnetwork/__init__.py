"""Quantum subnetwork selection: masks of frozen random networks chosen by search and sampling.

* formulate: :mod:`~qtrain.train.subnetwork.formulate` (the register, the black-box cost of every
  mask, the exact last-layer QUBO, surrogate QUBOs and their rank correlation);
* solve: :mod:`~qtrain.train.subnetwork.selector` (:class:`SubnetworkSelector` over any search
  solver or QUBO sampler, QAOA and adiabatic evolution, with resources and projected times);
* the two local methods: :mod:`~qtrain.train.subnetwork.distill` (layer-wise distillation) and
  :mod:`~qtrain.train.subnetwork.nk` (NK echo state networks, exact dynamic programming);
* rivals: :mod:`~qtrain.train.subnetwork.rivals` (random, magnitude, edge-popup, annealing on the
  black box, dense training).

References: Whitaker, arXiv:2302.05984.
"""

from qtrain.train.subnetwork.distill import DistillResult, LayerwiseStudent, layerwise_distill
from qtrain.train.subnetwork.formulate import (
    MaskCosts,
    MaskRegister,
    density_penalty,
    fit_qubo,
    last_layer_qubo,
    mask_bits,
    mask_costs,
    mask_evaluator,
    mask_losses,
    max_register_bits,
    register_qubo,
    spearman,
    taylor_qubo,
    taylor_row_qubos,
)
from qtrain.train.subnetwork.nk import (
    NKProblem,
    merge_patterns,
    nk_dynamic_programming,
    nk_esn_problem,
    per_output_search,
)
from qtrain.train.subnetwork.selector import (
    SelectionResult,
    SubnetworkSelector,
    apply_mask,
    approximation_ratio,
    routes,
    select_layerwise,
)

__all__ = [
    "DistillResult",
    "LayerwiseStudent",
    "layerwise_distill",
    "NKProblem",
    "merge_patterns",
    "nk_dynamic_programming",
    "nk_esn_problem",
    "per_output_search",
    "SelectionResult",
    "SubnetworkSelector",
    "apply_mask",
    "approximation_ratio",
    "routes",
    "select_layerwise",
    "MaskCosts",
    "MaskRegister",
    "density_penalty",
    "fit_qubo",
    "last_layer_qubo",
    "mask_bits",
    "mask_costs",
    "mask_evaluator",
    "mask_losses",
    "max_register_bits",
    "register_qubo",
    "spearman",
    "taylor_qubo",
    "taylor_row_qubos",
]
