"""QP-SBGD's capture: the rows of a layer's forward and backward passes, kept as ``torch.optim`` keeps
gradients.

:class:`Capture` hooks one :class:`~qtrain.nn.BinaryLinear`: every forward pass with gradients on
adds its inputs ``X``; its backward pass adds the gradient at the layer's output ``G`` (the
pre-activation: ``p.grad = s G^T X``) and, where a :class:`~qtrain.nn.BinaryActivation` consumes that
output (directly, or through a GCN propagation), the gradient at the activation's binarised output
before its straight-through mask, ``G_out`` (``G = G_out * 1{|z| <= 1}`` for an MLP). The rows
accumulate until ``zero_grad``, like ``p.grad``; :func:`matching_rows` finds the rows ``p.grad`` is
made of, so what ``p.grad`` says is what a step uses.

Reference: Krahn et al., "Projected Stochastic Gradient Descent with Quantum Annealed Binary
Gradients", arXiv:2310.15128 (their ``G`` is the gradient at the binarised output).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch
from torch import nn

from qtrain.nn.binary import BinaryLinear

__all__ = ["ActivationLink", "Capture", "GCNLink", "Links", "Rows", "matching_rows"]


class Rows:
    """One forward pass of a hooked layer: its inputs ``X`` and, after backward, the gradients at
    its output (``G``: the pre-activation, what ``p.grad`` is made of) and before the next binary
    activation's straight-through mask (``G_out``; None where no activation follows)."""

    __slots__ = ("X", "G", "G_out")

    def __init__(self, X: torch.Tensor):
        self.X = X
        self.G: torch.Tensor | None = None
        self.G_out: torch.Tensor | None = None

    def add(self, key: str, grad: torch.Tensor) -> None:
        """Accumulate a gradient (a second backward through the same graph adds to it, as it adds
        to ``p.grad``)."""
        old = getattr(self, key)
        setattr(self, key, grad if old is None else old + grad)


class Links:
    """Which hooked layer output a later module consumes: ``id(tensor) -> (rows, back)`` with a weak
    reference to the tensor, and ``back`` mapping a gradient at that tensor to the layer's output
    coordinates (None: the identity)."""

    def __init__(self) -> None:
        self._links: dict[int, tuple[weakref.ref, Rows, Callable | None]] = {}

    def add(self, t: torch.Tensor, rows: Rows, back: Callable | None) -> None:
        if len(self._links) > 256:  # forwards whose outputs died unconsumed
            self._links = {k: v for k, v in self._links.items() if v[0]() is not None}
        self._links[id(t)] = (weakref.ref(t), rows, back)

    def pop(self, t: torch.Tensor) -> tuple[Rows, Callable | None] | None:
        link = self._links.get(id(t))
        if link is None or link[0]() is not t:
            return None
        del self._links[id(t)]
        return link[1], link[2]

    def clear(self) -> None:
        self._links.clear()

    def __getstate__(self) -> dict:
        return {"_links": {}}  # links live for one forward pass; weak references do not pickle


class Capture:
    """Forward/backward hooks on one :class:`BinaryLinear`: the rows of every forward pass since
    the last ``zero_grad`` (their gradients accumulate as ``p.grad`` does)."""

    def __init__(self, name: str, layer: BinaryLinear, links: Links):
        self.name, self.layer, self.links = name, layer, links
        self.rows: list[Rows] = []
        self.handle = layer.register_forward_hook(self._forward)

    def _forward(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if not (torch.is_grad_enabled() and output.requires_grad):
            return
        rows = Rows(inputs[0].detach().reshape(-1, module.in_features))
        self.rows.append(rows)
        m = module.out_features
        output.register_hook(lambda g: rows.add("G", g.detach().reshape(-1, m)))
        self.links.add(output, rows, None)

    def backwarded(self) -> list[Rows]:
        """The rows whose backward pass has run."""
        return [r for r in self.rows if r.G is not None]


class ActivationLink:
    """Forward hook of a :class:`BinaryActivation`: if its input is a hooked layer's output (or a
    GCN conv's), record the gradient at its output, before the straight-through mask. (A class,
    not a closure, so that a model carrying the hook still pickles.)"""

    def __init__(self, links: Links):
        self.links = links

    def __call__(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if not (torch.is_grad_enabled() and output.requires_grad):
            return
        link = self.links.pop(inputs[0])
        if link is not None:
            rows, back = link
            shape = rows.X.shape[0], -1
            output.register_hook(lambda g: rows.add(
                "G_out", (g.detach() if back is None else back(g.detach())).reshape(shape)))


class GCNLink:
    """Forward hook of a :class:`BinaryGCNConv`: its output ``A_hat lin(h)`` links back to the rows
    of its ``lin`` layer, with ``back(g) = A_hat^T g``."""

    def __init__(self, links: Links, captures: dict[torch.Tensor, Capture]):
        self.links, self.captures = links, captures  # captures: a layer's weight -> its Capture

    def __call__(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        cap = self.captures.get(module.lin.weight)
        if cap is None or not cap.rows or not output.requires_grad or cap.rows[-1].G is not None:
            return
        P = module.propagation
        self.links.add(output, cap.rows[-1], lambda g: torch.sparse.mm(P.t(), g) if P.is_sparse
                       else P.T @ g)


def matching_rows(cap: Capture, grad: torch.Tensor) -> tuple[list[Rows], float]:
    """The captured rows that ``p.grad`` is the gradient of, and the factor ``c`` it was scaled by.

    ``p.grad = c s sum_k G_k^T X_k`` over the latest ``r`` backward passes (``s`` the layer's output
    scale), for the largest ``r`` (0 included: a zeroed gradient) and ``c >= 0`` (1 unless the
    gradient was rescaled, e.g. clipped): all passes since ``optimizer.zero_grad()``, or the
    latest ones after ``model.zero_grad(set_to_none=False)``.

    Raises:
        ValueError: no suffix matches (``p.grad`` was changed by other means), naming the layer.
    """
    done = cap.backwarded()
    g = grad.detach().to(torch.float64)
    scale = cap.layer.scale
    parts = [scale * r.G.to(torch.float64).T @ r.X.to(torch.float64) for r in done]
    tail = torch.zeros_like(g)
    sums = [tail]
    for part in reversed(parts):
        tail = tail + part
        sums.append(tail)
    gmax = float(g.abs().max()) if g.numel() else 0.0
    for r in range(len(done), -1, -1):
        S = sums[r]
        norm = float((S * S).sum())
        c = float((g * S).sum()) / norm if norm > 0 else 1.0
        if c < 0:
            continue
        err = float((g - c * S).abs().max()) if g.numel() else 0.0
        if err <= 1e-4 * max(gmax, c * float(S.abs().max()) if S.numel() else 0.0) + 1e-30:
            # an unscaled gradient differs from S by rounding alone: use the rows as they are
            return done[len(done) - r:], 1.0 if abs(c - 1) <= 1e-4 else c
    if not done:
        raise ValueError(f"layer {cap.name!r} has a gradient but no captured inputs/gradients: "
                         "construct QPSBGD(model, ...) (or call attach(model)) before the forward "
                         "and backward passes")
    raise ValueError(f"layer {cap.name!r}: p.grad is not the gradient of the rows captured since "
                     "zero_grad() (nor a multiple of it): QP-SBGD builds each neuron's problem "
                     "from those rows, so change the loss, not p.grad")
