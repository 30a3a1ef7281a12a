"""Classical rivals on the same masked networks: random masks, magnitude, edge-popup, simulated
annealing on the black-box loss, and the architecture trained densely (the ceiling).

Whole-network rivals (:func:`random_network_masks`, :func:`magnitude_masks`, :func:`edge_popup`)
keep ``round(density * numel)`` entries of every layer's mask; register rivals
(:func:`best_random_register`, :func:`anneal_black_box`) search the bits of one
:class:`~qtrain.train.subnetwork.MaskRegister` through the batched black box.

References:
    Ramanujan et al., arXiv:1911.13299 (edge-popup; authors' code allenai/hidden-networks);
    Zhou et al., arXiv:1905.01067 (random masks as the floor); Kirkpatrick et al., Science 220
    (1983) (simulated annealing).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from qtrain.nn.masked import MaskedMLP, check_density
from qtrain.train.subnetwork.formulate import MaskRegister, mask_losses

__all__ = [
    "accuracy",
    "anneal_black_box",
    "best_random_register",
    "edge_popup",
    "magnitude_masks",
    "random_network_masks",
    "top_density",
    "train_dense",
]


def top_density(scores: torch.Tensor, density: float) -> torch.Tensor:
    """0/1 mask keeping the ``round(density * numel)`` (at least 1) entries of largest ``scores``."""
    kept = max(1, round(check_density(density) * scores.numel()))
    flat = scores.reshape(-1)
    out = torch.zeros_like(flat)
    out[torch.topk(flat, kept).indices] = 1
    return out.reshape(scores.shape)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``argmax model(X) == y``."""
    with torch.no_grad():
        return float((model(X).argmax(-1) == y).double().mean())


def random_network_masks(model: MaskedMLP, density: float, seed: int = 0) -> list[torch.Tensor]:
    """One uniformly random mask per layer at ``density`` (exact counts per layer)."""
    g = torch.Generator().manual_seed(seed)
    return [top_density(torch.rand(layer.mask.shape, generator=g), density).to(layer.mask.dtype)
            for layer in model.layers]


def magnitude_masks(model: MaskedMLP, density: float) -> list[torch.Tensor]:
    """Per layer, the ``density`` fraction of largest ``|W|`` (weight granularity) or largest row
    norms (neuron granularity) of the frozen weights."""
    out = []
    for layer in model.layers:
        s = layer.weight.abs() if layer.granularity == "weight" else layer.weight.norm(dim=1)
        out.append(top_density(s, density).to(layer.mask.dtype))
    return out


def _set_masks(model: MaskedMLP, masks: list[torch.Tensor]) -> None:
    for layer, m in zip(model.layers, masks, strict=True):
        layer.mask = m


def best_random_register(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, draws: int = 1000, *,
                         loss: str = "cross-entropy", density: float | None = None, seed: int = 0,
                         device: Any = "cpu") -> tuple[torch.Tensor, float]:
    """The best of ``draws`` uniformly random register masks (at ``density`` when given): ``(bits,
    loss)``."""
    g = torch.Generator().manual_seed(seed)
    if density is None:
        masks = torch.randint(0, 2, (draws, register.k), generator=g).to(torch.float64)
    else:
        masks = torch.stack([top_density(torch.rand(register.k, generator=g), density) for _ in range(draws)])
        masks = masks.to(torch.float64)
    v = mask_losses(model, register, X, Y, masks, loss=loss, device=device).cpu()
    i = int(v.argmin())
    return masks[i], float(v[i])


