"""QP-SBGD: binary-weight networks whose steps are QUBOs (Krahn et al., arXiv:2310.15128).

Modules: :mod:`~qtrain.train.qpsbgd.formulate` (pure QUBO encodings of a layer's step),
:mod:`~qtrain.train.qpsbgd.milp` (the exact big-M direction program), and
:mod:`~qtrain.train.qpsbgd.optimizer` (:class:`QPSBGD`, the ``torch.optim`` shell).
"""

from qtrain.train.qpsbgd.formulate import (
    binary_gradient_qubo,
    normalize_gradients,
    projected_flip_qubo,
    quadratic_direction_qubo,
    refine_directions,
    sign_objective,
    sign_threshold,
)
from qtrain.train.qpsbgd.milp import sign_directions_milp
from qtrain.train.qpsbgd.optimizer import QPSBGD

__all__ = [
    "QPSBGD",
    "binary_gradient_qubo",
    "normalize_gradients",
    "projected_flip_qubo",
    "quadratic_direction_qubo",
    "refine_directions",
    "sign_directions_milp",
    "sign_objective",
    "sign_threshold",
]
