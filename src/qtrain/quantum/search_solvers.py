"""The search-solver interface: ``search(costs) -> SearchResult`` over a batch of cost vectors, the
built-in solvers and the registry ``get_search_solver(name)``.

A search problem is a cost vector ``c [N]`` over the basis states of a register (a black-box
diagonal oracle); a batch is ``[..., N]``. A solver returns one state per problem: its ``index``,
its cost ``value = c[index]`` and an ``info`` dict with the keys every qtrain solver shares
(:mod:`qtrain._info`): ``timing`` (integer ns), ``seed``, ``solver`` and, for quantum solvers,
``resources`` (counts and the projected time on a named hardware profile, never mixed with the
measured timing), ``oracle_calls`` and ``success_probability``.

Built-ins: ``exhaustive`` (the classical reference), ``durr-hoyer`` (quantum minimum finding,
:func:`~qtrain.quantum.search.minimum_search`) and ``grover-threshold`` (BBHT search for a state
below a threshold, :func:`~qtrain.quantum.search.bbht_search`). Other packages add solvers through
the entry-point group ``qtrain.search_solvers``; :func:`qtrain.testing.assert_search_solver_conforms`
checks any solver against the contract.

Example:
    >>> costs = torch.tensor([[3.0, 1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0]])
    >>> res = get_search_solver("durr-hoyer").search(costs, seed=0)
    >>> res.index.tolist(), res.value.tolist(), res.info["solver"]
    ([3, 2], [0.5, -2.0], 'durr-hoyer')
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._info import SolveContext, resolve_seed, stage_timing
from qtrain._registry import LazyRegistry
from qtrain.quantum._checks import real_finite
from qtrain.quantum.resources import Resources, get_profile, grover_iteration_resources
from qtrain.quantum.search import bbht_search, minimum_search

__all__ = [
    "DurrHoyerSolver",
    "ExhaustiveSearchSolver",
    "GroverThresholdSolver",
    "SearchResult",
    "SearchSolver",
    "available_search_solvers",
    "get_search_solver",
    "register_search_solver",
]


@dataclass
class SearchResult:
    """What a search solver returns for a batch of cost vectors ``[..., N]``.

    Attributes:
        index: the chosen state per problem, int64 of the batch shape ``[...]``.
        value: its cost ``costs[..., index]`` (float64, recomputed from the costs), shape ``[...]``.
        info: ``timing`` (ns, keys :data:`qtrain._info.TIMING_KEYS`), ``seed``, ``solver`` and
            solver-specific entries; quantum solvers add ``resources``, ``oracle_calls`` and
            ``success_probability``. JSON-serialisable.
        raw: the algorithm's own result (e.g. a
            :class:`~qtrain.quantum.search.MinimumSearchResult` with its per-round trace), or ``None``.
    """

    index: torch.Tensor
    value: torch.Tensor
    info: dict[str, Any] = field(default_factory=dict)
    raw: Any = None


class SearchSolver(ABC):
    """Base class: a solver implements :meth:`_search` on a checked batch; the rest is shared.

    Subclasses set ``name``, ``quantum`` (whether ``info`` carries ``resources``), ``finds_minimum``
    (whether the solver aims at the minimum cost, which the conformance kit then checks) and
    ``parameter_names`` (the keyword parameters :meth:`_search` takes). Constructor keywords become
    default parameters.
    """

    name: str = "base"
    quantum: bool = False
    finds_minimum: bool = True
    parameter_names: tuple[str, ...] = ()

    def __init__(self, **defaults: Any):
        self._check_params(defaults)
        self.defaults = defaults

    def search(self, costs: Any, *, seed: int | None = None, context: SolveContext | None = None,
               **params: Any) -> SearchResult:
        """Search every cost vector of a batch in one call.

        Args:
            costs: ``[..., N]`` real, finite costs (``N >= 1``; an empty batch ``[0, N]`` gives an
                empty result). Integer tensors are accepted; bool tensors are not.
            seed: integer seed in ``[0, 2**32)``; the same seed gives the same result on the same
                device. ``None`` draws one (:func:`qtrain._info.resolve_seed`), recorded in
                ``info["seed"]``.
            context: where the call sits in training (:class:`qtrain._info.SolveContext`); passed to
                :meth:`_search` as the keyword ``context`` when given (plain solvers ignore it).
            **params: solver parameters (``parameter_names``), overriding constructor defaults.

        Returns:
            :class:`SearchResult`.

        Raises:
            ValueError: costs that are not real, finite and ``[..., N]`` with ``N >= 1``, a bad
                seed, a bad parameter value.
            TypeError: an unknown parameter, a ``context`` that is not a ``SolveContext``.
        """
        t0 = time.perf_counter_ns()
        c = real_finite(costs)
        self._check_params(params)
        if context is not None and not isinstance(context, SolveContext):
            raise TypeError(f"context must be a SolveContext or None, got {type(context).__name__}")
        params = {**self.defaults, **params}
        seed = resolve_seed(seed)
        t1 = time.perf_counter_ns()
        ctx = {} if context is None else {"context": context}
        index, extra, raw = self._search(c, seed, **ctx, **params)
        t2 = time.perf_counter_ns()
        index = index.to(device=c.device, dtype=torch.int64)
        value = c.gather(-1, index[..., None]).squeeze(-1)
        t3 = time.perf_counter_ns()
        info = {"solver": self.name, "seed": seed, **extra, "timing": stage_timing(t0, t1, t2, t3)}
        return SearchResult(index, value, info, raw)

    @abstractmethod
    def _search(self, costs: torch.Tensor, seed: int, **params: Any) -> tuple[torch.Tensor, dict[str, Any], Any]:
        """Return ``(index [...], extra info entries, raw result or None)`` for float64 costs
        ``[..., N]``. ``params`` holds the solver's parameters and, when the caller gave one,
        ``context``."""

    def _check_params(self, params: dict[str, Any]) -> None:
        unknown = sorted(set(params) - set(self.parameter_names))
        if unknown:
            raise TypeError(f"search solver {self.name!r} got unknown parameter(s) {unknown}; "
                            f"it takes {sorted(self.parameter_names)}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({args})"


def _on_backend(costs: torch.Tensor, seed: int, backend: Any, shots: int | None, profile: str,
                threshold: torch.Tensor | None, max_oracle_calls: int | None, lam: float
                ) -> tuple[torch.Tensor, dict[str, Any], Any]:
    """The search with every Grover round measured on a Qiskit back-end (``shots`` per round,
    default 1: the textbook algorithm); resources price the schedule's longest run."""
    from qtrain.quantum import backends

    shots = 1 if shots is None else shots
    if threshold is None:
        index, info = backends.backend_minimum_search(costs, backend, shots, seed, max_oracle_calls, lam)
    else:
        index, info = backends.backend_threshold_search(costs, threshold, backend, shots, seed, max_oracle_calls,
                                                        lam)
    n = max(1, (costs.shape[-1] - 1).bit_length())
    calls = max(info["oracle_calls"], default=0)
    info["resources"] = grover_iteration_resources(n).scaled(calls).to_dict(profile)
    return index, info, None


