"""QCBO: energies, rows, and every conversion against brute force (and dimod's ExactCQMSolver)."""

import itertools

import dimod
import numpy as np
import pytest
import torch

from qtrain.qubo import QCBO, InfeasibleProgramError, get_sampler
from qtrain.qubo.exact import enumerate_energies
from qtrain.qubo.qcbo import hybrid_cqm_request, random_qcbo, solve_cqm_hybrid


def _points(n):
    return torch.tensor(list(itertools.product((0, 1), repeat=n)), dtype=torch.float64)


def test_energy_and_rows_by_hand():
    p = QCBO([[1.0, 2.0], [0.0, -3.0]], c=[0.5, 0.0], A_eq=[[1.0, 1.0]], b_eq=[1.0], A_ub=[[1.0, -1.0]], b_ub=[0.0],
             offset=0.25)
    assert float(p.energy([1, 1])) == pytest.approx(1 + 2 - 3 + 0.5 + 0.25)
    assert p.is_feasible([0, 1]) and not p.is_feasible([1, 0]) and not p.is_feasible([1, 1])
    assert p.violated_rows([1, 0]) == ["ub[0]"]
    assert p.violated_rows([1, 1]) == ["eq[0]"]
    assert float(p.violation([1, 1])) == pytest.approx(1.0)
    best = p.brute_force()
    assert best.x.tolist() == [0, 1] and best.objective == pytest.approx(-3 + 0.25) and best.feasible


@pytest.mark.parametrize("seed", range(6))
def test_milp_and_penalty_match_brute_force(seed):
    p = random_qcbo(8, num_eq=1 + seed % 3, num_ub=seed % 2 + 1, seed=seed)
    ref = p.brute_force()
    milp = p.solve_milp()
    assert milp.feasible and milp.objective == pytest.approx(ref.objective, abs=1e-6)
    # every feasible x with its best slack keeps its objective; infeasible x pay at least lam * something
    lam = 50.0
    q = p.to_penalty_qubo(lam)
    assert q.num_variables == p.counts()["penalty_spins"]
    res = get_sampler("exact").sample_qubo_batch(q, num_reads=1)
    x = res.sample[: p.num_variables]
    assert p.is_feasible(x)
    assert float(res.energy) == pytest.approx(ref.objective, abs=1e-9)
    assert float(p.energy(x)) == pytest.approx(ref.objective, abs=1e-9)


def test_penalty_energy_is_min_over_slack_exactly():
    p = random_qcbo(5, num_eq=1, num_ub=2, seed=11)
    q = p.to_penalty_qubo(7.0)
    n, N = p.num_variables, q.num_variables
    E = enumerate_energies(q).reshape(-1)  # index k has x_i = bit i
    idx = torch.arange(2**N)
    xk = idx & (2**n - 1)
    emin = torch.full((2**n,), float("inf"), dtype=torch.float64).scatter_reduce(0, xk, E, "amin")
    X = ((torch.arange(2**n)[:, None] >> torch.arange(n)) & 1).to(torch.float64)
    feas = p.is_feasible(X)
    assert torch.allclose(emin[feas], p.energy(X)[feas], atol=1e-9)
    assert bool((emin[~feas] > p.energy(X)[~feas] + 1e-6).all())


def test_products_are_exact_in_every_form():
    # x2 = x0 x1, objective rewards x2 and penalises the bits
    p = QCBO(torch.zeros(3, 3), c=[0.4, 0.3, -1.0], products=[[2, 0, 1]])
    X = _points(3)
    ok = p.is_feasible(X)
    assert torch.equal(ok, X[:, 2] == X[:, 0] * X[:, 1])
    assert p.brute_force().x.tolist() == [1, 1, 1]
    assert p.solve_milp().x.tolist() == [1, 1, 1]
    q = p.to_penalty_qubo(5.0)
    assert q.num_variables == 3  # Rosenberg: no slack bits
    pen = q.energy(X) - p.energy(X)
    assert torch.allclose(pen[ok], torch.zeros(int(ok.sum()), dtype=torch.float64))
    assert bool((pen[~ok] >= 5.0 - 1e-12).all())


