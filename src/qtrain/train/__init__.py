"""Optimisers and trainers: one module per method, plus classical baselines."""

from qtrain.train.baselines import BinaryConnect, ProxQuant, SignSGD, make_optimizer
from qtrain.train.qnewton import QNewton
from qtrain.train.qpsbgd import QPSBGD

__all__ = ["BinaryConnect", "ProxQuant", "QNewton", "QPSBGD", "SignSGD", "make_optimizer"]
