"""Q-Newton's formulate stage: the per-block linear systems ``(C_b + lam_b I) d_b = g_b`` of a step.

Pure functions of tensors: curvature blocks from the closure's graph (the exact Hessian), the
partition of the parameters into blocks, L2 weight decay added to gradient and curvature, and the
regularised systems. The torch.func curvatures (Gauss-Newton, Fisher, Hessian of a model on a
batch) are :func:`qtrain.linalg.curvature_blocks`.

Reference: Li, Liu, Wang, Chen, "Q-Newton", arXiv:2405.00252.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from qtrain.linalg import regularize

__all__ = ["NewtonSystems", "add_weight_decay", "graph_blocks", "graph_curvature", "hessian_from_graph",
           "newton_systems"]


def hessian_from_graph(grads: Sequence[torch.Tensor], params: Sequence[torch.Tensor]) -> torch.Tensor:
    r"""``H = d^2 L / d theta^2`` of one block, symmetrised, from gradients that carry their graph.

    ``H_ij = d g_i / d theta_j`` with ``g = dL/dtheta`` (``create_graph=True``): one batched
    vector-Jacobian product over the rows of the identity (``is_grads_batched``), a row-by-row loop
    where the ops do not batch; returned as ``(H + H^T) / 2``, detached.

    Args:
        grads: the block's gradients (with graph), one per parameter.
        params: the block's parameters, in the same order.

    Returns:
        ``[n, n]`` with ``n`` the block's number of entries (row-major per parameter).
    """
    g = torch.cat([x.reshape(-1) for x in grads])
    eye = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
    if not g.requires_grad:  # the loss does not depend on this block: zero curvature
        return torch.zeros_like(eye)
    try:
        rows = torch.autograd.grad(g, list(params), eye, retain_graph=True, is_grads_batched=True,
                                   allow_unused=True)
        rows = [torch.zeros(g.numel(), *p.shape, dtype=g.dtype, device=g.device) if r is None
                else r for r, p in zip(rows, params, strict=True)]
        H = torch.cat([r.reshape(g.numel(), -1) for r in rows], 1)
    except RuntimeError:
        out = []
        for i in range(g.numel()):
            r = torch.autograd.grad(g[i], list(params), retain_graph=True, allow_unused=True)
            out.append(torch.cat([torch.zeros_like(p).reshape(-1) if x is None else x.reshape(-1)
                                  for x, p in zip(r, params, strict=True)]))
        H = torch.stack(out)
    return 0.5 * (H + H.mT).detach()


def graph_blocks(params: Sequence[torch.Tensor], blocking: str,
                 groups: Sequence[Sequence[torch.Tensor]]) -> list[list[torch.Tensor]]:
    """Blocks of the closure-graph curvature: one per tensor (``"tensor"``), one for everything
    (``"full"``), or one per parameter group (``"layer"``, empty groups dropped)."""
    if blocking == "tensor":
        return [[p] for p in params]
    if blocking == "full":
        return [list(params)]
    wanted = {id(p) for p in params}
    blocks = [[p for p in g if id(p) in wanted] for g in groups]
    return [b for b in blocks if b]


def graph_curvature(loss: torch.Tensor, params: Sequence[torch.Tensor],
                    blocks: Sequence[Sequence[torch.Tensor]]
                    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Exact Hessian blocks and flat gradients of ``loss`` (with its autograd graph).

    Returns:
        ``(matrices, gradients)``, one ``[n_b, n_b]`` and ``[n_b]`` per block (a parameter the loss
        does not depend on has zero gradient and curvature).

    Raises:
        ValueError: the graph was freed (the closure called ``backward`` without
            ``create_graph=True``).
    """
    try:
        gl = torch.autograd.grad(loss, list(params), create_graph=True, allow_unused=True)
    except RuntimeError as err:
        raise ValueError("closure freed the graph: call loss.backward(create_graph=True) "
                         "or no backward at all in a QNewton closure") from err
    gl = [torch.zeros_like(p) if g is None else g for p, g in zip(params, gl, strict=True)]
    gmap = {id(p): g for p, g in zip(params, gl, strict=True)}
    mats, grads = [], []
    for blk in blocks:
        gb = [gmap[id(p)] for p in blk]
        mats.append(hessian_from_graph(gb, blk))
        grads.append(torch.cat([g.reshape(-1) for g in gb]).detach())
    return mats, grads


def add_weight_decay(matrices: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor],
                     thetas: Sequence[torch.Tensor], decays: Sequence[torch.Tensor]
                     ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    r"""L2 weight decay ``(wd / 2) ||theta||^2`` per block: ``g + wd * theta`` and ``C + diag(wd)``.

    Args:
        matrices, gradients: the blocks' curvature ``[n, n]`` and gradient ``[n]``.
        thetas: the blocks' current parameters, flat ``[n]``.
        decays: per-entry ``wd >= 0``, flat ``[n]`` (a block may span groups of different decay).

    Returns:
        New ``(matrices, gradients)``; blocks without decay are returned as they are.
    """
    mats, grads = [], []
    for C, g, th, wd in zip(matrices, gradients, thetas, decays, strict=True):
        if bool((wd > 0).any()):
            wd = wd.to(g.dtype)
            g = g + wd * th.to(g.dtype)
            C = C + torch.diag(wd)
        mats.append(C)
        grads.append(g)
    return mats, grads


@dataclass
class NewtonSystems:
    """The regularised systems of one size: ``matrix [B, N, N]`` (``C_b + lam_b I``, or ``I`` where
    that is exactly zero), ``rhs [B, N]`` (``g_b``), ``lam [B]``, the indices of their blocks in the
    step (``blocks``) and ``zero [B]`` (bool: the block's regularised curvature was exactly zero,
    so its direction is the gradient)."""

    matrix: torch.Tensor
    rhs: torch.Tensor
    lam: torch.Tensor
    blocks: list[int] = field(default_factory=list)
    zero: torch.Tensor | None = None


def newton_systems(matrices: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor],
                   blocks: Sequence[int], rule: str, **reg_kwargs: float | None) -> NewtonSystems:
    r"""Stack blocks of one size into a batch and regularise: ``A_b = C_b + lam_b I`` with
    ``lam_b`` from :func:`qtrain.linalg.regularize` (``rule``: the published ``eps_n max|C_ij|``,
    a fixed ``lam``, a target condition number, ...).

    A block whose ``C_b + lam_b I`` is exactly zero (zero curvature, and the relative shift
    ``eps_n max|C_b|`` is then 0 too) gets ``A_b = I``: its solution is ``g_b``, the gradient step.
    """
    A = torch.stack([matrices[i] for i in blocks])
    b = torch.stack([gradients[i] for i in blocks])
    reg = regularize(A, rule, **reg_kwargs)
    # A zero block (zero curvature and zero shift: all ReLUs dead, a linear loss with the exact
    # Hessian) has no Newton direction; the identity makes its solution the gradient, the
    # documented fallback, instead of a singular system.
    zero = reg.matrix.abs().amax((-1, -2)) == 0
    matrix = reg.matrix
    if bool(zero.any()):
        eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
        matrix = torch.where(zero[:, None, None], eye, matrix)
    return NewtonSystems(matrix, b, reg.lam, list(blocks), zero)
