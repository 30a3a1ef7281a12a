"""Conformance kit for search solvers: one call checks any solver against exhaustive search."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import torch

from qtrain._info import TIMING_KEYS, SolveContext
from qtrain.quantum import SearchResult, SearchSolver

__all__ = ["assert_search_solver_conforms", "random_costs"]


def random_costs(batch: int | tuple[int, ...], N: int, seed: int = 0) -> torch.Tensor:
    """Seeded standard-normal costs ``[*batch, N]`` in float64 (distinct almost surely, so each
    problem has one minimiser)."""
    shape = (batch,) if isinstance(batch, int) else tuple(batch)
    return torch.randn(*shape, N, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _returns(fn: Callable[[], Any], timeout: float, what: str) -> Any:
    """``fn()``, or an ``AssertionError`` naming ``what`` when it has not returned after ``timeout``
    seconds (the call keeps running in a daemon thread; the test fails instead of hanging)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise AssertionError(f"{what} did not return within {timeout} s")
    if "error" in out:
        raise out["error"]
    return out["value"]


def _check_result(solver: SearchSolver, res: Any, costs: torch.Tensor, seed: int, what: str) -> None:
    batch, N = tuple(costs.shape[:-1]), costs.shape[-1]
    assert isinstance(res, SearchResult), f"{what}: search must return a SearchResult"
    assert tuple(res.index.shape) == batch, f"{what}: index has shape {tuple(res.index.shape)}, want {batch}"
    assert tuple(res.value.shape) == batch, f"{what}: value has shape {tuple(res.value.shape)}, want {batch}"
    assert res.index.dtype == torch.int64, f"{what}: index dtype is {res.index.dtype}, expected int64"
    assert res.value.dtype == torch.float64, f"{what}: value dtype is {res.value.dtype}, expected float64"
    assert bool(((res.index >= 0) & (res.index < N)).all()), f"{what}: index outside [0, {N})"
    want = costs.double().gather(-1, res.index[..., None]).squeeze(-1)
    assert torch.equal(res.value, want), f"{what}: value must be costs[..., index]"
    info = res.info
    assert info.get("seed") == seed, f"{what}: info['seed'] must record the seed"
    assert info.get("solver") == solver.name, f"{what}: info['solver'] must be the solver's name"
    timing = info.get("timing", {})
    assert set(TIMING_KEYS) <= set(timing), f"{what}: timing keys {sorted(timing)}"
    assert all(isinstance(v, int) and v >= 0 for v in timing.values()), f"{what}: timing must be integer ns"
    try:
        json.dumps(info)
    except TypeError as err:
        raise AssertionError(f"{what}: info must be JSON-serialisable ({err})") from None
    if solver.quantum:
        resources = info.get("resources")
        assert isinstance(resources, dict), f"{what}: a quantum solver's info needs a resources dict"
        assert {"projected_time_s", "profile", "oracle_calls", "qubits"} <= set(resources), \
            f"{what}: resources keys {sorted(resources)}"
        assert {"oracle_calls", "success_probability"} <= set(info), \
            f"{what}: a quantum solver's info needs oracle_calls and success_probability"


def assert_search_solver_conforms(solver: SearchSolver, *, params: dict[str, Any] | None = None,
                                  sizes: tuple[int, ...] = (1, 2, 5, 16), batch: int = 3, seed: int = 1234,
                                  trials: int = 8, min_success: float = 0.9, timeout: float = 60.0) -> None:
    """Check a search solver against the interface contract and exhaustive search; raise on a failure.

    Checks, for random costs (:func:`random_costs`) of each size in ``sizes``:

    1. Shapes and dtypes: a batch ``[batch, N]``, a nested batch ``[2, 2, N]`` and a single problem
       ``[N]`` give int64 ``index`` and float64 ``value`` of the batch shape, ``value ==
       costs[..., index]``, ``info`` with ``seed`` (the given one), ``solver`` and integer-ns
       :data:`~qtrain._info.TIMING_KEYS`, JSON-serialisable; quantum solvers add a ``resources``
       dict (with the projected time on a named profile), ``oracle_calls`` and
       ``success_probability``.
    2. Same seed, same result, also when a :class:`~qtrain._info.SolveContext` is passed.
    3. A problem searched alone equals the same problem inside the batch.
    4. Every call returns within ``timeout`` seconds (``N = 1`` and ``N = 2`` included).
    5. Solvers with ``finds_minimum`` hit the exhaustive minimum in at least ``min_success`` of
       the ``batch x trials`` searches (seeds ``seed .. seed + trials - 1``) at each size.

    and that an empty batch ``[0, N]`` gives an empty result, and non-finite costs, a bool tensor
    and costs without states (``[0]``) raise ``ValueError``.

    Args:
        solver: any :class:`~qtrain.quantum.SearchSolver`.
        params: solver parameters for every call (e.g. ``{"threshold": 0.0}``).
        sizes: numbers of states ``N``.
        batch, seed, trials, min_success: the test problems and the minimum check.
        timeout: seconds one call may take.

    Raises:
        AssertionError: a broken property (the message says which).
    """
    params = dict(params or {})
    assert isinstance(solver, SearchSolver), "a search solver must be a SearchSolver"
    assert isinstance(solver.name, str) and solver.name, "a search solver needs a name"

    def search(costs: torch.Tensor, s: int, what: str, **extra: Any) -> Any:
        res = _returns(lambda: solver.search(costs, seed=s, **extra, **params), timeout, f"{solver!r} {what}")
        _check_result(solver, res, costs, s, f"{solver!r} {what}")
        return res

    for N in sizes:
        costs = random_costs(batch, N, seed=seed + N)
        res = search(costs, seed, f"N={N}")
        again = search(costs, seed, f"N={N} again")
        assert torch.equal(again.index, res.index), f"{solver!r} N={N}: same seed must give the same result"
        ctx = search(costs, seed, f"N={N} with a context", context=SolveContext(step=3, block_ids=tuple(range(batch))))
        assert torch.equal(ctx.index, res.index), f"{solver!r} N={N}: a SolveContext changed the result"
        for b in range(batch):
            one = search(costs[b], seed, f"N={N} problem {b} alone")
            assert int(one.index) == int(res.index[b]), \
                f"{solver!r} N={N}: problem {b} searched alone differs from the same problem inside the batch"
        search(random_costs((2, 2), N, seed=seed - N), seed, f"N={N} nested batch")
        empty = search(costs[:0], seed, f"N={N} empty batch")
        assert empty.index.numel() == 0, f"{solver!r} N={N}: an empty batch must give an empty result"
        if solver.finds_minimum:
            hits = sum(float((search(costs, seed + t, f"N={N} seed {seed + t}").value == costs.min(-1).values)
                             .double().sum()) for t in range(trials))
            rate = hits / (batch * trials)
            assert rate >= min_success, (f"{solver!r} N={N}: found the exhaustive minimum in {rate:.0%} of "
                                         f"searches, want at least {min_success:.0%}")
    bad_cases = {"a NaN cost": torch.tensor([[0.0, float("nan")]]),
                 "an infinite cost": torch.tensor([1.0, float("inf")]),
                 "a bool tensor": torch.tensor([True, False]), "no states": torch.zeros(0)}
    for what, bad in bad_cases.items():
        try:
            solver.search(bad, seed=seed, **params)
        except ValueError:
            continue
        raise AssertionError(f"{solver!r}: {what} must raise ValueError")
