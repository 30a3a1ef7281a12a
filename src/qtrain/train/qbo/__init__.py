"""QBO: quantized networks trained as constrained binary programs (Li et al., arXiv:2506.18240).

* :mod:`~qtrain.train.qbo.formulate`: Forward Interval Propagation, splines, the network's QCBO;
* :mod:`~qtrain.train.qbo.qcgd`: QCGD, conditional gradient over any QUBO sampler.
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
)
from qtrain.train.qbo.qcgd import lmo_qubo, qcgd, quantize_coefficients, repair

__all__ = [
    "QBOProblem",
    "Spline",
    "brute_force_weights",
    "exhaustive_qcbo",
    "formulate_qbo",
    "forward_interval_propagation",
    "spline_loss",
    "spline_pieces",
    "lmo_qubo",
    "qcgd",
    "quantize_coefficients",
    "repair",
]
