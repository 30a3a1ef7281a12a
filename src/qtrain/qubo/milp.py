"""Exact QUBO minimisation as a mixed-integer linear program, solved by HiGHS through scipy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["MILPSampler", "highs_options", "highs_outcome", "linearize_qubo"]

#: Default bound on the linearised program: products ``y_ij`` (one per non-zero coupling).
MAX_PRODUCTS = 20_000


def highs_options(time_limit: float | None = None, mip_rel_gap: float = 0.0,
                  **extra: Any) -> dict[str, Any]:
    """Checked HiGHS options for ``scipy.optimize.milp``: ``time_limit`` (positive seconds or
    None: no limit), ``mip_rel_gap`` (finite, >= 0; 0 proves optimality to the solver's
    tolerances) and any ``extra`` option as given.

    Raises:
        ValueError: a non-positive or non-finite ``time_limit``, a negative ``mip_rel_gap``.
    """
    if time_limit is not None and not (isinstance(time_limit, int | float)
                                       and math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds or None, got "
                         f"{time_limit!r}")
    if not (isinstance(mip_rel_gap, int | float) and math.isfinite(mip_rel_gap)
            and mip_rel_gap >= 0):
        raise ValueError(f"mip_rel_gap must be a finite number >= 0, got {mip_rel_gap!r}")
    options: dict[str, Any] = {"mip_rel_gap": float(mip_rel_gap), **extra}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    return options


def highs_outcome(res: Any) -> tuple[bool, float | None, float | None]:
    """``(proven optimal, relative MIP gap, dual bound)`` of a ``scipy.optimize.milp`` result;
    a proven optimum without a reported gap or bound has gap 0 and bound ``res.fun``; a gap or
    bound that HiGHS did not reach (or reports as infinite) is ``None``."""
    optimal = bool(res.status == 0 and res.x is not None)
    gap = getattr(res, "mip_gap", None)
    gap = 0.0 if gap is None and res.status == 0 else gap
    dual = getattr(res, "mip_dual_bound", None)
    dual = res.fun if dual is None and res.status == 0 else dual
    return (optimal, None if gap is None or not math.isfinite(gap) else float(gap),
            None if dual is None or not math.isfinite(dual) else float(dual))


def linearize_qubo(Q: np.ndarray) -> tuple[np.ndarray, Any, np.ndarray, np.ndarray, np.ndarray]:
    r"""Fortet's linearisation of ``min x^T Q x`` over ``x in {0, 1}^n`` (one problem).

    With ``x_i^2 = x_i`` the energy is ``sum_i Q_ii x_i + sum_{i<j} (Q_ij + Q_ji) x_i x_j``; every
    product with a non-zero coupling ``c_ij = Q_ij + Q_ji`` becomes a variable ``y_ij in [0, 1]``
    tied to the bits by

    .. math:: y_{ij} \le x_i, \qquad y_{ij} \le x_j, \qquad y_{ij} \ge x_i + x_j - 1,

    which force ``y_ij = x_i x_j`` for binary ``x``, so ``y`` may stay continuous and only the ``n``
    bits are integral. The program is ``min c^T (x, y)`` subject to ``A (x, y) <= b``.

    Args:
        Q: ``[n, n]`` float64 coefficients (any triangle; symmetrised through ``c_ij``).

    Returns:
        ``(c, A, lower, upper, pairs)``: objective ``[n + P]``, sparse constraint matrix
        ``[3P, n + P]`` (CSR), its row bounds, and the ``[P, 2]`` index pairs ``(i, j)``, ``i < j``.

    References:
        R. Fortet, "Applications de l'algèbre de Boole en recherche opérationnelle",
        Revue française de recherche opérationnelle 4 (1960); F. Glover and E. Woolsey,
        "Converting the 0-1 polynomial programming problem to a 0-1 linear program",
        Operations Research 22 (1974).
    """
    from scipy import sparse

    n = Q.shape[0]
    C = np.triu(Q + Q.T, 1)
    ii, jj = np.nonzero(C)
    P = ii.size
    c = np.concatenate([np.diag(Q).copy(), C[ii, jj]])
    y = n + np.arange(P)
    r = np.arange(P)
    # rows 0..P-1: y - x_i <= 0; P..2P-1: y - x_j <= 0; 2P..3P-1: x_i + x_j - y <= 1
    rows = np.concatenate([r, r, P + r, P + r, 2 * P + r, 2 * P + r, 2 * P + r])
    cols = np.concatenate([y, ii, y, jj, ii, jj, y])
    vals = np.concatenate([np.ones(P), -np.ones(P), np.ones(P), -np.ones(P),
                           np.ones(P), np.ones(P), -np.ones(P)])
    A = sparse.csr_array((vals, (rows, cols)), shape=(3 * P, n + P))
    upper = np.concatenate([np.zeros(2 * P), np.ones(P)])
    lower = np.full(3 * P, -np.inf)
    return c, A, lower, upper, np.stack([ii, jj], axis=1)


class MILPSampler(QUBOSampler):
    r"""Exact minimisation of each QUBO by branch and cut on its linearised program (HiGHS).

    Each problem of the batch is linearised (:func:`linearize_qubo`: ``n`` binary bits plus one
    continuous ``y_ij = x_i x_j`` per non-zero coupling, three Fortet constraints each) and handed
    to ``scipy.optimize.milp`` (HiGHS branch and cut). HiGHS solves one program at a time, so the
    batch is a loop over problems: the only sampler here that is not vectorised, because the
    solver is external. Deterministic: ``seed`` is recorded, not used; every read is the solver's
    incumbent (``num_reads`` copies).

    Optimality is proven when HiGHS reports status 0 with a relative gap at most ``mip_rel_gap``
    (default 0: proven to the solver's tolerances). With a ``time_limit`` the incumbent is returned
    even when unproven; ``info`` says which: ``proven_optimal`` (all problems), ``optimal`` (per
    problem), ``mip_gap`` and ``dual_bound`` (a lower bound on the energy, offset included) per
    problem, ``status`` (HiGHS' message per problem) and ``num_products``.

    Args (constructor):
        max_variables: refuse QUBOs with more bits than this (default 512).
        max_products: refuse QUBOs with more non-zero couplings than this (default 20000: a
            program of 60000 constraints; a dense QUBO reaches it at n = 200).

    Parameters (``sample_qubo_batch`` keywords):
        time_limit (float seconds per problem, None: no limit), mip_rel_gap (float >= 0,
        default 0.0), presolve (bool, True).

    Raises:
        ValueError: more than ``max_variables`` bits or ``max_products`` couplings (naming the
            limit), or bad parameter values.

    Example:
        >>> from qtrain.testing import random_qubo
        >>> res = MILPSampler().sample_qubo_batch(random_qubo(2, 6), num_reads=1)
        >>> res.info["proven_optimal"]
        True
    """

    name = "milp"
    parameter_names = ("time_limit", "mip_rel_gap", "presolve")
    default_num_reads = 1

    def __init__(self, max_variables: int = 512, max_products: int = MAX_PRODUCTS, **defaults: Any):
        if isinstance(max_variables, bool) or not isinstance(max_variables, int) or max_variables < 1:
            raise ValueError(f"max_variables must be a positive integer, got {max_variables!r}")
        if isinstance(max_products, bool) or not isinstance(max_products, int) or max_products < 0:
            raise ValueError(f"max_products must be a non-negative integer, got {max_products!r}")
        self.max_variables, self.max_products = max_variables, max_products
        super().__init__(**defaults)

    @property
    def properties(self) -> dict[str, Any]:
        return {**super().properties, "deterministic": True, "max_products": self.max_products}

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, time_limit: float | None = None,
                mip_rel_gap: float = 0.0, presolve: bool = True
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        from scipy.optimize import Bounds, LinearConstraint, milp

        options = highs_options(time_limit, mip_rel_gap, presolve=bool(presolve))
        Qs = qubo.Q.detach().to(torch.float64).cpu().numpy()
        offsets = qubo.offset.detach().to(torch.float64).cpu().numpy()
        B, n = Qs.shape[0], Qs.shape[1]
        products = np.count_nonzero(np.triu(Qs + Qs.transpose(0, 2, 1), 1), axis=(1, 2))
        if int(products.max(initial=0)) > self.max_products:
            raise ValueError(
                f"sampler 'milp' takes at most max_products={self.max_products} non-zero couplings "
                f"per problem, got {int(products.max())} (n={n}); raise max_products knowingly or "
                "use a heuristic sampler such as 'anneal'")
        best = np.zeros((B, n), dtype=np.int8)
        optimal, gaps, bounds, status = [], [], [], []
        for b in range(B):
            c, A, lo, hi, _ = linearize_qubo(Qs[b])
            integrality = np.zeros(c.size)
            integrality[:n] = 1
            cons = [LinearConstraint(A, lo, hi)] if A.shape[0] else []
            res = milp(c, integrality=integrality, bounds=Bounds(0, 1), constraints=cons,
                       options=options)
            if res.x is not None:
                best[b] = np.rint(res.x[:n]).astype(np.int8)
            ok, gap, dual = highs_outcome(res)
            optimal.append(ok)
            gaps.append(gap)
            bounds.append(None if dual is None else dual + float(offsets[b]))
            status.append(str(res.message))
        samples = torch.from_numpy(best)[:, None, :].expand(B, num_reads, n).contiguous()
        return samples, {"proven_optimal": all(optimal), "optimal": optimal, "mip_gap": gaps,
                         "dual_bound": bounds, "status": status,
                         "num_products": [int(p) for p in products]}
