"""QuantumWeightSearch: semantic level against brute force, gate level against semantic, bad input."""

import math

import pytest
import torch

from qtrain.data import random_instance as teacher_instance
from qtrain.nn import DSinNN, binary_dsinnn, deep_dsinnn, toy_dsinnn
from qtrain.quantum import dh_budget, minimum_search
from qtrain.quantum.resources import get_profile, projected_time
from qtrain.train.sinusoidal import QuantumWeightSearch, brute_force_search, toy_data
from qtrain.train.sinusoidal import search as search_module


def random_instance(seed, hidden, **kwargs):
    inst = teacher_instance(seed, hidden, **kwargs)
    return binary_dsinnn(hidden, inst.in_features), inst.x, inst.y, inst.x_test, inst.y_test


def test_toy_semantic_search_finds_one_one_with_the_published_marginal():
    x, y = toy_data(discrete=True)
    q = QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, cost_scale=0.5, levels=[-1, 1])
    t, outcome, marginal = q.pe_outcomes()
    assert t == 2 and outcome.tolist() == [0, 0, 0, 2]  # (w1, w2) = (1, 1) is configuration 3
    assert torch.allclose(marginal, torch.tensor([0.75, 0, 0.25, 0], dtype=torch.float64), atol=1e-12)
    r = q.run(seed=1)
    assert [w.flatten().tolist() for w in r.weights] == [[1.0, 1.0]] and r.loss == 0.0 and r.found
    assert r.success_probability > 0.99 and r.oracle_calls <= 22.5 * 2
    n = 4
    assert r.sine_evaluations == r.oracle_calls * 2 * (2**2 - 1) * n * 2
    assert r.brute_force_evaluations == n * 4 and r.weight_qubits == 2


@pytest.mark.parametrize("seed", range(12))
def test_search_returns_the_brute_force_minimum_within_the_bound(seed):
    inputs = 1 + seed % 2
    hidden = (2 + seed) // inputs  # 2..13 weight qubits
    model, x, y, _, _ = random_instance(500 + seed, hidden, in_features=inputs)
    r = QuantumWeightSearch(model, x, y, cost="mse", device="cpu").run(seed=seed)
    bf = brute_force_search(model, x, y, device="cpu")
    assert r.loss == pytest.approx(bf.loss, abs=1e-12) and r.found
    assert r.success_probability >= 0.9
    assert r.oracle_calls <= 22.5 * math.sqrt(2**r.weight_qubits)
    assert r.oracle_calls >= dh_budget(2**r.weight_qubits, total=True)  # the search spends its budget


def test_run_searches_with_the_durr_hoyer_solver_and_replays_its_trace(monkeypatch):
    calls = []
    real = search_module.get_search_solver

    def recording(name, **kwargs):
        solver = real(name, **kwargs)
        search = solver.search

        def spy(costs, **params):
            res = search(costs, **params)
            calls.append((name, params, res))
            return res

        solver.search = spy
        return solver

    monkeypatch.setattr(search_module, "get_search_solver", recording)
    x, y = toy_data(discrete=True)
    r = QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, cost_scale=0.5, levels=[-1, 1]).run(seed=4)
    (name, params, res), = calls
    assert name == "durr-hoyer" and params == {"seed": 4, "max_oracle_calls": dh_budget(4, total=True)}
    assert r.index == int(res.index) and r.oracle_calls == res.info["oracle_calls"]
    assert r.trace is res.raw.trace and r.semantic_success_probability == res.info["success_probability"]


@pytest.mark.parametrize("seed,cost,cap", [(0, "count", None), (1, "count", None), (2, "mse", 1), (3, "count", None)])
def test_gate_level_round_probabilities_equal_the_semantic_ones(seed, cost, cap):
    model, x, y, _, _ = random_instance(900 + seed, 2 + seed % 2, n_train=3)
    q = QuantumWeightSearch(model, x, y, cost=cost, cap=cap, level="gate", device="cpu", max_oracle_calls=6)
    t, outcome, _ = q.pe_outcomes()
    obj = q._objective(outcome)
    res = minimum_search(obj, seed=seed, max_oracle_calls=6)
    p0, rounds = q.gate_round_probabilities(res.trace, obj, t)
    semantic = [float(r["p_min"]) for r in res.trace if bool(r["active"])]
    assert p0 == pytest.approx(float((obj == obj.min()).double().mean()), abs=1e-9)
    assert len(rounds) == len(semantic) and max(abs(a - b) for a, b in zip(rounds, semantic, strict=True)) < 1e-6
    r = q.run(seed=seed)
    assert abs(r.success_probability - r.semantic_success_probability) < 1e-6


def test_resources_are_those_of_the_full_gate_level_circuit():
    x, y = toy_data(discrete=True)
    q = QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, cost_scale=0.5, levels=[-1, 1])
    r = q.run(seed=0)
    res = r.resources
    assert res["qubits"] == q.circuit_spec().num_qubits == 16 and res["oracle_calls"] == r.oracle_calls
    assert res["toffoli"] >= r.oracle_calls * res["toffoli_per_oracle_call"] > 0
    assert res["profile"] == "superconducting-today"
    prof = get_profile("superconducting-today")
    want = (prof.qec_overhead * (res["one_qubit"] * prof.t_1q + res["two_qubit"] * prof.t_2q)
            + (res["toffoli"] + res["rotations"]) * prof.t_toffoli + res["measurements"] * prof.t_measure)
    assert res["projected_time_s"] == pytest.approx(want)
    assert projected_time  # the profile formula used above is qtrain.quantum.resources.projected_time
    deep = QuantumWeightSearch(deep_dsinnn(3, 2), x, y, cost="mse", levels=[-1, 1]).run(seed=0)
    assert deep.resources is None and "gate-level circuit supports" in deep.resources_note


def test_bad_input_says_what_to_change(monkeypatch):
    x, y = toy_data(discrete=True)
    with pytest.raises(ValueError, match="off the circuit's angle grid.*angle_bits"):
        QuantumWeightSearch(toy_dsinnn(), x + 0.1, y, levels=[-1, 1])
    with pytest.raises(ValueError, match="2\\^b levels.*levels=\\[-1, 1\\]"):
        QuantumWeightSearch(toy_dsinnn(), x, y)  # ternary weights: 3 levels
    with pytest.raises(ValueError, match="wrap-around.*raise t to at least 3"):
        QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, levels=[-1, 1]).run()
    with pytest.raises(ValueError, match="non-integer.*cost_scale"):
        QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=3, cost_scale=0.3, levels=[-1, 1]).run()
    monkeypatch.setattr(search_module, "free_memory_bytes", lambda device: 48 * 2**10)
    with pytest.raises(ValueError, match="12 weight qubits.*at most 10 weight qubits fit"):
        QuantumWeightSearch(DSinNN(1, [12], 1, scales=[1.0]), x, y)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="cost"):
        QuantumWeightSearch(toy_dsinnn(), x, y, cost="mae", levels=[-1, 1])
    with pytest.raises(TypeError, match="DSinNN"):
        QuantumWeightSearch(torch.nn.Linear(1, 1), x, y)
    model, xs, ys, _, _ = random_instance(1, 6, n_train=8)
    with pytest.raises(ValueError, match="above the gate-level limit"):
        QuantumWeightSearch(model, xs, ys, cost="mse", level="gate").run()
