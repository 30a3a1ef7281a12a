"""QP-SBGD: binary-weight networks whose steps are QUBOs (Krahn et al., arXiv:2310.15128).

A step in three stages, one module each:

* formulate: :mod:`~qtrain.train.qpsbgd.formulate` (the pure QUBO encodings of a layer's step and
  their objectives) and :mod:`~qtrain.train.qpsbgd.problem` (the typed per-layer problem,
  :class:`LayerProblem`, and its pure builder :func:`formulate_layer`; a module of its own to keep
  the encodings' module short);
* solve: :mod:`~qtrain.train.qpsbgd.directions` (direction solvers selected by name like a sampler:
  :class:`QUBODirections` over any QUBO sampler, :class:`SignMILPDirections` as ``"sign-milp"``,
  the exact big-M program of :mod:`~qtrain.train.qpsbgd.milp`);
* apply: :mod:`~qtrain.train.qpsbgd.apply` (the best candidate per neuron, the new weights).

:mod:`~qtrain.train.qpsbgd.optimizer` holds :class:`QPSBGD`, the ``torch.optim`` shell over them;
:mod:`~qtrain.train.qpsbgd.capture` its hooks (the rows of every backward pass since ``zero_grad``,
with the gradient before and after the straight-through mask).
"""

from qtrain.train.qpsbgd.apply import Choice, candidate_scores, choose_directions, updated_weights
from qtrain.train.qpsbgd.directions import (
    DirectionSolver,
    DirectionsResult,
    QUBODirections,
    SignMILPDirections,
    get_direction_solver,
)
from qtrain.train.qpsbgd.formulate import (
    binary_gradient_qubo,
    normalize_gradients,
    projected_flip_qubo,
    quadratic_direction_qubo,
    refine_directions,
    sign_objective,
    sign_threshold,
    tie_offset,
)
from qtrain.train.qpsbgd.milp import sign_directions_milp
from qtrain.train.qpsbgd.optimizer import QPSBGD
from qtrain.train.qpsbgd.problem import LayerProblem, formulate_layer

__all__ = [
    "QPSBGD",
    "Choice",
    "DirectionSolver",
    "DirectionsResult",
    "LayerProblem",
    "QUBODirections",
    "SignMILPDirections",
    "binary_gradient_qubo",
    "candidate_scores",
    "choose_directions",
    "formulate_layer",
    "get_direction_solver",
    "normalize_gradients",
    "projected_flip_qubo",
    "quadratic_direction_qubo",
    "refine_directions",
    "sign_directions_milp",
    "sign_objective",
    "sign_threshold",
    "tie_offset",
    "updated_weights",
]
