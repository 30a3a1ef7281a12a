"""Curvature blocks for Newton-type training: exact Hessian, Gauss-Newton and empirical Fisher,
per parameter tensor, per layer or full, with an explicit, tested parameter ordering (torch.func).

A *block* is a list of parameter names; its matrix acts on the concatenation of those tensors,
each flattened row-major (``tensor.reshape(-1)``) in the listed order. :class:`ParamLayout`
is the one place that ordering is defined: a transposed or permuted ordering would give a wrong
Newton direction while every kappa statistic still looked fine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.func import functional_call, grad, hessian, jacrev, vmap

__all__ = ["BLOCKINGS", "CURVATURES", "ParamLayout", "curvature_blocks", "make_blocks"]

CURVATURES = ("hessian", "gauss-newton", "fisher")
BLOCKINGS = ("tensor", "layer", "full")


@dataclass(frozen=True)
class ParamLayout:
    """The flattening order of a set of named parameters.

    Attributes:
        names: parameter names in order.
        shapes: their shapes.

    Example:
        >>> lay = ParamLayout(("w", "b"), ((2, 3), (2,)))
        >>> lay.size, lay.offsets
        (8, (0, 6))
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, params: dict[str, torch.Tensor], names: Sequence[str] | None = None
           ) -> ParamLayout:
        """The layout of ``params`` (in ``names`` order, default the dict's order)."""
        names = tuple(params) if names is None else tuple(names)
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"unknown parameter names {missing}; known: {list(params)}")
        return cls(names, tuple(tuple(params[n].shape) for n in names))

    @property
    def numels(self) -> tuple[int, ...]:
        out = []
        for s in self.shapes:
            k = 1
            for d in s:
                k *= d
            out.append(k)
        return tuple(out)

    @property
    def offsets(self) -> tuple[int, ...]:
        acc, out = 0, []
        for k in self.numels:
            out.append(acc)
            acc += k
        return tuple(out)

    @property
    def size(self) -> int:
        return sum(self.numels)

    def flatten(self, tensors: dict[str, torch.Tensor] | Sequence[torch.Tensor]) -> torch.Tensor:
        """Concatenate the tensors (a dict by name, or a sequence in layout order), row-major."""
        seq = [tensors[n] for n in self.names] if isinstance(tensors, dict) else list(tensors)
        if [tuple(t.shape) for t in seq] != list(self.shapes):
            raise ValueError(f"tensor shapes {[tuple(t.shape) for t in seq]} do not match the "
                             f"layout {list(self.shapes)}")
        return torch.cat([t.reshape(-1) for t in seq])

    def unflatten(self, vector: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split a ``[size]`` vector back into named tensors (views), inverse of :meth:`flatten`."""
        if vector.shape[-1] != self.size:
            raise ValueError(f"vector must have {self.size} entries, got {vector.shape[-1]}")
        parts = vector.split(list(self.numels), dim=-1)
        return {n: p.reshape((*vector.shape[:-1], *s))
                for n, p, s in zip(self.names, parts, self.shapes, strict=True)}


def make_blocks(names: Sequence[str], blocking: str = "tensor",
                layer_of: Callable[[str], str] | None = None) -> list[list[str]]:
    """Group parameter names into curvature blocks.

    ``"tensor"``: one block per tensor; ``"layer"``: tensors sharing ``layer_of(name)`` (default:
    the name without its last dotted part, so ``fc1.weight`` and ``fc1.bias`` form ``fc1``), in
    first-appearance order; ``"full"``: one block of everything.

    Raises:
        ValueError: unknown ``blocking``.
    """
    if blocking not in BLOCKINGS:
        raise ValueError(f"blocking must be one of {BLOCKINGS}, got {blocking!r}")
    names = list(names)
    if blocking == "tensor":
        return [[n] for n in names]
    if blocking == "full":
        return [names]
    key = layer_of or (lambda n: n.rsplit(".", 1)[0] if "." in n else n)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(key(n), []).append(n)
    return list(groups.values())


def _block_loss(model, loss_fn, inputs, targets, base, buffers, lay: ParamLayout):
    """``theta_b -> L`` with the other parameters fixed at ``base``."""

    def loss(th: torch.Tensor) -> torch.Tensor:
        p = {**base, **lay.unflatten(th), **buffers}
        return loss_fn(functional_call(model, p, (inputs,)), targets)

    return loss


def curvature_blocks(model: torch.nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor],
                     torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor,
                     kind: str = "hessian", blocks: str | list[list[str]] = "tensor",
                     params: dict[str, torch.Tensor] | None = None
                     ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[ParamLayout]]:
    r"""Curvature blocks and gradients of ``L(theta) = loss_fn(model(inputs; theta), targets)``.

    ``loss_fn`` must reduce by the mean over the batch (its first dimension). For block ``b``
    with parameters ``theta_b`` (others fixed):

    * ``"hessian"``: ``H_b = d^2 L / d theta_b^2`` (``torch.func.hessian``, forward over reverse);
    * ``"gauss-newton"``: ``G_b = (1/B) sum_i J_i^T H_i J_i``, ``J_i = d f(x_i) / d theta_b``
      (flattened outputs of sample ``i``), ``H_i`` the Hessian of the per-sample loss in the
      outputs (Schraudolph 2002; Martens, arXiv:1412.1193); PSD for a convex loss;
    * ``"fisher"``: the empirical Fisher ``F_b = (1/B) sum_i g_i g_i^T``, ``g_i`` the
      per-sample gradients (``vmap(grad)``); PSD, rank at most ``B``.

    Args:
        model: the network (its parameters are read, never modified).
        loss_fn: ``(outputs, targets) -> scalar`` mean over the batch.
        inputs, targets: the batch.
        kind: one of :data:`CURVATURES`.
        blocks: a blocking name (:func:`make_blocks`) or explicit lists of parameter names.
        params: parameter values by name (default ``dict(model.named_parameters())``).

    Returns:
        ``(matrices, gradients, layouts)``: per block the ``[n_b, n_b]`` matrix, the flattened
        gradient ``[n_b]`` of ``L`` and its :class:`ParamLayout`.

    Raises:
        ValueError: unknown ``kind`` or blocking, unknown parameter names.

    References:
        Li et al., arXiv:2405.00252 (Q-Newton); Martens, arXiv:1412.1193 (Gauss-Newton/Fisher).
    """
    if kind not in CURVATURES:
        raise ValueError(f"kind must be one of {CURVATURES}, got {kind!r}")
    base = {n: p.detach() for n, p in (params or dict(model.named_parameters())).items()}
    buffers = dict(model.named_buffers())
    block_names = make_blocks(list(base), blocks) if isinstance(blocks, str) else blocks
    layouts = [ParamLayout.of(base, names) for names in block_names]
    if kind == "hessian":
        mats, grads = [], []
        for lay in layouts:  # one forward-over-reverse Hessian per block, never the full matrix
            loss = _block_loss(model, loss_fn, inputs, targets, base, buffers, lay)
            theta = lay.flatten(base)
            grads.append(grad(loss)(theta))
            M = hessian(loss)(theta)
            mats.append(0.5 * (M + M.mT))
        return mats, grads, layouts
    # Fisher and Gauss-Newton: per-sample quantities once over the union of the blocks, then
    # each block is a product of column slices (its diagonal block of the full matrix).
    union = ParamLayout.of(base, [n for lay in layouts for n in lay.names])
    theta = union.flatten(base)
    loss = _block_loss(model, loss_fn, inputs, targets, base, buffers, union)
    g_all = grad(loss)(theta)

    def full(th: torch.Tensor) -> dict[str, torch.Tensor]:
        return {**base, **union.unflatten(th), **buffers}

    def out_i(th: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, full(th), (x.unsqueeze(0),)).squeeze(0)

    def loss_i(th: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_fn(functional_call(model, full(th), (x.unsqueeze(0),)), y.unsqueeze(0))

    if kind == "fisher":
        G = vmap(grad(loss_i), in_dims=(None, 0, 0))(theta, inputs, targets)      # [B, n]
    else:
        J = vmap(jacrev(out_i), in_dims=(None, 0))(theta, inputs)                 # [B, *out, n]
        outs = vmap(out_i, in_dims=(None, 0))(theta, inputs)                      # [B, *out]

        def ell(o: torch.Tensor, y: torch.Tensor, shape=outs.shape[1:]) -> torch.Tensor:
            return loss_fn(o.reshape(shape).unsqueeze(0), y.unsqueeze(0))

        Hout = vmap(hessian(ell))(outs.reshape(outs.shape[0], -1), targets)      # [B, m, m]
        J = J.reshape(J.shape[0], -1, J.shape[-1])
    mats, grads, start = [], [], 0
    for lay in layouts:
        sl = slice(start, start + lay.size)
        start += lay.size
        if kind == "fisher":
            Gb = G[:, sl]
            M = Gb.mT @ Gb / G.shape[0]
        else:
            Jb = J[..., sl]
            M = (Jb.mT @ Hout @ Jb).mean(0)
        mats.append(0.5 * (M + M.mT))
        grads.append(g_all[sl])
    return mats, grads, layouts
