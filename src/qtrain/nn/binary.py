"""Binary-weight layers and quantizers: sign in the forward pass, straight-through backward.

Two quantizers, each a forward map and a pseudo-gradient (Courbariaux et al., arXiv:1511.00363;
Hubara et al., arXiv:1602.02830):

* weights, :func:`ste_sign`: ``q(w) = sign(w)`` (``sign(0) = +1``), ``dq/dw := 1`` (identity
  straight-through, as BinaryConnect);
* activations, :func:`binary_activation`: ``q(z) = sign(z)``, ``dq/dz := 1_{|z| <= 1}`` (the
  derivative of ``hardtanh``).

Every layer here has a ``binary`` flag. ``binary=True`` (default) quantizes weights (and the
activation quantizes its input); ``binary=False`` gives the full-precision counterpart of the same
architecture: real weights and ``hardtanh`` activations. :func:`set_binary` flips the flag of every
layer of a model (ProxQuant trains real-valued and evaluates binarised).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

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


def binarize(x: torch.Tensor) -> torch.Tensor:
    """``sign(x)`` with ``sign(0) = +1``, in ``x``'s dtype (no gradient)."""
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _SteSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, w: torch.Tensor) -> torch.Tensor:
        return binarize(w)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


class _HardtanhSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(z)
        return binarize(z)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (z,) = ctx.saved_tensors
        return grad * (z.abs() <= 1).to(grad.dtype)


def ste_sign(w: torch.Tensor) -> torch.Tensor:
    r"""Weight quantizer: ``sign(w)`` forward (``sign(0) = +1``), identity backward.

    .. math:: q(w) = \operatorname{sign}(w), \qquad \partial q / \partial w := 1.

    Example:
        >>> ste_sign(torch.tensor([-0.3, 0.0, 2.0]))
        tensor([-1.,  1.,  1.])

    References:
        Courbariaux, Bengio, David, "BinaryConnect", arXiv:1511.00363.
    """
    return _SteSign.apply(w)


def binary_activation(z: torch.Tensor) -> torch.Tensor:
    r"""Activation quantizer: ``sign(z)`` forward, hardtanh straight-through backward.

    .. math:: q(z) = \operatorname{sign}(z), \qquad \partial q / \partial z := 1_{|z| \le 1}.

    References:
        Hubara et al., "Binarized Neural Networks", arXiv:1602.02830.
    """
    return _HardtanhSign.apply(z)


