"""ScheduledSolver: routing policies, per-block logs, hysteresis and re-pricing."""

import pytest
import torch

from qtrain._info import SolveContext
from qtrain.linalg import (
    CholeskySolver,
    ClassicalCostModel,
    QLSACostModel,
    ScheduledSolver,
    SimulatedQLSASolver,
    reprice,
)
from qtrain.testing import random_spd


def _blocks():
    # block 0: kappa 10, block 1: kappa 1e5 (above the paper's threshold)
    A = torch.cat([random_spd(1, 8, kappa=10.0, seed=0), random_spd(1, 8, kappa=1e5, seed=1)])
    return A, torch.ones(2, 8, dtype=torch.float64)


def test_argmin_routes_to_the_cheaper_branch_and_logs_every_block():
    A, b = _blocks()
    cheap_q = ScheduledSolver(policy="argmin", quantum_cost=QLSACostModel(profile="attosecond"),
                              classical_cost=ClassicalCostModel("analytic", flops=1e7))
    res = cheap_q.solve(A, b)
    assert [r["route"] for r in res.info["schedule"]] == ["quantum", "quantum"]
    assert torch.allclose(res.x, torch.linalg.solve(A, b))
    rec = res.info["schedule"][0]
    assert set(rec) == {"step", "block", "N", "kappa", "d", "cost_quantum_s", "cost_classical_s",
                        "route"}
    assert rec["kappa"] == pytest.approx(10.0) and rec["d"] == 8 and rec["N"] == 8
    assert rec["cost_quantum_s"] == pytest.approx(
        float(QLSACostModel(profile="attosecond").time(8, 10.0, 8)))
    assert rec["cost_classical_s"] == pytest.approx(8**3 / 3 / 1e7)
    assert res.info["quantum_fraction"] == 1.0 and "quantum" in res.info["children"]
    slow_q = ScheduledSolver(policy="argmin", quantum_cost=QLSACostModel(profile="today"),
                             classical_cost=ClassicalCostModel("analytic", flops=1e9))
    assert [r["route"] for r in slow_q.solve(A, b).info["schedule"]] == ["classical"] * 2


def test_threshold_policy_keeps_ill_conditioned_blocks_classical():
    A, b = _blocks()
    s = ScheduledSolver(policy="threshold", quantum_cost=QLSACostModel(profile="attosecond"),
                        classical_cost=ClassicalCostModel("analytic", flops=1e9))
    res = s.solve(A, b, context=SolveContext(step=7, block_ids=("w", "v")))
    assert [r["route"] for r in res.info["schedule"]] == ["quantum", "classical"]
    assert [(r["block"], r["step"]) for r in s.log] == [("w", 7), ("v", 7)]
    assert torch.allclose(res.x, torch.linalg.solve(A, b))


def test_hysteresis_stops_flapping_near_the_threshold():
    A = random_spd(1, 6, kappa=100.0, seed=3)
    b = torch.ones(1, 6, dtype=torch.float64)
    kw = {"quantum_cost": QLSACostModel(profile="attosecond"),
          "classical_cost": ClassicalCostModel("analytic", flops=1e9)}
    hyst = ScheduledSolver(policy="hysteresis", kappa_threshold=100.0, margin=0.2, **kw)
    plain = ScheduledSolver(policy="threshold", kappa_threshold=100.0, **kw)
    scales = [0.99, 1.05, 0.95, 1.1]  # kappa of A + shift oscillates around 100
    routes_h, routes_p = [], []
    for s in scales:
        # kappa(A + mu I) = (100 + mu) / (1 + mu) = 100 s (mu < 0 allowed while 1 + mu > 0)
        mu = (100 - 100 * s) / (100 * s - 1)
        Ai = A + mu * torch.eye(6, dtype=torch.float64)
        routes_h.append(hyst.solve(Ai, b).info["schedule"][0]["route"])
        routes_p.append(plain.solve(Ai, b).info["schedule"][0]["route"])
    assert routes_p == ["quantum", "classical", "quantum", "classical"]
    assert routes_h == ["quantum"] * 4
    hyst.reset()
    assert hyst.log == []


def test_sparsified_quantum_branch_reports_achieved_d():
    A = random_spd(1, 12, kappa=20.0, seed=2)
    s = ScheduledSolver(policy="argmin", quantum_cost=QLSACostModel(profile="attosecond"),
                        classical_cost=ClassicalCostModel("analytic", flops=1e9), sparsify_k=2)
    res = s.solve(A, torch.ones(1, 12, dtype=torch.float64))
    rec = res.info["schedule"][0]
    assert 2 <= rec["d"] < 12 and rec["route"] == "quantum"


def test_reprice_reroutes_logged_blocks_under_another_profile():
    A, b = _blocks()
    s = ScheduledSolver(policy="threshold", classical_cost=ClassicalCostModel("analytic",
                                                                              flops=1e9))
    s.solve(A, b)
    assert all(r["route"] == "classical" for r in s.log)
    atto = reprice(s.log, QLSACostModel(profile="attosecond"))
    assert atto["quantum_fraction"] == 0.5
    assert atto["hybrid_solve_s"] < atto["classical_solve_s"]
    today = reprice(s.log, QLSACostModel(profile="today"))
    assert today["quantum_fraction"] == 0.0
    assert today["hybrid_solve_s"] == pytest.approx(today["classical_solve_s"])
    assert reprice([], QLSACostModel())["quantum_fraction"] == 0.0


def test_scheduler_options_are_validated():
    with pytest.raises(ValueError, match="policy must be one of"):
        ScheduledSolver(policy="random")
    with pytest.raises(ValueError, match="margin"):
        ScheduledSolver(margin=1.0)
    with pytest.raises(ValueError, match="kappa_method"):
        ScheduledSolver(kappa_method="guess")
    with pytest.raises(ValueError, match="block_ids must have one id per problem"):
        ScheduledSolver().solve(torch.eye(2).double().expand(2, 2, 2), torch.ones(2, 2).double(),
                                context=SolveContext(block_ids=(0,)))
    assert isinstance(ScheduledSolver().quantum, SimulatedQLSASolver)


def test_scheduler_is_a_composite_whose_children_see_the_routed_blocks():
    seen = []

    class Spy(CholeskySolver):
        name = "spy"

        def _solve(self, A, b, seed, context=None, **kwargs):
            seen.append(context)
            return super()._solve(A, b, seed)

    A, b = _blocks()
    s = ScheduledSolver(quantum=Spy(), classical=Spy(), policy="threshold",
                        quantum_cost=QLSACostModel(profile="attosecond"),
                        classical_cost=ClassicalCostModel("analytic", flops=1e9))
    assert s.children == [s.quantum, s.classical] and s.child is s.quantum
    s.solve(A, b, context=SolveContext(step=2, block_ids=("w", "v")))
    assert [(c.step, c.block_ids) for c in seen] == [(2, ("w",)), (2, ("v",))]
    q = ScheduledSolver(policy="argmin", quantum_cost=QLSACostModel(profile="attosecond"),
                        classical_cost=ClassicalCostModel("analytic", flops=1e9))
    res = q.solve(A, b)
    assert res.info["resources"] == res.info["children"]["quantum"]["resources"]
