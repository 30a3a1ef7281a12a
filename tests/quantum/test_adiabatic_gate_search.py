"""Adiabatic evolution against the exact spectrum; gate-level search solvers against the semantic level."""

import pytest
import torch

from qtrain.quantum import get_search_solver
from qtrain.quantum.adiabatic import adiabatic_evolution, adiabatic_success_curve
from qtrain.testing import assert_search_solver_conforms, random_costs


def _exact_evolution(costs, T, steps, sign):
    """Dense reference: the same Trotter product with matrix exponentials of the full Hamiltonians."""
    n = costs.shape[0].bit_length() - 1
    X = torch.tensor([[0, 1], [1, 0]], dtype=torch.complex128)
    I = torch.eye(2, dtype=torch.complex128)
    H0 = torch.zeros(2**n, 2**n, dtype=torch.complex128)
    for q in range(n):
        op = torch.ones(1, 1, dtype=torch.complex128)
        for j in reversed(range(n)):
            op = torch.kron(op, X if j == q else I)
        H0 += sign * op
    c = n * (costs - costs.min()) / (costs.max() - costs.min())
    HC = torch.diag(c.to(torch.complex128))
    psi = torch.linalg.eigh(H0).eigenvectors[:, 0]
    dt = T / steps
    for k in range(steps):
        s = (k + 0.5) / steps
        half = torch.linalg.matrix_exp(-1j * dt / 2 * (1 - s) * H0)
        psi = half @ torch.linalg.matrix_exp(-1j * dt * s * HC) @ half @ psi
    return psi.abs() ** 2


@pytest.mark.parametrize("mixer, sign", [("transverse-field", -1.0), ("bit-flip", 1.0)])
def test_trotter_evolution_matches_dense_reference(mixer, sign):
    costs = random_costs(1, 16, seed=3)[0]
    res = adiabatic_evolution(costs, T=5.0, steps=20, mixer=mixer)
    assert torch.allclose(res.probabilities, _exact_evolution(costs, 5.0, 20, sign), atol=1e-9)
    assert res.resources.gate_counts["rx"] == 2 * 4 * 20 and res.resources.oracle_calls == 20


def test_success_rises_with_T_and_batch_equals_one_by_one():
    costs = random_costs(3, 32, seed=0)
    curve = adiabatic_success_curve(costs, [0.5, 5.0, 40.0])
    assert curve.shape == (3, 3)
    assert bool((curve[-1] > curve[0]).all()) and float(curve[-1].min()) > 0.8
    one = adiabatic_evolution(costs[1], T=5.0).success_probability
    assert float(one) == pytest.approx(float(adiabatic_evolution(costs, T=5.0).success_probability[1]), abs=1e-12)
    with pytest.raises(ValueError, match="T must be"):
        adiabatic_evolution(costs, T=0)
    with pytest.raises(ValueError, match="mixer"):
        adiabatic_evolution(costs, T=1.0, mixer="xy")


@pytest.mark.parametrize("name", ["durr-hoyer-gate", "grover-threshold-gate"])
def test_gate_level_solvers_agree_with_semantic(name):
    costs = random_costs(2, 32, seed=5)
    kw = {"threshold": costs.quantile(0.04, dim=-1)} if "threshold" in name else {}
    gate = get_search_solver(name).search(costs, seed=2, **kw)
    sem = get_search_solver(name.removesuffix("-gate")).search(costs, seed=2, **kw)
    assert gate.info["gate_level"]["max_abs_error"] < 1e-6 and gate.info["gate_level"]["circuits"] >= 1
    assert torch.equal(gate.index, sem.index)
    # the oracle is priced as the comparator circuit (Toffolis), not as a bare diagonal
    assert max(gate.info["oracle_calls"]) > 0 and gate.info["resources"]["toffoli"] > 0
    with pytest.raises(ValueError, match="max_qubits"):
        get_search_solver(name).search(costs, seed=0, max_qubits=6, **kw)


def test_gate_level_durr_hoyer_conforms():
    assert_search_solver_conforms(get_search_solver("durr-hoyer-gate"), sizes=(2, 4, 8))
