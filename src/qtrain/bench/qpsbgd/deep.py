"""Benchmark ``qpsbgd-deep``: QP-SBGD on deeper binary MLPs, beside its baselines.

The paper's case for a layer-wise optimiser (Krahn et al., arXiv:2310.15128) is that each step's
problems stay per neuron however deep the network is. Data: the ten classes of scikit-learn's 8x8
digits (+-1 pixels) and the breast-cancer tabular data (+-1 by training medians; the stand-in for
the paper's Adult data, :func:`~qtrain.data.breast_cancer`). Models: binary MLPs with
:data:`DEPTHS` hidden layers of :data:`WIDTH` neurons (sign activations, no biases). Methods:
QP-SBGD (``qpsbgd-digits``' setting: annealer, 4 reads x 100 sweeps, every row of the batch,
refined reads), BinaryConnect, signSGD, ProxQuant and full precision, trained by
:func:`~qtrain.bench.qpsbgd.digits.fit_digits` (mini-batches of 32, cosine-decayed step size).

Protocol: each seed's training rows are split 80/20 (:func:`~qtrain.data.validation_split`); every
point of a method's fixed grid (:data:`GRIDS`) trains on the 80% and is scored on the 20%
(validation) and on the test rows. The report chooses, per data set, depth and method, the grid
point with the best mean validation accuracy (ties: lower validation cross-entropy, then the
smaller step) and shows *its* test accuracy: the choice never looks at test rows. A choice on a
grid edge is flagged (extend the grid and resume).

Cost per QP-SBGD step, from ``last_info``: the largest QUBO (variables), the QUBO problems
(neurons), sampler calls and solver seconds, against depth (plot): the largest QUBO is that of the
widest fan-in, ``n + B (R + 1)``, whatever the depth; the problems and solver time grow linearly;
layers of one fan-in share one sampler call.

``--quick``: seed 0, depths 2 and 4, width 8, 1 epoch, each grid's middle point only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.bench.qpsbgd.common import grid_edges, selection_rank, single_thread
from qtrain.bench.qpsbgd.digits import fit_digits
from qtrain.data import Split, breast_cancer, digits, validation_split

__all__ = ["DATASETS", "DEPTHS", "GRIDS", "WIDTH", "QPSBGDDeep", "select"]

DEPTHS = (2, 4, 6, 10)
WIDTH = 32
DATASETS = ("digits10", "breast-cancer")
#: Step-size grids per method (ProxQuant also its strength), centred on the choices of
#: ``qpsbgd-digits-tune``; a choice on an edge is flagged in the report.
GRIDS: dict[str, list[dict[str, float]]] = {
    "qpsbgd": [{"lr": v} for v in (0.05, 0.2, 0.5)],
    "bc": [{"lr": v} for v in (0.3, 3.0, 30.0)],
    "signsgd": [{"lr": v} for v in (0.003, 0.01, 0.03)],
    "proxquant": [{"lr": v, "reg": r} for v in (1.0, 10.0, 100.0) for r in (0.0, 0.0001)],
    "full-precision": [{"lr": v} for v in (0.003, 0.03, 0.3)],
}
VALIDATION_FRACTION = 0.2


def _settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 1 if quick else 10, "batch_size": 32, "width": 8 if quick else WIDTH,
            "val": VALIDATION_FRACTION}


def _data(name: str, seed: int) -> Split:
    if name == "digits10":
        return digits(seed=seed)
    if name == "breast-cancer":
        return breast_cancer(seed=seed)
    raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")


def _label(setting: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in sorted(setting.items()))


def select(runs: list[Any]) -> dict[tuple[str, int, str], tuple[dict[str, float], list[Any]]]:
    """Per (data set, depth, method): the chosen setting and its runs (best mean validation
    accuracy, then the lower mean validation cross-entropy, then the smaller step)."""
    groups: dict[tuple[str, int, str, str], tuple[dict[str, float], list[Any]]] = {}
    for r in runs:
        setting = {k: r.params[k] for k in ("lr", "reg") if k in r.params}
        key = (r.params["data"], int(r.params["depth"]), r.method.split("/")[0], _label(setting))
        groups.setdefault(key, (setting, []))[1].append(r)
    best: dict[tuple[str, int, str], tuple[tuple[float, float, float], dict[str, float], list]] = {}
    for (data, depth, method, _), (setting, rs) in groups.items():
        rank = selection_rank([r.metrics for r in rs], setting["lr"])
        cur = best.get((data, depth, method))
        if cur is None or rank < cur[0]:
            best[data, depth, method] = (rank, setting, rs)
    return {k: (setting, rs) for k, (_, setting, rs) in sorted(best.items())}


class QPSBGDDeep(Benchmark):
    name = "qpsbgd-deep"
    description = ("binary MLPs with 2-10 hidden layers on the ten digit classes and breast cancer: "
                   "QP-SBGD vs BC, signSGD, ProxQuant, full precision (steps chosen on validation "
                   "rows), and QP-SBGD's QUBO sizes and solver time per step against depth")
    default_seeds = 5

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        s = _settings(cfg.quick)
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        depths = DEPTHS[:2] if cfg.quick else DEPTHS
        out = []
        for seed in seeds:
            for data in DATASETS:
                for depth in depths:
                    for method, grid in GRIDS.items():
                        for setting in ([grid[len(grid) // 2]] if cfg.quick else grid):
                            out.append(Task(f"{method}/{_label(setting)}", seed,
                                            {"data": data, "depth": depth, **s, **setting}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        full = _data(p["data"], task.seed)
        data = validation_split(full, p["val"], seed=task.seed)
        sizes = [full.X_train.shape[1]] + [p["width"]] * p["depth"] + [full.num_classes]
        method = task.method.split("/")[0]
        with single_thread():
            out, score = fit_digits(method, data, task.seed, p, cfg.device, sizes=sizes)
        val_acc, val_loss = score(data)
        test_acc, _ = score(full)
        metrics = {"val_acc": val_acc, "val_loss": val_loss, "test_acc": test_acc,
                   "chance": float(np.bincount(full.y_test.numpy()).max() / len(full.y_test)),
                   "train_loss": out["train_loss"], "seconds": out["seconds"]}
        if method == "qpsbgd":
            qubos = out["layer_qubos"]
            metrics.update(solver_s_per_step=out["solver_s_per_step"],
                           sampler_calls_per_step=out["sampler_calls_per_step"],
                           max_qubo_variables=out["largest_qubo"],
                           qubo_problems=int(sum(m for m, _ in qubos.values())),
                           qubo_problems_per_step=out["qubo_problems_per_step"],
                           qubo_sizes=", ".join(f"{k}: {m}x{v}" for k, (m, v) in
                                                sorted(qubos.items(), key=lambda kv: int(kv[0]))))
        return metrics

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        chosen = select(runs)
        lines = [f"# qpsbgd-deep{' (quick)' if cfg.quick else ''}", "",
                 "Test accuracy at the step size chosen on validation rows (mean ± std over seeds; "
                 "chance: the majority class of the test rows).", "",
                 "| data | hidden layers | method | chosen | test acc | val acc | seeds | edge |",
                 "|---|---|---|---|---|---|---|---|"]
        for (data, depth, method), (setting, rs) in chosen.items():
            acc = np.array([r.metrics["test_acc"] for r in rs])
            val = np.mean([r.metrics["val_acc"] for r in rs])
            edge = "(quick)" if cfg.quick else ", ".join(grid_edges(GRIDS[method], setting)) or "-"
            lines.append(f"| {data} | {depth} | {method} | {_label(setting)} | {acc.mean():.4f} ± "
                         f"{acc.std():.4f} | {val:.4f} | {len(rs)} | {edge} |")
        chance = {r.params["data"]: r.metrics["chance"] for r in runs}
        lines += ["", "Chance: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(chance.items())), "",
                  "QP-SBGD (chosen runs): the largest QUBO of any step, QUBO problems (neurons: all "
                  "layers; per step: those with a gradient), sampler calls and solver seconds per "
                  "step, and each layer's largest QUBO batch (neurons x variables):", "",
                  "| data | hidden layers | largest QUBO | problems | problems per step | "
                  "sampler calls | solver s | layers |", "|---|---|---|---|---|---|---|---|"]
        for (data, depth, method), (_, rs) in chosen.items():
            if method != "qpsbgd":
                continue
            m = rs[0].metrics
            lines.append(f"| {data} | {depth} | {m['max_qubo_variables']} | {m['qubo_problems']} | "
                         f"{np.mean([r.metrics['qubo_problems_per_step'] for r in rs]):.1f} | "
                         f"{np.mean([r.metrics['sampler_calls_per_step'] for r in rs]):.2f} | "
                         f"{np.mean([r.metrics['solver_s_per_step'] for r in rs]):.4f} | "
                         f"{m['qubo_sizes']} |")
        md = cfg.out_dir / "qpsbgd-deep.md"
        md.write_text("\n".join(lines) + "\n")
        return [md, _plot(chosen, cfg.out_dir / "qpsbgd-deep.png")]


def _plot(chosen: dict[tuple[str, int, str], tuple[dict[str, float], list[Any]]], path: Path) -> Path:
    """Per data set: test accuracy against depth per method; then QP-SBGD's largest QUBO, problems
    and solver seconds per step against depth."""
    plt = pyplot()
    datasets = sorted({k[0] for k in chosen})
    fig, axes = plt.subplots(2, len(datasets), figsize=(5 * len(datasets), 7), squeeze=False)
    for j, data in enumerate(datasets):
        ax, bx = axes[0][j], axes[1][j]
        methods = sorted({k[2] for k in chosen if k[0] == data})
        for method in methods:
            pts = sorted((d, np.mean([r.metrics["test_acc"] for r in rs]))
                         for (ds, d, m), (_, rs) in chosen.items() if ds == data and m == method)
            ax.plot([d for d, _ in pts], [a for _, a in pts], marker="o", label=method)
        ax.set_title(data)
        ax.set_xlabel("hidden layers")
        ax.set_ylabel("test accuracy")
        ax.legend(fontsize=7)
        qp = sorted((d, rs[0].metrics) for (ds, d, m), (_, rs) in chosen.items()
                    if ds == data and m == "qpsbgd")
        if qp:
            depth = [d for d, _ in qp]
            bx.plot(depth, [m["max_qubo_variables"] for _, m in qp], marker="o",
                    label="largest QUBO (variables)")
            bx.plot(depth, [m["qubo_problems"] for _, m in qp], marker="s", label="QUBO problems")
            bx.set_xlabel("hidden layers")
            bx.set_ylabel("per step")
            cx = bx.twinx()
            cx.plot(depth, [m["solver_s_per_step"] for _, m in qp], marker="^", color="C3",
                    label="solver s (right)")
            cx.set_ylabel("solver seconds per step")
            bx.legend(fontsize=7, loc="upper left")
            cx.legend(fontsize=7, loc="lower right")
    fig.suptitle("qpsbgd-deep")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    return path
