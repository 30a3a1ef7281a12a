"""QAOA optimisation and the resource / hardware-profile model."""

from __future__ import annotations

import math

import pytest
import torch

from qtrain.quantum import Circuit, Resources, get_profile, projected_time, tts99
from qtrain.quantum.qaoa import qaoa, qaoa_state
from qtrain.quantum.resources import anneal_time, grover_iteration_resources, rotation_t_count
from qtrain.qubo.exact import enumerate_energies
from qtrain.testing import random_qubo


def test_qaoa_improves_on_uniform_and_reports_consistent_numbers():
    qubo = random_qubo(3, 6, seed=2)
    res = qaoa(qubo, p=2, seed=0, restarts=3, steps=60)
    costs = enumerate_energies(qubo)
    uniform = costs.mean(-1)
    assert bool((res.expectation < uniform - 0.1 * costs.std(-1)).all())
    assert res.probabilities.shape == (3, 64)
    torch.testing.assert_close(res.probabilities.sum(-1), torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(res.expectation, (res.probabilities * costs).sum(-1))
    # the reported angles act on the original costs
    again = qaoa_state(costs, res.gammas, res.betas).abs().pow(2)
    torch.testing.assert_close(again, res.probabilities)
    cmin = costs.min(-1, keepdim=True).values
    torch.testing.assert_close(res.success_probability, (res.probabilities * (costs == cmin)).sum(-1))
    assert res.oracle_calls == 2 * 3 * (60 * 9 + 1)
    assert res.trace.shape == (3, 3, 60)
    one = qaoa(qubo[1], p=2, seed=0, restarts=3, steps=60)
    torch.testing.assert_close(one.probabilities, res.probabilities[1])


def test_qaoa_bad_input():
    with pytest.raises(ValueError, match="p must be"):
        qaoa(torch.randn(8), p=0)
    with pytest.raises(ValueError, match="power-of-two"):
        qaoa(torch.randn(6), p=1)
    with pytest.raises(ValueError, match="finite"):
        qaoa(torch.tensor([0.0, float("nan")]), p=1)


def test_profiles_and_projected_time():
    prof = get_profile("superconducting-today")
    r = Resources(qubits=3, one_qubit=10, two_qubit=4, toffoli=2, rotations=1, measurements=3)
    want = prof.qec_overhead * (10 * prof.t_1q + 4 * prof.t_2q) + 3 * prof.t_toffoli + 3 * prof.t_measure
    assert projected_time(r, prof) == pytest.approx(want)
    assert r.projected_time("attosecond") < 1e-15
    d = r.to_dict("optimistic")
    assert d["profile"] == "optimistic" and d["projected_time_s"] == pytest.approx(projected_time(r, "optimistic"))
    assert (r + r).toffoli == 4 and r.scaled(5).one_qubit == 50
    assert anneal_time(100) == pytest.approx(15e-3 + 100 * 120e-6)
    with pytest.raises(ValueError, match="unknown hardware profile"):
        get_profile("nope")


def test_tts99():
    assert tts99(0.5, 1.0) == pytest.approx(math.log(0.01) / math.log(0.5))
    assert tts99(0.995, 2.0) == 2.0
    assert tts99(0.0, 1.0) == math.inf
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="success_probability"):
            tts99(bad, 1.0)


def test_grover_iteration_resources_match_the_diffusion_circuit():
    from qtrain.quantum.builders import diffusion, phase_oracle

    n = 6
    circ = phase_oracle(torch.arange(2.0**n), 3.0).compose(diffusion(n))
    gate_level = circ.resources(oracle_calls=1, measurements=0)
    model = grover_iteration_resources(n)
    for attr in ("one_qubit", "two_qubit", "toffoli", "rotations", "t_count"):
        assert getattr(gate_level, attr) == getattr(model, attr), attr
    assert model.toffoli == 2 * 5 - 3 and model.rotations == 2**n - 1
    assert rotation_t_count(1e-10) == 100


def test_circuit_resources_count_every_gate():
    c = Circuit.with_registers(x=4)
    c.h(c["x"]).mcx([0, 1, 2], 3).swap(0, 1).rz(0.1, 2)
    r = c.resources()
    assert r.one_qubit == 5 and r.two_qubit == 3 and r.toffoli == 3 and r.rotations == 1
    assert r.depth == c.depth() == 3  # h | mcx | swap, rz


def test_phase_estimation_resources_match_the_circuit():
    from qtrain.quantum.builders import phase_estimation_circuit
    from qtrain.quantum.resources import phase_estimation_resources

    t, n = 4, 3
    circ = phase_estimation_circuit(torch.linspace(0, 0.9, 2**n), t, prepare=False, repeat=True)
    gate_level = circ.resources(measurements=t)
    model = phase_estimation_resources(t, n)
    assert model.oracle_calls == 2**t - 1 == circ.count_ops()["cdiagonal"]
    for attr in ("one_qubit", "two_qubit", "rotations", "measurements", "qubits"):
        assert getattr(gate_level, attr) == getattr(model, attr), attr
    with pytest.raises(ValueError, match="t and num_qubits"):
        phase_estimation_resources(0, 3)


def test_qaoa_is_seeded():
    costs = torch.randn(32, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a, b = qaoa(costs, p=1, seed=4, steps=10), qaoa(costs, p=1, seed=4, steps=10)
    assert torch.equal(a.gammas, b.gammas) and torch.equal(a.probabilities, b.probabilities)


def test_quantum_imports_without_qubo_or_dimod():
    import subprocess
    import sys

    code = ("import sys; import qtrain.quantum, qtrain.quantum.builders, qtrain.quantum.qaoa, "
            "qtrain.quantum.grover_kernel, qtrain.quantum.export, qtrain.quantum.fusion, qtrain.quantum.arithmetic, "
            "qtrain.quantum.phase_estimation; "
            "assert 'dimod' not in sys.modules and 'qtrain.qubo' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
