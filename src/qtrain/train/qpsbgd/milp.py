"""Exact per-neuron sign-objective directions by a small big-M MILP (HiGHS through scipy).

The QUBO of :func:`~qtrain.train.qpsbgd.formulate.binary_gradient_qubo` needs ``n + B (R + 1)`` bits
and a dense penalty; linearised for the generic ``milp`` sampler it carries one product variable
per coupling. The same maximisation written directly as a MILP needs only the ``n`` weight bits
and one output bit per sample, ``n + B`` binaries and ``2 B`` constraints.

Reference: Krahn et al., "Projected Stochastic Gradient Descent with Quantum Annealed Binary
Gradients", arXiv:2310.15128 (the objective).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from qtrain._info import stage_timing
from qtrain.qubo.milp import highs_options, highs_outcome
from qtrain.train.qpsbgd.formulate import (
    _check_layer,
    normalize_gradients,
    sign_objective,
    sign_threshold,
)

__all__ = ["TIE_BREAKS", "sign_directions_milp"]

#: How a neuron's maximiser is picked among its ties (see :func:`sign_directions_milp`).
TIE_BREAKS = ("first", "random")


def sign_directions_milp(X: torch.Tensor, G: torch.Tensor, eps: float = 0.01,
                         time_limit: float | None = None, mip_rel_gap: float = 0.0,
                         tie_break: str = "first", seed: int = 0
                         ) -> tuple[torch.Tensor, dict[str, Any]]:
    r"""Maximisers of ``F_j(d) = sum_i g_ij sign(x_i . d + eps)`` by branch and cut, per neuron.

    With weight bits ``w in {0,1}^n`` (``d = 2w - 1``) the agreements are
    ``a_i = #{k : x_ik = -1} + sum_k x_ik w_k`` and ``sign(x_i . d + eps) = 2 o_i - 1`` with
    ``o_i = [a_i >= T]`` (:func:`~qtrain.train.qpsbgd.formulate.sign_threshold`). The program

    .. math:: \max_{w, o \in \{0,1\}} \sum_i \hat g_{ij} (2 o_i - 1)
        \quad \text{s.t.} \quad a_i \ge T o_i, \qquad a_i \le T - 1 + (n + 1 - T)\, o_i,

    forces ``o_i = [a_i >= T]`` exactly (``0 <= a_i <= n``: the first row is void when
    ``o_i = 0``, the second when ``o_i = 1``), so its optimum is ``max_d F_j(d)``. Gradients are
    normalised per neuron as in the QUBO (:func:`~qtrain.train.qpsbgd.formulate.normalize_gradients`).
    ``n + B`` binaries and ``2B`` rows per neuron; neurons are solved one after another (HiGHS
    takes one program at a time).

    Ties: the sign objective has many maximisers (``n`` weights judged on at most ``B`` output
    signs), and the vertex HiGHS returns is not a neutral pick: on the ``qpsbgd-digits`` steps
    about 65% of its entries were -1, so every step pushed the latent weights the same way.
    ``tie_break="random"`` solves a second program over the optimal face,

    .. math:: \min_{w, o} r^\top w \quad \text{s.t. the rows above and}
        \quad -\sum_i \hat g_{ij} (2 o_i - 1) \le -F_j^* + \tau,

    with ``r ~ N(0, I_n)`` drawn from ``seed`` (one per neuron) and ``tau = 1e-9 (1 + |F*|)``:
    a maximiser whose sign pattern follows ``-r``, so each entry is +1 or -1 with equal
    probability over seeds wherever both occur among the maximisers. The second program is
    kept only if its direction's true objective is at least the first's (HiGHS' row tolerance
    could admit a point just below the optimum); it roughly doubles the solver time.

    Args:
        X: ``[B, n]`` +-1 inputs (or ``[m, B, n]`` per neuron). G: ``[B, m]`` output gradients.
        eps: sign tie-break. time_limit: seconds per neuron (None: none).
        mip_rel_gap: HiGHS' relative gap tolerance (0: prove optimality).
        tie_break: ``"first"`` (HiGHS' maximiser) or ``"random"`` (see above).
        seed: seed of the random tie-break.

    Returns:
        ``(d, info)``: ``[m, n]`` +-1 directions (float64) and ``info`` with ``optimal`` (per
        neuron: proven), ``proven_optimal``, ``objective`` (``F_j`` of the returned ``d``),
        ``mip_gap``, ``solver_time_s`` (the HiGHS calls) and ``timing`` (ns, the shared solver
        keys of :data:`qtrain._info.TIMING_KEYS`; ``solve_ns`` is the HiGHS calls).

    Raises:
        ValueError: as :func:`~qtrain.train.qpsbgd.formulate.binary_gradient_qubo` for bad ``X``/``G``;
            a non-positive ``time_limit``, a negative ``mip_rel_gap``, an unknown ``tie_break``
            or a negative ``seed``.

    Example:
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> d, info = sign_directions_milp(X, G)
        >>> d.tolist(), info["proven_optimal"], info["objective"]
        ([[-1.0, -1.0]], True, [2.0])

    References:
        Krahn et al., arXiv:2310.15128.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter_ns()
    _check_layer(X, G)
    options = highs_options(time_limit, mip_rel_gap)
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    Gn = normalize_gradients(G.to(torch.float64)).cpu().numpy()  # [m, B]
    m, B = Gn.shape
    n = X.shape[-1]
    T, _ = sign_threshold(n, eps)
    Xn = (X if X.dim() == 3 else X.expand(m, *X.shape)).to(torch.float64).cpu().numpy()
    eye = np.eye(B)
    d = np.ones((m, n))
    optimal, gaps = [], []
    t1 = time.perf_counter_ns()
    for j in range(m):
        Xj = Xn[j]
        neg = (Xj < 0).sum(1)  # a_i = neg_i + X_i . w
        # rows: X w - T o >= -neg ; X w - (n + 1 - T) o <= T - 1 - neg
        A = np.block([[Xj, -T * eye], [Xj, -(n + 1 - T) * eye]])
        lo = np.concatenate([-neg, np.full(B, -np.inf)])
        hi = np.concatenate([np.full(B, np.inf), T - 1 - neg])
        c = np.concatenate([np.zeros(n), -2 * Gn[j]])  # minimise -sum g (2 o - 1)
        rows = [LinearConstraint(A, lo, hi)]
        res = milp(c, integrality=np.ones(n + B), bounds=Bounds(0, 1), constraints=rows,
                   options=options)
        if res.x is not None:
            d[j] = 2 * np.rint(res.x[:n]) - 1
            if tie_break == "random":
                d[j] = _random_maximiser(res, c, rows, n, B, Xj, Gn[j], d[j], eps, rng, options)
        ok, gap, _ = highs_outcome(res)
        optimal.append(ok)
        gaps.append(gap)
    t2 = time.perf_counter_ns()
    dt = torch.from_numpy(d).to(G.device)
    obj = sign_objective(X, torch.from_numpy(Gn.T).to(G.device), dt, eps)
    return dt, {"optimal": optimal, "proven_optimal": all(optimal), "mip_gap": gaps,
                "objective": obj.tolist(), "solver_time_s": (t2 - t1) / 1e9,
                "timing": stage_timing(t0, t1, t2, time.perf_counter_ns())}


def _random_maximiser(res: Any, c: np.ndarray, rows: list[Any], n: int, B: int, Xj: np.ndarray,
                      g: np.ndarray, first: np.ndarray, eps: float, rng: np.random.Generator,
                      options: dict[str, Any]) -> np.ndarray:
    """A maximiser on the optimal face picked by a random linear objective (see the caller)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    r = np.concatenate([rng.standard_normal(n), np.zeros(B)])
    tau = 1e-9 * (1 + abs(res.fun))
    face = LinearConstraint(c[None, :], -np.inf, res.fun + tau)
    res2 = milp(r, integrality=np.ones(n + B), bounds=Bounds(0, 1), constraints=[*rows, face],
                options=options)
    if res2.x is None:
        return first
    cand = 2 * np.rint(res2.x[:n]) - 1
    both = torch.from_numpy(np.stack([first, cand]))[None]  # [1 neuron, 2 candidates, n]
    value = sign_objective(torch.from_numpy(Xj), torch.from_numpy(g)[:, None], both, eps)[0]
    return cand if float(value[1]) >= float(value[0]) - 1e-12 else first
