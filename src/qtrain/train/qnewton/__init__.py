"""Q-Newton: Newton steps whose per-block linear solves are scheduled between quantum and classical
solvers (Li, Liu, Wang, Chen, arXiv:2405.00252).

Modules: :mod:`~qtrain.train.qnewton.optimizer` (:class:`QNewton`, the ``torch.optim`` shell).
"""

from qtrain.train.qnewton.optimizer import UPDATES, QNewton, adam_update, clip_by_norm, momentum_update

__all__ = ["UPDATES", "QNewton", "adam_update", "clip_by_norm", "momentum_update"]
