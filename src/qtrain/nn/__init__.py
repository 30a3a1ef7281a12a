"""Quantizers and layers: binary linear and GCN layers with straight-through gradients."""

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
]
