"""Sample-wise decomposition and progressive hedging: one QUBO per training sample, one batched call.

Sample ``n``'s subproblem (:attr:`~qtrain.train.qbo.QBOProblem.subproblems`) has its own selector
and product bits and its **copy** ``w_n`` of the shared weight bits. Progressive hedging
(Rockafellar and Wets 1991; mpi-sppy's scheme) solves every subproblem

.. math:: \\min\\; l_n(w_n, u_n) + W_n^\\top w_n + \\tfrac{\\rho}{2} \\lVert w_n - \\bar w\\rVert^2 ,

where ``l_n`` is the sample's penalty QUBO (its rows at ``lam``); for binary ``w`` the proximal
term is linear, ``||w - w_bar||^2 = sum_j (1 - 2 w_bar_j) w_j + const``, so every subproblem stays a
QUBO and all ``N`` of an iteration go to the sampler in one batched call (padded to one size).
Then ``w_bar = mean_n w_n``, ``W_n <- W_n + rho (w_n - w_bar)``, and the convergence metric is
``mean_n ||w_n - w_bar||_1``; ``rho`` grows by ``rho_growth`` per iteration. On binaries PH is a
heuristic that can cycle: a bit on which every sample agrees for ``fix_after`` iterations is fixed
(a linear term of size ``lam`` keeps it), after ``slam_after`` iterations the free bits with the
strongest majority are fixed as well ("slamming"), so every run ends in consensus, and the result
is the majority vote ``w_bar >= 1/2`` (or, given a ``score``, the best copy seen). Spins per oracle
call: ``n_w + n_loc`` (plus the subproblem's slack bits), against ``n_w + N n_loc`` for the
monolithic program.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qtrain._info import resolve_seed
from qtrain.qubo import QUBO, get_sampler
from qtrain.train.qbo.formulate import QBOProblem

__all__ = ["HedgingResult", "progressive_hedging", "subproblem_qubos"]


@dataclass
class HedgingResult:
    """What :func:`progressive_hedging` returns.

    Attributes:
        weights: the majority-rounded weight bits ``[n_w]`` (0/1 float64).
        converged: every sample's copy agreed with ``w_bar`` at the end (metric 0).
        iterations: PH iterations run; oracle_calls: batched sampler calls (one per iteration).
        metric: ``mean_n ||w_n - w_bar||_1`` per iteration.
        fixed: number of fixed bits per iteration.
        feasible_fraction: the fraction of subproblem answers that met their rows, per iteration.
        info: ``spins_per_call``, ``spins_monolithic``, ``timing`` (ns), ``seed``, ``solver_info``.
    """

    weights: torch.Tensor
    converged: bool
    iterations: int
    oracle_calls: int
    metric: list[float]
    fixed: list[int]
    feasible_fraction: list[float]
    info: dict[str, Any] = field(default_factory=dict)


def subproblem_qubos(problem: QBOProblem, lam: float | None = None) -> tuple[QUBO, float]:
    """Every sample's penalty QUBO, padded with idle variables to one size: ``([N, n, n], lam)``.

    ``lam`` defaults to ``1 + max_n (sum |Q_n| + sum |c_n|)``, above every sample objective's range,
    so each subproblem's ground state meets its rows (exact for integral rows)."""
    subs = problem.subproblems
    if lam is None:
        lam = 1.0 + max(float(p.Q.abs().sum() + p.c.abs().sum()) for p in subs)
    qs = [p.to_penalty_qubo(lam) for p in subs]
    n = max(q.num_variables for q in qs)
    Q = torch.zeros(len(qs), n, n, dtype=torch.float64)
    for k, q in enumerate(qs):
        Q[k, : q.num_variables, : q.num_variables] = q.Q
    return QUBO(Q, torch.stack([q.offset for q in qs])), lam


