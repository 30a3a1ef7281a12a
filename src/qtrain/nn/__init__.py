"""Network layers and models: binary linear/GCN layers, k-bit quantized layers (STE QAT), sinusoidal
networks (straight-through gradients), masked random networks (subnetwork selection), and the plain MLP
and tiny transformer LM the benchmarks train."""

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
from qtrain.nn.masked import MaskedLinear, MaskedMLP, check_density, density, masked_layers, masked_mlp
from qtrain.nn.models import MLP, TinyLM
from qtrain.nn.quantized import QuantizedLinear, QuantizedMLP, average_bits, format_bits, quantized_layers
from qtrain.nn.sinusoidal import DSinNN, SinNN, binary_dsinnn, deep_dsinnn, deep_sinnn, toy_dsinnn, toy_sinnn

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
    "DSinNN",
    "QuantizedLinear",
    "QuantizedMLP",
    "average_bits",
    "format_bits",
    "quantized_layers",
    "MaskedLinear",
    "MaskedMLP",
    "check_density",
    "density",
    "masked_layers",
    "masked_mlp",
    "MLP",
    "SinNN",
    "TinyLM",
    "binary_dsinnn",
    "deep_dsinnn",
    "deep_sinnn",
    "toy_dsinnn",
    "toy_sinnn",
]