class BinaryLinear(nn.Module):
    r"""Linear layer with latent real weights and binary weights in the forward pass.

    .. math:: y = s \, x \, \operatorname{sign}(W)^\top \quad (\text{+ bias if asked}),
        \qquad s = 1/\sqrt{n_\text{in}} \text{ by default},

    with the identity straight-through gradient for ``W`` (:func:`ste_sign`). The fixed output
    scale ``s`` keeps pre-activations of order one, so the next layer's hardtanh window
    ``|z| <= 1`` passes gradient; it does not change any output sign. ``binary=False`` uses the
    real weights ``W`` (the full-precision counterpart).

    Args:
        in_features: fan-in ``n``.
        out_features: number of neurons ``m``.
        bias: add a real bias (default False: the QP-SBGD formulation has none).
        scale: output scale ``s``; default ``1/sqrt(in_features)``.
        binary: quantize the weights in the forward pass.
        init_std: latent weights start as ``N(0, init_std^2)`` (default ``1/sqrt(in_features)``).

    Example:
        >>> layer = BinaryLinear(4, 2)
        >>> layer(torch.ones(3, 4)).shape
        torch.Size([3, 2])

    References:
        Courbariaux, Bengio, David, arXiv:1511.00363.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False,
                 scale: float | None = None, binary: bool = True, init_std: float | None = None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        self.scale = 1.0 / math.sqrt(in_features) if scale is None else float(scale)
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        std = 1.0 / math.sqrt(in_features) if init_std is None else float(init_std)
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * std)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.binary = binary

    def effective_weight(self) -> torch.Tensor:
        """The weights the forward pass uses: ``sign(W)`` when binary, else ``W``."""
        return ste_sign(self.weight) if self.binary else self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"input has {x.shape[-1]} features, layer expects {self.in_features}")
        return F.linear(x, self.effective_weight(), self.bias) * self.scale

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"binary={self.binary}, scale={self.scale:.4g}")


class BinaryActivation(nn.Module):
    """``sign`` with a hardtanh straight-through backward (:func:`binary_activation`);
    ``binary=False`` is ``hardtanh`` itself (the full-precision counterpart)."""

    def __init__(self, binary: bool = True):
        super().__init__()
        self.binary = binary

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return binary_activation(z) if self.binary else F.hardtanh(z)

    def extra_repr(self) -> str:
        return f"binary={self.binary}"


def normalized_adjacency(adjacency: torch.Tensor) -> torch.Tensor:
    r"""GCN propagation matrix :math:`\hat A = D^{-1/2} (A + I) D^{-1/2}`, ``D = diag((A + I) 1)``.

    Args:
        adjacency: dense ``[N, N]`` non-negative, symmetric adjacency (self-loops are added).

    References:
        Kipf, Welling, "Semi-Supervised Classification with Graph Convolutional Networks",
        arXiv:1609.02907.
    """
    if adjacency.dim() != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"adjacency must be a square [N, N] matrix, got {tuple(adjacency.shape)}")
    if bool((adjacency < 0).any()):
        raise ValueError("adjacency must be non-negative")
    A = adjacency.to(torch.get_default_dtype()) + torch.eye(adjacency.shape[0],
                                                           device=adjacency.device)
    d = A.sum(1).rsqrt()
    return d[:, None] * A * d[None, :]


class BinaryGCNConv(nn.Module):
    r"""Graph convolution with binary weights: :math:`H' = \hat A \, (s\, H \operatorname{sign}(W)^\top)`.

    The linear map is a :class:`BinaryLinear` (``self.lin``) applied to each node's features
    before propagation, so its inputs are the (binary) node features and QP-SBGD sees the
    layer as ``N`` samples of a binary linear layer with output gradient ``\hat A^\top G``.

    Args:
        in_features, out_features: feature sizes.
        adjacency: dense ``[N, N]`` adjacency; it is normalised with :func:`normalized_adjacency`
            and stored as a buffer.
        binary: quantize the weights (``False``: the full-precision GCN layer).
        sparse: store the propagation matrix as a sparse tensor; default (None): when ``N >= 256``
            and at most 5% of its entries are non-zero (a Cora-sized graph: 100x fewer operations).

    References:
        Kipf, Welling, arXiv:1609.02907; Krahn et al., arXiv:2310.15128 (binary GCN with QP-SBGD).
    """

    def __init__(self, in_features: int, out_features: int, adjacency: torch.Tensor,
                 binary: bool = True, sparse: bool | None = None):
        super().__init__()
        self.lin = BinaryLinear(in_features, out_features, binary=binary)
        P = normalized_adjacency(adjacency)
        if sparse is None:
            sparse = P.shape[0] >= 256 and float((P != 0).float().mean()) <= 0.05
        self.register_buffer("propagation", P.to_sparse() if sparse else P)

    @property
    def binary(self) -> bool:
        return self.lin.binary

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.shape[0] != self.propagation.shape[0]:
            raise ValueError(f"input has {h.shape[0]} nodes, the graph has "
                             f"{self.propagation.shape[0]}")
        if self.propagation.is_sparse:
            return torch.sparse.mm(self.propagation, self.lin(h))
        return self.propagation @ self.lin(h)


def BinaryMLP(sizes: Sequence[int], binary: bool = True) -> nn.Sequential:
    """A binary multilayer perceptron: ``BinaryLinear`` layers with :class:`BinaryActivation`
    between them (none after the last, whose outputs are logits).

    Args:
        sizes: ``[n_in, hidden..., n_out]``, at least two entries.
        binary: ``False`` builds the full-precision counterpart (real weights, hardtanh).

    Example:
        >>> BinaryMLP([64, 16, 2])(torch.ones(5, 64)).shape
        torch.Size([5, 2])
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least two entries [n_in, n_out], got {sizes}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(BinaryLinear(a, b, binary=binary))
        if i < len(sizes) - 2:
            layers.append(BinaryActivation(binary=binary))
    return nn.Sequential(*layers)


def BinaryGCN(in_features: int, hidden: int, out_features: int, adjacency: torch.Tensor,
              binary: bool = True, sparse: bool | None = None) -> nn.Sequential:
    """A two-layer binary GCN: conv, binary activation, conv (logits per node).

    ``binary=False`` builds the full-precision counterpart; ``sparse`` as in :class:`BinaryGCNConv`.
    """
    return nn.Sequential(BinaryGCNConv(in_features, hidden, adjacency, binary=binary, sparse=sparse),
                         BinaryActivation(binary=binary),
                         BinaryGCNConv(hidden, out_features, adjacency, binary=binary, sparse=sparse))


def binary_layers(model: nn.Module) -> list[BinaryLinear]:
    """Every :class:`BinaryLinear` of ``model`` (including those inside GCN layers), in order."""
    return [m for m in model.modules() if isinstance(m, BinaryLinear)]


def set_binary(model: nn.Module, binary: bool) -> None:
    """Set the ``binary`` flag of every binary layer and activation of ``model``."""
    for m in model.modules():
        if isinstance(m, BinaryLinear | BinaryActivation):
            m.binary = binary


@contextmanager
def binary_mode(model: nn.Module, binary: bool = True) -> Iterator[nn.Module]:
    """Temporarily :func:`set_binary`; restores every layer's own flag afterwards."""
    saved = [(m, m.binary) for m in model.modules()
             if isinstance(m, BinaryLinear | BinaryActivation)]
    set_binary(model, binary)
    try:
        yield model
    finally:
        for m, flag in saved:
            m.binary = flag
