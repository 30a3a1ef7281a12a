"""qtrain.nn"""

from qtrain.nn.sinusoidal import DSinNN, SinNN, deep_dsinnn, deep_sinnn, toy_dsinnn, toy_sinnn

__all__ = [
    "DSinNN", "SinNN", "deep_dsinnn", "deep_sinnn", "toy_dsinnn", "toy_sinnn",
]
