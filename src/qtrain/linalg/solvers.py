"""The linear-solver interface: ``solve(A, b) -> SolveResult``, batched over blocks, plus the
classical solvers ``cholesky`` and ``cg`` and the registry ``get_linear_solver(name)``."""

from __future__ import annotations

import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._device import synchronize
from qtrain._info import TIMING_KEYS, SolveContext, resolve_seed, stage_timing
from qtrain._registry import LazyRegistry

__all__ = [
    "LINEAR_TIMING_KEYS",
    "CGSolver",
    "CholeskySolver",
    "LinearSolver",
    "SingularSystemError",
    "SolveResult",
    "UnconvergedWarning",
    "available_linear_solvers",
    "check_system",
    "direct_solve",
    "get_linear_solver",
    "register_linear_solver",
    "relative_residual",
    "residual_tolerance",
    "synchronize",
]

#: Keys of ``info["timing"]`` (integer nanoseconds): the shared solver keys of
#: :data:`qtrain._info.TIMING_KEYS`.
LINEAR_TIMING_KEYS = TIMING_KEYS


class SingularSystemError(ValueError):
    """A direct solver met a singular block (no unique solution); a ``ValueError``, so callers
    that treat bad input alike need not know it, and Q-Newton can fall back to the gradient."""


class UnconvergedWarning(RuntimeWarning):
    """A linear solver returned a solution for a block it did not solve to its tolerance
    (``info["converged"]`` is False): a singular or badly conditioned system, or too few
    iterations."""


def residual_tolerance(dtype: torch.dtype) -> float:
    """The relative residual a solution must reach to count as converged when a solver has no
    tolerance of its own: ``100 sqrt(eps)`` of ``dtype`` (1.5e-6 in float64, 3.5e-2 in float32),
    loose enough for a backward-stable solve of a block with ``kappa`` up to about ``1/sqrt(eps)``."""
    return 100 * float(torch.finfo(dtype).eps) ** 0.5


def direct_solve(A: torch.Tensor, b: torch.Tensor, fallback: str = "lu") -> tuple[torch.Tensor, int]:
    """Solve by Cholesky ``A = L L^T``; blocks that are not positive definite by LU
    (``fallback="lu"``) or refused (``fallback="raise"``).

    Returns:
        ``(x, number of blocks that fell back to LU)``.

    Raises:
        SingularSystemError: a singular block (LU finds an exactly zero pivot), naming how many.
        ValueError: with ``fallback="raise"``, a block that is not positive definite.
    """
    L, bad = torch.linalg.cholesky_ex(A)
    failed = bad != 0
    x = torch.cholesky_solve(b.unsqueeze(-1), L).squeeze(-1)
    nfail = int(failed.sum())
    if nfail:
        if fallback == "raise":
            raise ValueError(f"A is not positive definite in {nfail} block(s); use "
                             "fallback='lu' or regularise A")
        x_lu, singular = torch.linalg.solve_ex(A, b)
        nsing = int((singular != 0).sum())
        if nsing:
            raise SingularSystemError(f"A is singular in {nsing} block(s): no unique solution; regularise A "
                                      "(add a damping lambda I) or use a least-squares method")
        x = torch.where(failed.unsqueeze(-1), x_lu, x)
    return x, nfail


@dataclass
class SolveResult:
    """The answer of a linear solver for a batch of systems ``A x = b``.

    Attributes:
        x: solutions, shape ``[..., N]`` (same batch shape, dtype and device as ``b``).
        residual: relative residuals ``||A x - b|| / ||b||`` (0 where ``b = 0``), shape ``[...]``.
        info: ``timing`` (ns, keys :data:`LINEAR_TIMING_KEYS`), ``seed``, ``solver``,
            ``converged`` (every block solved to the solver's tolerance) and ``converged_blocks``
            (per block, flattened), and solver-specific entries; quantum solvers add
            ``resources`` (queries, gates, projected hardware time), never mixed with the
            measured timing.
    """

    x: torch.Tensor
    residual: torch.Tensor
    info: dict[str, Any] = field(default_factory=dict)


