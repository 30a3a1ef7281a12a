"""Benchmark ``qpsbgd-rosenbrock``: binary-direction steps on Rosenbrock's function, d = 2..64.

Every method moves ``x <- x - lr_t d`` with ``lr_t`` decaying geometrically from 0.5 to 1e-3:

* ``qpsbgd-anneal`` / ``qpsbgd-exact``: ``d in {-1, +1}^d`` minimising the local quadratic model
  ``-lr_t g.d + lr_t^2/2 d^T H d`` with the exact Hessian (QP-SBGD's ``objective="quadratic"``,
  :func:`~qtrain.train.qpsbgd.formulate.quadratic_direction_qubo`), solved by the annealer (and by brute
  force where ``d <= 16``);
* ``signsgd``: ``d = sign(g)`` (the same model with the diagonal of ``H``, which cannot change a sign);
* ``bc-gd``: BinaryConnect's latent update, a real gradient step ``x <- x - eta_t g`` with
  ``eta_t = lr_t / 2000`` (the curvature near the start is about 2000, so ``2 / 2000`` is the
  stable limit; a larger ``eta`` diverges).

Metric: ``f(x)`` after the last step and the best ``f`` seen (mean over seeds; each seed perturbs
the classic start ``(-1.2, 1, ..)`` by ``N(0, 0.1^2)``). Reference: Krahn et al., arXiv:2310.15128.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.qpsbgd.common import method_table, plot_curves, single_thread
from qtrain.data import rosenbrock, rosenbrock_grad, rosenbrock_hessian, rosenbrock_start
from qtrain.qubo import get_sampler
from qtrain.train.qpsbgd.formulate import quadratic_direction_qubo

__all__ = ["QPSBGDRosenbrock"]

METHODS = ("qpsbgd-anneal", "qpsbgd-exact", "signsgd", "bc-gd")
EXACT_MAX_DIM = 16


class QPSBGDRosenbrock(Benchmark):
    name = "qpsbgd-rosenbrock"
    description = ("Rosenbrock d=2..64: QP-SBGD quadratic-model binary steps (anneal, exact) vs "
                   "signSGD and gradient (BC latent) steps")
    default_seeds = 5

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        dims = (2, 8, 32) if cfg.quick else (2, 4, 8, 16, 32, 64)
        steps = 100 if cfg.quick else 300
        return [Task(m, seed, {"dim": d, "steps": steps})
                for seed in (cfg.seeds[:1] if cfg.quick else cfg.seeds) for d in dims for m in METHODS
                if not (m == "qpsbgd-exact" and d > EXACT_MAX_DIM)]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        with single_thread():
            return _run(task, cfg)

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        lines = [f"# qpsbgd-rosenbrock{' (quick)' if cfg.quick else ''}", "",
                 "f(x) after the last step (Rosenbrock, minimum 0).", ""]
        lines += method_table(runs, "dim", "final_f", ("best_f", "solver_s_per_step"))
        md = cfg.out_dir / "qpsbgd-rosenbrock.md"
        md.write_text("\n".join(lines) + "\n")
        png = plot_curves(runs, "dim", "f(x)", "qpsbgd-rosenbrock", cfg.out_dir / "qpsbgd-rosenbrock.png",
                          log=True)
        return [md, png]


def _run(task: Task, cfg: BenchConfig) -> dict[str, Any]:
    dim, steps = task.params["dim"], task.params["steps"]
    gen = torch.Generator().manual_seed(task.seed)
    x = rosenbrock_start(dim) + 0.1 * torch.randn(dim, generator=gen, dtype=torch.float64)
    lrs = 0.5 * (1e-3 / 0.5) ** (torch.arange(steps, dtype=torch.float64) / max(steps - 1, 1))
    sampler = None
    if task.method.startswith("qpsbgd"):
        name = task.method.split("-", 1)[1]
        sampler = get_sampler(name, **({"device": cfg.device} if name == "anneal" else {}))
    curve, solver_ns = [float(rosenbrock(x))], 0
    every = max(1, steps // 50)
    for t in range(steps):
        lr = float(lrs[t])
        g = rosenbrock_grad(x)
        if task.method == "bc-gd":
            x = x - lr / 2000 * g
        elif task.method == "signsgd":
            x = x - lr * torch.sign(g)
        else:
            qubo, decode = quadratic_direction_qubo(g[None], rosenbrock_hessian(x)[None], lr)
            kw = {"num_reads": 16, "num_sweeps": 200} if task.method == "qpsbgd-anneal" else {}
            res = sampler.sample_qubo_batch(qubo, seed=task.seed * 100003 + t, **kw)
            solver_ns += res.info["timing"]["total_ns"]
            x = x - lr * decode(res.sample)[0]
        if (t + 1) % every == 0 or t == steps - 1:
            curve.append(float(rosenbrock(x)))
    final = curve[-1]
    return {"final_f": final if math.isfinite(final) else 1e300,
            "best_f": min(curve), "solver_s_per_step": solver_ns / 1e9 / steps,
            "curve_steps": [0] + [min(steps, (i + 1) * every) for i in range(len(curve) - 1)],
            "curve_values": curve}
