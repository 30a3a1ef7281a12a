"""Quantum conditional gradient descent (QCGD): CGAL on the lifted program, one QUBO oracle call per step.

The binary program ``min x^T Q x + c^T x`` s.t. ``A_eq x = b_eq``, ``A_ub x <= b_ub`` is lifted to
the convex hull of the atoms ``H = [1; v][1; v]^T`` (``v`` binary; Q-FW, Yurtsever, Birdal, Golyanik,
arXiv:2203.13411), with each equality row lifted Burer-style twice (``a^T x = b`` on the first
column and ``a^T X a = b^2``) and each inequality row kept as a box ``a^T x in (-inf, b]`` on the
first column (no slack bits); a product variable ``x_k = x_i x_j`` is the lifted equality
``<R_p, X> = 0`` of Rosenberg's penalty (:func:`lmo_qubo`). For an atom,
``A(H) = [A_eq v; (A_eq v)^2; R(v); A_ub v]``, so the linear minimisation oracle
``min_H <C + A^*(w), H>`` is one QUBO in ``n`` variables:

.. math:: Q_\\text{lmo} = Q + \\operatorname{diag}\\Big(c + A_\\text{eq}^\\top w_1 + A_\\text{ub}^\\top w_3\\Big)
    + \\sum_r w_{2,r}\\, a_r a_r^\\top ,

an augmented-Lagrangian QUBO whose multipliers CGAL (Yurtsever, Fercoq, Cevher, arXiv:1901.10348)
adapts: ``beta_t = beta_0 sqrt(t + 1)``, ``eta_t = 2 / (t + 1)``,
``w = y + beta_t (z - proj_K(z + y / beta_t))`` (``= max(0, y + beta_t (z - b))`` on a box row),
``X <- (1 - eta_t) X + eta_t H`` (tracked as the first column, ``z = A(X)`` and the objective),
dual step ``y <- y + sigma_t (z - b)`` (projected to ``y >= 0`` on box rows) with
``sigma_t = min(beta_0, 4 beta_0 sqrt(t + 2) eta_t^2 alpha^2 ||A||^2 / ||z - b||^2)``, applied while
``||y|| <= K``. The objective is scaled by its largest coefficient and each row by its norm
(``alpha = n + 1`` bounds ``||H||_F``). Any QUBO sampler serves as the oracle (``exact``, ``anneal``,
``milp``, ``dwave``, ``sb``, ...); a noisy oracle is the best of ``num_reads`` reads, and
``precision=p`` rounds the oracle's coefficients to a ``p``-bit grid, as the paper's convergence
claim for limited-precision Ising machines assumes (arXiv:2506.18240).

Rounding: the best feasible vertex among every read of every oracle call; when none is feasible,
the first column ``x_bar`` thresholded at 1/2 and repaired by greedy flips (least violation, then
objective). The result reports the violation; a point that stays infeasible raises a warning.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import torch

from qtrain._info import resolve_seed, stage_timing
from qtrain.qubo import QCBO, QUBO, QCBOSolution, get_sampler

__all__ = ["lmo_qubo", "qcgd", "quantize_coefficients", "repair"]


def quantize_coefficients(Q: torch.Tensor, bits: int | None) -> torch.Tensor:
    """Round ``Q`` to the grid ``Delta Z`` with ``Delta = max|Q| / (2^(bits-1) - 1)`` (a signed
    ``bits``-bit coefficient, as an Ising machine's DAC holds it); ``None`` returns ``Q``.

    Raises:
        ValueError: ``bits`` outside 2..32.
    """
    if bits is None:
        return Q
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 32:
        raise ValueError(f"precision must be an integer number of bits in 2..32 or None, got {bits!r}")
    scale = float(Q.abs().max())
    if scale == 0:
        return Q
    delta = scale / (2 ** (bits - 1) - 1)
    return torch.round(Q / delta) * delta


def lmo_qubo(Qs: torch.Tensor, cs: torch.Tensor, A_eq: torch.Tensor, A_ub: torch.Tensor,
             w_lin: torch.Tensor, w_quad: torch.Tensor, w_ub: torch.Tensor, products: Any = None,
             w_prod: torch.Tensor | None = None) -> torch.Tensor:
    """The oracle's matrix ``Q + diag(c + A_eq^T w_lin + A_ub^T w_ub) + A_eq^T diag(w_quad) A_eq
    + sum_p w_prod[p] R_p``: ``[1; v]^T (C + A^*(w)) [1; v]`` up to a constant, for every binary
    ``v``. A product ``x_k = x_i x_j`` is one lifted equality row ``<R_p, X> = 0`` with Rosenberg's
    ``R_p(v) = v_i v_j - 2 v_i v_k - 2 v_j v_k + 3 v_k >= 0`` (zero iff the product holds), so a
    convex combination of atoms meets it only when every atom does."""
    d = cs + A_eq.T @ w_lin + A_ub.T @ w_ub
    Q = Qs + torch.diag(d) + A_eq.T @ (w_quad[:, None] * A_eq)
    if products is not None and len(products):
        k, i, j = (torch.as_tensor(products[:, t]) for t in range(3))
        Q = Q.index_put((i, j), w_prod, accumulate=True)
        Q = Q.index_put((i, k), -2 * w_prod, accumulate=True)
        Q = Q.index_put((j, k), -2 * w_prod, accumulate=True)
        Q = Q.index_put((k, k), 3 * w_prod, accumulate=True)
    return Q


def repair(problem: QCBO, x: torch.Tensor, max_flips: int | None = None) -> torch.Tensor:
    """Greedy repair: flip the bit that lowers the total violation most (ties: the lower objective)
    until feasible or no flip helps; then 1-flip descent on the objective among feasible points."""
    x = x.to(torch.float64).clone()
    n = problem.num_variables
    flips = torch.eye(n, dtype=torch.float64)
    for _ in range(max_flips or 2 * n + 2):
        v = float(problem.violation(x))
        if problem.is_feasible(x):
            break
        cand = (x + flips * (1 - 2 * x)).clamp(0, 1)
        vc, ec = problem.violation(cand), problem.energy(cand)
        score = vc + 1e-9 * (ec - ec.min()) / (1 + (ec.max() - ec.min()))
        k = int(torch.argmin(score))
        if float(vc[k]) >= v - 1e-12:
            break
        x = cand[k]
    if problem.is_feasible(x):
        for _ in range(4 * n):
            cand = (x + flips * (1 - 2 * x)).clamp(0, 1)
            ok, ec = problem.is_feasible(cand), problem.energy(cand)
            ec = torch.where(ok, ec, torch.full_like(ec, math.inf))
            k = int(torch.argmin(ec))
            if float(ec[k]) >= float(problem.energy(x)) - 1e-12:
                break
            x = cand[k]
    return x


def qcgd(problem: QCBO, sampler: Any = "exact", iterations: int = 200, seed: int | None = None, *,
         num_reads: int | None = None, beta0: float = 1.0, precision: int | None = None,
         dual_bound: float = 1e4, record_every: int = 1, **sampler_params: Any) -> QCBOSolution:
    """Solve a :class:`~qtrain.qubo.QCBO` by conditional gradient with an augmented Lagrangian.

    Args:
        problem: the program.
        sampler: the oracle, a sampler name or instance (:func:`qtrain.qubo.get_sampler`).
        iterations: oracle calls (``T``); feasibility of the relaxation improves as ``O(1/sqrt(T))``.
        seed: the run's seed (each call gets its own, derived from it); ``None`` draws one.
        num_reads: reads per oracle call (the noisy oracle is their best; every read is a rounding
            candidate); default the sampler's.
        beta0: CGAL's ``beta_0`` (default 1, on the scaled problem).
        precision: coefficient bits of the oracle's QUBO (``None``: full precision).
        dual_bound: ``K``, the dual step is applied while ``||y|| <= K``.
        record_every: keep the residual/objective history every this many iterations.
        **sampler_params: passed to every oracle call (``num_sweeps``, ...).

    Returns:
        :class:`~qtrain.qubo.QCBOSolution` with ``x`` (the rounded binary point), ``objective``,
        ``feasible``, ``violation`` and ``info``: ``iterations``, ``oracle_calls``, ``seed``,
        ``timing`` (ns), ``residual`` (``[(t, ||z - proj_K z||)]`` of the relaxation, scaled rows),
        ``relaxed_objective``, ``best_iteration`` (the call whose read was kept, ``-1``: the repaired
        threshold), ``rounding`` ("vertex" or "repair"), ``spins`` (``n``, no slack bits),
        ``sampler``.

    Raises:
        ValueError: bad ``iterations``, ``beta0``, ``dual_bound``, ``precision``; an oracle too
            small for the program (the sampler names its limit).

    Example:
        >>> from qtrain.qubo.qcbo import random_qcbo
        >>> p = random_qcbo(6, num_eq=2, seed=1)
        >>> res = qcgd(p, "exact", iterations=50, seed=0)
        >>> res.feasible, abs(res.objective - p.brute_force().objective) < 1e-9
        (True, True)

    References:
        Yurtsever, Fercoq, Cevher, arXiv:1901.10348 (CGAL); Yurtsever, Birdal, Golyanik,
        arXiv:2203.13411 (Q-FW); Li et al., arXiv:2506.18240 (QCGD).
    """
    t0 = time.perf_counter_ns()
    if not isinstance(problem, QCBO):
        raise TypeError(f"problem must be a qtrain.qubo.QCBO, got {type(problem).__name__}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    for name, v in (("beta0", beta0), ("dual_bound", dual_bound)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    quantize_coefficients(torch.ones(1), precision)  # checks precision
    seed = resolve_seed(seed)
    oracle = get_sampler(sampler)
    n = problem.num_variables
    if oracle.max_variables is not None and n > oracle.max_variables:
        raise ValueError(f"sampler {oracle.name!r} takes at most {oracle.max_variables} variables, the "
                         f"program has n={n}; use 'anneal' or 'sb' for larger programs")
    # scaled problem: objective by its largest coefficient, rows by their norms
    scale = float(torch.cat([problem.Q.abs().flatten(), problem.c.abs()]).max(dim=0).values) if n else 1.0
    scale = scale or 1.0
    Qs, cs = problem.Q / scale, problem.c / scale
    A_ub, b_ub = problem.A_ub, problem.b_ub
    P = problem.products
    Pt = torch.from_numpy(P)
    ne = problem.A_eq.norm(dim=1).clamp_min(1e-12)
    nu = A_ub.norm(dim=1).clamp_min(1e-12)
    Ae, be = problem.A_eq / ne[:, None], problem.b_eq / ne
    Au, bu = A_ub / nu[:, None], b_ub / nu
    me, mu = Ae.shape[0], Au.shape[0]
    npr = len(P)
    target = torch.cat([be, be**2, torch.zeros(npr, dtype=torch.float64), bu])
    is_box = torch.cat([torch.zeros(2 * me + npr, dtype=torch.bool), torch.ones(mu, dtype=torch.bool)])
    A_norm2 = float((Ae**2).sum() + (Ae**2).sum(1).pow(2).sum() + (Au**2).sum()) + 19.0 * len(P) or 1.0
    alpha = n + 1.0

    def lifted(V: torch.Tensor) -> torch.Tensor:  # A(H) of atoms [..., n]
        ae = V @ Ae.T
        k, i, j = V[..., Pt[:, 0]], V[..., Pt[:, 1]], V[..., Pt[:, 2]]
        rosenberg = i * j - 2 * i * k - 2 * j * k + 3 * k
        return torch.cat([ae, ae**2, rosenberg, V @ Au.T], -1)

    def proj(z: torch.Tensor) -> torch.Tensor:
        return torch.where(is_box, torch.minimum(z, target), target)

    y = torch.zeros(2 * me + npr + mu, dtype=torch.float64)
    z = torch.zeros_like(y)
    x_bar = torch.zeros(n, dtype=torch.float64)
    f_rel = 0.0
    best: tuple[float, torch.Tensor, int] | None = None
    history: list[tuple[int, float]] = []
    objective_history: list[tuple[int, float]] = []
    seeds = np.random.SeedSequence(seed).generate_state(iterations)
    solve_ns = 0
    calls_info: list[dict[str, Any]] = []
    t1 = time.perf_counter_ns()
    for t in range(1, iterations + 1):
        beta, eta = beta0 * math.sqrt(t + 1), 2.0 / (t + 1)
        w = y + beta * (z - proj(z + y / beta)) if t > 1 else y.clone()
        Q_lmo = quantize_coefficients(lmo_qubo(Qs, cs, Ae, Au, w[:me], w[me:2 * me], w[2 * me + npr:], P,
                                                  w[2 * me:2 * me + npr]), precision)
        ts = time.perf_counter_ns()
        res = oracle.sample_qubo_batch(QUBO(Q_lmo), num_reads=num_reads, seed=int(seeds[t - 1]),
                                       return_all=True, **sampler_params)
        solve_ns += time.perf_counter_ns() - ts
        if t <= 3:
            calls_info.append(res.info)
        V = res.samples.to(torch.float64)
        ok = problem.is_feasible(V)
        if bool(ok.any()):
            e = torch.where(ok, problem.energy(V), torch.full((V.shape[0],), math.inf, dtype=torch.float64))
            k = int(torch.argmin(e))
            if best is None or float(e[k]) < best[0] - 1e-12:
                best = (float(e[k]), V[k].clone(), t)
        v = res.sample.to(torch.float64)  # the oracle's answer: its best read
        x_bar = (1 - eta) * x_bar + eta * v
        z = (1 - eta) * z + eta * lifted(v)
        f_rel = (1 - eta) * f_rel + eta * float(problem.energy(v))
        gap = z - target
        step = torch.where(is_box, torch.clamp(gap, min=0), gap)
        g2 = float(step.pow(2).sum())
        if g2 > 0 and float(y.norm()) <= dual_bound:
            sigma = min(beta0, 4 * beta0 * math.sqrt(t + 2) * eta**2 * alpha**2 * A_norm2 / g2)
            y = y + sigma * gap
            y = torch.where(is_box, y.clamp(min=0), y)
        if t % record_every == 0 or t == iterations:
            history.append((t, float((z - proj(z)).norm())))
            objective_history.append((t, f_rel))
    t2 = time.perf_counter_ns()
    if best is not None:
        x, rounding, best_it = best[1], "vertex", best[2]
    else:
        x, rounding, best_it = repair(problem, (x_bar >= 0.5).to(torch.float64)), "repair", -1
    sol = problem.solution(x)
    if not sol.feasible:
        warnings.warn(f"qcgd found no feasible point in {iterations} oracle calls of {oracle.name!r} "
                      f"(every read infeasible, repair failed); violated rows "
                      f"{problem.violated_rows(x)[:8]}, total violation {sol.violation:.3g}",
                      RuntimeWarning, stacklevel=2)
    t3 = time.perf_counter_ns()
    timing = stage_timing(t0, t1, t2, t3)
    timing["oracle_ns"] = int(solve_ns)
    sol.info = {"iterations": iterations, "oracle_calls": iterations, "seed": seed, "sampler": oracle.name,
                "timing": timing, "residual": history, "relaxed_objective": objective_history,
                "best_iteration": best_it, "rounding": rounding, "spins": n, "precision": precision,
                "num_reads": calls_info[0]["num_reads"] if calls_info else None,
                "first_calls": calls_info}
    return sol
