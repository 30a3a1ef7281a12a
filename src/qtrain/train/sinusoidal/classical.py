"""Classical side of sinusoidal-network training: batched GD, cost enumeration, brute force.

Everything here is batched: GD trains all seeds of a configuration as one batch of networks, and the
enumeration evaluates chunks of weight configurations in one forward pass (CPU or CUDA).

References:
    Wen, Huang, Dahlsten, arXiv:2410.22016 (v1 toy, v2 deep sweeps, bad-minimum criterion).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from qtrain._device import resolve_device
from qtrain.nn.sinusoidal import DSinNN, SinNN, ternarize

__all__ = ["BruteForceResult", "GDResult", "bad_minimum_mask", "brute_force_search", "config_weights",
           "enumerate_losses", "gd_train", "point_errors"]


@dataclass
class GDResult:
    """Batched GD outcome, one entry per seed.

    Attributes:
        loss: final training MSE ``[S]``.
        test_loss: final test MSE ``[S]`` (``None`` without test data).
        weights: final (latent) weights, per layer ``[S, out, in]``.
        max_grad: the largest |gradient| entry seen during training, per seed ``[S]``.
        evaluations: network evaluations (forward + backward on one point) per seed.
        seconds: wall time of the whole batch.
    """

    loss: torch.Tensor
    test_loss: torch.Tensor | None
    weights: list[torch.Tensor]
    max_grad: torch.Tensor
    evaluations: int
    seconds: float
    seeds: list[int] = field(default_factory=list)


def _mse(model: SinNN, weights: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (model.forward_with(weights, x) - y).pow(2).mean(dim=(-1, -2))


def gd_train(model: SinNN, x: torch.Tensor, y: torch.Tensor, seeds: Sequence[int], *, epochs: int, lr: float,
             batch_size: int | None = None, clip: float | None = None, x_test: torch.Tensor | None = None,
             y_test: torch.Tensor | None = None, device: str | torch.device = "auto") -> GDResult:
    """Plain SGD on the MSE for every seed at once (straight-through for a :class:`DSinNN`).

    Each seed ``s`` draws its initial weights from ``torch.Generator().manual_seed(s)`` (and its data
    order from seed ``s + 10**6``), so a seed's run does not depend on the other seeds in the batch.
    Update: ``w <- w - lr * g * min(1, clip / ||g||)`` with the norm over all layers of one seed.

    Args:
        model: the architecture (its own parameters are not touched).
        x, y: training data ``[n, in]``, ``[n, out]``.
        seeds: one network per seed.
        epochs: passes over the data (>= 1).
        lr: learning rate (> 0).
        batch_size: mini-batch size; ``None`` for full batch.
        clip: per-seed gradient-norm clip, or ``None``.
        x_test, y_test: optional test data for ``test_loss``.
        device: "auto", "cpu" or "cuda".

    Returns:
        :class:`GDResult`.

    References:
        arXiv:2410.22016 (v1: lr 0.01, 30 epochs; v2: full batch, lr 0.002, 300 epochs, clip 1.0).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    if clip is not None and not (clip > 0 and math.isfinite(clip)):
        raise ValueError(f"clip must be a finite number > 0 or None, got {clip}")
    if not seeds:
        raise ValueError("seeds must be non-empty")
    dev = resolve_device(device)
    n = x.shape[0]
    bs = n if batch_size is None else batch_size
    if not 1 <= bs <= n:
        raise ValueError(f"batch_size must be in 1..{n}, got {batch_size}")
    x, y = x.to(dev, model.dtype), y.to(dev, model.dtype)
    per_seed = [model.init_weights(generator=torch.Generator().manual_seed(int(s))) for s in seeds]
    ws = [torch.stack([p[l] for p in per_seed]).to(dev).requires_grad_(True) for l in range(len(model.shapes))]
    S = len(seeds)
    orders = torch.stack([torch.stack([torch.randperm(n, generator=g) for _ in range(epochs)])
                          for g in (torch.Generator().manual_seed(int(s) + 10**6) for s in seeds)]).to(dev)
    max_grad = torch.zeros(S, dtype=model.dtype, device=dev)
    t0 = time.perf_counter()
    for e in range(epochs):
        for start in range(0, n, bs):
            idx = orders[:, e, start:start + bs]
            loss = _mse(model, ws, x[idx], y[idx]).sum()
            grads = torch.autograd.grad(loss, ws)
            with torch.no_grad():
                gmax = torch.stack([g.abs().flatten(1).amax(1) for g in grads]).amax(0)
                max_grad = torch.maximum(max_grad, gmax)
                scale = torch.ones(S, dtype=model.dtype, device=dev)
                if clip is not None:
                    norm = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0).sqrt()
                    scale = torch.clamp(clip / (norm + 1e-6), max=1.0)
                for w, g in zip(ws, grads, strict=True):
                    w -= lr * scale.view(-1, 1, 1) * g
    with torch.no_grad():
        final = _mse(model, ws, x, y)
        test = None if x_test is None else _mse(model, ws, x_test.to(dev, model.dtype), y_test.to(dev, model.dtype))
    return GDResult(final.cpu(), None if test is None else test.cpu(), [w.detach().cpu() for w in ws],
                    max_grad.cpu(), epochs * n, time.perf_counter() - t0, list(seeds))


