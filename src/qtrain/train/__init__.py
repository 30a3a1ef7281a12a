"""Optimisers and trainers: one module per method, plus classical baselines."""

from qtrain.train.baselines import BinaryConnect, ProxQuant, SignSGD, make_optimizer
from qtrain.train.qpsbgd import QPSBGD

__all__ = ["BinaryConnect", "ProxQuant", "QPSBGD", "SignSGD", "make_optimizer"]
