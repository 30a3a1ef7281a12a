"""QBO: quantized networks trained as constrained binary programs (Li et al., arXiv:2506.18240).

* :mod:`~qtrain.train.qbo.qcgd`: QCGD, conditional gradient over any QUBO sampler.
"""

from qtrain.train.qbo.qcgd import lmo_qubo, qcgd, quantize_coefficients, repair

__all__ = ["lmo_qubo", "qcgd", "quantize_coefficients", "repair"]
