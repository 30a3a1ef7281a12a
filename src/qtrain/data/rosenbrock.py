"""The Rosenbrock function in any dimension, with its gradient and Hessian (batched torch)."""

from __future__ import annotations

import torch

__all__ = ["rosenbrock", "rosenbrock_grad", "rosenbrock_hessian", "rosenbrock_start"]


def _check(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[-1] < 2:
        raise ValueError(f"x must be a tensor [..., d] with d >= 2, got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")


def rosenbrock(x: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    r"""Rosenbrock's function, minimum 0 at ``x = (a, .., a)``:

    .. math:: f(x) = \sum_{i=1}^{d-1} b\,(x_{i+1} - x_i^2)^2 + (a - x_i)^2.

    Args:
        x: ``[..., d]`` points, ``d >= 2``.

    Returns:
        ``[...]`` values.

    Example:
        >>> float(rosenbrock(torch.ones(5)))
        0.0

    References:
        Rosenbrock, The Computer Journal 3 (1960).
    """
    _check(x)
    return (b * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (a - x[..., :-1]) ** 2).sum(-1)


def rosenbrock_grad(x: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    r"""Gradient of :func:`rosenbrock`: with ``r_i = x_{i+1} - x_i^2``,
    ``df/dx_i = -4 b x_i r_i - 2 (a - x_i)`` (for ``i < d``) ``+ 2 b r_{i-1}`` (for ``i > 1``)."""
    _check(x)
    r = x[..., 1:] - x[..., :-1] ** 2
    g = torch.zeros_like(x)
    g[..., :-1] = -4 * b * x[..., :-1] * r - 2 * (a - x[..., :-1])
    g[..., 1:] += 2 * b * r
    return g


def rosenbrock_hessian(x: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    r"""Hessian of :func:`rosenbrock`, ``[..., d, d]`` (tridiagonal):
    ``H_ii = 12 b x_i^2 - 4 b x_{i+1} + 2`` (``i < d``) ``+ 2b`` (``i > 1``),
    ``H_{i,i+1} = -4 b x_i``."""
    _check(x)
    d = x.shape[-1]
    diag = torch.zeros_like(x)
    diag[..., :-1] = 12 * b * x[..., :-1] ** 2 - 4 * b * x[..., 1:] + 2
    diag[..., 1:] += 2 * b
    H = torch.diag_embed(diag)
    off = -4 * b * x[..., :-1]
    idx = torch.arange(d - 1, device=x.device)
    H[..., idx, idx + 1] = off
    H[..., idx + 1, idx] = off
    return H


def rosenbrock_start(dim: int) -> torch.Tensor:
    """The classic start ``(-1.2, 1, -1.2, 1, ..)`` in ``dim >= 2`` dimensions (float64)."""
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
        raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
    x = torch.ones(dim, dtype=torch.float64)
    x[::2] = -1.2
    return x
