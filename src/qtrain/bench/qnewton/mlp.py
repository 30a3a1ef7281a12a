"""Benchmark ``qnewton-mlp``: SGD, Adam, classical Newton and Q-Newton on a digits MLP.

Data: scikit-learn's 8x8 digits (1797 images, shipped with scikit-learn, no download),
standardised on the training split, a seeded 75/25 stratified split. Model: 64 -> hidden
(tanh) x layers -> 10. Every method takes the same number of mini-batch steps from the same
initialisation. Newton methods use the empirical Fisher per parameter tensor, the published
``eps_n max|G_ij|`` shift and a clipped damped step; Q-Newton routes each block through
``ScheduledSolver`` (kappa threshold 1e4, priced under ``route_profile``) to a simulated QLSA
whose answer is perturbed to its target error ``eps = 0.01``.

Reported: test accuracy and loss against steps; kappa and d trajectories; fraction routed
quantum; measured wall time; projected hybrid time per hardware profile, with and without
read-out, relative to classical Newton on the same clock (see ``qnewton_common``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.qnewton.common import METHODS, PROFILES, train
from qtrain.data import load_digits_split
from qtrain.nn import MLP

__all__ = ["QNewtonMLP"]


def _params(quick: bool) -> dict[str, Any]:
    base = {"hidden": 16, "layers": 1, "steps": 30, "batch": 256, "eval_every": 5,
            "lr_sgd": 0.1, "lr_adam": 0.01, "lr_newton": 1.0, "curvature": "fisher",
            "blocking": "tensor", "eps_n": 1e-3, "max_step_norm": 2.0, "qlsa_eps": 0.01,
            "route_profile": "attosecond", "kappa_method": "auto"}
    if not quick:
        base.update(hidden=32, steps=100, eval_every=10)
    return base


class QNewtonMLP(Benchmark):
    name = "qnewton-mlp"
    description = ("SGD, Adam, classical Newton and Q-Newton on a digits MLP: accuracy, kappa "
                   "and d trajectories, fraction routed quantum, projected hybrid time per "
                   "hardware profile relative to classical Newton")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        p = _params(cfg.quick)
        out = [Task(m, s, p) for s in cfg.seeds for m in METHODS]
        if not cfg.quick:  # sweeps over eps_n and the pruning ratio (d), Q-Newton only
            for s in cfg.seeds:
                out += [Task(f"qnewton(eps_n={e})", s, {**p, "eps_n": e}) for e in (1e-2, 1e-1)]
                out += [Task(f"qnewton(k={k})", s, {**p, "sparsify_k": k}) for k in (8, 32)]
                out += [Task("qnewton(2 layers)", s, {**p, "layers": 2}),
                        Task("newton(2 layers)", s, {**p, "layers": 2})]
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        data = load_digits_split(task.seed, cfg.device)
        torch.manual_seed(task.seed)
        model = MLP(64, p["hidden"], p["layers"], 10).double().to(cfg.device)
        xt, yt = data["test_inputs"], data["test_targets"]

        def evaluate(m: torch.nn.Module) -> dict[str, float]:
            out = m(xt)
            return {"test_loss": float(F.cross_entropy(out, yt)),
                    "test_acc": 100.0 * float((out.argmax(-1) == yt).double().mean())}

        method = task.method.split("(")[0]
        return train(method, model, F.cross_entropy, data, p, task.seed, cfg.device, evaluate)

    def summary_extra(self, summary: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        s_q, s_n = summary.get("qnewton"), summary.get("newton")
        if not (s_q and s_n):
            return {}
        return {"targets": {"acc_gap_points": s_n["final_test_acc"] - s_q["final_test_acc"],
                            "wall_ratio_qnewton_vs_newton": s_q["wall_s"] / s_n["wall_s"]}}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        from qtrain.bench.qnewton.report import write_training_report

        return write_training_report(self.name, runs, cfg, metric="test_acc",
                                     metric_label="test accuracy (%)", profiles=PROFILES)
