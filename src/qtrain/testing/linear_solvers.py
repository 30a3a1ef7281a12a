"""Conformance kit for linear solvers: one call checks any ``LinearSolver`` against dense solves."""

from __future__ import annotations

import math

import torch

from qtrain._info import SolveContext
from qtrain.linalg import LINEAR_TIMING_KEYS, LinearSolver, SolveResult

__all__ = ["assert_linear_solver_conforms", "random_spd"]


def random_spd(batch: int | tuple[int, ...], n: int, kappa: float = 10.0, seed: int = 0,
               dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Random symmetric positive-definite blocks ``Q diag(lambda) Q^T`` with eigenvalues spread
    geometrically over ``[1, kappa]`` (so ``kappa(A) = kappa`` exactly), ``Q`` a seeded random
    orthogonal matrix (QR of a Gaussian)."""
    shape = (batch,) if isinstance(batch, int) else tuple(batch)
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(*shape, n, n, generator=g, dtype=torch.float64))
    lam = torch.logspace(0, math.log10(kappa), n, dtype=torch.float64)
    A = (Q * lam) @ Q.mT
    return (0.5 * (A + A.mT)).to(dtype)


def _check(res: SolveResult, A: torch.Tensor, b: torch.Tensor, seed: int, rtol: float,
           what: str) -> None:
    assert isinstance(res, SolveResult), f"{what}: solve must return a SolveResult"
    assert res.x.shape == b.shape, f"{what}: x has shape {tuple(res.x.shape)}, b {tuple(b.shape)}"
    assert res.x.dtype == b.dtype and res.x.device == b.device, f"{what}: x dtype/device"
    assert res.residual.shape == b.shape[:-1], f"{what}: residual shape {res.residual.shape}"
    ref = torch.linalg.solve(A.double(), b.double())
    err = torch.linalg.vector_norm(res.x.double() - ref, dim=-1) / torch.linalg.vector_norm(
        ref, dim=-1)
    assert bool((err <= rtol).all()), f"{what}: relative error {err.max():.3g} > {rtol:.3g}"
    r = torch.linalg.vector_norm((A.double() @ res.x.double().unsqueeze(-1)).squeeze(-1)
                                 - b.double(), dim=-1) / torch.linalg.vector_norm(b.double(),
                                                                                  dim=-1)
    assert torch.allclose(res.residual.double(), r, rtol=1e-3, atol=1e-9), \
        f"{what}: reported residual differs from ||Ax-b||/||b||"
    info = res.info
    assert info.get("seed") == seed, f"{what}: info['seed'] must record the seed"
    assert set(LINEAR_TIMING_KEYS) <= set(info.get("timing", {})), f"{what}: timing keys"
    assert all(isinstance(v, int) and v >= 0 for v in info["timing"].values()), \
        f"{what}: timing must be integer ns"


def assert_linear_solver_conforms(solver: LinearSolver, *, rtol: float = 1e-6,
                                  sizes: tuple[int, ...] = (1, 2, 5, 12), batch: int = 3,
                                  kappa: float = 50.0, seed: int = 7,
                                  device: str | torch.device = "cpu") -> None:
    """Check a linear solver against the interface contract and dense solves; raise on failure.

    Checks, on random SPD blocks (:func:`random_spd`) of each size in ``sizes``:

    1. a batch ``[batch, N, N]``, a nested batch ``[2, 2, N, N]`` and a single system ``[N, N]``
       are solved to relative error ``rtol`` of ``torch.linalg.solve`` (float64), with the right
       shapes, dtype and device, the reported residual equal to ``||Ax - b|| / ||b||``, the seed
       in ``info`` and integer-ns timing keys :data:`~qtrain.linalg.LINEAR_TIMING_KEYS`;
    2. a batch equals its blocks solved one by one (same seed), to ``rtol``;
    3. the same seed gives the same ``x``, also with a :class:`~qtrain._info.SolveContext`; with
       ``seed=None`` a drawn seed is recorded;
    4. bad input is refused with ``ValueError`` before any work: a non-square ``A``, ``b`` of the
       wrong shape, a non-finite entry, and (if ``requires_symmetric``) a non-symmetric ``A``.

    Args:
        solver: the solver under test.
        rtol: accepted relative error of the solution (a perturbing solver needs its ``eps``).
        sizes, batch, kappa, seed, device: the test problems.

    Raises:
        AssertionError: a broken property (the message says which).
    """
    dev = torch.device(device)
    for n in sizes:
        A = random_spd(batch, n, kappa=kappa, seed=seed + n).to(dev)
        g = torch.Generator().manual_seed(seed - n)
        b = torch.randn(batch, n, generator=g, dtype=torch.float64).to(dev)
        res = solver.solve(A, b, seed=seed)
        _check(res, A, b, seed, rtol, f"{solver!r} N={n}")
        for i in range(batch):
            one = solver.solve(A[i], b[i], seed=seed)
            _check(one, A[i], b[i], seed, rtol, f"{solver!r} N={n} single")
            gap = float(torch.linalg.vector_norm(one.x - res.x[i]))
            assert gap <= (2 * rtol + 1e-10) * float(torch.linalg.vector_norm(res.x[i])), \
                f"{solver!r} N={n}: block {i} solved alone differs from the batch by {gap:.3g}"
        again = solver.solve(A, b, seed=seed)
        assert torch.equal(again.x, res.x), f"{solver!r} N={n}: same seed must give the same x"
        ctx = solver.solve(A, b, seed=seed, context=SolveContext(step=0, block_ids=tuple(range(batch))))
        assert torch.equal(ctx.x, res.x), f"{solver!r} N={n}: a SolveContext changed the solution"
        A4 = random_spd((2, 2), n, kappa=kappa, seed=seed + 100 + n).to(dev)
        b4 = torch.randn(2, 2, n, generator=g, dtype=torch.float64).to(dev)
        _check(solver.solve(A4, b4, seed=seed), A4, b4, seed, rtol, f"{solver!r} N={n} nested")
    n = max(sizes)
    A = random_spd(1, n, kappa=kappa, seed=seed).to(dev)
    b = torch.ones(1, n, dtype=torch.float64, device=dev)
    drawn = solver.solve(A, b).info["seed"]
    assert isinstance(drawn, int) and 0 <= drawn < 2**32, f"{solver!r}: seed=None must record a drawn seed"
    bad_cases = {"non-square A": (A[..., :-1, :] if n > 1 else A.new_zeros(1, 2, 1), b),
                 "b of the wrong shape": (A, torch.ones(1, n + 1, dtype=A.dtype, device=dev)),
                 "non-finite A": (A.clone().index_put_((torch.tensor([0]), torch.tensor([0]),
                                                        torch.tensor([0])),
                                                       torch.tensor(float("nan"),
                                                                    dtype=A.dtype)), b)}
    if solver.requires_symmetric and n > 1:
        As = A.clone()
        As[..., 0, -1] += 1.0
        bad_cases["non-symmetric A"] = (As, b)
    for what, (Abad, bbad) in bad_cases.items():
        try:
            solver.solve(Abad, bbad, seed=seed)
        except ValueError:
            continue
        raise AssertionError(f"{solver!r}: {what} must raise ValueError")