@pytest.mark.parametrize("seed", range(4))
def test_cqm_matches_exact_cqm_solver(seed):
    p = random_qcbo(7, num_eq=1 + seed % 2, num_ub=1, seed=40 + seed)
    p = QCBO(p.Q, p.c, p.A_eq, p.b_eq, p.A_ub, p.b_ub, offset=0.5, products=[[6, 0, 1]])
    cqm = p.to_cqm()
    ss = dimod.ExactCQMSolver().sample_cqm(cqm)
    # dimod's energies and feasibility agree with ours on every point
    order = [list(ss.variables).index(i) for i in range(7)]
    X = ss.record.sample[:, order].astype(np.float64)
    assert np.allclose(ss.record.energy, p.energy(X).numpy())
    assert np.array_equal(ss.record.is_feasible, p.is_feasible(torch.from_numpy(X)).numpy())
    best = ss.filter(lambda d: d.is_feasible).first
    ref = p.brute_force()
    assert best.energy == pytest.approx(ref.objective, abs=1e-9)


def test_infeasible_program_names_rows():
    p = QCBO(torch.zeros(3, 3), A_eq=[[1.0, 1.0, 1.0]], b_eq=[5.0], A_ub=[[1.0, 0, 0]], b_ub=[0.0])
    with pytest.raises(InfeasibleProgramError, match=r"eq\[0\]") as e:
        p.brute_force()
    assert e.value.rows == ["eq[0]"]
    with pytest.raises(InfeasibleProgramError, match=r"eq\[0\]"):
        p.solve_milp()
    bad = QCBO(torch.zeros(2, 2), A_ub=[[1.0, 1.0]], b_ub=[-1.0])
    with pytest.raises(InfeasibleProgramError, match=r"ub\[0\]"):
        bad.to_penalty_qubo(1.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="Q must have shape"):
        QCBO(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="b_eq must have"):
        QCBO(torch.zeros(2, 2), A_eq=[[1.0, 1.0]], b_eq=[1.0, 2.0])
    with pytest.raises(ValueError, match="together"):
        QCBO(torch.zeros(2, 2), A_eq=[[1.0, 1.0]])
    with pytest.raises(ValueError, match="finite"):
        QCBO([[float("nan")]])
    with pytest.raises(ValueError, match="lam"):
        QCBO(torch.zeros(2, 2)).to_penalty_qubo(0.0)
    with pytest.raises(ValueError, match="max_variables=24"):
        QCBO(torch.zeros(25, 25)).brute_force()
    with pytest.raises(ValueError, match="products"):
        QCBO(torch.zeros(2, 2), products=[[0, 0, 1]])


def test_hybrid_cqm_offline(monkeypatch, tmp_path):
    p = random_qcbo(5, num_eq=1, seed=3)
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(tmp_path / "none.conf"))
    with pytest.raises(RuntimeError, match="no D-Wave API token"):
        solve_cqm_hybrid(p)
    req = hybrid_cqm_request(p, time_limit=5)
    assert req["time_limit"] == 5.0 and len(req["cqm"].constraints) == 1

    class Recorder:  # stands in for LeapHybridCQMSampler: records the submitted model
        def sample_cqm(self, cqm, **kw):
            self.cqm, self.kw = cqm, kw
            return dimod.ExactCQMSolver().sample_cqm(cqm)

    rec = Recorder()
    sol = solve_cqm_hybrid(p, time_limit=5, sampler=rec)
    assert rec.kw == {"label": "qtrain-qbo", "time_limit": 5.0}
    assert set(rec.cqm.variables) == set(range(5))
    assert sol.feasible and sol.objective == pytest.approx(p.brute_force().objective)


def test_penalty_keeps_rows_without_slack_room():
    # x0 <= 0 has U = 0: no slack bits, but it must still be penalised (regression)
    p = QCBO(torch.zeros(2, 2), c=[-1.0, 0.5], A_ub=[[1.0, 0.0], [1.0, 1.0]], b_ub=[0.0, 5.0])
    q = p.to_penalty_qubo(10.0)
    assert q.num_variables == 2  # the second row is redundant: no slack, no penalty
    res = get_sampler("exact").sample_qubo_batch(q, num_reads=1)
    assert res.sample.tolist() == [0, 0] and float(res.energy) == 0.0
