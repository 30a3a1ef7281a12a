"""Condition-number estimators, each reporting its own cost: exact (eigvalsh / svdvals), Lanczos
on matrix- or Hessian-vector products, and the Frobenius/determinant upper bound in log space."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qtrain._device import synchronize
from qtrain.linalg.solvers import check_system

__all__ = ["ConditionEstimate", "condition_number", "lanczos_extremes"]

_METHODS = ("exact", "lanczos", "bound")


@dataclass
class ConditionEstimate:
    """A condition-number estimate and what it cost.

    Attributes:
        kappa: ``|lambda|_max / |lambda|_min`` (symmetric) or ``sigma_max / sigma_min``, shape
            ``[...]``; ``inf`` for singular blocks. The bound method gives an upper bound.
        lambda_max, lambda_min: the extreme eigenvalues (absolute, or singular values) found,
            ``None`` for the bound.
        method: ``"exact"``, ``"lanczos"`` or ``"bound"``.
        cost: ``time_ns`` (measured, synchronised), ``matvecs`` (matrix-vector products) and
            ``flops`` (leading-order count) of the estimate itself.
    """

    kappa: torch.Tensor
    lambda_max: torch.Tensor | None
    lambda_min: torch.Tensor | None
    method: str
    cost: dict[str, Any] = field(default_factory=dict)


def _ratio(lmax: torch.Tensor, lmin: torch.Tensor) -> torch.Tensor:
    return torch.where(lmin > 0, lmax / lmin.clamp_min(torch.finfo(lmin.dtype).tiny),
                       torch.full_like(lmax, math.inf))


def _exact(A: torch.Tensor, symmetric: bool) -> tuple[torch.Tensor, torch.Tensor, float]:
    n = A.shape[-1]
    if symmetric:
        ev = torch.linalg.eigvalsh(A).abs()
        return ev.max(-1).values, ev.min(-1).values, 4 / 3 * n**3
    sv = torch.linalg.svdvals(A)
    return sv[..., 0], sv[..., -1], 4 * n**3


def _bound(A: torch.Tensor) -> torch.Tensor:
    # kappa <= (1 + x) / sqrt(r), r = (n / ||A||_F^2)^n det(A)^2, x = sqrt(1 - r); equivalent to
    # sqrt((1+x)/(1-x)) without the cancellation in 1 - x (Guggenheimer, Edelman, Johnson 1995).
    n = A.shape[-1]
    _, logdet = torch.linalg.slogdet(A)
    logf2 = torch.log((A * A).sum((-2, -1)))
    log_r = (n * (math.log(n) - logf2) + 2 * logdet).clamp_max(0.0)
    x = torch.sqrt(-torch.expm1(log_r))
    return torch.where(torch.isfinite(log_r), (1 + x) * torch.exp(-0.5 * log_r),
                       torch.full_like(log_r, math.inf))


def _tridiagonal_eigh(a: torch.Tensor, off: torch.Tensor | None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and the last row of the eigenvectors of symmetric tridiagonals (LAPACK stemr
    through scipy, O(m^2) per block instead of a dense eigh's O(m^3))."""
    from scipy.linalg import eigh_tridiagonal

    a64 = a.detach().to("cpu", torch.float64).reshape(-1, a.shape[-1]).numpy()
    o64 = (off.detach().to("cpu", torch.float64).reshape(-1, a.shape[-1] - 1).numpy()
           if off is not None else np.zeros((a64.shape[0], 0)))
    thetas, lasts = [], []
    for ai, oi in zip(a64, o64, strict=True):  # m x m problems, tiny next to the matvecs
        w, v = eigh_tridiagonal(ai, oi)
        thetas.append(w)
        lasts.append(v[-1])
    shape = (*a.shape[:-1], a.shape[-1])
    theta = torch.from_numpy(np.stack(thetas)).reshape(shape).to(a)
    last = torch.from_numpy(np.stack(lasts)).reshape(shape).to(a)
    return theta, last


