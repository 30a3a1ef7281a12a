"""Masked networks: frozen seeded random weights, a 0/1 mask that selects a subnetwork.

A :class:`MaskedLinear` computes ``y = x (W o M)^T`` (weight granularity, ``M [out, in]``) or
``y = (x W^T + b) o m`` (neuron granularity, ``m [out]``) with ``W`` frozen at a seeded random
init: signed-constant ``W_ij = sign(w_ij) gain / sqrt(fan_in)`` (``w`` Kaiming-normal) or Kaiming
uniform ``U(-gain sqrt(3 / fan_in), gain sqrt(3 / fan_in))``. Only the mask changes; what a
selection method finds is the mask. ``density`` (the fraction of mask entries kept) is the one
name for sparsity in qtrain.

References:
    Ramanujan et al., arXiv:1911.13299 (edge-popup, signed-constant init); Zhou et al.,
    arXiv:1905.01067 (supermasks); Whitaker, arXiv:2302.05984 (quantum neuron selection).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MaskedLinear", "MaskedMLP", "check_density", "density", "masked_layers", "masked_mlp"]

_INITS = ("signed-constant", "kaiming-uniform")
_GRANULARITIES = ("weight", "neuron")


def check_density(value: Any, name: str = "density") -> float:
    """``value`` as a float in ``(0, 1]`` (the fraction of mask entries kept).

    Raises:
        ValueError: ``value`` is not a number in ``(0, 1]``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) <= 1:
        raise ValueError(f"{name} must be a fraction kept in (0, 1], got {value!r}")
    return float(value)


