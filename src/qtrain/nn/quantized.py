"""k-bit fixed-point layers with a straight-through quantisation-aware-training (QAT) path.

A weight is a ``k``-bit code ``q = sum_b 2^b q_b`` (``q_b`` binary) mapped to

.. math:: w = s\\, q - \\text{offset}, \\qquad q \\in \\{0, \\dots, 2^k - 1\\},

the fixed-point format of QBO (Li et al., arXiv:2506.18240). The forward pass of QAT rounds the
latent real weight to the nearest code, ``w_q = s clamp(round((w + offset) / s), 0, 2^k - 1) -
offset``, and the backward pass is straight-through inside the code range and zero outside
(``dw_q/dw := 1_{w_min <= w <= w_max}``), the estimator of larq's ``ste_sign`` and brevitas'
``round_ste`` (Bengio, Leonard, Courville, arXiv:1308.3432; Courbariaux et al., arXiv:1511.00363).
Bit widths are per layer, so a network mixes precisions; :func:`average_bits` reports the
weight-weighted mean (e.g. "1.1 bits").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["QuantizedLinear", "QuantizedMLP", "average_bits", "format_bits", "quantized_layers"]

MAX_BITS = 8


def _check_bits(bits: Any, name: str = "bits") -> int:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
        raise ValueError(f"{name} must be an integer in 1..{MAX_BITS}, got {bits!r}")
    return bits


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, step: float, offset: float, levels: int) -> torch.Tensor:
        code = torch.clamp(torch.round((w + offset) / step), 0, levels)
        ctx.save_for_backward(w)
        ctx.bounds = (-offset, step * levels - offset)
        return code * step - offset

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        (w,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return grad * ((w >= lo) & (w <= hi)).to(grad.dtype), None, None, None


class QuantizedLinear(nn.Module):
    r"""Linear layer with ``k``-bit fixed-point weights ``w = s q - offset`` (no bias).

    .. math:: y = x\, W_q^\top, \qquad W_q = s\, \mathrm{clamp}(\mathrm{round}((W + o)/s), 0, 2^k-1) - o

    with the straight-through gradient for the latent ``W`` (module docstring). Default format:
    symmetric codes in ``[-r, r]`` with ``r = 1/sqrt(in_features)``: ``s = 2 r / (2^k - 1)`` and
    ``offset = r`` (1 bit: ``w = +-r``), which keeps pre-activations of order one.

    Args:
        in_features, out_features: sizes.
        bits: ``k`` in 1..8.
        scale: the code step ``s`` (default above).
        offset: the offset (default ``s (2^k - 1) / 2``: symmetric).
        quantize: quantise in the forward pass (``False``: the full-precision counterpart).

    Raises:
        ValueError: sizes not positive, ``bits`` outside 1..8, a non-positive or non-finite ``scale``.

    Example:
        >>> layer = QuantizedLinear(4, 2, bits=2)
        >>> len(set(layer.effective_weight().flatten().tolist())) <= 4  # 2 bits: at most 4 values
        True
    """

    def __init__(self, in_features: int, out_features: int, bits: int = 1, scale: float | None = None,
                 offset: float | None = None, quantize: bool = True):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        self.bits = _check_bits(bits)
        L = 2**bits - 1
        r = 1.0 / math.sqrt(in_features)
        self.scale = 2 * r / L if scale is None else float(scale)
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        self.offset = self.scale * L / 2 if offset is None else float(offset)
        if not math.isfinite(self.offset):
            raise ValueError(f"offset must be finite, got {offset!r}")
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(self.w_min, self.w_max))
        self.quantize = quantize

    @property
    def num_levels(self) -> int:
        return 2**self.bits

    @property
    def w_min(self) -> float:
        return -self.offset

    @property
    def w_max(self) -> float:
        return self.scale * (self.num_levels - 1) - self.offset

    def levels(self) -> torch.Tensor:
        """Every representable weight value, ascending."""
        return torch.arange(self.num_levels, dtype=torch.float64) * self.scale - self.offset

    def codes(self) -> torch.Tensor:
        """The integer codes ``q`` of the current (rounded) weights, ``[out, in]`` int64."""
        w = self.weight.detach().to(torch.float64)
        return torch.clamp(torch.round((w + self.offset) / self.scale), 0, self.num_levels - 1).long()

    def set_codes(self, codes: torch.Tensor) -> None:
        """Write integer codes ``[out, in]`` into the latent weights (exactly representable)."""
        codes = torch.as_tensor(codes)
        if tuple(codes.shape) != (self.out_features, self.in_features):
            raise ValueError(f"codes must have shape {(self.out_features, self.in_features)}, got "
                             f"{tuple(codes.shape)}")
        if bool((codes < 0).any()) or bool((codes >= self.num_levels).any()):
            raise ValueError(f"codes must lie in 0..{self.num_levels - 1}")
        with torch.no_grad():
            self.weight.copy_(codes.to(self.weight.dtype) * self.scale - self.offset)

    def code_bits(self) -> torch.Tensor:
        """The bits ``q_b`` of every code, ``[out, in, k]`` (bit ``b`` has weight ``2^b``)."""
        return (self.codes()[..., None] >> torch.arange(self.bits)) & 1

    def effective_weight(self) -> torch.Tensor:
        """The weights the forward pass uses (rounded with the straight-through gradient when
        ``quantize``)."""
        if not self.quantize:
            return self.weight
        return _RoundSTE.apply(self.weight, self.scale, self.offset, self.num_levels - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"input has {x.shape[-1]} features, layer expects {self.in_features}")
        return F.linear(x, self.effective_weight().to(x.dtype))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, bits={self.bits}, "
                f"scale={self.scale:.4g}, offset={self.offset:.4g}")


_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "hardtanh": nn.Hardtanh,
                "identity": nn.Identity}


def QuantizedMLP(sizes: Sequence[int], bits: int | Sequence[int] = 1, activation: str = "relu",
                 quantize: bool = True) -> nn.Sequential:
    """``QuantizedLinear`` layers with ``activation`` between them (none after the last).

    Args:
        sizes: ``[n_in, hidden..., n_out]``.
        bits: one width for every layer or one per layer (mixed precision).
        activation: "relu" | "tanh" | "sigmoid" | "hardtanh" | "identity".
        quantize: ``False`` builds the full-precision counterpart.

    Example:
        >>> round(average_bits(QuantizedMLP([16, 4, 1], bits=[1, 2])), 3)
        1.059
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least two entries [n_in, n_out], got {sizes}")
    widths = [bits] * (len(sizes) - 1) if isinstance(bits, int) else list(bits)
    if len(widths) != len(sizes) - 1:
        raise ValueError(f"bits must give one width per layer ({len(sizes) - 1}), got {len(widths)}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(QuantizedLinear(a, b, bits=_check_bits(widths[i], f"bits[{i}]"), quantize=quantize))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def quantized_layers(model: nn.Module) -> list[QuantizedLinear]:
    """Every :class:`QuantizedLinear` of ``model``, in order."""
    return [m for m in model.modules() if isinstance(m, QuantizedLinear)]


def average_bits(model: nn.Module) -> float:
    """Mean bits per weight over the quantized layers, ``sum_l k_l |W_l| / sum_l |W_l|``."""
    layers = quantized_layers(model)
    total = sum(m.weight.numel() for m in layers)
    if not total:
        raise ValueError("model has no QuantizedLinear layer")
    return sum(m.bits * m.weight.numel() for m in layers) / total


def format_bits(model: nn.Module) -> str:
    """The average precision as the papers write it, e.g. ``"1.1 bits"``."""
    return f"{average_bits(model):.2g} bits"
