"""Search solvers: every built-in passes the shipped conformance kit, the kit rejects broken solvers,
and each built-in does what its docstring says (against the functions it wraps and exhaustive search)."""

from __future__ import annotations

import json
import time

import pytest
import torch

from qtrain.quantum import (
    DurrHoyerSolver,
    GroverResult,
    MinimumSearchResult,
    SearchResult,
    SearchSolver,
    available_search_solvers,
    bbht_search,
    get_search_solver,
    minimum_search,
    register_search_solver,
)
from qtrain.quantum import search_solvers as module
from qtrain.testing import assert_search_solver_conforms, random_costs

PARAMS = {"exhaustive": {}, "durr-hoyer": {}, "grover-threshold": {"threshold": 0.0}}


def test_the_built_ins_are_registered():
    assert set(PARAMS) <= set(available_search_solvers())


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_built_in_conforms(name):
    assert_search_solver_conforms(get_search_solver(name), params=PARAMS[name])


# ---------------------------------------------------------------------------- broken solvers
class _Argmax(SearchSolver):
    name = "argmax"

    def _search(self, costs, seed, **params):
        return torch.argmax(costs, -1), {}, None


class _Unseeded(SearchSolver):
    name = "unseeded"
    finds_minimum = False

    def _search(self, costs, seed, **params):
        return torch.randint(0, costs.shape[-1], costs.shape[:-1]), {}, None


class _PerRowRandom(SearchSolver):
    """Seeded, but one random number per problem: a problem alone sees another stream."""

    name = "per-row"
    finds_minimum = False

    def _search(self, costs, seed, **params):
        g = torch.Generator().manual_seed(seed)
        flat = costs.reshape(-1, costs.shape[-1])
        idx = (torch.rand(flat.shape[0], generator=g, dtype=torch.float64) * flat.shape[-1]).long()
        return idx.reshape(costs.shape[:-1]), {}, None


class _Slow(SearchSolver):
    name = "slow-at-one"

    def _search(self, costs, seed, **params):
        if costs.shape[-1] == 1:
            time.sleep(3)  # stands in for a loop that never ends
        return torch.argmin(costs, -1), {}, None


class _WrongValue(_Argmax):
    name = "wrong-value"

    def _search(self, costs, seed, **params):
        return torch.argmin(costs, -1), {}, None

    def search(self, costs, **kwargs):
        res = super().search(costs, **kwargs)
        return SearchResult(res.index, res.value + 1, res.info)


class _NoResources(_WrongValue):
    name = "no-resources"
    quantum = True
    search = SearchSolver.search


class _TensorInfo(_NoResources):
    name = "tensor-info"
    quantum = False

    def _search(self, costs, seed, **params):
        return torch.argmin(costs, -1), {"scores": costs.min(-1).values}, None


@pytest.mark.parametrize("solver,kwargs,message", [
    (_Argmax(), {}, "exhaustive minimum"),
    (_Unseeded(), {}, "same seed"),
    (_PerRowRandom(), {}, "alone differs"),
    (_Slow(), {"timeout": 0.5}, "did not return within 0.5 s"),
    (_WrongValue(), {}, "value must be costs"),
    (_NoResources(), {}, "resources"),
    (_TensorInfo(), {}, "JSON-serialisable"),
])
def test_the_kit_rejects_a_broken_solver(solver, kwargs, message):
    with pytest.raises(AssertionError, match=message):
        assert_search_solver_conforms(solver, **kwargs)


# ---------------------------------------------------------------------------- the built-ins
def test_exhaustive_takes_the_first_minimiser_and_counts_evaluations():
    res = get_search_solver("exhaustive").search(torch.tensor([[2, 0, 5, 0], [1, 1, 1, 1]]), seed=0)
    assert res.index.tolist() == [1, 0] and res.value.tolist() == [0.0, 1.0]
    assert res.info["evaluations"] == 4 and res.raw is None and "resources" not in res.info


