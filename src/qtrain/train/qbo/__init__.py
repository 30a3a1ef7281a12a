"""QBO: quantized networks trained as constrained binary programs (Li et al., arXiv:2506.18240).

* :mod:`~qtrain.train.qbo.formulate`: Forward Interval Propagation, splines, the network's QCBO;
* :mod:`~qtrain.train.qbo.qcgd`: QCGD, conditional gradient over any QUBO sampler;
* :mod:`~qtrain.train.qbo.hedging`: sample-wise decomposition and progressive hedging;
* :mod:`~qtrain.train.qbo.trainer`: :class:`QBOTrainer` (and the STE-QAT baseline).
"""

from qtrain.train.qbo.formulate import (
    QBOProblem,
    Spline,
    brute_force_weights,
    exhaustive_qcbo,
    formulate_qbo,
    forward_interval_propagation,
    spline_loss,
    spline_pieces,
    weight_bits_loss,
)
from qtrain.train.qbo.hedging import HedgingResult, progressive_hedging, subproblem_qubos
from qtrain.train.qbo.qcgd import lmo_qubo, qcgd, quantize_coefficients, repair
from qtrain.train.qbo.trainer import QBOTrainer, train_ste_qat

__all__ = [
    "HedgingResult",
    "QBOTrainer",
    "progressive_hedging",
    "subproblem_qubos",
    "train_ste_qat",
    "QBOProblem",
    "Spline",
    "brute_force_weights",
    "exhaustive_qcbo",
    "formulate_qbo",
    "forward_interval_propagation",
    "spline_loss",
    "spline_pieces",
    "weight_bits_loss",
    "lmo_qubo",
    "qcgd",
    "quantize_coefficients",
    "repair",
]
