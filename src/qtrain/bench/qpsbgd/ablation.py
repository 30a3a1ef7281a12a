"""Benchmark ``qpsbgd-ablation``: which of QP-SBGD's own terms loses digit pair 1/2, on validation rows.

The protocol of ``qpsbgd-digits-tune`` (:mod:`qtrain.bench.qpsbgd.digits_tune`): the model and
training code of ``qpsbgd-digits`` (:func:`~qtrain.bench.qpsbgd.digits.fit_digits`: binary MLP
64-32-2, mini-batches of 32, cosine-decayed step size, 10 epochs) trained on 80% of pair 1/2's
training rows and scored on the other 20%; the test rows are never used. One term of QP-SBGD's
default (:data:`~qtrain.bench.qpsbgd.digits.QPSBGD_KW`, refined reads) changes per variant
(:data:`VARIANTS`): the gradient source (``gradient="output"``, the authors' ``G``), the sign
objective against the quadratic model, rows per QUBO (``max_rows``, ``chunk_rows``), reads and
sweeps (and the exact solver, ``sign-milp``), refinement, projected updates with a Hamming budget,
and how the direction's step is taken (``step_mode="disagree"``). signSGD and BinaryConnect run
beside them. Every variant and baseline gets its step size from a fixed grid (:data:`LR_GRID`;
the baselines: ``qpsbgd-digits-tune``'s grids), chosen by the best mean validation accuracy over
seeds, ties to the lower validation cross-entropy, then the smaller step.

Metrics per run: validation accuracy and cross-entropy, **images missed** (validation rows
misclassified), and the per-step diagnostic: the mean over steps of the cosine between QP-SBGD's
direction and the true gradient ``p.grad`` per layer (``last_info["grad_cosine"]``) against the
same cosine for signSGD's direction ``sign(p.grad)`` at the same point
(``last_info["sign_cosine"]``).

``--quick``: seed 0, 2 epochs, the step sizes of ``qpsbgd-digits`` only, and the variants of
:data:`QUICK_VARIANTS` (checks the pipeline only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.bench.qpsbgd.common import selection_rank, single_thread
from qtrain.bench.qpsbgd.digits import TUNED, fit_digits
from qtrain.bench.qpsbgd.digits_tune import GRIDS, VALIDATION_FRACTION
from qtrain.data import digits_pair, validation_split

__all__ = ["BASELINES", "LR_GRID", "PAIR", "QUICK_VARIANTS", "VARIANTS", "QPSBGDAblation", "select"]

PAIR = "1/2"
#: One term changed per variant (QPSBGD keywords over qpsbgd-digits' setting; ``num_sweeps`` is the
#: annealer's sweeps, ``sampler="sign-milp"`` the exact solver with a random maximiser).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "gradient=output": {"gradient": "output"},
    "objective=quadratic": {"objective": "quadratic"},
    "max_rows=8": {"max_rows": 8},
    "chunk_rows=8": {"chunk_rows": 8},
    "reads=16x400": {"num_reads": 16, "num_sweeps": 400},
    "solver=sign-milp": {"sampler": "sign-milp"},
    "refine=off": {"refine": False},
    "projected,K=1": {"projected": True, "hamming_budget": 1},
    "projected,K=4": {"projected": True, "hamming_budget": 4},
    "step_mode=disagree": {"step_mode": "disagree"},
    "gradient=output,step_mode=disagree": {"gradient": "output", "step_mode": "disagree"},
}
QUICK_VARIANTS = ("default", "gradient=output", "step_mode=disagree", "projected,K=4")
#: QP-SBGD's step sizes (``qpsbgd-digits-tune``'s grid); the projected variants flip bits and have
#: no step size: one point.
LR_GRID = (0.05, 0.1, 0.2, 0.5, 1.0)
BASELINES = ("signsgd", "bc")


def _settings(quick: bool) -> dict[str, Any]:
    return {"pair": PAIR, "val": VALIDATION_FRACTION, "epochs": 2 if quick else 10,
            "batch_size": 32, "hidden": 32}


def _grid(method: str, variant: str | None, quick: bool) -> list[float]:
    if quick:
        return [TUNED[PAIR][method]["lr"]]
    if method != "qpsbgd":
        return [g["lr"] for g in GRIDS[method]]
    return [TUNED[PAIR]["qpsbgd"]["lr"]] if VARIANTS[variant].get("projected") else list(LR_GRID)


def _name(r: Any) -> str:
    """The run's variant (QP-SBGD) or baseline name."""
    return r.params.get("variant") or r.method.split("/")[0]


