"""Linear solvers: the conformance kit, the registry, and HHL against dense solves."""

import math

import pytest
import torch

from qtrain.linalg import (
    CGSolver,
    CholeskySolver,
    QLSACostModel,
    ScheduledSolver,
    SimulatedQLSASolver,
    available_linear_solvers,
    get_linear_solver,
    hhl_statevector,
)
from qtrain.testing import assert_linear_solver_conforms, random_spd

CASES = {
    "cholesky": ({}, 1e-9),
    "cg": ({}, 1e-8),
    "simulated-qlsa": ({}, 1e-9),
    "scheduled": ({}, 1e-9),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_builtin_linear_solver_conforms(name):
    kwargs, rtol = CASES[name]
    assert_linear_solver_conforms(get_linear_solver(name, **kwargs), rtol=rtol)


def test_perturbed_and_hhl_qlsa_conform_to_their_accuracy():
    assert_linear_solver_conforms(SimulatedQLSASolver(perturb=True, eps=0.02), rtol=0.02 + 1e-9,
                                  sizes=(2, 5))
    assert_linear_solver_conforms(SimulatedQLSASolver(method="hhl", clock_qubits=10), rtol=0.03,
                                  sizes=(2, 5, 12), kappa=20.0)


def test_scheduled_solver_routing_quantum_conforms():
    s = ScheduledSolver(policy="argmin", quantum_cost=QLSACostModel(profile="attosecond"))
    assert_linear_solver_conforms(s, rtol=1e-9, sizes=(2, 5))
    assert any(r["route"] == "quantum" for r in s.log)


def test_registry_names_and_unknown_name():
    assert {"cholesky", "cg", "simulated-qlsa", "scheduled"} <= set(available_linear_solvers())
    s = CholeskySolver()
    assert get_linear_solver(s) is s
    with pytest.raises(ValueError, match="unknown linear solver 'lu'.*cholesky"):
        get_linear_solver("lu")


def test_perturbation_has_exactly_the_requested_relative_error():
    A, b = random_spd(4, 6, kappa=30, seed=1), torch.ones(4, 6, dtype=torch.float64)
    res = SimulatedQLSASolver(perturb=True, eps=0.05).solve(A, b, seed=3)
    ref = torch.linalg.solve(A, b)
    err = torch.linalg.vector_norm(res.x - ref, dim=-1) / torch.linalg.vector_norm(ref, dim=-1)
    assert torch.allclose(err, torch.full_like(err, 0.05), atol=1e-12)
    res2 = SimulatedQLSASolver(perturb=True, eps=0.05).solve(A, b, seed=4)
    assert not torch.equal(res.x, res2.x)


def test_qlsa_reports_modelled_cost_separately_from_timing():
    A, b = random_spd(3, 8, kappa=40, seed=2), torch.ones(3, 8, dtype=torch.float64)
    info = SimulatedQLSASolver(eps=0.01).solve(A, b).info
    res = info["resources"]
    assert res["N"] == 8 and res["d"] == [8, 8, 8]
    assert [round(k, 6) for k in res["kappa"]] == [40.0] * 3
    assert res["projected_time_s"] == pytest.approx(sum(res["total_s"]))
    assert all(q > 1e3 for q in res["queries"])
    assert set(info["timing"]) >= {"total_ns"}


def test_hhl_is_exact_when_eigenvalues_sit_on_the_clock_grid():
    # eigenvalues k * lmax / (T/2 - 1) are represented exactly by t clock bits
    t = 5
    T = 2**t
    lam = torch.tensor([15.0, 3.0, -6.0, 9.0], dtype=torch.float64) / (T / 2 - 1)
    Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(0),
                                       dtype=torch.float64))
    A = (Q * lam) @ Q.T
    A = 0.5 * (A + A.T)
    b = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    x, info = hhl_statevector(A, b, clock_qubits=t)
    assert torch.allclose(x, torch.linalg.solve(A, b), rtol=1e-9, atol=1e-9)
    assert info["qubits"] == 1 + t + 2 and info["norm_error"] < 1e-10
    # success probability is ||C A^{-1} b||^2 / ||b||^2 with C = smallest representable |lambda|
    C = float(lam.abs().max()) / (T / 2 - 1)
    p = float((C * torch.linalg.solve(A, b)).norm() ** 2 / b.norm() ** 2)
    assert info["success_probability"][0] == pytest.approx(p, rel=1e-9)