def anneal_black_box(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, *, steps: int = 200,
                     chains: int = 16, t_start: float | None = None, t_end: float | None = None,
                     loss: str = "cross-entropy", seed: int = 0, device: Any = "cpu"
                     ) -> tuple[torch.Tensor, float, int]:
    """Simulated annealing directly on the black-box loss: ``chains`` parallel chains, one random
    single-bit flip per chain per step accepted with ``min(1, exp(-delta / T))``, ``T`` geometric
    from ``t_start`` to ``t_end`` (defaults: the spread of the starting losses and 1e-3 of it);
    each step evaluates every chain's proposal in one batched forward.

    Returns:
        ``(bits, loss, evaluations)``: the best mask seen, its loss, the losses computed.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    g = torch.Generator().manual_seed(seed)
    k = register.k
    cur = torch.randint(0, 2, (chains, k), generator=g).to(torch.float64)

    def evaluate(m: torch.Tensor) -> torch.Tensor:
        return mask_losses(model, register, X, Y, m, loss=loss, device=device).cpu()

    val = evaluate(cur)
    spread = float(val.std()) if chains > 1 else 1.0
    t0 = t_start if t_start is not None else max(spread, 1e-6)
    t1 = t_end if t_end is not None else 1e-3 * t0
    best_i = int(val.argmin())
    best, best_val = cur[best_i].clone(), float(val[best_i])
    rows = torch.arange(chains)
    for step in range(steps):
        T = t0 * (t1 / t0) ** (step / max(1, steps - 1))
        flip = torch.randint(0, k, (chains,), generator=g)
        prop = cur.clone()
        prop[rows, flip] = 1 - prop[rows, flip]
        pv = evaluate(prop)
        accept = torch.rand(chains, generator=g, dtype=torch.float64) < torch.exp(-(pv - val).clamp_min(0) / T)
        cur = torch.where(accept[:, None], prop, cur)
        val = torch.where(accept, pv, val)
        i = int(val.argmin())
        if float(val[i]) < best_val:
            best, best_val = cur[i].clone(), float(val[i])
    return best, best_val, chains * (steps + 1)


def edge_popup(model: MaskedMLP, X: torch.Tensor, y: torch.Tensor, density: float, *, epochs: int = 100,
               lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 1e-4, batch_size: int = 128,
               seed: int = 0) -> dict[str, Any]:
    r"""Edge-popup: learn one score per weight, keep the top ``density`` fraction per layer.

    Forward: ``W o h(|s|)`` with ``h`` the top-``density`` mask of ``|s|`` per layer; backward:
    straight-through (``dL/d|s| = dL/dh``, so dropped edges can return). Scores start Kaiming
    uniform; SGD with momentum 0.9, weight decay 1e-4 and a cosine schedule over all steps,
    batch 128, as the authors ran it. At the end the layers' masks are set to ``h(s)``.

    Args:
        model: a weight-granularity :class:`~qtrain.nn.MaskedMLP` (its weights stay frozen).
        X, y: training inputs ``[N, d]`` and labels ``[N]``.
        density: fraction kept per layer, in ``(0, 1]``.

    Returns:
        ``{"losses": per-epoch mean training loss, "steps": optimiser steps}``.

    Raises:
        ValueError: ``density`` outside ``(0, 1]``, a neuron-granularity model, bad epochs.

    References:
        Ramanujan et al., arXiv:1911.13299.
    """
    density = check_density(density)
    if any(layer.granularity != "weight" for layer in model.layers):
        raise ValueError("edge_popup learns weight masks: build the model with granularity='weight'")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    g = torch.Generator().manual_seed(seed)
    scores = []
    for layer in model.layers:
        bound = math.sqrt(6 / ((1 + 5) * layer.in_features))  # kaiming_uniform_(a=sqrt(5)), their init
        scores.append(((2 * torch.rand(layer.weight.shape, generator=g) - 1) * bound).requires_grad_(True))
    opt = torch.optim.SGD(scores, lr=lr, momentum=momentum, weight_decay=weight_decay)
    n = X.shape[0]
    per_epoch = math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * per_epoch)
    losses = []

    def forward(xb: torch.Tensor) -> torch.Tensor:
        h = xb
        for i, (layer, s) in enumerate(zip(model.layers, scores, strict=True)):
            a = s.abs()  # ranked by |s|; the gradient reaches s through |.|, as in the authors' code
            hard = top_density(a.detach(), density)
            m = hard + a - a.detach()  # straight-through
            h = F.linear(h, layer.weight * m, layer.bias)
            if i < len(scores) - 1:
                h = model.act(h)
        return h

    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        total = 0.0
        for b in range(per_epoch):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(forward(X[idx]), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * idx.shape[0]
        losses.append(total / n)
    _set_masks(model, [top_density(s.detach().abs(), density) for s in scores])
    return {"losses": losses, "steps": epochs * per_epoch}


def train_dense(sizes: list[int], X: torch.Tensor, y: torch.Tensor, *, epochs: int = 100, lr: float = 1e-2,
                batch_size: int = 128, activation: str = "relu", bias: bool = False, seed: int = 0) -> nn.Sequential:
    """The same architecture (no biases by default, like the masked networks) trained densely with
    Adam: the ceiling a subnetwork is measured against, and the teacher of layer-wise distillation."""
    torch.manual_seed(seed)
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        mods.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            mods.append(nn.ReLU() if activation == "relu" else nn.Tanh())
    net = nn.Sequential(*mods)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for b in range(0, n, batch_size):
            idx = perm[b:b + batch_size]
            opt.zero_grad()
            F.cross_entropy(net(X[idx]), y[idx]).backward()
            opt.step()
    return net