def check_system(A: torch.Tensor, b: torch.Tensor | None = None, *, symmetric: bool = True,
                 name: str = "A", atol: float | None = None) -> None:
    """Refuse a malformed system before any work.

    Args:
        A: matrices ``[..., N, N]``.
        b: right-hand sides ``[..., N]`` (optional).
        symmetric: require ``A == A^T`` up to ``atol`` (default ``1e-6 * max|A|`` in float64,
            ``1e-4 * max|A|`` in lower precision).
        name: the argument's name in error messages.

    Raises:
        TypeError: ``A``/``b`` are not floating-point tensors.
        ValueError: non-square or empty ``A``, ``b`` of the wrong shape, dtype or device,
            non-finite entries, a non-symmetric ``A`` where symmetry is required.
    """
    if not isinstance(A, torch.Tensor) or not A.is_floating_point():
        raise TypeError(f"{name} must be a floating-point torch.Tensor, got {type(A).__name__}"
                        + (f" of dtype {A.dtype}" if isinstance(A, torch.Tensor) else ""))
    if A.ndim < 2 or A.shape[-1] != A.shape[-2] or A.shape[-1] == 0:
        raise ValueError(f"{name} must be a batch of non-empty square matrices [..., N, N], "
                         f"got shape {tuple(A.shape)}")
    if not bool(torch.isfinite(A).all()):
        raise ValueError(f"{name} has non-finite entries (nan or inf)")
    if b is not None:
        if not isinstance(b, torch.Tensor) or not b.is_floating_point():
            raise TypeError(f"b must be a floating-point torch.Tensor, got {type(b).__name__}")
        if b.dtype != A.dtype or b.device != A.device:
            raise ValueError(f"b must have {name}'s dtype and device ({A.dtype} on {A.device}), "
                             f"got {b.dtype} on {b.device}; convert one with .to()")
        if tuple(b.shape) != tuple(A.shape[:-1]):
            raise ValueError(f"b must have shape {tuple(A.shape[:-1])} (A's batch shape and N), "
                             f"got {tuple(b.shape)}")
        if not bool(torch.isfinite(b).all()):
            raise ValueError("b has non-finite entries (nan or inf)")
    if symmetric and A.numel():  # an empty batch [0, N, N] is trivially symmetric
        scale = float(A.abs().max())
        tol = atol if atol is not None else (1e-6 if A.dtype == torch.float64 else 1e-4) * scale
        asym = float((A - A.mT).abs().max())
        if asym > tol:
            raise ValueError(f"{name} must be symmetric: max |{name} - {name}^T| = {asym:.3g} "
                             f"exceeds {tol:.3g}")