def test_hhl_error_falls_with_clock_size_and_pads_non_power_of_two():
    A = random_spd(2, 6, kappa=8, seed=5)
    b = torch.randn(2, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = torch.linalg.solve(A, b)
    errs = []
    for t in (5, 8, 11):
        x, _ = hhl_statevector(A, b, t)
        errs.append(float((torch.linalg.vector_norm(x - ref, dim=-1) /
                           torch.linalg.vector_norm(ref, dim=-1)).max()))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-2


def test_hhl_refuses_large_blocks_and_bad_clock():
    with pytest.raises(ValueError, match="N <= 16"):
        hhl_statevector(torch.eye(17, dtype=torch.float64), torch.ones(17, dtype=torch.float64))
    with pytest.raises(ValueError, match="clock_qubits"):
        hhl_statevector(torch.eye(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), 1)
    with pytest.raises(ValueError, match="non-zero"):
        hhl_statevector(torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64))


def test_cholesky_falls_back_to_lu_on_indefinite_blocks():
    A = torch.tensor([[[2.0, 0.0], [0.0, -1.0]], [[2.0, 1.0], [1.0, 2.0]]], dtype=torch.float64)
    b = torch.ones(2, 2, dtype=torch.float64)
    res = CholeskySolver().solve(A, b)
    assert res.info["fallbacks"] == 1
    assert torch.allclose(res.x, torch.linalg.solve(A, b))
    with pytest.raises(ValueError, match="not positive definite in 1 block"):
        CholeskySolver(fallback="raise").solve(A, b)


def test_cg_iterations_scale_with_sqrt_kappa():
    b = torch.ones(1, 200, dtype=torch.float64)
    res = [CGSolver(tol=1e-8).solve(random_spd(1, 200, kappa=k, seed=0), b) for k in (10.0, 1e3)]
    its = [r.info["iterations"] for r in res]
    assert all(float(r.residual) < 1e-7 for r in res)
    assert its[0] < its[1] <= 400
    assert its[0] <= math.sqrt(10) * math.log(2 / 1e-8) / 2 + 5


@pytest.mark.parametrize("bad, match", [
    ((torch.ones(2, 3), torch.ones(2)), "square"),
    ((torch.eye(2), torch.ones(3)), "b must have shape"),
    ((torch.tensor([[1.0, float("inf")], [float("inf"), 1.0]]), torch.ones(2)), "non-finite"),
    ((torch.tensor([[1.0, 2.0], [0.0, 1.0]]), torch.ones(2)), "symmetric"),
    ((torch.eye(2, dtype=torch.int64), torch.ones(2)), None),
])
def test_bad_systems_are_refused_with_the_argument_named(bad, match):
    if match is None:
        with pytest.raises(TypeError, match="A must be a floating-point"):
            CholeskySolver().solve(*bad)
    else:
        with pytest.raises(ValueError, match=match):
            CholeskySolver().solve(*bad)


def test_solver_options_are_validated():
    with pytest.raises(ValueError, match="eps must be in"):
        SimulatedQLSASolver(eps=0.3)
    with pytest.raises(ValueError, match="method"):
        SimulatedQLSASolver(method="qsvt")
    with pytest.raises(ValueError, match="tol"):
        CGSolver(tol=0)
    with pytest.raises(TypeError, match="unknown options"):
        CholeskySolver().solve(torch.eye(2), torch.ones(2), foo=1)


def test_hhl_runs_gate_by_gate_on_the_shared_statevector_engine(monkeypatch):
    """The HHL circuit is applied through qtrain.quantum.Statevector: Hadamards, 2t controlled
    powers, QFT, rotation, inverse QFT, Hadamards (4t + 3 gate applications for t clock qubits)."""
    from qtrain.quantum.statevector import Statevector

    calls = []
    original = Statevector.apply

    def counting(self, matrix, targets, controls=(), **kw):
        calls.append((tuple(targets), tuple(controls)))
        return original(self, matrix, targets, controls, **kw)

    monkeypatch.setattr(Statevector, "apply", counting)
    A = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    t = 5
    x, info = hhl_statevector(A, b, clock_qubits=t)
    assert len(calls) == 4 * t + 3
    assert sum(1 for _, c in calls if c) == 2 * t          # the controlled powers of U
    assert info["qubits"] == 1 + t + 1
    torch.testing.assert_close(x, torch.linalg.solve(A, b), rtol=0.1, atol=0.05)