def _no_shots_without_backend(backend: Any, shots: Any) -> None:
    if backend is None and shots is not None:
        raise ValueError("shots applies to a back-end run; pass backend=... (a Qiskit BackendV2)")


def _quantum_info(res: Any, profile: str) -> dict[str, Any]:
    """The per-problem counts every quantum solver reports, and its resources on ``profile``."""
    resources: Resources = res.resources
    return {"oracle_calls": res.oracle_calls.tolist(), "success_probability": res.success_probability.tolist(),
            "found": res.found.tolist(), "resources": resources.to_dict(profile)}


class ExhaustiveSearchSolver(SearchSolver):
    """The classical reference: evaluate every cost, return the minimum (ties to the lowest index).

    ``info``: ``evaluations`` (``N`` per problem).
    """

    name = "exhaustive"

    def _search(self, costs: torch.Tensor, seed: int, context: Any = None) -> tuple[torch.Tensor, dict[str, Any], Any]:
        # torch.argmin returns the first minimal index
        return torch.argmin(costs, dim=-1), {"evaluations": costs.shape[-1]}, None


class DurrHoyerSolver(SearchSolver):
    """Durr-Hoyer quantum minimum finding (:func:`~qtrain.quantum.search.minimum_search`), simulated
    on the amplitudes.

    Parameters: ``max_oracle_calls`` (Grover iterations, default
    :func:`~qtrain.quantum.search.dh_budget`), ``lam`` (BBHT's growth factor, 6/5), ``profile``
    (hardware profile of the projected time, default ``superconducting-today``), ``oracle``
    (:class:`~qtrain.quantum.resources.Resources` of one oracle call; default a diagonal phase
    oracle), ``backend`` (a Qiskit ``BackendV2``: every Grover round is transpiled for it and
    measured there, :func:`~qtrain.quantum.backends.backend_minimum_search`; ``info["backend"]``
    gives its name, shots, transpiled depth and two-qubit gates; ``raw`` is then ``None``) and
    ``shots`` (measurements per round on the back-end, default 1).

    ``info``: ``oracle_calls``, ``success_probability`` (that the realised schedule returns a
    minimiser), ``found`` (whether it did), ``rounds`` (per problem), ``resources`` (summed over
    the batch's longest run, with ``projected_time_s``). ``raw`` is the
    :class:`~qtrain.quantum.search.MinimumSearchResult` with its trace.

    References:
        Durr & Hoyer, quant-ph/9607014.
    """

    name = "durr-hoyer"
    quantum = True
    parameter_names = ("max_oracle_calls", "lam", "profile", "oracle", "backend", "shots")

    def _search(self, costs: torch.Tensor, seed: int, context: Any = None, max_oracle_calls: int | None = None,
                lam: float = 6 / 5, profile: str = "superconducting-today", oracle: Resources | None = None,
                backend: Any = None, shots: int | None = None) -> tuple[torch.Tensor, dict[str, Any], Any]:
        get_profile(profile)  # an unknown profile fails before the search
        _no_shots_without_backend(backend, shots)
        if backend is not None:
            return _on_backend(costs, seed, backend, shots, profile, None, max_oracle_calls, lam)
        res = minimum_search(costs, seed=seed, max_oracle_calls=max_oracle_calls, lam=lam, oracle=oracle)
        return res.index, {**_quantum_info(res, profile), "rounds": res.rounds.tolist()}, res


