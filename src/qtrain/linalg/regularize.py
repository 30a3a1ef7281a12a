"""Condition-number control (Tikhonov shifts ``A + lam I``) and sparsification (constructing the
sparsity ``d`` a quantum linear solver pays for), as in Q-Newton (arXiv:2405.00252)."""

from __future__ import annotations

from typing import NamedTuple

import torch

from qtrain.linalg.solvers import check_system

__all__ = ["REGULARIZERS", "Regularized", "Sparsified", "regularize", "sparsify"]

REGULARIZERS = ("max-entry", "lambda-max", "fixed", "kappa-target")


class Regularized(NamedTuple):
    """``matrix = A + lam I`` and the shift ``lam`` used per block (shape ``[...]``)."""

    matrix: torch.Tensor
    lam: torch.Tensor


class Sparsified(NamedTuple):
    """The pruned symmetric ``matrix``, its achieved sparsity ``d`` (max non-zeros per row after
    symmetrisation, ``[...]``, int64) and the boolean ``mask`` kept."""

    matrix: torch.Tensor
    d: torch.Tensor
    mask: torch.Tensor


def regularize(A: torch.Tensor, rule: str = "max-entry", *, eps_n: float = 1e-3,
               lam: float | None = None, kappa_target: float | None = None) -> Regularized:
    r"""Shift a symmetric block, ``A + lam I``, to control its condition number.

    Rules for ``lam`` (per block):

    * ``"max-entry"`` (the published rule): ``lam = eps_n max_ij |A_ij|``;
    * ``"lambda-max"``: ``lam = eps_n lambda_max(A)``;
    * ``"fixed"``: the given ``lam``;
    * ``"kappa-target"``: the smallest shift reaching ``kappa(A + lam I) = kappa*`` for a PSD
      block, ``lam = max(0, (lambda_max - kappa* lambda_min) / (kappa* - 1))``.

    For a rank-deficient PSD block (``lambda_min = 0``) the shift ``mu`` gives
    ``kappa(A + mu I) = 1 + lambda_max / mu``; with the Fisher and ``mu = eps_n max_i F_ii`` this
    is the identity tested in ``tests/linalg``.

    Args:
        A: symmetric matrices ``[..., N, N]``.
        rule: one of :data:`REGULARIZERS`.
        eps_n: relative shift for ``"max-entry"`` and ``"lambda-max"`` (> 0).
        lam: the shift for ``"fixed"`` (>= 0).
        kappa_target: ``kappa* > 1`` for ``"kappa-target"``.

    Returns:
        :class:`Regularized` ``(matrix, lam)``.

    Raises:
        ValueError: unknown rule, a missing or out-of-range parameter, a malformed ``A``.

    References:
        Li, Liu, Wang, Chen, arXiv:2405.00252 (Q-Newton), Sec. on condition-number reduction.
    """
    check_system(A, symmetric=True)
    if rule not in REGULARIZERS:
        raise ValueError(f"rule must be one of {REGULARIZERS}, got {rule!r}")
    batch = A.shape[:-2]
    if rule in ("max-entry", "lambda-max"):
        if not eps_n > 0:
            raise ValueError(f"eps_n must be positive, got {eps_n}")
        if rule == "max-entry":
            shift = eps_n * A.abs().amax((-2, -1))
        else:
            shift = eps_n * torch.linalg.eigvalsh(A)[..., -1].clamp_min(0)
    elif rule == "fixed":
        if lam is None or not lam >= 0:
            raise ValueError(f"lam must be given and >= 0 for rule 'fixed', got {lam}")
        shift = torch.full(batch, float(lam), dtype=A.dtype, device=A.device)
    else:
        if kappa_target is None or not kappa_target > 1:
            raise ValueError(f"kappa_target must be given and > 1, got {kappa_target}")
        ev = torch.linalg.eigvalsh(A)
        lmin, lmax = ev[..., 0], ev[..., -1]
        shift = ((lmax - kappa_target * lmin) / (kappa_target - 1)).clamp_min(0)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return Regularized(A + shift[..., None, None] * eye, shift)


def sparsify(A: torch.Tensor, k: int) -> Sparsified:
    """Keep the top-``k`` entries by magnitude per row, symmetrise the mask, keep the diagonal.

    ``mask = T | T^T | I`` where ``T_ij`` marks the top-``k`` entries of row ``i`` by ``|A_ij|``;
    the result ``A * mask`` is symmetric (a quantum linear solver needs a Hermitian matrix; the
    published code pruned rows without symmetrising). The achieved sparsity ``d`` is the largest
    number of kept entries in any row, which can exceed ``k`` after symmetrisation.

    Args:
        A: symmetric matrices ``[..., N, N]``.
        k: entries kept per row before symmetrisation, ``1 <= k`` (``k >= N`` keeps everything).

    Returns:
        :class:`Sparsified` ``(matrix, d, mask)``.

    Raises:
        ValueError: ``k < 1`` or a malformed ``A``.

    Example:
        >>> A = torch.tensor([[4.0, 3.0, 0.1], [3.0, 5.0, 0.2], [0.1, 0.2, 6.0]])
        >>> S = sparsify(A, 2)  # row 2 keeps (2, 1); symmetrising gives row 1 three entries
        >>> int(S.d), bool((S.matrix == S.matrix.T).all())
        (3, True)

    References:
        Li, Liu, Wang, Chen, arXiv:2405.00252 (Q-Newton), sparsification for the QLSA's ``d``.
    """
    check_system(A, symmetric=True)
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    n = A.shape[-1]
    k = min(int(k), n)
    idx = A.abs().topk(k, dim=-1).indices
    top = torch.zeros(A.shape, dtype=torch.bool, device=A.device).scatter_(-1, idx, True)
    mask = top | top.mT | torch.eye(n, dtype=torch.bool, device=A.device)
    return Sparsified(A * mask, mask.sum(-1).amax(-1), mask)
