"""Network layers and models: binary linear/GCN layers and sinusoidal networks, with straight-through gradients."""

from qtrain.nn.binary import (
    BinaryActivation,
    BinaryGCN,
    BinaryGCNConv,
    BinaryLinear,
    BinaryMLP,
    binarize,
    binary_activation,
    binary_layers,
    binary_mode,
    normalized_adjacency,
    set_binary,
    ste_sign,
)
from qtrain.nn.sinusoidal import DSinNN, SinNN, deep_dsinnn, deep_sinnn, toy_dsinnn, toy_sinnn

__all__ = [
    "BinaryActivation",
    "BinaryGCN",
    "BinaryGCNConv",
    "BinaryLinear",
    "BinaryMLP",
    "binarize",
    "binary_activation",
    "binary_layers",
    "binary_mode",
    "normalized_adjacency",
    "set_binary",
    "ste_sign",
    "DSinNN", "SinNN", "deep_dsinnn", "deep_sinnn", "toy_dsinnn", "toy_sinnn",
]
