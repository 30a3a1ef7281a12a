"""``ScheduledSolver``: a composite linear solver routing each block to a quantum or a classical
child by estimated kappa, sparsity and the two branches' modelled costs (Q-Newton's scheduler,
arXiv:2405.00252, built completely: the published code has none)."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from qtrain._info import SolveContext
from qtrain.linalg.condition import condition_number
from qtrain.linalg.cost import ClassicalCostModel, QLSACostModel
from qtrain.linalg.qlsa import SimulatedQLSASolver, structural_sparsity
from qtrain.linalg.regularize import sparsify
from qtrain.linalg.solvers import LinearSolver, UnconvergedWarning, get_linear_solver

__all__ = ["POLICIES", "ScheduledSolver", "reprice"]

POLICIES = ("argmin", "threshold", "hysteresis")
#: ``kappa_method="auto"`` uses eigvalsh up to this block size and Lanczos above it.
AUTO_EXACT_MAX_N = 256


def _route(policy: str, kappa: torch.Tensor, cq: torch.Tensor, cc: torch.Tensor,
           threshold: float, margin: float, previous: torch.Tensor | None) -> torch.Tensor:
    """Boolean ``[B]``: True where the block goes to the quantum solver."""
    if policy == "argmin":
        return cq < cc
    if policy == "threshold":
        return (kappa <= threshold) & (cq < cc)
    enter = (kappa <= threshold * (1 - margin)) & (cq < cc * (1 - margin))
    stay = (kappa <= threshold * (1 + margin)) & (cq < cc * (1 + margin))
    if previous is None:
        return (kappa <= threshold) & (cq < cc)
    return torch.where(previous, stay, enter)


class ScheduledSolver(LinearSolver):
    """Route every block of a batch to the cheaper of a quantum and a classical solver.

    Per block and call (a training step): estimate ``kappa`` (``kappa_method``) and the sparsity
    ``d`` the quantum branch would pay for (after ``sparsify(A, sparsify_k)`` when given), price
    the quantum branch with ``quantum_cost`` and the classical one with ``classical_cost``, route
    by ``policy``, solve each group in one batched call, and append one record per block to
    :attr:`log` (``step``, ``block``, ``N``, ``kappa``, ``d``, ``cost_quantum_s``,
    ``cost_classical_s``, ``route``); the same records come back in ``info["schedule"]``, and
    the quantum child's modelled ``resources`` in ``info["resources"]`` when a block went quantum.
    Step and block ids come from the call's :class:`~qtrain._info.SolveContext`
    (``solve(A, b, context=SolveContext(step, block_ids))``); it is a composite with
    ``children = [quantum, classical]``.

    Policies: ``"argmin"`` (quantum iff cheaper), ``"threshold"`` (the paper's rule: quantum iff
    cheaper and ``kappa <= kappa_threshold``), ``"hysteresis"`` (the threshold rule, but a block
    changes branch only when both margins are crossed by the relative ``margin``, which stops
    blocks flapping between branches from step to step).

    Args:
        quantum: the quantum child (default ``SimulatedQLSASolver()``) or its name.
        classical: the classical child (default ``"cholesky"``) or its name.
        quantum_cost: prices the quantum branch (default: the quantum child's ``cost_model``).
        classical_cost: prices the classical branch (default: measured Cholesky time on the
            blocks' own device and dtype, measured once per size).
        policy: one of :data:`POLICIES`.
        kappa_threshold: blocks above it stay classical (``"threshold"``/``"hysteresis"``).
        margin: relative hysteresis margin in ``[0, 1)``.
        kappa_method: ``"exact"``, ``"lanczos"``, ``"bound"`` (see ``condition_number``) or
            ``"auto"`` (exact up to ``N = 256``, Lanczos above).
        sparsify_k: prune quantum-routed blocks to the top-``k`` entries per row (symmetrised).

    Raises:
        ValueError: an unknown policy or kappa method, ``margin`` outside ``[0, 1)``,
            ``kappa_threshold < 1``, ``sparsify_k < 1``; at ``solve`` see ``check_system``.

    Example:
        >>> s = ScheduledSolver(quantum_cost=QLSACostModel(profile="attosecond"))
        >>> A = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
        >>> r = s.solve(A, torch.ones(2, dtype=torch.float64))
        >>> sorted(r.info["schedule"][0])[:3]
        ['N', 'block', 'cost_classical_s']

    References:
        Li, Liu, Wang, Chen, arXiv:2405.00252 (Q-Newton's scheduling); Jennings et al.,
        arXiv:2305.11352 (the quantum cost).
    """

    name = "scheduled"

    def __init__(self, quantum: LinearSolver | str | None = None,
                 classical: LinearSolver | str = "cholesky",
                 quantum_cost: QLSACostModel | None = None,
                 classical_cost: ClassicalCostModel | None = None, policy: str = "threshold",
                 kappa_threshold: float = 1e4, margin: float = 0.1, kappa_method: str = "auto",
                 sparsify_k: int | None = None):
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        if not kappa_threshold >= 1:
            raise ValueError(f"kappa_threshold must be >= 1, got {kappa_threshold}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1), got {margin}")
        if kappa_method not in ("auto", "exact", "lanczos", "bound"):
            raise ValueError(f"kappa_method must be 'auto', 'exact', 'lanczos' or 'bound', "
                             f"got {kappa_method!r}")
        if sparsify_k is not None and sparsify_k < 1:
            raise ValueError(f"sparsify_k must be >= 1 or None, got {sparsify_k}")
        self.quantum = get_linear_solver(quantum if quantum is not None else
                                         SimulatedQLSASolver())
        self.classical = get_linear_solver(classical)
        qc = quantum_cost if quantum_cost is not None else getattr(self.quantum, "cost_model",
                                                                   None)
        self.quantum_cost = qc if qc is not None else QLSACostModel()
        self.classical_cost = classical_cost
        self._measured: dict[str, ClassicalCostModel] = {}
        self.policy, self.kappa_threshold, self.margin = policy, kappa_threshold, margin
        self.kappa_method, self.sparsify_k = kappa_method, sparsify_k
        self.log: list[dict[str, Any]] = []
        self._previous: dict[Any, bool] = {}
        self._calls = 0

    @property
    def children(self) -> list[LinearSolver]:
        """The quantum and the classical child, in that order (dimod's composite convention)."""
        return [self.quantum, self.classical]

    @property
    def child(self) -> LinearSolver:
        """The first child, the quantum one."""
        return self.quantum

    def _solve(self, A, b, seed, context=None, **kwargs):
        """``context`` numbers the log: ``context.step`` (default: this solver's call count) and
        ``context.block_ids`` (default ``0..B-1``), the ids the hysteresis memory is kept by."""
        if kwargs:
            raise TypeError(f"unknown options for scheduled: {sorted(kwargs)}")
        batch, N = A.shape[:-2], A.shape[-1]
        A2, b2 = A.reshape(-1, N, N), b.reshape(-1, N)
        B = A2.shape[0]
        context = context if context is not None else SolveContext()
        ids = context.ids_for(B)
        step = self._calls if context.step is None else context.step
        self._calls += 1
        Aq = sparsify(A2, self.sparsify_k).matrix if self.sparsify_k is not None else A2
        method = self.kappa_method
        if method == "auto":
            method = "exact" if N <= AUTO_EXACT_MAX_N else "lanczos"
        est = condition_number(Aq, method, return_estimate=True, seed=seed, symmetric=True,
                               check=False)  # solve() has checked A
        kappa = est.kappa.to(torch.float64).cpu()
        d = structural_sparsity(Aq).cpu()
        Nt = torch.full((B,), float(N), dtype=torch.float64)
        cq = self.quantum_cost.time(Nt, kappa.clamp_max(1e300), d)
        cc = self._classical_model(A.device, A.dtype).time(Nt)
        prev = None
        if self.policy == "hysteresis" and all(i in self._previous for i in ids):
            prev = torch.tensor([self._previous[i] for i in ids])
        route = _route(self.policy, kappa, cq, cc, self.kappa_threshold, self.margin, prev)
        route &= torch.isfinite(kappa)
        x = torch.empty_like(b2)
        converged = torch.ones(B, dtype=torch.bool)
        children: dict[str, Any] = {}
        for flag, child, mat in ((True, self.quantum, Aq), (False, self.classical, A2)):
            sel = (route == flag).nonzero().squeeze(-1).to(A.device)
            if sel.numel():
                kw = {"kappa": kappa[sel.cpu()]} if (
                    flag and isinstance(child, SimulatedQLSASolver)) else {}
                sub = SolveContext(step, tuple(ids[i] for i in sel.tolist()))
                with warnings.catch_warnings():  # the scheduler warns once, for all its blocks
                    warnings.simplefilter("ignore", UnconvergedWarning)
                    res = child.solve(mat[sel], b2[sel], seed=seed, context=sub, **kw)
                x[sel] = res.x
                converged[sel.cpu()] = torch.tensor(res.info["converged_blocks"])
                children["quantum" if flag else "classical"] = res.info
        records = []
        for i in range(B):
            self._previous[ids[i]] = bool(route[i])
            records.append({"step": step, "block": ids[i], "N": N, "kappa": float(kappa[i]),
                            "d": int(d[i]), "cost_quantum_s": float(cq[i]),
                            "cost_classical_s": float(cc[i]),
                            "route": "quantum" if route[i] else "classical"})
        self.log.extend(records)
        info = {"schedule": records, "quantum_fraction": float(route.double().mean()),
                "kappa_estimate_cost": est.cost, "children": children,
                "policy": self.policy, "converged": converged.reshape(batch).to(A.device)}
        if "resources" in children.get("quantum", {}):
            info["resources"] = children["quantum"]["resources"]
        return x.reshape(*batch, N), info

    def _classical_model(self, device: torch.device, dtype: torch.dtype) -> ClassicalCostModel:
        if self.classical_cost is not None:
            return self.classical_cost
        key = f"{device}/{dtype}"
        if key not in self._measured:
            self._measured[key] = ClassicalCostModel("measured", device=device, dtype=dtype)
        return self._measured[key]

    def reset(self) -> None:
        """Forget the log and the hysteresis memory."""
        self.log.clear()
        self._previous.clear()
        self._calls = 0

    def __repr__(self) -> str:
        return (f"ScheduledSolver(quantum={self.quantum!r}, classical={self.classical!r}, "
                f"policy={self.policy!r}, kappa_threshold={self.kappa_threshold})")


def reprice(records: list[dict[str, Any]], quantum_cost: QLSACostModel,
            kappa_threshold: float | None = 1e4) -> dict[str, float]:
    """Re-route logged blocks under another quantum cost model (another hardware profile, with
    or without read-out) and total the solve time of both strategies.

    Each record's quantum cost is recomputed from its ``N``, ``kappa`` and ``d``; a block is
    routed quantum iff that is cheaper than its logged classical cost (and ``kappa <=
    kappa_threshold`` when given).

    Returns:
        ``hybrid_solve_s`` (sum of the routed costs), ``classical_solve_s`` (all classical),
        ``quantum_fraction`` (share of blocks routed quantum).

    References:
        Li, Liu, Wang, Chen, arXiv:2405.00252 (the projected hybrid time).
    """
    if not records:
        return {"hybrid_solve_s": 0.0, "classical_solve_s": 0.0, "quantum_fraction": 0.0}
    N = torch.tensor([r["N"] for r in records], dtype=torch.float64)
    kappa = torch.tensor([r["kappa"] for r in records], dtype=torch.float64).clamp_max(1e300)
    d = torch.tensor([r["d"] for r in records], dtype=torch.float64)
    cc = torch.tensor([r["cost_classical_s"] for r in records], dtype=torch.float64)
    cq = quantum_cost.time(N, kappa, d)
    q = cq < cc
    if kappa_threshold is not None:
        q &= kappa <= kappa_threshold
    return {"hybrid_solve_s": float(torch.where(q, cq, cc).sum()),
            "classical_solve_s": float(cc.sum()), "quantum_fraction": float(q.double().mean())}
