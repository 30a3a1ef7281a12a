"""Shared pieces of the QP-SBGD benchmarks: the training loop as metrics, tables, plots."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from qtrain.bench.base import pyplot, save_figure, single_thread
from qtrain.train.loop import fit as train_fit

__all__ = ["fit", "grid_edges", "method_table", "plot_curves", "plot_tuning", "selection_rank",
           "single_thread"]


def fit(method: str, model: nn.Module, *, lr: float, epochs: int, steps_per_epoch: int,
        batch_loss: Callable[[int, int], torch.Tensor], evaluate: Callable[[], float],
        opt_kwargs: dict[str, Any] | None = None, evals_per_epoch: int = 1) -> dict[str, Any]:
    """:func:`qtrain.train.loop.fit` as benchmark metrics.

    Returns:
        ``{"curve": [(step, metric)], "final": metric, "train_loss": last loss, "seconds": wall,
        "solver_s_per_step", "qubo_sizes", "sampler_calls_per_step", "grad_cosine",
        "sign_cosine", "layer_qubos", "largest_qubo", "qubo_problems_per_step"}`` (the last eight
        for QP-SBGD, from its ``last_info``: ``qubo_sizes`` of the last step; the cosines per
        layer, the mean over the steps where the layer moved; ``layer_qubos`` per layer the most
        problems and variables of any step, ``largest_qubo`` their largest variables).
    """
    solver_s: list[float] = []
    calls: list[int] = []
    sizes: dict[str, Any] = {}
    cosines: dict[str, dict[str, list[float]]] = {"grad_cosine": {}, "sign_cosine": {}}
    problems: list[int] = []
    layer_qubos: dict[str, list[int]] = {}

    def collect(opt: torch.optim.Optimizer) -> None:
        nonlocal sizes
        if method == "qpsbgd":
            info = opt.last_info
            solver_s.append(info["solver_time_s"])
            calls.append(info["sampler_calls"])
            sizes = info["qubo_sizes"] or info.get("milp_sizes") or sizes
            for key, per_layer in cosines.items():
                for layer, c in info.get(key, {}).items():
                    per_layer.setdefault(layer, []).append(c)
            step_sizes = info["qubo_sizes"] or info.get("milp_sizes") or {}
            problems.append(sum(m for m, _ in step_sizes.values()))
            for layer, (m, v) in step_sizes.items():
                cur = layer_qubos.setdefault(layer, [m, v])
                cur[:] = [max(cur[0], m), max(cur[1], v)]

    res = train_fit(method, model, lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch,
                    batch_loss=batch_loss, evaluate=evaluate, opt_kwargs=opt_kwargs,
                    evals_per_epoch=evals_per_epoch, on_step=collect)
    out = {"curve": res.curve, "final": res.final, "train_loss": res.train_loss, "seconds": res.seconds}
    if method == "qpsbgd":
        res.optimizer.detach()
        out["solver_s_per_step"] = float(np.mean(solver_s)) if solver_s else 0.0
        out["sampler_calls_per_step"] = float(np.mean(calls)) if calls else 0.0
        out["qubo_sizes"] = sizes
        out["layer_qubos"] = layer_qubos
        out["largest_qubo"] = max((v for _, v in layer_qubos.values()), default=0)
        out["qubo_problems_per_step"] = float(np.mean(problems)) if problems else 0.0
        for key, per_layer in cosines.items():
            out[key] = {layer: float(np.mean(v)) for layer, v in sorted(per_layer.items())}
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


def selection_rank(metrics: list[dict[str, Any]], lr: float) -> tuple[float, float, float]:
    """The validation protocol's order of a grid point (smaller is better): the best mean
    ``val_acc`` (rounded to 1e-9), then the lower mean ``val_loss`` (NaN last), then the smaller
    step ``lr``."""
    loss = float(np.mean([m["val_loss"] for m in metrics]))
    return (-round(float(np.mean([m["val_acc"] for m in metrics])), 9),
            loss if math.isfinite(loss) else math.inf, float(lr))


def grid_edges(grid: list[dict[str, float]], setting: dict[str, float]) -> list[str]:
    """The keys of ``setting`` at the smallest or largest value of ``grid`` (a value of 0, the
    natural bound of a strength such as ProxQuant's, is not an edge: it cannot be extended)."""
    out = []
    for key, value in sorted(setting.items()):
        values = [g[key] for g in grid]
        if value != 0 and value in (min(values), max(values)):
            out.append(key)
    return out


def plot_tuning(groups: dict[tuple[str, str, str], tuple[dict[str, float], list[dict[str, Any]]]],
                chosen: dict[str, dict[str, dict[str, float]]], path: Path, panel: str,
                title: str) -> Path:
    """A tuning benchmark's plot: validation accuracy against step size, one panel per group
    (``panel`` names it: ``"pair"``, or ``""`` for graphs), one line per method (and its other
    settings), the chosen setting circled.

    ``groups``: ``(group, method, label) -> (setting, [metrics])``; ``chosen``:
    ``group -> method -> setting``.
    """
    plt = pyplot()
    names = sorted({k[0] for k in groups})
    fig, axes = plt.subplots(1, len(names), figsize=(4.4 * len(names), 3.4), squeeze=False)
    for ax, group in zip(axes[0], names, strict=True):
        lines: dict[str, list[tuple[float, float]]] = {}
        for (g, method, _), (setting, ms) in groups.items():
            if g != group:
                continue
            name = method + "".join(f" {k}={v:g}" for k, v in setting.items() if k != "lr")
            acc = float(np.mean([m["val_acc"] for m in ms]))
            lines.setdefault(name, []).append((setting["lr"], acc))
            if chosen[group][method] == setting:
                ax.scatter([setting["lr"]], [acc], s=90, facecolors="none", edgecolors="k")
        for name, pts in sorted(lines.items()):
            pts.sort()
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=name)
        ax.set_xscale("log")
        ax.set_title(f"{panel} {group}".strip())
        ax.set_xlabel("step size")
        ax.set_ylabel("validation accuracy")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{title} (circled: chosen)")
    save_figure(fig, path, dpi=110)
    return path