def relative_residual(A: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``||A x - b||_2 / ||b||_2`` per system (``||A x||`` where ``b = 0``)."""
    r = torch.linalg.vector_norm((A @ x.unsqueeze(-1)).squeeze(-1) - b, dim=-1)
    nb = torch.linalg.vector_norm(b, dim=-1)
    return torch.where(nb > 0, r / nb.clamp_min(torch.finfo(b.dtype).tiny), r)


class LinearSolver(ABC):
    """A solver of batches of systems ``A x = b``, ``A``: ``[..., N, N]``, ``b``: ``[..., N]``.

    Subclasses set ``name`` and ``requires_symmetric`` and implement :meth:`_solve`, a pure
    function of tensors; :meth:`solve` checks the input, times the call (synchronised on CUDA)
    and computes the residuals. Composites (the scheduler) are solvers themselves: they expose
    ``children`` (and ``child``, the first), like dimod's composites, and read the optional
    :class:`~qtrain._info.SolveContext` a caller passes, so no caller needs to know which solver
    it holds.
    """

    name: str = ""
    requires_symmetric: bool = True
    quantum: bool = False

    def solve(self, A: torch.Tensor, b: torch.Tensor, *, seed: int | None = None,
              context: SolveContext | None = None, **kwargs: Any) -> SolveResult:
        """Solve every system of the batch.

        Args:
            A: matrices ``[..., N, N]`` (symmetric where ``requires_symmetric``).
            b: right-hand sides ``[..., N]``.
            seed: seed of any randomness, an integer in ``[0, 2**32)``; ``None`` draws fresh
                entropy (:func:`qtrain._info.resolve_seed`). Recorded in ``info["seed"]``.
            context: which training step and blocks the batch is (:class:`~qtrain._info.SolveContext`);
                when given it reaches :meth:`_solve` as the keyword ``context`` (composites read
                it; every built-in solver accepts it).
            **kwargs: solver-specific options.

        Returns:
            A :class:`SolveResult`.

        Raises:
            ValueError/TypeError: see :func:`check_system`; ``ValueError`` for a singular block
                where the solver is direct (``cholesky``, ``simulated-qlsa``).

        Warns:
            UnconvergedWarning: ``info["converged"]`` is False: a block was not solved to the
                solver's tolerance (its own, or :func:`residual_tolerance` of the dtype).
        """
        t0 = time.perf_counter_ns()
        check_system(A, b, symmetric=self.requires_symmetric)
        seed = resolve_seed(seed)
        if context is not None:
            kwargs["context"] = context
        t1 = time.perf_counter_ns()
        x, info = self._solve(A, b, seed, **kwargs)
        synchronize(A.device)
        t2 = time.perf_counter_ns()
        residual = relative_residual(A, x, b)
        info = dict(info)
        ok = info.pop("converged", None)
        tol = residual_tolerance(A.dtype)
        ok = (residual <= tol) if ok is None else torch.as_tensor(ok, device=residual.device)
        ok = (ok & torch.isfinite(x).all(-1)).reshape(-1)
        t3 = time.perf_counter_ns()
        info.update(solver=self.name, seed=seed, converged=bool(ok.all()), converged_blocks=ok.tolist(),
                    timing=stage_timing(t0, t1, t2, t3))
        if not info["converged"]:
            worst = float(residual.reshape(-1)[~ok].max()) if residual.numel() else float("nan")
            warnings.warn(f"linear solver {self.name!r} did not converge on {int((~ok).sum())} of "
                          f"{ok.numel()} block(s) (relative residual up to {worst:.3g}); the solution "
                          "may be wrong: A may be singular or badly conditioned (regularise it)",
                          UnconvergedWarning, stacklevel=2)
        return SolveResult(x, residual, info)

    @abstractmethod
    def _solve(self, A: torch.Tensor, b: torch.Tensor, seed: int,
               **kwargs: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """Return the solutions ``[..., N]`` and solver-specific ``info`` entries (``kwargs``
        holds the solver's options and, when the caller gave one, ``context``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CholeskySolver(LinearSolver):
    """Direct solve by Cholesky factorisation ``A = L L^T`` (``(1/3) N^3`` flops per block).

    Blocks that are not positive definite fall back to an LU solve (``fallback="lu"``, counted in
    ``info["fallbacks"]``) or raise (``fallback="raise"``); a singular block raises ``ValueError``
    (:func:`direct_solve`). ``converged``: the relative residual is within
    :func:`residual_tolerance`.

    Example:
        >>> A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
        >>> CholeskySolver().solve(A, torch.tensor([1.0, 2.0], dtype=torch.float64)).x
        tensor([0.0909, 0.6364], dtype=torch.float64)
    """

    name = "cholesky"

    def __init__(self, fallback: str = "lu"):
        if fallback not in ("lu", "raise"):
            raise ValueError(f"fallback must be 'lu' or 'raise', got {fallback!r}")
        self.fallback = fallback

    def _solve(self, A, b, seed, context=None, **kwargs):
        if kwargs:
            raise TypeError(f"unknown options for cholesky: {sorted(kwargs)}")
        x, nfail = direct_solve(A, b, self.fallback)
        return x, {"fallbacks": nfail}


class CGSolver(LinearSolver):
    """Conjugate gradients (Hestenes & Stiefel 1952), all blocks of the batch at once.

    Iterates ``x_{k+1} = x_k + alpha_k p_k`` until ``||r_k|| <= tol ||b||`` for every block or
    ``max_iter`` steps; converged blocks are frozen. Needs ``N`` steps at most in exact arithmetic,
    about ``sqrt(kappa) ln(2/tol) / 2`` in practice (a symmetric positive definite ``A``).

    ``converged``: the recurrence reached ``tol`` and the true relative residual is within
    ``max(tol, residual_tolerance)`` (a singular ``A`` whose ``b`` is outside its range fails both).

    Args:
        tol: relative residual target.
        max_iter: iteration cap (default ``2 N``).
    """

    name = "cg"

    def __init__(self, tol: float = 1e-10, max_iter: int | None = None):
        if not tol > 0:
            raise ValueError(f"tol must be positive, got {tol}")
        if max_iter is not None and max_iter < 1:
            raise ValueError(f"max_iter must be at least 1, got {max_iter}")
        self.tol, self.max_iter = tol, max_iter

    def _solve(self, A, b, seed, context=None, **kwargs):
        if kwargs:
            raise TypeError(f"unknown options for cg: {sorted(kwargs)}")
        x, iters, done = conjugate_gradient(lambda v: (A @ v.unsqueeze(-1)).squeeze(-1), b, tol=self.tol,
                                            max_iter=self.max_iter or 2 * b.shape[-1], return_converged=True)
        # the recurrence's residual can drift from the true one (a singular A): both must pass
        true_ok = relative_residual(A, x, b) <= max(self.tol, residual_tolerance(A.dtype))
        return x, {"iterations": iters, "matvecs": iters, "converged": done & true_ok}


def conjugate_gradient(matvec, b: torch.Tensor, tol: float = 1e-10, max_iter: int = 1000,
                       return_converged: bool = False) -> tuple[torch.Tensor, ...]:
    """Batched CG on ``matvec`` (``[..., N] -> [..., N]``); returns ``(x, iterations)``, and with
    ``return_converged`` also whether each block reached ``||r|| <= tol ||b||`` (``[...]`` bool)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rs = (r * r).sum(-1)
    target = (tol * torch.linalg.vector_norm(b, dim=-1)) ** 2
    it = 0
    while it < max_iter:
        active = rs > target
        if not bool(active.any()):
            break
        Ap = matvec(p)
        pAp = (p * Ap).sum(-1)
        alpha = torch.where(active, rs / torch.where(pAp == 0, torch.ones_like(pAp), pAp),
                            torch.zeros_like(rs))
        x = x + alpha.unsqueeze(-1) * p
        r = r - alpha.unsqueeze(-1) * Ap
        rs_new = (r * r).sum(-1)
        beta = torch.where(active, rs_new / torch.where(rs == 0, torch.ones_like(rs), rs),
                           torch.zeros_like(rs))
        p = r + beta.unsqueeze(-1) * p
        rs = rs_new
        it += 1
    if return_converged:
        return x, it, ~(rs > target)
    return x, it


# name -> "module:Class", imported on first use.
_REGISTRY = LazyRegistry("linear solver", {
    "cholesky": "qtrain.linalg.solvers:CholeskySolver",
    "cg": "qtrain.linalg.solvers:CGSolver",
    "simulated-qlsa": "qtrain.linalg.qlsa:SimulatedQLSASolver",
    "scheduled": "qtrain.linalg.scheduler:ScheduledSolver",
})


def register_linear_solver(name: str, target: str) -> None:
    """Register ``"module:Class"`` under ``name``."""
    _REGISTRY.register(name, target)


def available_linear_solvers() -> list[str]:
    """Names :func:`get_linear_solver` accepts."""
    return _REGISTRY.names()


def get_linear_solver(name: str | LinearSolver, **kwargs: Any) -> LinearSolver:
    """The linear solver registered as ``name``, constructed with ``kwargs``.

    Names: ``cholesky`` (direct), ``cg`` (conjugate gradients), ``simulated-qlsa`` (a simulated
    quantum linear-system solver with a modelled quantum cost), ``scheduled`` (routes each block
    to a quantum or classical child). A :class:`LinearSolver` instance passes through.

    Raises:
        ValueError: unknown name (the message lists the known ones), or keywords given with an
            instance.
        TypeError: ``name`` is neither a string nor a ``LinearSolver``.
    """
    return _REGISTRY.make(name, LinearSolver, **kwargs)
