"""qtrain.train: one module per method, optimisers and trainers composing formulate, solve, apply."""

from qtrain.train.qnewton import QNewton

__all__ = ["QNewton"]