def lanczos_extremes(matvec: Callable[[torch.Tensor], torch.Tensor], v0: torch.Tensor, *,
                     max_iter: int = 300, tol: float = 1e-2, check_every: int = 5
                     ) -> tuple[torch.Tensor, torch.Tensor, int]:
    r"""Extreme eigenvalues of a symmetric operator by Lanczos with full reorthogonalisation.

    Builds the tridiagonal ``T_m = Q_m^T A Q_m`` of the Krylov space of ``v0`` for every block of
    the batch at once and stops when both extreme Ritz values carry a residual bound
    ``beta_m |s_{m,i}| <= tol |theta_i|`` (Paige's bound: an eigenvalue of ``A`` lies within
    ``beta_m |s_{m,i}|`` of ``theta_i``; Golub & Van Loan, Sec. 10.1), or after ``max_iter``
    steps. A breakdown (``beta ~ 0``, an invariant subspace) restarts with a fresh orthogonal
    vector, which keeps the Ritz values valid eigenvalue estimates.

    Args:
        matvec: ``[..., N] -> [..., N]``, e.g. a Hessian-vector product.
        v0: start vectors ``[..., N]`` (random, seeded by the caller).
        max_iter: Krylov dimension cap (at most ``N``).
        tol: relative residual-bound target for both extremes.
        check_every: how often (iterations) the small tridiagonal problem is solved.

    Returns:
        ``(theta_max, theta_min, matvecs)``: the largest and smallest Ritz values ``[...]`` and
        the number of products used.
    """
    n = v0.shape[-1]
    m_cap = min(max_iter, n)
    batch = v0.shape[:-1]
    Q = torch.zeros(*batch, m_cap + 1, n, dtype=v0.dtype, device=v0.device)
    alphas, betas = [], []
    q = v0 / torch.linalg.vector_norm(v0, dim=-1, keepdim=True)
    Q[..., 0, :] = q
    gen = torch.Generator(device="cpu").manual_seed(12345)
    theta_max = theta_min = None
    j = 0
    for j in range(m_cap):
        w = matvec(Q[..., j, :])
        alpha = (w * Q[..., j, :]).sum(-1)
        Qj = Q[..., : j + 1, :]
        for _ in range(2):  # classical Gram-Schmidt twice: full reorthogonalisation
            w = w - (Qj.mT @ (Qj @ w.unsqueeze(-1))).squeeze(-1)
        beta = torch.linalg.vector_norm(w, dim=-1)
        alphas.append(alpha)
        scale = torch.stack(alphas, -1).abs().amax(-1).clamp_min(torch.finfo(w.dtype).tiny)
        broke = beta <= 1e-10 * scale
        if bool(broke.any()) and j + 1 < m_cap:
            fresh = torch.randn(w.shape, generator=gen, dtype=w.dtype).to(w.device)
            for _ in range(2):
                fresh = fresh - (Qj.mT @ (Qj @ fresh.unsqueeze(-1))).squeeze(-1)
            w = torch.where(broke.unsqueeze(-1), fresh, w)
            beta = torch.where(broke, torch.zeros_like(beta), beta)
        betas.append(beta)
        norm_w = torch.linalg.vector_norm(w, dim=-1, keepdim=True)
        Q[..., j + 1, :] = w / norm_w.clamp_min(torch.finfo(w.dtype).tiny)
        last = j + 1 == m_cap
        if (j + 1) % check_every == 0 or last:
            theta, S = _tridiagonal_eigh(torch.stack(alphas, -1), torch.stack(betas[:-1], -1)
                                         if j > 0 else None)
            err = beta.unsqueeze(-1) * S.abs()
            i_max = theta.abs().argmax(-1, keepdim=True)
            i_min = theta.abs().argmin(-1, keepdim=True)
            theta_max = theta.gather(-1, i_max).squeeze(-1).abs()
            theta_min = theta.gather(-1, i_min).squeeze(-1).abs()
            ok = ((err.gather(-1, i_max).squeeze(-1) <= tol * theta_max)
                  & (err.gather(-1, i_min).squeeze(-1) <= tol * theta_min))
            if bool(ok.all()) or last:
                break
    return theta_max, theta_min, j + 1


