"""Shared pieces of the QP-SBGD benchmarks: one training loop for every method, tables, plots."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from qtrain.bench.base import pyplot, save_figure
from qtrain.nn import binary_mode
from qtrain.train.baselines import BASELINES, make_optimizer

__all__ = ["fit", "method_table", "plot_curves", "single_thread"]


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch single-threaded inside the block.

    Why: the step's tensors are small (a few hundred variables); on a 2-core machine shared with
    other jobs, torch's intra-op threads made every small op 10x slower in our measurements, while
    the annealer's own numba threads are unaffected.
    """
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def fit(method: str, model: nn.Module, *, lr: float, epochs: int, steps_per_epoch: int,
        batch_loss: Callable[[int, int], torch.Tensor], evaluate: Callable[[], float],
        opt_kwargs: dict[str, Any] | None = None, evals_per_epoch: int = 1) -> dict[str, Any]:
    """Train ``model`` with ``method`` (``"qpsbgd"`` or a baseline) and a cosine-decayed ``lr``.

    Args:
        method: ``"qpsbgd"`` or a key of :data:`~qtrain.train.baselines.BASELINES`.
        model: the model (its binary flag is set by :func:`~qtrain.train.baselines.make_optimizer`).
        lr: initial step size; ``lr_t = lr (1 + cos(pi t / T)) / 2`` over ``T`` steps.
        epochs, steps_per_epoch: the schedule.
        batch_loss: ``batch_loss(epoch, i)`` returns the loss of step ``i`` of ``epoch``.
        evaluate: returns the metric (accuracy) of the model as it is.
        opt_kwargs: extra optimiser keywords.
        evals_per_epoch: evaluations per epoch for the curve.

    Returns:
        ``{"curve": [(step, metric)], "final": metric, "train_loss": last loss, "seconds": wall,
        "solver_s_per_step", "qubo_sizes", "sampler_calls_per_step"}`` (the last three for QP-SBGD).
    """
    opt = make_optimizer(method, model, lr=lr, **(opt_kwargs or {}))
    eval_binary = True if method == "qpsbgd" else BASELINES[method][1]
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: max(0.5 * (1 + math.cos(math.pi * t / total)), 1e-3))
    every = max(1, steps_per_epoch // evals_per_epoch)

    def metric() -> float:
        with torch.no_grad(), binary_mode(model, eval_binary):
            return float(evaluate())

    curve, solver_s, calls, sizes, step, loss_v = [(0, metric())], [], [], {}, 0, math.nan
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
            if method == "qpsbgd":
                info = opt.last_info
                solver_s.append(info["solver_time_s"])
                calls.append(info["sampler_calls"])
                sizes = info["qubo_sizes"] or info.get("milp_sizes") or sizes
            if step % every == 0 or step == total:
                curve.append((step, metric()))
    out = {"curve": curve, "final": curve[-1][1], "train_loss": loss_v,
           "seconds": time.perf_counter() - t0}
    if method == "qpsbgd":
        opt.detach()
        out["solver_s_per_step"] = float(np.mean(solver_s)) if solver_s else 0.0
        out["sampler_calls_per_step"] = float(np.mean(calls)) if calls else 0.0
        out["qubo_sizes"] = sizes
    return out


def method_table(runs: list[Any], group_key: str, metric: str, extra: tuple[str, ...] = ()
                 ) -> list[str]:
    """Markdown rows ``| group | method | mean +- std (n) | extras |`` over the stored runs."""
    acc: dict[tuple[str, str], list[Any]] = {}
    for r in runs:
        acc.setdefault((str(r.params.get(group_key, "")), r.method), []).append(r.metrics)
    head = f"| {group_key} | method | {metric} mean ± std | seeds |" + "".join(f" {e} |" for e in extra)
    lines = [head, "|" + "---|" * (4 + len(extra))]
    def order(item: tuple[tuple[str, str], Any]) -> tuple[float, str, str]:
        (g, m), _ = item
        return (float(g) if g.replace(".", "", 1).isdigit() else math.inf, g, m)

    for (g, m), ms in sorted(acc.items(), key=order):
        v = np.array([x[metric] for x in ms], dtype=float)
        cells = []
        for e in extra:
            vals = [x[e] for x in ms if isinstance(x.get(e), int | float)]
            cells.append(f" {np.mean(vals):.4g} |" if vals else " - |")
        lines.append(f"| {g} | {m} | {v.mean():.4f} ± {v.std():.4f} | {len(v)} |" + "".join(cells))
    return lines


def plot_curves(runs: list[Any], group_key: str, ylabel: str, title: str, path: Path,
                log: bool = False) -> Path:
    """One panel per group: the mean curve (metrics ``curve_steps``/``curve_values``) per method."""
    plt = pyplot()

    groups = sorted({str(r.params.get(group_key, "")) for r in runs})
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.4), squeeze=False)
    for ax, g in zip(axes[0], groups, strict=True):
        by_method: dict[str, list[Any]] = {}
        for r in runs:
            if str(r.params.get(group_key, "")) == g:
                by_method.setdefault(r.method, []).append(r.metrics)
        for m, ms in sorted(by_method.items()):
            n = min(len(x["curve_values"]) for x in ms)
            ys = np.array([x["curve_values"][:n] for x in ms], dtype=float)
            ax.plot(ms[0]["curve_steps"][:n], ys.mean(0), label=m)
        ax.set_title(f"{group_key}={g}")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    save_figure(fig, path, dpi=110)
    return path
