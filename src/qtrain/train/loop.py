"""Training loops shared by every method: epochs with a cosine step size, or mini-batch steps.

Both loops are method-agnostic: they call ``opt.step(closure)`` and hand the optimiser to an
``on_step`` callback after each step, where a caller reads ``opt.last_info`` (QUBO sizes, solver
time, routing). Evaluation time is never counted as training time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from qtrain._device import synchronize
from qtrain.nn import binary_mode
from qtrain.train.baselines import make_optimizer, trains_binary

__all__ = ["EpochsResult", "StepsResult", "cosine_schedule", "fit", "fit_steps"]


def cosine_schedule(total: int, floor: float = 1e-3) -> Callable[[int], float]:
    """The factor ``max((1 + cos(pi t / T)) / 2, floor)`` of step ``t`` of ``T = total`` steps
    (``torch.optim.lr_scheduler.LambdaLR`` multiplies the initial step size by it).

    Example:
        >>> f = cosine_schedule(4)
        >>> [round(f(t), 3) for t in range(5)]
        [1.0, 0.854, 0.5, 0.146, 0.001]
    """
    if total < 1:
        raise ValueError(f"total must be >= 1, got {total}")
    return lambda t: max(0.5 * (1 + math.cos(math.pi * t / total)), floor)


@dataclass
class EpochsResult:
    """What :func:`fit` returns.

    Attributes:
        curve: ``(step, metric)`` pairs, step 0 first.
        final: the last metric. train_loss: the last step's loss. seconds: training wall time.
        optimizer: the optimiser (call its ``detach()`` when it hooked the model, as QP-SBGD does).
    """

    curve: list[tuple[int, float]]
    final: float
    train_loss: float
    seconds: float
    optimizer: torch.optim.Optimizer


def fit(method: str, model: nn.Module, *, lr: float, epochs: int, steps_per_epoch: int,
        batch_loss: Callable[[int, int], torch.Tensor], evaluate: Callable[[], float],
        opt_kwargs: dict[str, Any] | None = None, evals_per_epoch: int = 1,
        on_step: Callable[[torch.optim.Optimizer], None] | None = None) -> EpochsResult:
    """Train ``model`` with ``method`` (``"qpsbgd"`` or a baseline) and a cosine-decayed ``lr``.

    ``lr_t = lr max((1 + cos(pi t / T)) / 2, 1e-3)`` over ``T = epochs * steps_per_epoch`` steps
    (:func:`cosine_schedule`); the metric is evaluated under the method's evaluation mode
    (binarised for the binary methods, :func:`~qtrain.train.baselines.trains_binary`).

    Args:
        method: ``"qpsbgd"`` or a key of :data:`~qtrain.train.baselines.BASELINES`.
        model: the model (its binary flag is set by :func:`~qtrain.train.baselines.make_optimizer`).
        lr: initial step size.
        epochs, steps_per_epoch: the schedule.
        batch_loss: ``batch_loss(epoch, i)`` returns the loss of step ``i`` of ``epoch``.
        evaluate: returns the metric (accuracy) of the model as it is.
        opt_kwargs: extra optimiser keywords.
        evals_per_epoch: evaluations per epoch for the curve.
        on_step: called with the optimiser after every step.

    Returns:
        :class:`EpochsResult`.
    """
    opt = make_optimizer(method, model, lr=lr, **(opt_kwargs or {}))
    eval_binary = trains_binary(method)[1]
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_schedule(total))
    every = max(1, steps_per_epoch // evals_per_epoch)

    def metric() -> float:
        with torch.no_grad(), binary_mode(model, eval_binary):
            return float(evaluate())

    curve, step, loss_v = [(0, metric())], 0, math.nan
    t0 = time.perf_counter()
    for epoch in range(epochs):
        for i in range(steps_per_epoch):
            def closure(epoch: int = epoch, i: int = i) -> torch.Tensor:
                opt.zero_grad()
                loss = batch_loss(epoch, i)
                loss.backward()
                return loss

            loss_v = float(opt.step(closure).detach())
            sched.step()
            step += 1
            if on_step is not None:
                on_step(opt)
            if step % every == 0 or step == total:
                curve.append((step, metric()))
    return EpochsResult(curve, curve[-1][1], loss_v, time.perf_counter() - t0, opt)


@dataclass
class StepsResult:
    """What :func:`fit_steps` returns.

    Attributes:
        losses: the loss of every step (before its update).
        evals: ``name -> values`` of ``evaluate`` at ``eval_steps`` (step 0 first).
        eval_steps: the steps evaluated.
        wall_s: training wall time, evaluations excluded.
    """

    losses: list[float]
    evals: dict[str, list[float]] = field(default_factory=dict)
    eval_steps: list[int] = field(default_factory=list)
    wall_s: float = 0.0


def fit_steps(opt: torch.optim.Optimizer, model: nn.Module, loss_fn: Callable, x: torch.Tensor,
              y: torch.Tensor, *, steps: int, batch: int, eval_every: int, seed: int,
              evaluate: Callable[[nn.Module], dict[str, float]], newton: bool = False,
              device: torch.device | str = "cpu",
              on_step: Callable[[torch.optim.Optimizer], None] | None = None) -> StepsResult:
    """``steps`` mini-batch steps of ``batch`` rows drawn without replacement per step (seeded);
    ``evaluate(model)`` at step 0, every ``eval_every`` steps and at the end, in ``eval()`` mode.

    Args:
        opt: the optimiser.
        model, loss_fn: ``loss_fn(model(x), y)`` reduces by the batch mean.
        x, y: the training rows.
        steps, batch, eval_every: the schedule.
        seed: seeds the row draws.
        evaluate: ``name -> value`` metrics of the model.
        newton: the optimiser builds its own curvature (:class:`~qtrain.train.QNewton`): the
            closure returns the loss without ``backward`` and the step gets ``batch=(xb, yb)``.
        device: synchronised before each clock reading.
        on_step: called with the optimiser after every step.

    Returns:
        :class:`StepsResult`.
    """
    g = torch.Generator().manual_seed(seed)
    out = StepsResult([])

    def record(step: int) -> None:
        model.eval()
        with torch.no_grad():
            for k, v in evaluate(model).items():
                out.evals.setdefault(k, []).append(v)
        model.train()
        out.eval_steps.append(step)

    record(0)
    synchronize(device)
    t0 = time.perf_counter()
    for step in range(steps):
        idx = torch.randperm(x.shape[0], generator=g)[:batch].to(x.device)
        xb, yb = x[idx], y[idx]

        def closure(xb: torch.Tensor = xb, yb: torch.Tensor = yb) -> torch.Tensor:
            if newton:
                return loss_fn(model(xb), yb)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            return loss

        loss = opt.step(closure, batch=(xb, yb)) if newton else opt.step(closure)
        out.losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(opt)
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            synchronize(device)
            t_eval = time.perf_counter()
            record(step + 1)
            t0 += time.perf_counter() - t_eval  # evaluation is not training time
    synchronize(device)
    out.wall_s = time.perf_counter() - t0
    return out
