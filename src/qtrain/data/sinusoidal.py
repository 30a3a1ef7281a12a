"""Data of the sinusoidal-network experiments: the v1 toy, the v2 deep series, random teacher instances.

References:
    Wen, Huang, Dahlsten, arXiv:2410.22016 (v1 toy, v2 deep sweeps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["SinusoidalInstance", "deep_data", "random_instance", "toy_data"]


def toy_data(discrete: bool, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """v1 toy data: x in {-3pi/2, -pi/2, pi/2, 3pi/2}; targets ``2 sin x`` (continuous) or ``sin x`` =
    (1, -1, 1, -1) (discrete). Returns ``x`` of shape [4, 1] and ``y`` of shape [4, 1]."""
    x = torch.tensor([-1.5, -0.5, 0.5, 1.5], dtype=dtype).mul(math.pi).unsqueeze(-1)
    y = torch.round(torch.sin(x)) if discrete else 2 * torch.sin(x)
    return x, y


def deep_data(discrete: bool, n: int = 200, n_train: int = 160, split_seed: int = 0, scaled: bool = False,
              dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    """v2 data: ``n`` points on [-7pi/2, 7pi/2], targets ``sum_{k=1..5} sin(k x)`` (rounded for the
    discrete net), a fixed random train/test split.

    Args:
        discrete: round the targets to integers.
        scaled: rescale the inputs to [-1, 1] (the SinNN convention).

    Returns:
        ``(x_train, y_train, x_test, y_test)``, each ``[m, 1]``.
    """
    if not 0 < n_train < n:
        raise ValueError(f"n_train must be in 1..n-1 (n={n}), got {n_train}")
    x = torch.linspace(-3.5 * math.pi, 3.5 * math.pi, n, dtype=torch.float64)
    y = sum(torch.sin(k * x) for k in range(1, 6))
    if discrete:
        y = torch.round(y)
    if scaled:
        x = x / (3.5 * math.pi)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(split_seed))
    tr, te = perm[:n_train], perm[n_train:]
    x, y = x.unsqueeze(-1).to(dtype), y.unsqueeze(-1).to(dtype)
    return x[tr], y[tr], x[te], y[te]



@dataclass
class SinusoidalInstance:
    """A random teacher instance of ``DSinNN(in_features, [hidden], 1)`` with binary weights,
    ternary sines and a plain-sum readout (:func:`qtrain.nn.binary_dsinnn` builds that network).

    Attributes:
        x, y: training inputs ``[n_train, in_features]`` and targets ``[n_train, 1]``.
        x_test, y_test: test inputs and targets.
        teacher: the teacher's +-1 weights ``[hidden, in_features]``.
    """

    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    teacher: torch.Tensor

    @property
    def hidden(self) -> int:
        return int(self.teacher.shape[0])

    @property
    def in_features(self) -> int:
        return int(self.teacher.shape[1])


def random_instance(seed: int, hidden: int, n_train: int = 8, n_test: int = 8, noise: float = 0.3,
                    in_features: int = 1) -> SinusoidalInstance:
    r"""A random instance on the quarter-turn grid (``hidden * in_features`` weight qubits).

    Inputs are odd multiples of ``pi/2`` in ``[-7pi/2, 7pi/2]``; targets are the teacher's outputs
    ``y = sum_j T(sin(w_j . x))`` (``T`` the ternariser with dead zone ``1e-6``, exactly the forward
    pass of :func:`qtrain.nn.binary_dsinnn` with the teacher's weights) plus noise: with
    probability ``noise`` a target moves by -1 or +1.

    Args:
        seed: seeds every draw (inputs, teacher, noise), in that order.
        hidden: hidden neurons; in_features: inputs per point.
        n_train, n_test: points in each split.
        noise: probability of a target flip, in ``[0, 1]``.

    Returns:
        :class:`SinusoidalInstance`.

    Example:
        >>> inst = random_instance(0, hidden=4)
        >>> tuple(inst.x.shape), tuple(inst.y.shape), inst.hidden
        ((8, 1), (8, 1), 4)
    """
    if hidden < 1 or in_features < 1 or n_train < 1 or n_test < 0:
        raise ValueError(f"hidden, in_features and n_train must be >= 1 and n_test >= 0, got "
                         f"{hidden}, {in_features}, {n_train}, {n_test}")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must lie in [0, 1], got {noise}")
    g = torch.Generator().manual_seed(seed)
    codes = 2 * torch.randint(-4, 4, (n_train + n_test, in_features), generator=g) + 1
    x = codes.double() * math.pi / 2
    teacher = torch.where(torch.rand(hidden, in_features, generator=g) < 0.5, -1.0, 1.0).double()
    s = torch.sin(x @ teacher.T)
    y = (torch.sign(s) * (s.abs() > 1e-6).to(s.dtype)).sum(-1, keepdim=True)
    flip = (torch.rand(y.shape, generator=g) < noise).double() * (2 * torch.randint(0, 2, y.shape, generator=g) - 1)
    y = y + flip
    return SinusoidalInstance(x[:n_train], y[:n_train], x[n_train:], y[n_train:], teacher)