def condition_number(A: torch.Tensor | Callable[[torch.Tensor], torch.Tensor],
                     method: str = "exact", *, symmetric: bool | None = None,
                     n: int | None = None, batch_shape: tuple[int, ...] = (),
                     dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu",
                     max_iter: int = 300, tol: float = 1e-2, seed: int = 0,
                     return_estimate: bool = False, check: bool = True
                     ) -> torch.Tensor | ConditionEstimate:
    r"""Condition number ``kappa(A)`` of each block, by one of three estimators.

    * ``"exact"``: ``max|lambda| / min|lambda|`` from ``eigvalsh`` (symmetric ``A``) or
      ``sigma_max / sigma_min`` from ``svdvals``; ``~(4/3) N^3`` flops.
    * ``"lanczos"``: the same ratio from the extreme Ritz values of Lanczos
      (:func:`lanczos_extremes`) on ``A`` or on a matrix-free product ``A(v)`` (a
      Hessian-vector product); ``~2 N^2`` flops per product, meant for positive-definite blocks
      (for indefinite ones ``min|lambda|`` is interior and converges slowly).
    * ``"bound"``: the Frobenius/determinant upper bound
      ``kappa <= sqrt((1 + x) / (1 - x))``, ``x = sqrt(1 - (n / ||A||_F^2)^n det(A)^2)``,
      evaluated in log space with ``slogdet`` (``~(2/3) N^3`` flops); exact for ``n = 2``
      (``[[1, 2], [3, 4]]`` gives 14.933). The bound grows exponentially with ``N`` and
      reads ``inf`` once it exceeds float64's range (large, ill-conditioned blocks).

    Args:
        A: matrices ``[..., N, N]``, or (``"lanczos"`` only) a callable ``[..., N] -> [..., N]``
            with ``n``, ``batch_shape``, ``dtype`` and ``device`` given.
        method: ``"exact"``, ``"lanczos"`` or ``"bound"``.
        symmetric: treat ``A`` as symmetric (default: checked for ``"exact"``; required for
            ``"lanczos"``).
        max_iter, tol: Lanczos iteration cap and relative residual-bound target.
        seed: seed of Lanczos' start vector.
        return_estimate: return a :class:`ConditionEstimate` with the cost instead of ``kappa``.
        check: validate ``A`` (shape, finiteness, symmetry); a caller that already did passes
            ``False`` so the estimate's cost is the estimator's alone.

    Returns:
        ``kappa`` (float64-compatible tensor ``[...]``), or a :class:`ConditionEstimate`.

    Raises:
        ValueError: unknown method, non-square or non-finite ``A``, a non-symmetric ``A`` for
            Lanczos, a callable without ``n``.

    Example:
        >>> A = torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64)
        >>> round(float(condition_number(A, "bound")), 3)
        14.933

    References:
        Guggenheimer, Edelman, Johnson, "A simple estimate of the condition number of a linear
        system", College Math. J. 26 (1995); Lanczos (1950); Li et al. arXiv:2405.00252.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if callable(A) and not isinstance(A, torch.Tensor):
        if method != "lanczos":
            raise ValueError(f"a matrix-free A (callable) needs method='lanczos', got {method!r}")
        if n is None or n < 1:
            raise ValueError(f"n (the operator's size) is required for a callable A, got {n}")
        matvec, N = A, n
        v0_shape, dev, dt = (*batch_shape, n), torch.device(device), dtype
    else:
        if check:
            check_system(A, symmetric=(method == "lanczos" or bool(symmetric)))
        if symmetric is None and method == "exact":
            tol_sym = (1e-6 if A.dtype == torch.float64 else 1e-4) * float(A.abs().max())
            symmetric = float((A - A.mT).abs().max()) <= tol_sym
        N, v0_shape, dev, dt = A.shape[-1], A.shape[:-1], A.device, A.dtype
        matvec = None
    synchronize(dev)
    t0 = time.perf_counter_ns()
    lmax = lmin = None
    if method == "exact":
        lmax, lmin, flops = _exact(A, bool(symmetric))
        kappa, matvecs = _ratio(lmax, lmin), 0
    elif method == "bound":
        kappa, matvecs, flops = _bound(A), 0, 2 / 3 * N**3
    else:
        if matvec is None:
            M = A
            matvec = lambda v: (M @ v.unsqueeze(-1)).squeeze(-1)  # noqa: E731
        g = torch.Generator().manual_seed(seed)
        v0 = torch.randn(v0_shape, generator=g, dtype=dt).to(dev)
        lmax, lmin, matvecs = lanczos_extremes(matvec, v0, max_iter=max_iter, tol=tol)
        kappa = _ratio(lmax, lmin)
        flops = matvecs * (2 * N**2 + 8 * N * matvecs)
    synchronize(dev)
    cost = {"time_ns": time.perf_counter_ns() - t0, "matvecs": int(matvecs), "flops": float(flops)}
    est = ConditionEstimate(kappa, lmax, lmin, method, cost)
    return est if return_estimate else kappa
