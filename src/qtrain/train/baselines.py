"""Classical baselines for binary-weight training: BinaryConnect, signSGD, ProxQuant, Adam.

All three binary baselines are ``torch.optim.Optimizer`` subclasses acting on latent real weights
(``p.grad`` is the straight-through gradient the binary layers of :mod:`qtrain.nn` produce):

* :class:`BinaryConnect`: SGD (optionally with momentum) on the latent weights, which the forward
  pass binarises, clipped to ``[-clip, clip]`` (Courbariaux et al., arXiv:1511.00363);
* :class:`SignSGD`: ``W <- W - lr sign(grad)`` (Bernstein et al., arXiv:1802.04434);
* :class:`ProxQuant`: an SGD step, then the proximal map of ``lambda_t ||W - sign(W)||_1`` towards
  ``{-1, +1}`` with ``lambda_t`` growing every epoch (Bai, Wang, Liberty, arXiv:1810.00861). The
  model runs real-valued (``binary=False``, hardtanh) while training and binarised for evaluation.

The full-precision reference is ``torch.optim.Adam`` on the same architecture with
``binary=False``. :func:`make_optimizer` builds any of them (and QP-SBGD) by name, with the model
flag each one trains under.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from qtrain._info import Stopwatch
from qtrain.nn.binary import set_binary

__all__ = ["BASELINES", "BinaryConnect", "ProxQuant", "SignSGD", "make_optimizer",
           "soft_binarize_prox", "trains_binary"]


def _check_lr(lr: float) -> None:
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"Invalid learning rate: {lr!r} (must be a finite number > 0)")


def _check_clip(clip: float | None) -> None:
    if clip is not None and (isinstance(clip, bool) or not (isinstance(clip, int | float) and math.isfinite(clip)
                                                             and clip > 0)):
        raise ValueError(f"Invalid clip: {clip!r} (must be a finite number > 0, or None)")


class _LatentOptimizer(torch.optim.Optimizer):
    """Shared shell: closure handling, the per-parameter update, clipping and the step count.

    ``last_info`` after a step has the optimisers' common ``timing`` (ns; a first-order update
    has no formulate or solve stage, so the whole step is ``apply_ns``) and ``solver_info`` (empty:
    no solver is called)."""

    last_info: dict[str, Any]

    def _update(self, p: torch.Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter with a gradient; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        clock = Stopwatch()
        self._step()
        clock.lap("apply")
        self.last_info = {"timing": clock.timing(), "solver_info": []}
        return loss

    def _step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"] = int(state.get("step", 0)) + 1
                self._update(p, group, state)
                if group["clip"] is not None:
                    p.clamp_(-group["clip"], group["clip"])


class BinaryConnect(_LatentOptimizer):
    r"""BinaryConnect: SGD on latent weights that the forward pass binarises.

    .. math:: v \leftarrow \mu v + \nabla_W L, \qquad W \leftarrow \operatorname{clip}(W - \mathrm{lr}\, v,
        -c, c),

    with ``\nabla_W L`` the straight-through gradient of ``L(sign(W))``.

    Args:
        params: parameters or parameter groups.
        lr: step size (> 0).
        momentum: ``mu`` in ``[0, 1)`` (0: plain SGD).
        clip: latent bound ``c`` (None: no clipping).

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([0.5, -0.2]))
        >>> opt = BinaryConnect([w], lr=0.1)

    References:
        Courbariaux, Bengio, David, "BinaryConnect", arXiv:1511.00363.
    """

    def __init__(self, params: Any, lr: float = 0.01, momentum: float = 0.0,
                 clip: float | None = 1.0):
        _check_lr(lr)
        if isinstance(momentum, bool) or not (isinstance(momentum, int | float) and 0 <= momentum < 1):
            raise ValueError(f"Invalid momentum: {momentum!r} (must be a finite number in [0, 1))")
        _check_clip(clip)
        super().__init__(params, dict(lr=lr, momentum=momentum, clip=clip))

    def _update(self, p: torch.Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        d = p.grad
        if group["momentum"] > 0:
            buf = state.get("momentum_buffer")
            buf = d.clone() if buf is None else buf.mul_(group["momentum"]).add_(d)
            state["momentum_buffer"] = buf
            d = buf
        p.sub_(group["lr"] * d)


class SignSGD(_LatentOptimizer):
    r"""signSGD: :math:`W \leftarrow \operatorname{clip}(W - \mathrm{lr}\,\operatorname{sign}(\nabla_W L), -c, c)`.

    ``sign(0) = 0``: a weight without gradient stays. On a binary layer this is QP-SBGD's linear
    cousin: ``sign(sum_i G_ij x_i)`` maximises the linear correlation with the gradient.

    Args:
        params: parameters or parameter groups.
        lr: step size (> 0).
        clip: latent bound (None: no clipping).

    References:
        Bernstein, Wang, Azizzadenesheli, Anandkumar, "signSGD", arXiv:1802.04434.
    """

    def __init__(self, params: Any, lr: float = 0.01, clip: float | None = 1.0):
        _check_lr(lr)
        _check_clip(clip)
        super().__init__(params, dict(lr=lr, clip=clip))

    def _update(self, p: torch.Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        p.sub_(group["lr"] * torch.sign(p.grad))


def soft_binarize_prox(w: torch.Tensor, lam: float) -> torch.Tensor:
    r"""Proximal map of :math:`\lambda \|w - \operatorname{sign}(w)\|_1` (ProxQuant's binary prox):

    .. math:: \operatorname{prox}(w) = \operatorname{sign}(w) + \operatorname{sign}(w - \operatorname{sign}(w))
        \max(|w - \operatorname{sign}(w)| - \lambda, 0),

    a soft threshold of each weight towards the nearer of ``-1, +1`` (``sign(0) = +1``).

    Example:
        >>> soft_binarize_prox(torch.tensor([0.2, -1.5, 0.95]), 0.1)
        tensor([ 0.3000, -1.4000,  1.0000])

    References:
        Bai, Wang, Liberty, "ProxQuant", arXiv:1810.00861.
    """
    s = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
    r = w - s
    return s + torch.sign(r) * (r.abs() - lam).clamp_min(0)


class ProxQuant(_LatentOptimizer):
    r"""ProxQuant with the binary regulariser: an SGD step, then :func:`soft_binarize_prox`.

    .. math:: W \leftarrow \operatorname{prox}_{\mathrm{lr}\,\lambda_t}(W - \mathrm{lr}\,\nabla_W L),
        \qquad \lambda_t = \lambda_0 \,(1 + \lfloor t / \text{steps\_per\_epoch} \rfloor),

    so the pull towards ``{-1, +1}`` grows every epoch (``t`` counts steps from 0). Train the
    model real-valued (``binary=False``) and evaluate it binarised.

    Args:
        params: parameters or parameter groups.
        lr: step size (> 0).
        reg: ``lambda_0 >= 0``.
        steps_per_epoch: steps after which ``lambda`` grows by ``lambda_0``.
        clip: latent bound (None: no clipping).

    References:
        Bai, Wang, Liberty, "ProxQuant: Quantized Neural Networks via Proximal Operators",
        arXiv:1810.00861.
    """

    def __init__(self, params: Any, lr: float = 0.01, reg: float = 1.0, steps_per_epoch: int = 1,
                 clip: float | None = None):
        _check_lr(lr)
        if isinstance(reg, bool) or not (isinstance(reg, int | float) and math.isfinite(reg) and reg >= 0):
            raise ValueError(f"Invalid reg: {reg!r} (must be a finite number >= 0)")
        if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or \
                steps_per_epoch < 1:
            raise ValueError(f"Invalid steps_per_epoch: {steps_per_epoch!r} (must be an integer >= 1)")
        _check_clip(clip)
        super().__init__(params, dict(lr=lr, reg=reg, steps_per_epoch=steps_per_epoch, clip=clip))

    def _update(self, p: torch.Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        epoch = (state["step"] - 1) // group["steps_per_epoch"]
        lam = group["lr"] * group["reg"] * (1 + epoch)
        p.copy_(soft_binarize_prox(p - group["lr"] * p.grad, lam))


#: Method name -> (whether the model trains binarised, whether it is evaluated binarised).
BASELINES: dict[str, tuple[bool, bool]] = {
    "bc": (True, True),
    "signsgd": (True, True),
    "proxquant": (False, True),
    "full-precision": (False, False),
}


def trains_binary(method: str) -> tuple[bool, bool]:
    """``(trains binarised, evaluated binarised)`` for ``"qpsbgd"`` (both) or a key of
    :data:`BASELINES`; ``ValueError`` for an unknown method."""
    if method == "qpsbgd":
        return True, True
    if method not in BASELINES:
        raise ValueError(f"unknown method {method!r}; choose 'qpsbgd' or one of {sorted(BASELINES)}")
    return BASELINES[method]


def make_optimizer(method: str, model: nn.Module, lr: float, **kwargs: Any) -> torch.optim.Optimizer:
    """Build a method's optimiser for ``model`` and set the model's ``binary`` flag for training.

    Methods: ``"qpsbgd"`` (:class:`~qtrain.train.qpsbgd.QPSBGD`, keywords passed on), ``"bc"``,
    ``"signsgd"``, ``"proxquant"`` (the model is set real-valued; evaluate it under
    :func:`~qtrain.nn.binary_mode`) and ``"full-precision"`` (Adam, real-valued model).

    Raises:
        ValueError: an unknown method.
    """
    if method == "qpsbgd":
        from qtrain.train.qpsbgd import QPSBGD

        set_binary(model, True)
        return QPSBGD(model, lr=lr, **kwargs)
    if method not in BASELINES:
        raise ValueError(f"unknown method {method!r}; choose 'qpsbgd' or one of {sorted(BASELINES)}")
    set_binary(model, BASELINES[method][0])
    params = model.parameters()
    if method == "bc":
        return BinaryConnect(params, lr=lr, **kwargs)
    if method == "signsgd":
        return SignSGD(params, lr=lr, **kwargs)
    if method == "proxquant":
        return ProxQuant(params, lr=lr, **kwargs)
    return torch.optim.Adam(params, lr=lr, **kwargs)