def bad_minimum_mask(losses: torch.Tensor, lmin: float | None = None) -> torch.Tensor:
    """Runs stuck in a bad local minimum: ``(L - Lmin) / (Lmin + 1e-8) > 1`` and ``L - Lmin > 1e-4``,
    with ``Lmin`` the best loss over the runs (or the given ``lmin``). arXiv:2410.22016."""
    lm = float(losses.min()) if lmin is None else float(lmin)
    return ((losses - lm) / (lm + 1e-8) > 1) & (losses - lm > 1e-4)


def config_weights(index: torch.Tensor, levels: torch.Tensor, num_weights: int) -> torch.Tensor:
    """Weights of configurations ``index`` (``[B]`` int64): weight ``j`` takes
    ``levels[(index // L^j) % L]``, ``L = len(levels)`` (little-endian digits; with ``L = 2^b`` weight
    ``j`` sits on bits ``j*b .. j*b + b - 1`` of the weight register). Returns ``[B, num_weights]``."""
    L = len(levels)
    powers = L ** torch.arange(num_weights, device=index.device, dtype=torch.int64)
    digits = torch.div(index.unsqueeze(-1), powers, rounding_mode="floor") % L
    return levels.to(index.device)[digits]


def point_errors(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared error per point, summed over outputs: ``[..., n, out] -> [..., n]``."""
    return (pred - y).pow(2).sum(-1)


def _additive(model: DSinNN) -> bool:
    return len(model.hidden_sizes) == 1 and model.readout == "sum"


def _neuron_sum_tables(model: DSinNN, x: torch.Tensor, lv: torch.Tensor, neurons: int) -> torch.Tensor:
    """``S[i, p] = sum_{j < neurons} A(s_1 (W_j x_p) + offset)`` for every configuration ``i`` of the
    first ``neurons`` neuron rows (little-endian, one base-``L^in`` digit per neuron)."""
    rows = config_weights(torch.arange(len(lv) ** model.in_features, device=x.device), lv, model.in_features)
    table = model.activate(model.scales[0] * (x @ rows.T) + model.offset).T  # [R, n]
    S = torch.zeros(1, x.shape[0], dtype=table.dtype, device=x.device)
    for _ in range(neurons):
        S = (table[:, None, :] + S[None, :, :]).reshape(-1, x.shape[0])
    return S


def enumerate_losses(model: DSinNN, x: torch.Tensor, y: torch.Tensor, *, levels: torch.Tensor | None = None,
                     chunk_size: int = 2**16, device: str | torch.device = "auto",
                     reduce: str | Callable[[torch.Tensor], torch.Tensor] = "errors",
                     out_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Per-point squared errors of every weight configuration, by chunked vectorised enumeration.

    Configuration ``i`` (see :func:`config_weights`) gets ``e[i, p] = ||f_w(x_p) - y_p||^2``. For one
    hidden layer with a plain-sum readout the pre-output sum is additive over neurons, so it is
    assembled from two precomputed half tables (``S_lo[i_lo] + S_hi[i_hi]``, meet in the middle)
    instead of running the network on every configuration; other nets run the batched forward.

    Args:
        model: a :class:`DSinNN`; its weights are replaced by each configuration (quantiser skipped).
        x, y: data ``[n, in]``, ``[n, out]``.
        levels: values each weight enumerates (default ``model.weight_levels``).
        chunk_size: configurations per pass (rounded to whole half tables on the fast path).
        device: "auto", "cpu" or "cuda".
        reduce: ``"errors"`` (``[N, n]``), ``"mse"`` (``[N]``) or a function ``e [B, n] -> [B]``.
        out_dtype: dtype of a callable ``reduce``'s output (default the model's dtype).

    Returns:
        The tensor on ``device``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    dev = resolve_device(device)
    lv = (model.weight_levels if levels is None else torch.as_tensor(levels)).to(dev, model.dtype)
    M, n = model.num_weights, x.shape[0]
    total = len(lv) ** M
    x, y = x.to(dev, model.dtype), y.to(dev, model.dtype)
    if reduce == "errors":
        red, out = None, torch.empty((total, n), dtype=model.dtype, device=dev)
    else:
        red = (lambda e: e.mean(-1)) if reduce == "mse" else reduce
        out = torch.empty(total, dtype=model.dtype if reduce == "mse" or out_dtype is None else out_dtype,
                          device=dev)

    def emit(start: int, pred: torch.Tensor) -> None:
        e = point_errors(pred, y)
        out[start:start + e.shape[0]] = e if red is None else red(e)

    with torch.no_grad():
        if _additive(model):
            H = model.hidden_sizes[0]
            lo = _neuron_sum_tables(model, x, lv, H // 2)
            hi = _neuron_sum_tables(model, x, lv, H - H // 2)
            step = max(1, chunk_size // lo.shape[0])
            for h0 in range(0, hi.shape[0], step):
                s = (hi[h0:h0 + step, None, :] + lo[None, :, :]).reshape(-1, n, 1)
                emit(h0 * lo.shape[0], ternarize(s) if model.output == "ternary" else s)
        else:
            for start in range(0, total, chunk_size):
                idx = torch.arange(start, min(start + chunk_size, total), device=dev)
                emit(start, model.forward_with(model.unflatten(config_weights(idx, lv, M)), x, quantized=True))
    return out


@dataclass
class BruteForceResult:
    """Exhaustive search outcome.

    Attributes:
        weights: per-layer discrete weights of the best configuration.
        index: its configuration index.
        loss: its training MSE.
        evaluations: network evaluations, ``n * N_w`` (one per point and configuration).
        seconds: wall time.
        num_minima: configurations sharing the minimal loss.
    """

    weights: list[torch.Tensor]
    index: int
    loss: float
    evaluations: int
    seconds: float
    num_minima: int


def brute_force_search(model: DSinNN, x: torch.Tensor, y: torch.Tensor, *, levels: Sequence[float] | None = None,
                       chunk_size: int = 2**16, device: str | torch.device = "auto") -> BruteForceResult:
    """Exhaustive minimum of the training MSE over all ``L^M`` discrete weight configurations.

    ``argmin_w (1/n) sum_p ||f_w(x_p) - y_p||^2``, ties to the lowest configuration index.

    Example:
        >>> from qtrain.nn import toy_dsinnn
        >>> from qtrain.data import toy_data
        >>> x, y = toy_data(discrete=True)
        >>> brute_force_search(toy_dsinnn(), x, y, levels=[-1, 1]).loss
        0.0
    """
    t0 = time.perf_counter()
    lv = None if levels is None else torch.as_tensor(levels, dtype=model.dtype)
    mse = enumerate_losses(model, x, y, levels=lv, chunk_size=chunk_size, device=device, reduce="mse")
    best = float(mse.min())
    index = int(torch.argmin(mse))
    lvl = (model.weight_levels if lv is None else lv).to(mse.device, model.dtype)
    w = model.unflatten(config_weights(torch.tensor([index], device=mse.device), lvl, model.num_weights)[0])
    num_min = int((mse <= best + 1e-9).sum())
    return BruteForceResult([t.cpu() for t in w], index, best, x.shape[0] * mse.numel(),
                            time.perf_counter() - t0, num_min)
