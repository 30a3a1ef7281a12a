"""Tables and plots of the Q-Newton training benchmarks (``qnewton-mlp``, ``qnewton-lm``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qtrain.bench.base import pyplot, save_figure

__all__ = ["write_training_report"]


def _mean_curves(runs: list[Any], key: str) -> dict[str, np.ndarray]:
    acc: dict[str, list[list[float]]] = {}
    for r in runs:
        if key in r.metrics:
            acc.setdefault(r.method, []).append(r.metrics[key])
    out = {}
    for m, curves in acc.items():
        n = min(len(c) for c in curves)
        out[m] = np.mean([c[:n] for c in curves], axis=0)
    return out


def _mean(runs: list[Any], method: str, key: str) -> float:
    v = [float(r.metrics[key]) for r in runs if r.method == method and key in r.metrics]
    return float(np.mean(v)) if v else float("nan")


def write_training_report(name: str, runs: list[Any], cfg: Any, *, metric: str,
                          metric_label: str, profiles: tuple[str, ...]) -> list[Path]:
    """Markdown tables (results, projected times) and PNGs (curves, kappa/d, projections)."""
    plt = pyplot()

    methods = list(dict.fromkeys(r.method for r in runs))
    lines = [f"# {name}{' (quick)' if cfg.quick else ''}", "",
             f"| method | final {metric} | final test loss | final train loss | wall (s) | "
             "solves routed quantum | kappa median first/last | fallbacks |",
             "|---|---|---|---|---|---|---|---|"]
    for m in methods:
        qf = _mean(runs, m, "quantum_fraction")
        kd = _mean(runs, m, "kappa_drop")
        lines.append(f"| {m} | {_mean(runs, m, f'final_{metric}'):.2f} | "
                     f"{_mean(runs, m, 'final_test_loss'):.4f} | "
                     f"{_mean(runs, m, 'final_train_loss'):.4f} | {_mean(runs, m, 'wall_s'):.2f} | "
                     f"{'' if np.isnan(qf) else f'{100 * qf:.0f}%'} | "
                     f"{'' if np.isnan(kd) else f'{kd:.3g}x'} | "
                     f"{'' if np.isnan(_mean(runs, m, 'fallbacks')) else int(_mean(runs, m, 'fallbacks'))} |")
    qmethods = [m for m in methods if any(r.method == m and "projected_classical_s" in r.metrics
                                          for r in runs)]
    if qmethods:
        lines += ["", "Projected training time of Q-Newton relative to classical Newton (same run, "
                  "same clock; < 1 is a saving). Classical = forward/backward + curvature + "
                  "measured Cholesky per block; hybrid adds kappa estimation and prices each "
                  "block on its routed branch. Cells: time ratio (share of solves routed quantum).",
                  "", "| method | " + " | ".join(f"{p} | {p} + read-out" for p in profiles) + " |",
                  "|---|" + "---|" * (2 * len(profiles))]
        for m in qmethods:
            cells = []
            for p in profiles:
                for tag in (p, f"{p}+readout"):
                    cells.append(f"{_mean(runs, m, f'ratio:{tag}'):.3g} "
                                 f"({100 * _mean(runs, m, f'qfrac:{tag}'):.0f}%)")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines += ["", "The paper's accounting, the linear solves alone (hybrid solve time / "
                  "classical solve time): " + ", ".join(
                      f"{p} {_mean(runs, m, f'solve_ratio:{p}'):.3g} (read-out "
                      f"{_mean(runs, m, f'solve_ratio:{p}+readout'):.3g})"
                      for m in qmethods[:1] for p in profiles)]
        lines += ["", "Floor (solves and kappa estimation free): " + ", ".join(
            f"{m} {_mean(runs, m, 'ratio:free-solves'):.3g}" for m in qmethods)]
        m0 = qmethods[0]
        parts = {k: _mean(runs, m0, k) for k in ("closure_s", "curvature_s", "kappa_estimate_s",
                                                  "solve_s", "projected_classical_s")}
        lines += ["", f"Measured parts of `{m0}` (s): " +
                  ", ".join(f"{k} {v:.3g}" for k, v in parts.items())]
    md = cfg.out_dir / f"{name}.md"
    md.write_text("\n".join(lines) + "\n")
    files = [md]

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    steps = _mean_curves(runs, "eval_steps")
    for m, c in _mean_curves(runs, f"{metric}_curve").items():
        axes[0].plot(steps[m][: len(c)], c, marker="o", ms=3, label=m)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel(metric_label)
    axes[0].legend(fontsize=7)
    for m, c in _mean_curves(runs, "loss_curve").items():
        axes[1].plot(np.arange(1, len(c) + 1), c, label=m)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("training loss (mini-batch)")
    axes[1].set_yscale("log")
    fig.suptitle(name + (" (quick)" if cfg.quick else ""))
    png = save_figure(fig, cfg.out_dir / f"{name}-curves.png", dpi=110)
    files.append(png)

    kmed, kmax, dmax = (_mean_curves(runs, k) for k in ("kappa_median_curve", "kappa_max_curve",
                                                         "d_max_curve"))
    if kmed:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for m in kmed:
            x = np.arange(len(kmed[m]))
            axes[0].plot(x, kmed[m], label=f"{m} median")
            axes[0].plot(x, kmax[m], ls="--", label=f"{m} max")
            axes[1].plot(x, dmax[m], label=m)
        axes[0].axhline(1e4, color="k", lw=0.8, ls=":", label="threshold 1e4")
        axes[0].set_yscale("log")
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("kappa of the regularised blocks")
        axes[0].legend(fontsize=7)
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("max sparsity d")
        axes[1].legend(fontsize=7)
        png = save_figure(fig, cfg.out_dir / f"{name}-kappa.png", dpi=110)
        files.append(png)
    if qmethods:
        fig, ax = plt.subplots(figsize=(8, 4))
        x = np.arange(len(profiles))
        m0 = qmethods[0]
        for off, (lab, suf) in zip((-0.2, 0.2), (("no read-out", ""), ("with read-out",
                                                                         "+readout")), strict=True):
            ax.bar(x + off, [_mean(runs, m0, f"ratio:{p}{suf}") for p in profiles], 0.4,
                   label=lab)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.axhline(0.1, color="r", lw=0.8, ls=":", label="paper's 90% saving")
        ax.set_xticks(x, profiles, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("projected time / classical Newton")
        ax.legend(fontsize=8)
        png = save_figure(fig, cfg.out_dir / f"{name}-projected.png", dpi=110)
        files.append(png)
    return files