def _random_weight(out_features: int, in_features: int, init: str, gain: float,
                   gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    fan_in = in_features
    if init == "signed-constant":
        w = torch.randn(out_features, in_features, generator=gen, dtype=torch.float64)
        w = torch.where(w >= 0, 1.0, -1.0) * gain / math.sqrt(fan_in)
    else:
        bound = gain * math.sqrt(3.0 / fan_in)
        w = (2 * torch.rand(out_features, in_features, generator=gen, dtype=torch.float64) - 1) * bound
    return w.to(dtype)


class MaskedLinear(nn.Module):
    r"""A linear layer with frozen seeded random weights and a 0/1 mask buffer.

    Forward: ``y = x (W o M)^T + b`` for ``granularity="weight"`` (``M [out, in]``), or
    ``y = (x W^T + b) o m`` for ``granularity="neuron"`` (``m [out]`` masks output neurons).
    ``W`` (and ``b``) are buffers, never trained; the mask is read and set through :attr:`mask`.

    Args:
        in_features, out_features: layer sizes (``>= 1``).
        bias: add a frozen random bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
        init: ``"signed-constant"`` (``sign(w) gain / sqrt(fan_in)``, ``w`` Kaiming normal) or
            ``"kaiming-uniform"`` (``U(-gain sqrt(3/fan_in), gain sqrt(3/fan_in))``).
        granularity: ``"weight"`` or ``"neuron"``.
        gain: init gain (default ``sqrt(2)``, ReLU's).
        seed: seeds the weights (the same seed, the same layer).
        generator: draw from this generator instead of ``seed`` (the MLP builder chains layers).
        dtype: float dtype of the weights.

    Raises:
        ValueError: bad sizes, an unknown ``init`` or ``granularity``.

    Example:
        >>> layer = MaskedLinear(4, 3, seed=0)
        >>> layer.mask = torch.tensor([[1, 0, 1, 0]] * 3)
        >>> layer.density
        0.5

    References:
        Ramanujan et al., arXiv:1911.13299.
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = False,
                 init: str = "signed-constant", granularity: str = "weight", gain: float = math.sqrt(2.0),
                 seed: int = 0, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        if granularity not in _GRANULARITIES:
            raise ValueError(f"granularity must be one of {_GRANULARITIES}, got {granularity!r}")
        gen = generator if generator is not None else torch.Generator().manual_seed(int(seed))
        self.in_features, self.out_features = in_features, out_features
        self.init, self.granularity = init, granularity
        self.register_buffer("weight", _random_weight(out_features, in_features, init, gain, gen, dtype))
        if bias:
            b = (2 * torch.rand(out_features, generator=gen, dtype=torch.float64) - 1) / math.sqrt(in_features)
            self.register_buffer("bias", b.to(dtype))
        else:
            self.bias = None
        shape = (out_features, in_features) if granularity == "weight" else (out_features,)
        self.register_buffer("_mask", torch.ones(shape, dtype=dtype))

    @property
    def mask(self) -> torch.Tensor:
        """The 0/1 mask (``[out, in]`` or ``[out]``, the weights' dtype); set it with a 0/1 or
        bool tensor of that shape."""
        return self._mask

    @mask.setter
    def mask(self, value: Any) -> None:
        m = torch.as_tensor(value)
        if tuple(m.shape) != tuple(self._mask.shape):
            raise ValueError(f"mask must have shape {tuple(self._mask.shape)} ({self.granularity} "
                             f"granularity), got {tuple(m.shape)}")
        if m.is_complex() or not bool(((m == 0) | (m == 1)).all()):
            raise ValueError("mask must hold only 0 and 1")
        self._mask.copy_(m.to(self._mask.dtype))

    @property
    def density(self) -> float:
        """Fraction of mask entries kept (``mean(M)``)."""
        return float(self._mask.mean())

    def effective_weight(self) -> torch.Tensor:
        """``W o M`` (weight granularity) or ``diag(m) W`` (neuron): the weights in use."""
        return self.weight * (self._mask if self.granularity == "weight" else self._mask[:, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.granularity == "weight":
            return F.linear(x, self.weight * self._mask, self.bias)
        return F.linear(x, self.weight, self.bias) * self._mask

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, init={self.init!r}, "
                f"granularity={self.granularity!r}, bias={self.bias is not None}")


class MaskedMLP(nn.Module):
    """``x -> [MaskedLinear, activation] x (L - 1) -> MaskedLinear``: logits of the last layer.

    Attributes:
        layers: the :class:`MaskedLinear` layers in order.
        activation: ``"relu"`` or ``"tanh"`` between layers (none after the last).
    """

    def __init__(self, layers: Sequence[MaskedLinear], activation: str = "relu"):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        self.layers = nn.ModuleList(layers)
        self.activation = activation

    def act(self, h: torch.Tensor) -> torch.Tensor:
        """The hidden activation."""
        return torch.relu(h) if self.activation == "relu" else torch.tanh(h)

    def features(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """The input of layer ``layer`` (``x`` itself for 0): the network's activations before it."""
        h = x
        for i in range(layer):
            h = self.act(self.layers[i](h))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < last:
                h = self.act(h)
        return h

    @property
    def density(self) -> float:
        """Fraction of all mask entries kept, over every layer."""
        return density(self)


def masked_layers(module: nn.Module) -> list[MaskedLinear]:
    """Every :class:`MaskedLinear` inside ``module`` (itself included), in module order."""
    return [m for m in module.modules() if isinstance(m, MaskedLinear)]


def density(obj: Any) -> float:
    """Fraction kept: ``mean(mask)`` of a 0/1 tensor, or of every mask of the
    :class:`MaskedLinear` layers in a module (entries counted over all layers).

    Raises:
        ValueError: a module without masked layers, an empty tensor.
    """
    if isinstance(obj, nn.Module):
        layers = masked_layers(obj)
        if not layers:
            raise ValueError("module has no MaskedLinear layer")
        kept = sum(float(layer.mask.sum()) for layer in layers)
        return kept / sum(layer.mask.numel() for layer in layers)
    m = torch.as_tensor(obj)
    if m.numel() == 0:
        raise ValueError("mask is empty")
    return float(m.to(torch.float64).mean())


def masked_mlp(sizes: Sequence[int], *, init: str = "signed-constant", granularity: str = "weight",
               bias: bool = False, gain: float = math.sqrt(2.0), activation: str = "relu", seed: int = 0,
               dtype: torch.dtype = torch.float32) -> MaskedMLP:
    """A :class:`MaskedMLP` of layer sizes ``sizes = [in, h_1, ..., out]``, weights drawn in order
    from one generator seeded by ``seed``.

    Raises:
        ValueError: fewer than two sizes, a size below 1, bad ``init``/``granularity``/``activation``.

    Example:
        >>> net = masked_mlp([64, 16, 10], granularity="neuron", seed=0)
        >>> net(torch.zeros(2, 64)).shape, [tuple(layer.mask.shape) for layer in net.layers]
        (torch.Size([2, 10]), [(16,), (10,)])
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
    gen = torch.Generator().manual_seed(int(seed))
    layers = [MaskedLinear(a, b, bias=bias, init=init, granularity=granularity, gain=gain, generator=gen,
                           dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return MaskedMLP(layers, activation=activation)
