"""The constrained binary program ``QCBO`` and its conversions: penalty QUBO, MILP (HiGHS), dimod CQM.

A QCBO is ``min x^T Q x + c^T x + offset`` over ``x in {0, 1}^n`` subject to ``A_eq x = b_eq`` and
``A_ub x <= b_ub``; optional *product* variables ``x_k = x_i x_j`` (the McCormick/Fortet
linearisation of a product of binaries) add their three exact rows. Every conversion is proven
exact on small instances by brute force (tests/qubo/test_qcbo.py).

References:
    Lucas, "Ising formulations of many NP problems", arXiv:1302.5843 (penalties);
    Glover, Kochenberger, Du, "A tutorial on formulating and using QUBO models", arXiv:1811.11538
    (slack bits); Rosenberg, "Reduction of bivalent maximization to the quadratic case" (1975).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qtrain.qubo.model import QUBO, _as_tensor

__all__ = ["QCBO", "InfeasibleProgramError", "QCBOSolution", "hybrid_cqm_request", "random_qcbo",
           "solve_cqm_hybrid"]

#: Exhaustive search refuses programs with more variables than this (``2^24`` states).
MAX_BRUTE_FORCE = 24
#: Feasibility tolerance on a row, scaled by ``1 + |b|``.
FEASIBILITY_TOL = 1e-9


class InfeasibleProgramError(ValueError):
    """The program has no feasible binary point; ``rows`` names the rows violated at the point of
    least total violation."""

    def __init__(self, message: str, rows: list[str]):
        super().__init__(message)
        self.rows = rows


@dataclass
class QCBOSolution:
    """A binary point of a :class:`QCBO` and how good it is.

    Attributes:
        x: 0/1 ``int8`` tensor ``[n]``.
        objective: ``x^T Q x + c^T x + offset``.
        feasible: every row holds within :data:`FEASIBILITY_TOL`.
        violation: ``sum |A_eq x - b_eq| + sum max(A_ub x - b_ub, 0)`` (0 when feasible).
        info: solver details (timing in ns, seed, iterations, ...).
    """

    x: torch.Tensor
    objective: float
    feasible: bool
    violation: float
    info: dict[str, Any] = field(default_factory=dict)


def _rows(A: Any, b: Any, n: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if (A is None) != (b is None):
        raise ValueError(f"A_{name} and b_{name} must be given together")
    if A is None:
        return torch.zeros(0, n, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)
    A = _as_tensor(A, f"A_{name}", torch.float64).cpu()
    b = _as_tensor(b, f"b_{name}", torch.float64).cpu().reshape(-1)
    A = A.reshape(1, -1) if A.dim() == 1 else A
    if A.dim() != 2 or A.shape[1] != n:
        raise ValueError(f"A_{name} must have shape [m, n={n}], got {tuple(A.shape)}")
    if b.shape[0] != A.shape[0]:
        raise ValueError(f"b_{name} must have {A.shape[0]} entries (one per row of A_{name}), got {b.shape[0]}")
    return A, b


class QCBO:
    r"""A quadratic constrained binary optimisation problem.

    .. math:: \min_{x \in \{0,1\}^n} x^\top Q x + c^\top x + \text{offset}
        \quad \text{s.t.} \quad A_\text{eq} x = b_\text{eq}, \; A_\text{ub} x \le b_\text{ub},
        \; x_k = x_i x_j \;\; ((k, i, j) \in \text{products}).

    ``Q`` is the full matrix (both triangles count, as in :class:`~qtrain.qubo.QUBO`). A product
    ``(k, i, j)`` is kept as its three exact rows ``x_k <= x_i``, ``x_k <= x_j``,
    ``x_k >= x_i + x_j - 1`` (:meth:`inequality_rows` lists them after ``A_ub``); the penalty QUBO
    replaces them by Rosenberg's penalty ``x_i x_j - 2 x_i x_k - 2 x_j x_k + 3 x_k`` (zero iff
    ``x_k = x_i x_j``, no slack bits).

    Args:
        Q: ``[n, n]`` real, finite.
        c: ``[n]`` linear coefficients (default 0).
        A_eq, b_eq: equality rows ``[m_eq, n]``, ``[m_eq]``.
        A_ub, b_ub: inequality rows ``[m_ub, n]``, ``[m_ub]``.
        offset: constant added to the objective.
        products: ``[P, 3]`` integer triples ``(k, i, j)``, distinct indices.

    Raises:
        ValueError: shapes that do not match, non-finite entries, bad product triples.

    Example:
        >>> p = QCBO([[0.0, 1.0], [0.0, 0.0]], c=[-1.0, -1.0], A_eq=[[1.0, 1.0]], b_eq=[1.0])
        >>> p.brute_force().objective
        -1.0
    """

    def __init__(self, Q: Any, c: Any = None, A_eq: Any = None, b_eq: Any = None, A_ub: Any = None,
                 b_ub: Any = None, *, offset: float = 0.0, products: Any = None):
        Q = _as_tensor(Q, "Q", torch.float64).cpu()
        if Q.dim() != 2 or Q.shape[0] != Q.shape[1]:
            raise ValueError(f"Q must have shape [n, n], got {tuple(Q.shape)}")
        n = Q.shape[0]
        c = torch.zeros(n, dtype=torch.float64) if c is None else _as_tensor(c, "c", torch.float64).cpu()
        if c.shape != (n,):
            raise ValueError(f"c must have shape [n={n}], got {tuple(c.shape)}")
        if not math.isfinite(float(offset)):
            raise ValueError(f"offset must be finite, got {offset!r}")
        self.Q, self.c, self.offset = Q, c, float(offset)
        self.A_eq, self.b_eq = _rows(A_eq, b_eq, n, "eq")
        self.A_ub, self.b_ub = _rows(A_ub, b_ub, n, "ub")
        P = np.zeros((0, 3), dtype=np.int64) if products is None else np.asarray(products, dtype=np.int64)
        P = P.reshape(-1, 3)
        if P.size and (P.min() < 0 or P.max() >= n or np.any(P[:, 0] == P[:, 1]) or np.any(P[:, 0] == P[:, 2])):
            raise ValueError(f"products must be triples (k, i, j) of distinct indices in [0, {n}) with k != i, j")
        self.products = P

    # ------------------------------------------------------------------ sizes
    @property
    def num_variables(self) -> int:
        return int(self.Q.shape[0])

    @property
    def num_eq(self) -> int:
        return int(self.A_eq.shape[0])

    @property
    def num_ub(self) -> int:
        """Inequality rows, the three rows of every product included."""
        return int(self.A_ub.shape[0]) + 3 * len(self.products)

    def counts(self) -> dict[str, int]:
        """Variables, rows and spins: ``penalty_spins`` (``n`` plus the slack bits of
        :meth:`to_penalty_qubo`) and ``lifted_spins`` (``n``: QCGD's oracle needs no slack bits)."""
        return {"variables": self.num_variables, "eq_rows": self.num_eq, "ub_rows": self.num_ub,
                "products": len(self.products), "penalty_spins": self.num_variables + int(sum(
                    len(w) for w in self._slack_weights(None) if w is not None)), "lifted_spins": self.num_variables}

    def __repr__(self) -> str:
        return (f"QCBO(n={self.num_variables}, eq_rows={self.num_eq}, ub_rows={self.num_ub}, "
                f"products={len(self.products)})")

    # ------------------------------------------------------------------ rows
    def inequality_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A, b)`` of every ``<=`` row: ``A_ub`` then three rows per product."""
        P = self.products
        if not len(P):
            return self.A_ub, self.b_ub
        m, n = len(P), self.num_variables
        A = torch.zeros(3 * m, n, dtype=torch.float64)
        r = torch.arange(m)
        k, i, j = (torch.from_numpy(P[:, t]) for t in range(3))
        A[r, k], A[r, i] = 1.0, -1.0                       # x_k - x_i <= 0
        A[m + r, k], A[m + r, j] = 1.0, -1.0               # x_k - x_j <= 0
        A[2 * m + r, i], A[2 * m + r, j], A[2 * m + r, k] = 1.0, 1.0, -1.0  # x_i + x_j - x_k <= 1
        b = torch.cat([torch.zeros(2 * m, dtype=torch.float64), torch.ones(m, dtype=torch.float64)])
        return torch.cat([self.A_ub, A]), torch.cat([self.b_ub, b])

    def _x(self, x: Any) -> torch.Tensor:
        x = torch.as_tensor(x).to(torch.float64).cpu()
        if x.shape[-1] != self.num_variables:
            raise ValueError(f"x must have last dimension n={self.num_variables}, got {tuple(x.shape)}")
        return x

    def energy(self, x: Any) -> torch.Tensor:
        """Objective ``x^T Q x + c^T x + offset`` of points ``[..., n]`` (float64, shape ``[...]``)."""
        x = self._x(x)
        return torch.einsum("...i,ij,...j->...", x, self.Q, x) + x @ self.c + self.offset

    def residuals(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A_eq x - b_eq, max(A x - b, 0))`` over the equality and every inequality row."""
        x = self._x(x)
        A, b = self.inequality_rows()
        return x @ self.A_eq.T - self.b_eq, torch.clamp(x @ A.T - b, min=0)

    def violation(self, x: Any) -> torch.Tensor:
        """Total violation ``sum |A_eq x - b_eq| + sum max(A_ub x - b_ub, 0)``, shape ``[...]``."""
        eq, ub = self.residuals(x)
        return eq.abs().sum(-1) + ub.sum(-1)

    def _row_ok(self, x: torch.Tensor, tol: float) -> tuple[torch.Tensor, torch.Tensor]:
        eq, ub = self.residuals(x)
        A, b = self.inequality_rows()
        return eq.abs() <= tol * (1 + self.b_eq.abs()), ub <= tol * (1 + b.abs())

    def is_feasible(self, x: Any, tol: float = FEASIBILITY_TOL) -> torch.Tensor | bool:
        """Whether every row holds within ``tol (1 + |b|)``; a bool for one point, else ``[...]``."""
        x = self._x(x)
        eq, ub = self._row_ok(x, tol)
        ok = eq.all(-1) & ub.all(-1)
        return bool(ok) if x.dim() == 1 else ok

    def violated_rows(self, x: Any, tol: float = FEASIBILITY_TOL) -> list[str]:
        """Names of the rows one point violates: ``eq[i]``, ``ub[i]`` and ``product[p]``."""
        x = self._x(x).reshape(-1)
        eq, ub = self._row_ok(x, tol)
        m = int(self.A_ub.shape[0])
        names = [f"eq[{i}]" for i in torch.nonzero(~eq).flatten().tolist()]
        for i in torch.nonzero(~ub).flatten().tolist():
            names.append(f"ub[{i}]" if i < m else f"product[{(i - m) % max(1, len(self.products))}]")
        return sorted(set(names), key=names.index)

    def solution(self, x: Any, **info: Any) -> QCBOSolution:
        """A :class:`QCBOSolution` for the point ``x`` (objective, feasibility, violation)."""
        x = self._x(x).reshape(-1)
        return QCBOSolution(x=x.round().to(torch.int8), objective=float(self.energy(x)),
                            feasible=bool(self.is_feasible(x)), violation=float(self.violation(x)),
                            info=dict(info))

    # ------------------------------------------------------------------ exact references
    def brute_force(self, max_variables: int = MAX_BRUTE_FORCE, chunk: int = 2**16) -> QCBOSolution:
        """The exact constrained optimum by enumerating all ``2^n`` points (the lowest index wins
        ties).

        Raises:
            ValueError: ``n`` above ``max_variables`` (default 24).
            InfeasibleProgramError: no feasible point; names the rows violated at the point of
                least violation.
        """
        n = self.num_variables
        if n > max_variables:
            raise ValueError(f"brute force takes at most max_variables={max_variables} variables, got n={n}")
        best: tuple[float, int] | None = None
        least: tuple[float, int] = (math.inf, 0)
        for start in range(0, 2**n, chunk):
            idx = torch.arange(start, min(start + chunk, 2**n))
            X = ((idx[:, None] >> torch.arange(n)) & 1).to(torch.float64)
            e, v, ok = self.energy(X), self.violation(X), self.is_feasible(X)
            vmin = int(torch.argmin(v))
            if float(v[vmin]) < least[0]:
                least = (float(v[vmin]), start + vmin)
            if bool(ok.any()):
                e = torch.where(ok, e, torch.full_like(e, math.inf))
                k = int(torch.argmin(e))
                if best is None or float(e[k]) < best[0]:
                    best = (float(e[k]), start + k)
        if best is None:
            x = ((torch.tensor(least[1]) >> torch.arange(n)) & 1)
            rows = self.violated_rows(x)
            raise InfeasibleProgramError(f"the program is infeasible: every binary point violates a row; "
                                         f"the least violating point violates {rows}", rows)
        x = (torch.tensor(best[1]) >> torch.arange(n)) & 1
        return self.solution(x, solver="brute-force", states=2**n)

    def to_milp(self) -> dict[str, Any]:
        """Keyword arguments of ``scipy.optimize.milp`` for the exact program.

        The objective ``x^T (Q + diag c) x`` is linearised by Fortet's products
        (:func:`qtrain.qubo.milp.linearize_qubo`: a continuous ``y_ij = x_i x_j`` with three rows per
        non-zero coupling); the program's own rows act on the first ``n`` columns. Only the bits are
        integral. ``offset`` is not part of the program (add it to the optimum).
        """
        from scipy import sparse
        from scipy.optimize import Bounds, LinearConstraint

        from qtrain.qubo.milp import linearize_qubo

        n = self.num_variables
        Qc = (self.Q + torch.diag(self.c)).numpy()
        cost, A_lin, lo, hi, _ = linearize_qubo(Qc)
        extra = cost.size - n
        A_ub, b_ub = self.inequality_rows()
        pad = lambda A: sparse.hstack([sparse.csr_array(A.numpy()), sparse.csr_array((A.shape[0], extra))])  # noqa: E731
        cons = []
        if A_lin.shape[0]:
            cons.append(LinearConstraint(A_lin, lo, hi))
        if self.num_eq:
            cons.append(LinearConstraint(pad(self.A_eq), self.b_eq.numpy(), self.b_eq.numpy()))
        if A_ub.shape[0]:
            cons.append(LinearConstraint(pad(A_ub), -np.inf, b_ub.numpy()))
        integrality = np.zeros(cost.size)
        integrality[:n] = 1
        return {"c": cost, "integrality": integrality, "bounds": Bounds(0, 1), "constraints": cons}

    def solve_milp(self, time_limit: float | None = None, mip_rel_gap: float = 0.0) -> QCBOSolution:
        """The exact optimum through HiGHS (``scipy.optimize.milp``) on :meth:`to_milp`.

        Raises:
            InfeasibleProgramError: HiGHS proves the program infeasible (the message names the rows
                violated at the least-violation point of the elastic program).
            RuntimeError: HiGHS found no point within ``time_limit``.
        """
        from scipy.optimize import milp

        from qtrain.qubo.milp import highs_options, highs_outcome

        res = milp(**self.to_milp(), options=highs_options(time_limit, mip_rel_gap))
        if res.status == 2:
            rows = self.violated_rows(self._least_violation_point())
            raise InfeasibleProgramError(f"the program is infeasible (HiGHS: {res.message}); the least "
                                         f"violating point violates {rows}", rows)
        if res.x is None:
            raise RuntimeError(f"HiGHS found no feasible point: {res.message}")
        optimal, gap, dual = highs_outcome(res)
        x = np.rint(res.x[: self.num_variables])
        return self.solution(x, solver="milp", proven_optimal=optimal, mip_gap=gap,
                             dual_bound=None if dual is None else dual + self.offset, status=str(res.message))

    def _least_violation_point(self) -> np.ndarray:
        """The binary point of least total violation (elastic MILP: one slack per row side)."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        n = self.num_variables
        A_ub, b_ub = self.inequality_rows()
        m_eq, m_ub = self.num_eq, A_ub.shape[0]
        # variables: x (n), eq slacks + and - (2 m_eq), ub slacks (m_ub); minimise their sum
        nv = n + 2 * m_eq + m_ub
        cost = np.concatenate([np.zeros(n), np.ones(2 * m_eq + m_ub)])
        rows = []
        if m_eq:
            rows.append(LinearConstraint(np.hstack([self.A_eq.numpy(), np.eye(m_eq), -np.eye(m_eq),
                                                    np.zeros((m_eq, m_ub))]), self.b_eq.numpy(), self.b_eq.numpy()))
        if m_ub:
            rows.append(LinearConstraint(np.hstack([A_ub.numpy(), np.zeros((m_ub, 2 * m_eq)), -np.eye(m_ub)]),
                                         -np.inf, b_ub.numpy()))
        upper = np.concatenate([np.ones(n), np.full(nv - n, np.inf)])
        integ = np.concatenate([np.ones(n), np.zeros(nv - n)])
        res = milp(cost, integrality=integ, bounds=Bounds(0, upper), constraints=rows)
        return np.rint(res.x[:n])

    # ------------------------------------------------------------------ penalty QUBO
    def _slack_weights(self, slack_bits: int | None) -> list[np.ndarray | None]:
        """Binary slack weights of every ``A_ub`` row (products excepted): integral rows get the
        bounded encoding ``1, 2, .., 2^(K-2), U - 2^(K-1) + 1`` of ``[0, U]`` (exact); real rows
        ``K = slack_bits`` (default 8) bits of step ``U / (2^K - 1)``; a row no point can violate
        is ``None`` (no penalty), a row with ``U = 0`` gets no bits (penalised as an equality).
        ``U = b - sum_i min(a_i, 0)``."""
        out = []
        A, b = self.A_ub.numpy(), self.b_ub.numpy()
        for r in range(A.shape[0]):
            a = A[r]
            if np.maximum(a, 0).sum() <= b[r]:  # redundant: holds for every x, no penalty
                out.append(None)
                continue
            U = b[r] - np.minimum(a, 0).sum()
            if U < 0:
                raise InfeasibleProgramError(f"row ub[{r}] cannot hold for any binary x (its least value "
                                             f"{np.minimum(a, 0).sum():.6g} exceeds b = {b[r]:.6g})", [f"ub[{r}]"])
            integral = np.allclose(a, np.round(a)) and math.isclose(b[r], round(b[r]))
            if integral:
                U = int(round(U))
                if U == 0:
                    out.append(np.zeros(0))
                    continue
                K = int(math.floor(math.log2(U))) + 1
                w = [2.0**k for k in range(K - 1)] + [float(U - 2 ** (K - 1) + 1)]
                out.append(np.array(w))
            else:
                K = 8 if slack_bits is None else slack_bits
                out.append(U / (2**K - 1) * 2.0 ** np.arange(K))
        return out

    def to_penalty_qubo(self, lam: float, slack_bits: int | None = None) -> QUBO:
        r"""The penalty QUBO ``f(x) + lam (sum_r (a_r x - b_r)^2 + sum_r (a_r x + w_r s_r - b_r)^2
        + sum_p R_p)`` over ``(x, s)``.

        Equality rows are squared; each inequality row gets slack bits ``s_r`` with weights ``w_r``
        (:meth:`_slack_weights`: exact for integral rows, a ``slack_bits``-bit grid of step
        ``U / (2^K - 1)`` otherwise, where a feasible ``x`` pays at most ``lam (step / 2)^2``);
        products get Rosenberg's penalty ``R = x_i x_j - 2 x_i x_k - 2 x_j x_k + 3 x_k``. For any
        feasible ``x`` with its best slack the energy is ``f(x)`` (integral rows), so the ground state
        is the constrained optimum once ``lam`` exceeds the objective's range. The first ``n``
        variables of the QUBO are ``x``; slack bits follow row by row.

        Raises:
            ValueError: ``lam`` not positive and finite, or ``slack_bits`` outside 1..16.
            InfeasibleProgramError: an inequality row no binary point can satisfy.
        """
        if not (isinstance(lam, int | float) and math.isfinite(lam) and lam > 0):
            raise ValueError(f"lam must be a positive finite number, got {lam!r}")
        if slack_bits is not None and not (isinstance(slack_bits, int) and 1 <= slack_bits <= 16):
            raise ValueError(f"slack_bits must be an integer in 1..16, got {slack_bits!r}")
        n = self.num_variables
        weights = self._slack_weights(slack_bits)
        N = n + sum(len(w) for w in weights if w is not None)
        Qt = torch.zeros(N, N, dtype=torch.float64)
        Qt[:n, :n] = self.Q + torch.diag(self.c)
        offset = self.offset

        def add_square(a: torch.Tensor, b: float) -> None:
            # (a^T x - b)^2 = x^T a a^T x - 2 b a^T x + b^2 with x_i^2 = x_i on the diagonal
            nonlocal offset
            Qt.add_(lam * (torch.outer(a, a) - 2 * b * torch.diag(a)))
            offset += lam * b * b

        for r in range(self.num_eq):
            add_square(torch.cat([self.A_eq[r], torch.zeros(N - n, dtype=torch.float64)]), float(self.b_eq[r]))
        pos = n
        for r, w in enumerate(weights):
            if w is None:
                continue
            a = torch.zeros(N, dtype=torch.float64)
            a[:n] = self.A_ub[r]
            a[pos:pos + len(w)] = torch.from_numpy(w)
            add_square(a, float(self.b_ub[r]))
            pos += len(w)
        for k, i, j in self.products.tolist():
            Qt[i, j] += lam
            Qt[i, k] -= 2 * lam
            Qt[j, k] -= 2 * lam
            Qt[k, k] += 3 * lam
        return QUBO(Qt, offset)

    # ------------------------------------------------------------------ dimod
    def to_cqm(self) -> Any:
        """A ``dimod.ConstrainedQuadraticModel`` with BINARY variables ``0..n-1``, the objective
        (offset included) and the rows labelled ``eq[i]``, ``ub[i]``, ``product[p]`` (the three
        rows of a product share the label's prefix: ``product[p].a/.b/.c``)."""
        import dimod

        n = self.num_variables
        Qn = (self.Q + self.Q.T).numpy()
        obj = dimod.BinaryQuadraticModel("BINARY")
        obj.add_variables_from((i, float(self.Q[i, i] + self.c[i])) for i in range(n))
        iu, ju = np.nonzero(np.triu(Qn, 1))
        obj.add_quadratic_from((int(i), int(j), float(Qn[i, j])) for i, j in zip(iu, ju, strict=True))
        obj.offset = self.offset
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.add_variables("BINARY", range(n))
        cqm.set_objective(obj)

        def add(a: np.ndarray, sense: str, b: float, label: str) -> None:
            terms = [(int(i), float(a[i])) for i in np.nonzero(a)[0]]
            cqm.add_constraint_from_iterable(terms, sense, rhs=float(b), label=label)

        for r in range(self.num_eq):
            add(self.A_eq[r].numpy(), "==", float(self.b_eq[r]), f"eq[{r}]")
        for r in range(int(self.A_ub.shape[0])):
            add(self.A_ub[r].numpy(), "<=", float(self.b_ub[r]), f"ub[{r}]")
        for p, (k, i, j) in enumerate(self.products.tolist()):
            cqm.add_constraint_from_iterable([(k, 1.0), (i, -1.0)], "<=", rhs=0.0, label=f"product[{p}].a")
            cqm.add_constraint_from_iterable([(k, 1.0), (j, -1.0)], "<=", rhs=0.0, label=f"product[{p}].b")
            cqm.add_constraint_from_iterable([(i, 1.0), (j, 1.0), (k, -1.0)], "<=", rhs=1.0,
                                             label=f"product[{p}].c")
        return cqm


def random_qcbo(n: int, num_eq: int = 1, num_ub: int = 0, seed: int = 0) -> QCBO:
    """A random feasible program: ``Q`` uniform(-1, 1), ``c`` uniform(-1, 1), equality rows with 0/1
    coefficients (each a random non-empty subset), inequality rows with integers in [-2, 2]; the
    right-hand sides come from a random binary point ``x0`` (``b_ub = A_ub x0 + {0, 1}``), so ``x0``
    is feasible."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    x0 = rng.integers(0, 2, n).astype(np.float64)
    A_eq = (rng.random((num_eq, n)) < 0.5).astype(np.float64)
    A_eq[np.arange(num_eq), rng.integers(0, n, num_eq)] = 1.0
    A_ub = rng.integers(-2, 3, (num_ub, n)).astype(np.float64)
    return QCBO(rng.uniform(-1, 1, (n, n)), rng.uniform(-1, 1, n), A_eq, A_eq @ x0, A_ub,
                A_ub @ x0 + rng.integers(0, 2, num_ub))


def hybrid_cqm_request(problem: QCBO, time_limit: float | None = None, label: str = "qtrain-qbo") -> dict[str, Any]:
    """What :func:`solve_cqm_hybrid` submits: ``{"cqm": problem.to_cqm(), "time_limit", "label"}``
    (``time_limit`` omitted when None: the solver's minimum for the model)."""
    if time_limit is not None and not (isinstance(time_limit, int | float) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
    req: dict[str, Any] = {"cqm": problem.to_cqm(), "label": label}
    if time_limit is not None:
        req["time_limit"] = float(time_limit)
    return req


def solve_cqm_hybrid(problem: QCBO, token: str | None = None, time_limit: float | None = None,
                     sampler: Any = None) -> QCBOSolution:
    """Solve on D-Wave's Leap hybrid CQM solver (extra ``dwave``; needs an account).

    The token comes from ``token``, else ``DWAVE_API_TOKEN``, else the dwave configuration file.
    ``sampler`` replaces ``LeapHybridCQMSampler`` (any object with ``sample_cqm(cqm, **kw)``), which
    is how the submitted model is tested offline.

    Raises:
        RuntimeError: no token (and no ``sampler``), naming where one is looked for.
        ImportError: dwave-system missing (``pip install 'qtrain[dwave]'``).
    """
    req = hybrid_cqm_request(problem, time_limit)
    if sampler is None:
        token = token or os.environ.get("DWAVE_API_TOKEN") or _config_token()
        if not token:
            raise RuntimeError("no D-Wave API token: pass token=..., set DWAVE_API_TOKEN or run "
                               "`dwave config create`; without an account use QCBO.solve_milp() or "
                               "qtrain.train.qbo.qcgd(problem, sampler='anneal')")
        try:
            from dwave.system import LeapHybridCQMSampler
        except ImportError as exc:  # pragma: no cover - needs the extra missing
            raise ImportError("the hybrid CQM solver needs dwave-system: pip install 'qtrain[dwave]'") from exc
        sampler = LeapHybridCQMSampler(token=token)
    cqm = req.pop("cqm")
    ss = sampler.sample_cqm(cqm, **req)
    feas = ss.filter(lambda d: d.is_feasible) if "is_feasible" in ss.record.dtype.names else ss
    best = (feas if len(feas) else ss).first.sample
    x = np.array([best[i] for i in range(problem.num_variables)])
    return problem.solution(x, solver="dwave-hybrid-cqm", submitted_variables=problem.num_variables)


def _config_token() -> str | None:
    """The token of the dwave configuration file, when dwave-cloud-client and a file exist."""
    try:
        from dwave.cloud.config import load_config
    except ImportError:
        return None
    try:
        return load_config().get("token")
    except Exception:  # a malformed or missing file means no token
        return None