def progressive_hedging(problem: QBOProblem, sampler: Any = "anneal", *, rho: float = 1.0,
                        iterations: int = 30, fix_after: int = 3, rho_growth: float = 1.3,
                        slam_after: int | None = None, lam: float | None = None,
                        seed: int | None = None, num_reads: int | None = None,
                        callback: Any = None, score: Any = None, **sampler_params: Any) -> HedgingResult:
    """Progressive hedging over the sample-wise decomposition (module docstring).

    Args:
        problem: the network's :class:`~qtrain.train.qbo.QBOProblem`.
        sampler: any QUBO sampler name or instance (one batched call per iteration).
        rho: the proximal penalty, ``> 0`` (mpi-sppy's examples use 1 to 15; the objective here is
            a per-sample squared error of order ``1 / N``, so ``rho`` is scaled by ``1 / N``).
        rho_growth: ``rho`` is multiplied by this after every iteration (>= 1; mpi-sppy's adaptive
            rho in its simplest form): a growing proximal term forces consensus where fixed ``rho``
            cycles on binaries.
        iterations: the iteration limit.
        fix_after: fix a bit once all samples agree on it this many iterations running (0: never).
        slam_after: from this iteration on (default ``2 iterations / 3``), also fix the free bits
            with the strongest majority every iteration ("slamming", Watson and Woodruff 2011), so
            PH ends in consensus within ``iterations`` once every bit is fixed.
        lam: the subproblems' penalty weight (default :func:`subproblem_qubos`).
        seed: the run's seed; num_reads: reads per subproblem.
        score: ``score(bits [C, n_w]) -> losses [C]``; when given, the result is the best of the
            majority vote and every sample's copy seen (the training loss decides), else the
            majority vote.
        callback: called as ``callback(t, metric, w_bar)`` after every iteration (progress).
        **sampler_params: passed to every call.

    Raises:
        ValueError: ``rho <= 0`` or not finite, ``iterations < 1``, ``fix_after < 0``.

    References:
        Rockafellar, Wets, Math. Oper. Res. 16 (1991); Watson, Woodruff, Comput. Manag. Sci. 8
        (2011) (PH on mixed-integer programs, variable fixing); Li et al., arXiv:2506.18240 (QPH).
    """
    if not (isinstance(rho, int | float) and math.isfinite(rho) and rho > 0):
        raise ValueError(f"rho must be a positive finite number, got {rho!r}")
    if not (isinstance(rho_growth, int | float) and math.isfinite(rho_growth) and rho_growth >= 1):
        raise ValueError(f"rho_growth must be a finite number >= 1, got {rho_growth!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    if isinstance(fix_after, bool) or not isinstance(fix_after, int) or fix_after < 0:
        raise ValueError(f"fix_after must be a non-negative integer, got {fix_after!r}")
    t0 = time.perf_counter_ns()
    seed = resolve_seed(seed)
    oracle = get_sampler(sampler)
    base, lam = subproblem_qubos(problem, lam)
    N, n_w = problem.num_samples, problem.num_weight_bits
    r = rho / N
    W = torch.zeros(N, n_w, dtype=torch.float64)
    w_bar = torch.full((n_w,), 0.5, dtype=torch.float64)
    agree_run = torch.zeros(n_w, dtype=torch.long)
    fixed = torch.full((n_w,), -1.0, dtype=torch.float64)  # -1: free, else the fixed value
    metric, nfixed, feas_frac, solver_info = [], [], [], []
    seen: list[torch.Tensor] = []
    slam = max(1, (2 * iterations) // 3) if slam_after is None else slam_after
    seeds = np.random.SeedSequence(seed).generate_state(iterations)
    solve_ns, converged, t = 0, False, 0
    for t in range(1, iterations + 1):
        lin = W.clone()
        if t > 1:
            lin += (r / 2) * (1 - 2 * w_bar)[None, :]
        is_fixed = fixed >= 0
        lin[:, is_fixed] += lam * (1 - 2 * fixed[is_fixed])[None, :]
        Q = base.Q.clone()
        Q[:, torch.arange(n_w), torch.arange(n_w)] += lin
        ts = time.perf_counter_ns()
        res = oracle.sample_qubo_batch(QUBO(Q, base.offset), num_reads=num_reads, seed=int(seeds[t - 1]),
                                       **sampler_params)
        solve_ns += time.perf_counter_ns() - ts
        if t <= 2:
            solver_info.append(res.info)
        X = res.sample.to(torch.float64)
        ok = [bool(p.is_feasible(X[k, : p.num_variables])) for k, p in enumerate(problem.subproblems)]
        feas_frac.append(float(np.mean(ok)))
        w = X[:, :n_w]
        if score is not None:
            seen.append(w.clone())
        w_bar = w.mean(0)
        W += r * (w - w_bar[None, :])
        m = float((w - w_bar[None, :]).abs().sum(1).mean())
        metric.append(m)
        agree = (w_bar == 0) | (w_bar == 1)
        agree_run = torch.where(agree, agree_run + 1, torch.zeros_like(agree_run))
        if fix_after:
            newly = (agree_run >= fix_after) & (fixed < 0)
            fixed[newly] = w_bar[newly]
        free = fixed < 0
        if t >= slam and bool(free.any()) and m > 0:
            strength = torch.where(free, (w_bar - 0.5).abs(), torch.full_like(w_bar, -1.0))
            top = free & (strength >= strength.max() - 1e-12)
            fixed[top] = (w_bar[top] >= 0.5).to(torch.float64)
        nfixed.append(int((fixed >= 0).sum()))
        r *= rho_growth
        if callback is not None:
            callback(t, m, w_bar.clone())
        if m == 0.0:
            converged = True
            break
    if max(feas_frac) == 0.0:
        warnings.warn(f"progressive hedging: the sampler {oracle.name!r} returned no subproblem answer that "
                      "meets its rows in any iteration; raise num_reads or the sampler's effort",
                      RuntimeWarning, stacklevel=2)
    weights = (w_bar >= 0.5).to(torch.float64)
    rounding = "majority"
    if score is not None:
        cands = torch.unique(torch.cat([weights[None], *seen]), dim=0)
        losses = torch.as_tensor(score(cands), dtype=torch.float64)
        k = int(torch.argmin(losses))
        if not torch.equal(cands[k], weights):
            weights, rounding = cands[k], "best-copy"
    t1 = time.perf_counter_ns()
    info = {"spins_per_call": n_w + problem.num_local, "padded_qubo_size": base.num_variables,
            "spins_monolithic": n_w + N * problem.num_local, "lam": lam, "rho": rho, "seed": seed,
            "sampler": oracle.name, "rounding": rounding,
            "timing": {"solve_ns": int(solve_ns), "total_ns": int(t1 - t0)},
            "solver_info": solver_info}
    return HedgingResult(weights, converged, t, t, metric, nfixed, feas_frac, info)
