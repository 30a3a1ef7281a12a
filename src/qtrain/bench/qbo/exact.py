"""Benchmark ``qbo-exact``: every exact path to a tiny network's training optimum agrees.

Networks ``d-H-1`` with 1-bit weights ``w = +-1`` (``scale=2, offset=1``), inputs in {-1, 0, 1},
targets ``N(0, 1)``, integer spline knots (so every big-M row is integral and the penalty QUBO's
slack bits are exact). Per instance, the optimum of the spline network's mean squared error by:

* ``brute``: every weight code of the spline network (no QCBO);
* ``exhaustive``: the QCBO itself, every weight-bit vector times every selector pattern per sample
  (products forced), scored by the program's own objective and rows;
* ``milp``: the monolithic QCBO through HiGHS;
* ``cqm``: dimod's ``ExactCQMSolver`` on ``to_cqm()`` (only where ``n <= 17``: it enumerates ``2^n``);
* ``qcgd``: QCGD with the exact oracle where ``n <= 20``, else with the annealer (stated per row);
* ``penalty``: the penalty QUBO with ``lam = 1 + sum|Q| + sum|c|`` (above the objective's range),
  solved exactly (``exact`` sampler where it fits, else ``milp``).

Agreement: every optimum within 1e-6 of ``brute`` and the argmin's spline loss equal to it (ties
allowed).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.nn import QuantizedLinear
from qtrain.qubo import get_sampler
from qtrain.train.qbo import (
    brute_force_weights,
    exhaustive_qcbo,
    formulate_qbo,
    progressive_hedging,
    qcgd,
    spline_loss,
    weight_bits_loss,
)

__all__ = ["QBOExact", "tiny_instance"]

ACTIVATIONS = {"relu": nn.ReLU, "hardtanh": nn.Hardtanh, "tanh": nn.Tanh}
#: (d, H, N, activation, S)
QUICK = [(2, 1, 2, "relu", 2), (2, 1, 3, "hardtanh", 3), (3, 1, 2, "tanh", 3)]
FULL = QUICK + [(3, 2, 3, "tanh", 3), (4, 2, 6, "relu", 3)]
SOLVERS = ("exhaustive", "milp", "cqm", "qcgd", "penalty")


def tiny_instance(d: int, H: int, N: int, activation: str, pieces: int, seed: int) -> tuple[Any, ...]:
    """``(model, X, T, problem)`` of one instance (module docstring)."""
    model = nn.Sequential(QuantizedLinear(d, H, 1, scale=2.0, offset=1.0), ACTIVATIONS[activation](),
                          QuantizedLinear(H, 1, 1, scale=2.0, offset=1.0))
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(-1, 2, (N, d), generator=gen).double()
    T = torch.randn(N, 1, generator=gen).double()
    return model, X, T, formulate_qbo(model, X, T, pieces=pieces, integer_knots=True)


class QBOExact(Benchmark):
    name = "qbo-exact"
    description = ("tiny quantized networks: brute force over weight codes, exhaustive QCBO, MILP, "
                   "CQM exact solver, QCGD and the penalty QUBO agree on the optimum")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        cases = QUICK if cfg.quick else FULL
        return [Task("all", seed, {"d": d, "H": H, "N": N, "activation": a, "S": S})
                for seed in cfg.seeds for d, H, N, a, S in cases]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        model, X, T, prob = tiny_instance(p["d"], p["H"], p["N"], p["activation"], p["S"], task.seed + 1)
        q = prob.qcbo
        out: dict[str, Any] = {"variables": q.num_variables, "eq_rows": q.num_eq, "ub_rows": q.num_ub,
                               "weight_bits": prob.num_weight_bits, "spins_per_sample": prob.counts["spins_per_sample"],
                               "spline_error": prob.counts["spline_max_error"]}
        t = time.perf_counter()
        _, ref = brute_force_weights(prob, model, X, T)
        out["brute"], out["brute_s"] = ref, time.perf_counter() - t

        def record(name: str, fn: Any) -> None:
            t0 = time.perf_counter()
            value, x = fn()
            out[name], out[f"{name}_s"] = value, time.perf_counter() - t0
            if x is not None:  # the argmin's weights, scored on the spline network
                c1, c2 = prob.decode(x)
                out[f"{name}_argmin_loss"] = float(spline_loss(prob, c1[None], c2[None], X, T, model[0], model[2])[0])

        record("exhaustive", lambda: (lambda r: (r[1], r[0]))(exhaustive_qcbo(prob)))
        record("milp", lambda: (lambda s: (s.objective, s.x))(q.solve_milp()))
        if q.num_variables <= 17:
            import dimod

            def cqm() -> tuple[float, Any]:
                ss = dimod.ExactCQMSolver().sample_cqm(q.to_cqm()).filter(lambda r: r.is_feasible)
                best = ss.first.sample
                return float(ss.first.energy), torch.tensor([best[i] for i in range(q.num_variables)])
            record("cqm", cqm)
        oracle = "exact" if q.num_variables <= 20 else "anneal"
        out["qcgd_oracle"] = oracle
        kw = {"num_sweeps": 200} if oracle == "anneal" else {}

        def run_qcgd() -> tuple[float, Any]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                s = qcgd(q, oracle, iterations=40 if cfg.quick else 100, seed=task.seed,
                         num_reads=16 if oracle == "exact" else 32, **kw)
            return (s.objective if s.feasible else float("inf")), s.x
        record("qcgd", run_qcgd)
        lam = 1 + float(q.Q.abs().sum() + q.c.abs().sum())
        pq = q.to_penalty_qubo(lam)
        solver = "exact" if pq.num_variables <= 22 else "milp"

        def penalty() -> tuple[float, Any]:
            res = get_sampler(solver).sample_qubo_batch(pq, num_reads=1)
            x = res.sample[: q.num_variables]
            return (float(q.energy(x)) if q.is_feasible(x) else float("inf")), x
        record("penalty", penalty)
        out["penalty_spins"] = pq.num_variables
        # progressive hedging (a heuristic, not in "agree"): its weights' loss against the optimum,
        # with majority rounding and with the best copy seen (the trainer's rounding)
        score = weight_bits_loss(prob, model[0], model[2], X, T)
        for name, sc in (("ph_majority", None), ("ph", score)):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ph = progressive_hedging(prob, "anneal", iterations=30, num_reads=16, num_sweeps=300,
                                         seed=task.seed, score=sc)
            out[name] = float(score(ph.weights[None])[0])
            out[f"{name}_s"] = time.perf_counter() - t0
            out[f"{name}_gap"] = (out[name] - ref) / max(abs(ref), 1e-12)
            out[f"{name}_consensus"] = int(ph.converged)
            out[f"{name}_iterations"] = ph.iterations
        agree = [abs(out[s] - ref) <= 1e-6 and abs(out.get(f"{s}_argmin_loss", ref) - ref) <= 1e-6
                 for s in SOLVERS if s in out]
        out["agree"] = int(all(agree))
        return out

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        lines = [f"# qbo-exact{' (quick)' if cfg.quick else ''}", "",
                 "Optimum of the spline network's mean squared error by each path (`-`: not run at this size).",
                 "", "| net (d-H-1, act, S, N) | n | rows eq/ub | brute | exhaustive | milp | cqm | qcgd (oracle) | "
                 "penalty (spins) | agree | PH majority (gap) | PH best copy (gap, iters) | milp s |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in runs:
            p, m = r.params, r.metrics
            cell = lambda k, m=m: f"{m[k]:.6f}" if k in m else "-"  # noqa: E731
            lines.append(f"| {p['d']}-{p['H']}-1, {p['activation']}, S={p['S']}, N={p['N']} | {m['variables']} | "
                         f"{m['eq_rows']}/{m['ub_rows']} | {m['brute']:.6f} | {cell('exhaustive')} | {cell('milp')} | "
                         f"{cell('cqm')} | {cell('qcgd')} ({m['qcgd_oracle']}) | {cell('penalty')} "
                         f"({m['penalty_spins']}) | {'yes' if m['agree'] else 'NO'} | "
                         f"{m['ph_majority']:.6f} ({m['ph_majority_gap']:+.1%}) | "
                         f"{m['ph']:.6f} ({m['ph_gap']:+.1%}, {m['ph_iterations']}"
                         f"{'' if m['ph_consensus'] else ', no consensus'}) | {m['milp_s']:.2f} |")
        lines.append(f"\nagreement on {sum(r.metrics['agree'] for r in runs)} of {len(runs)} instances; "
                     f"progressive hedging (anneal oracle, 30 iterations, best-copy rounding) within 5% of the "
                     f"optimum on {sum(r.metrics['ph_gap'] <= 0.05 for r in runs)} of {len(runs)}, in consensus on "
                     f"{sum(r.metrics['ph_consensus'] for r in runs)}")
        md = cfg.out_dir / "qbo-exact.md"
        md.write_text("\n".join(lines) + "\n")
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 3.5))
        names = ["brute", *SOLVERS]
        for k, r in enumerate(runs):
            secs = [r.metrics.get(f"{s}_s", float("nan")) for s in names]
            ax.bar([i + 0.8 * k / max(1, len(runs)) for i in range(len(names))], secs, 0.8 / max(1, len(runs)),
                   label=f"n={r.metrics['variables']}")
        ax.set_xticks(range(len(names)), names)
        ax.set_yscale("log")
        ax.set_ylabel("seconds")
        ax.set_title("qbo-exact: time per exact path")
        ax.legend(fontsize=7)
        png = save_figure(fig, cfg.out_dir / "qbo-exact.png")
        return [md, png]