class GroverThresholdSolver(SearchSolver):
    """Grover search for a state whose cost is strictly below ``threshold``, with an unknown number
    of such states (BBHT, :func:`~qtrain.quantum.search.bbht_search`): the oracle marks
    ``{x : c(x) < threshold}``; ``index`` is the measured state and ``value`` its cost.

    Parameters: ``threshold`` (required: a number, or a tensor broadcasting against the batch
    shape), ``max_oracle_calls`` (default ``ceil(9 sqrt(N))``), ``lam``, ``profile``, ``oracle``,
    ``backend`` and ``shots`` (as for ``durr-hoyer``).

    ``info``: ``found`` (the measured state passes the threshold), ``oracle_calls``, ``marked``
    (how many states pass), ``success_probability`` (that the last measurement returns a passing
    state), ``resources``. ``raw`` is the :class:`~qtrain.quantum.search.GroverResult`.

    References:
        Boyer, Brassard, Hoyer & Tapp, quant-ph/9605034.
    """

    name = "grover-threshold"
    quantum = True
    finds_minimum = False
    parameter_names = ("threshold", "max_oracle_calls", "lam", "profile", "oracle", "backend", "shots")

    def _search(self, costs: torch.Tensor, seed: int, context: Any = None, threshold: Any = None,
                max_oracle_calls: int | None = None, lam: float = 6 / 5, profile: str = "superconducting-today",
                oracle: Resources | None = None, backend: Any = None, shots: int | None = None
                ) -> tuple[torch.Tensor, dict[str, Any], Any]:
        if threshold is None:
            raise TypeError("search solver 'grover-threshold' needs threshold=...: it marks the states "
                            "whose cost is below it")
        thr = torch.as_tensor(threshold, dtype=torch.float64, device=costs.device)
        batch = costs.shape[:-1]
        try:
            fits = torch.broadcast_shapes(thr.shape, batch) == batch
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(f"threshold of shape {tuple(thr.shape)} must broadcast against the batch shape "
                             f"{tuple(batch)}")
        if bool(torch.isnan(thr).any()):
            raise ValueError("threshold must not be NaN")
        get_profile(profile)
        _no_shots_without_backend(backend, shots)
        if backend is not None:
            return _on_backend(costs, seed, backend, shots, profile, thr, max_oracle_calls, lam)
        marked = costs < thr[..., None]
        res = bbht_search(marked, seed=seed, lam=lam, max_oracle_calls=max_oracle_calls, oracle=oracle)
        return res.index, {**_quantum_info(res, profile), "marked": marked.sum(-1).tolist()}, res


# name -> "module:Class", imported on first use; plugins come from the entry-point group
# "qtrain.search_solvers".
_REGISTRY = LazyRegistry("search solver", {
    "exhaustive": "qtrain.quantum.search_solvers:ExhaustiveSearchSolver",
    "durr-hoyer": "qtrain.quantum.search_solvers:DurrHoyerSolver",
    "grover-threshold": "qtrain.quantum.search_solvers:GroverThresholdSolver",
    "durr-hoyer-gate": "qtrain.quantum.gate_search:DurrHoyerGateSolver",
    "grover-threshold-gate": "qtrain.quantum.gate_search:GroverThresholdGateSolver",
})


def register_search_solver(name: str, target: str) -> None:
    """Register ``"module:Class"`` under ``name`` for this process (an installed package declares
    an entry point in the group ``qtrain.search_solvers`` instead)."""
    _REGISTRY.register(name, target)


def available_search_solvers() -> list[str]:
    """Names :func:`get_search_solver` accepts."""
    return _REGISTRY.names()


def get_search_solver(name: str | SearchSolver, **kwargs: Any) -> SearchSolver:
    """The search solver registered as ``name``, constructed with ``kwargs`` (default parameters);
    a :class:`SearchSolver` instance passes through unchanged (``kwargs`` must then be empty).

    Names: ``exhaustive``, ``durr-hoyer``, ``grover-threshold``, their gate-level twins
    ``durr-hoyer-gate`` and ``grover-threshold-gate`` (:mod:`qtrain.quantum.gate_search`), and
    those other packages register through the entry-point group ``qtrain.search_solvers``.

    Raises:
        ValueError: unknown name (the message lists the known ones), or keywords given with an
            instance.
        TypeError: ``name`` is neither a string nor a ``SearchSolver``; an unknown parameter.
    """
    return _REGISTRY.make(name, SearchSolver, **kwargs)