def test_durr_hoyer_is_minimum_search_behind_the_contract():
    costs = random_costs(4, 64, seed=3)
    res = get_search_solver("durr-hoyer").search(costs, seed=9, max_oracle_calls=40, lam=1.25, profile="optimistic")
    ref = minimum_search(costs, seed=9, max_oracle_calls=40, lam=1.25)
    assert isinstance(res.raw, MinimumSearchResult) and len(res.raw.trace) == len(ref.trace)
    assert torch.equal(res.index, ref.index) and torch.equal(res.value, ref.value)
    assert res.info["oracle_calls"] == ref.oracle_calls.tolist() and res.info["rounds"] == ref.rounds.tolist()
    assert res.info["found"] == ref.found.tolist()
    assert res.info["success_probability"] == ref.success_probability.tolist()
    assert res.info["resources"] == ref.resources.to_dict("optimistic")
    assert res.info["resources"]["profile"] == "optimistic" and res.info["resources"]["projected_time_s"] > 0
    json.dumps(res.info)
    # constructor keywords are defaults; a call overrides them
    solver = DurrHoyerSolver(max_oracle_calls=40)
    assert torch.equal(solver.search(costs, seed=9, lam=1.25).index, res.index)
    assert "max_oracle_calls=40" in repr(solver)


def test_grover_threshold_marks_the_states_below_the_threshold():
    costs = random_costs(6, 128, seed=5)
    thr = torch.tensor([-1.0, -1.5, 0.0, -2.0, -9.0, 0.5])  # one threshold per problem
    res = get_search_solver("grover-threshold").search(costs, seed=2, threshold=thr)
    marked = costs < thr[:, None]
    ref = bbht_search(marked, seed=2)
    assert isinstance(res.raw, GroverResult) and torch.equal(res.index, ref.index)
    assert res.info["marked"] == marked.sum(-1).tolist() and res.info["found"] == ref.found.tolist()
    for b in range(6):
        assert res.info["found"][b] == bool(res.value[b] < thr[b])
        assert res.info["found"][b] == (res.info["marked"][b] > 0)  # BBHT finds a marked state when one exists
    one = get_search_solver("grover-threshold").search(costs[0], seed=2, threshold=-1.0)
    assert int(one.index) == int(res.index[0])


def test_bad_parameters_are_refused_before_the_search():
    costs = random_costs(2, 8)
    with pytest.raises(TypeError, match="needs threshold"):
        get_search_solver("grover-threshold").search(costs, seed=0)
    with pytest.raises(ValueError, match="must not be NaN"):
        get_search_solver("grover-threshold").search(costs, seed=0, threshold=float("nan"))
    with pytest.raises(ValueError, match="broadcast against the batch shape"):
        get_search_solver("grover-threshold").search(costs, seed=0, threshold=torch.zeros(3))
    with pytest.raises(ValueError, match="unknown hardware profile"):
        get_search_solver("durr-hoyer").search(costs, seed=0, profile="nope")
    with pytest.raises(ValueError, match="lam"):
        get_search_solver("durr-hoyer").search(costs, seed=0, lam=2.0)
    with pytest.raises(TypeError, match="unknown parameter.*'iterations'"):
        get_search_solver("durr-hoyer").search(costs, seed=0, iterations=3)
    with pytest.raises(TypeError, match="unknown parameter"):
        get_search_solver("exhaustive", lam=1.1)
    with pytest.raises(TypeError, match="SolveContext"):
        get_search_solver("exhaustive").search(costs, context={"step": 1})
    with pytest.raises(ValueError, match="seed"):
        get_search_solver("exhaustive").search(costs, seed=2**32)


def test_seed_none_is_drawn_and_recorded():
    costs = random_costs(3, 32, seed=1)
    res = get_search_solver("durr-hoyer").search(costs)
    assert 0 <= res.info["seed"] < 2**32
    assert torch.equal(get_search_solver("durr-hoyer").search(costs, seed=res.info["seed"]).index, res.index)


# ---------------------------------------------------------------------------- the registry
def test_get_search_solver_passes_an_instance_through_and_names_the_known_ones():
    s = get_search_solver("durr-hoyer")
    assert get_search_solver(s) is s
    with pytest.raises(ValueError, match="existing search solver instance"):
        get_search_solver(s, lam=1.1)
    with pytest.raises(TypeError, match="name or a SearchSolver"):
        get_search_solver(3)
    with pytest.raises(ValueError, match="unknown search solver 'nope'.*durr-hoyer"):
        get_search_solver("nope")


def test_register_search_solver_adds_a_name_for_this_process():
    register_search_solver("test-exhaustive", "qtrain.quantum.search_solvers:ExhaustiveSearchSolver")
    try:
        assert "test-exhaustive" in available_search_solvers()
        assert get_search_solver("test-exhaustive").name == "exhaustive"
    finally:
        del module._REGISTRY["test-exhaustive"]