def select(runs: list[Any]) -> dict[str, tuple[float, list[Any]]]:
    """Per variant or baseline: the chosen step size and its runs (best mean validation accuracy,
    then the lower mean validation cross-entropy, then the smaller step)."""
    groups: dict[tuple[str, float], list[Any]] = {}
    for r in runs:
        groups.setdefault((_name(r), float(r.params["lr"])), []).append(r)
    best: dict[str, tuple[tuple[float, float, float], float, list[Any]]] = {}
    for (name, lr), rs in groups.items():
        rank = selection_rank([r.metrics for r in rs], lr)
        if name not in best or rank < best[name][0]:
            best[name] = (rank, lr, rs)
    return {name: (lr, rs) for name, (_, lr, rs) in best.items()}


class QPSBGDAblation(Benchmark):
    name = "qpsbgd-ablation"
    description = ("QP-SBGD's terms one at a time on digit pair 1/2 under the validation protocol "
                   "(images missed per seed, cosine of each step with the gradient) beside "
                   "signSGD and BinaryConnect")
    default_seeds = 5

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        s = _settings(cfg.quick)
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        out = []
        for seed in seeds:
            for variant in (QUICK_VARIANTS if cfg.quick else VARIANTS):
                for lr in _grid("qpsbgd", variant, cfg.quick):
                    out.append(Task(f"qpsbgd[{variant}]/lr={lr:g}", seed,
                                    {**s, "lr": lr, "variant": variant,
                                     "overrides": VARIANTS[variant]}))
            for method in BASELINES:
                for lr in _grid(method, None, cfg.quick):
                    out.append(Task(f"{method}/lr={lr:g}", seed, {**s, "lr": lr}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        a, b = (int(v) for v in p["pair"].split("/"))
        data = validation_split(digits_pair(a, b, seed=task.seed), p["val"], seed=task.seed)
        method = task.method.split("[")[0].split("/")[0]
        with single_thread():
            out, score = fit_digits(method, data, task.seed, p, cfg.device,
                                    overrides=p.get("overrides"))
        acc, loss = score(data)
        n_val = len(data.y_test)
        metrics = {"val_acc": acc, "val_loss": loss, "missed": int(round((1 - acc) * n_val)),
                   "n_val": n_val, "train_loss": out["train_loss"], "seconds": out["seconds"]}
        if method == "qpsbgd":
            metrics["solver_s_per_step"] = out["solver_s_per_step"]
            for key, short in (("grad_cosine", "cos"), ("sign_cosine", "sign_cos")):
                for layer, c in out[key].items():
                    metrics[f"{short}_{layer}"] = c
        return metrics

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        chosen = select(runs)
        layers = sorted({k.split("_")[-1] for r in runs for k in r.metrics if k.startswith("cos_")})
        n_val = sorted({r.metrics["n_val"] for r in runs})
        lines = [f"# qpsbgd-ablation{' (quick)' if cfg.quick else ''}", "",
                 f"Pair {PAIR}, validation rows ({VALIDATION_FRACTION:.0%} of the training rows, "
                 f"{n_val} per seed); test rows unused. Images missed per seed at each method's "
                 "chosen step size; cosines: mean over steps of cos(step, p.grad) per layer, "
                 "QP-SBGD's direction / signSGD's sign(p.grad) at the same point.", "",
                 "| variant | lr | missed per seed | mean missed | val acc | "
                 + "".join(f"cos {la} (QP-SBGD / sign) | " for la in layers) + "s per run |",
                 "|---|---|---|---|---|" + "---|" * len(layers) + "---|"]
        order = [v for v in VARIANTS if v in chosen] + [b for b in BASELINES if b in chosen]
        for name in order:
            lr, rs = chosen[name]
            rs = sorted(rs, key=lambda r: r.seed)
            missed = [r.metrics["missed"] for r in rs]
            cells = []
            for la in layers:
                q = [r.metrics[f"cos_{la}"] for r in rs if f"cos_{la}" in r.metrics]
                s = [r.metrics[f"sign_cos_{la}"] for r in rs if f"sign_cos_{la}" in r.metrics]
                cells.append(f" {np.mean(q):.3f} / {np.mean(s):.3f} |" if q and s else " - |")
            lines.append(f"| {name} | {lr:g} | {missed} | {np.mean(missed):.2f} | "
                         f"{np.mean([r.metrics['val_acc'] for r in rs]):.4f} |" + "".join(cells)
                         + f" {np.mean([r.metrics['seconds'] for r in rs]):.1f} |")
        lines += ["", "Every grid point (mean over seeds):", "",
                  "| variant | lr | val acc | val loss | mean missed | seeds |",
                  "|---|---|---|---|---|---|"]
        points: dict[tuple[str, float], list[Any]] = {}
        for r in runs:
            points.setdefault((_name(r), float(r.params["lr"])), []).append(r.metrics)
        for (name, lr), ms in sorted(points.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
            lines.append(f"| {name} | {lr:g} | {np.mean([m['val_acc'] for m in ms]):.4f} | "
                         f"{np.mean([m['val_loss'] for m in ms]):.4g} | "
                         f"{np.mean([m['missed'] for m in ms]):.2f} | {len(ms)} |")
        md = cfg.out_dir / "qpsbgd-ablation.md"
        md.write_text("\n".join(lines) + "\n")
        return [md, _plot(chosen, order, layers, cfg.out_dir / "qpsbgd-ablation.png")]


def _plot(chosen: dict[str, tuple[float, list[Any]]], order: list[str], layers: list[str],
          path: Path) -> Path:
    """Left: images missed per seed (dots) and their mean (bar) per variant; right: the cosine of
    each variant's steps with the gradient per layer, signSGD's at the same points dashed."""
    plt = pyplot()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    for i, name in enumerate(order):
        missed = [r.metrics["missed"] for r in chosen[name][1]]
        ax.bar(i, np.mean(missed), color="C1" if name in BASELINES else "C0", alpha=0.6)
        ax.scatter([i] * len(missed), missed, color="k", s=10)
    ax.set_xticks(range(len(order)), order, rotation=70, fontsize=7)
    ax.set_ylabel("validation images missed")
    qp = [n for n in order if n not in BASELINES]
    for j, la in enumerate(layers):
        q = [np.mean([r.metrics.get(f"cos_{la}", np.nan) for r in chosen[n][1]]) for n in qp]
        s = [np.mean([r.metrics.get(f"sign_cos_{la}", np.nan) for r in chosen[n][1]]) for n in qp]
        bx.plot(range(len(qp)), q, marker="o", color=f"C{j}", label=f"QP-SBGD, layer {la}")
        bx.plot(range(len(qp)), s, ls="--", color=f"C{j}", label=f"sign(p.grad), layer {la}")
    bx.set_xticks(range(len(qp)), qp, rotation=70, fontsize=7)
    bx.set_ylabel("mean cos(step, p.grad)")
    bx.legend(fontsize=7)
    fig.suptitle(f"qpsbgd-ablation, pair {PAIR} (validation rows)")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    return path
