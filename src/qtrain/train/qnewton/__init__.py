"""Q-Newton: Newton steps whose per-block linear solves are scheduled between quantum and classical
solvers (Li, Liu, Wang, Chen, arXiv:2405.00252).

Modules, one per stage of a step: :mod:`~qtrain.train.qnewton.formulate` (curvature blocks and
their regularised systems), :mod:`~qtrain.train.qnewton.apply` (descent directions and the
Newton / SGD / Adam updates) and :mod:`~qtrain.train.qnewton.optimizer` (:class:`QNewton`, the
``torch.optim`` shell that solves the systems with any linear solver).
"""

from qtrain.train.qnewton.apply import (
    UPDATES,
    adam_update,
    clip_by_norm,
    descent_directions,
    direction_step,
    momentum_update,
)
from qtrain.train.qnewton.formulate import (
    NewtonSystems,
    add_weight_decay,
    graph_blocks,
    graph_curvature,
    hessian_from_graph,
    newton_systems,
)
from qtrain.train.qnewton.optimizer import QNewton

__all__ = [
    "UPDATES",
    "NewtonSystems",
    "QNewton",
    "adam_update",
    "add_weight_decay",
    "clip_by_norm",
    "descent_directions",
    "direction_step",
    "graph_blocks",
    "graph_curvature",
    "hessian_from_graph",
    "momentum_update",
    "newton_systems",
]
