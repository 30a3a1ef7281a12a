"""QCGD against the brute-force constrained optimum, its oracle QUBO against the lifted objective."""

import itertools
import warnings

import numpy as np
import pytest
import torch

from qtrain.qubo import QCBO, QUBOSampler
from qtrain.qubo.qcbo import random_qcbo
from qtrain.train.qbo import lmo_qubo, qcgd, quantize_coefficients, repair


@pytest.mark.parametrize("seed", range(8))
def test_exact_oracle_reaches_the_constrained_optimum(seed):
    p = random_qcbo(5 + seed % 5, num_eq=1 + seed % 3, num_ub=seed % 2, seed=seed)
    ref = p.brute_force()
    res = qcgd(p, "exact", iterations=60, seed=seed)
    assert res.feasible and res.violation == 0
    assert res.objective == pytest.approx(ref.objective, abs=1e-9)
    assert res.info["oracle_calls"] == 60 and res.info["spins"] == p.num_variables
    assert set(res.info["timing"]) >= {"preprocessing_ns", "solve_ns", "postprocessing_ns", "total_ns"}


def test_lmo_is_the_lifted_linear_objective_on_every_atom():
    rng = np.random.default_rng(0)
    n = 4
    p = random_qcbo(n, num_eq=2, num_ub=1, seed=5)
    A_ub, _ = p.inequality_rows()
    w1, w2, w3 = (torch.from_numpy(rng.normal(size=k)) for k in (2, 2, A_ub.shape[0]))
    Q = lmo_qubo(p.Q, p.c, p.A_eq, A_ub, w1, w2, w3)
    for bits in itertools.product((0, 1), repeat=n):
        v = torch.tensor(bits, dtype=torch.float64)
        ae = p.A_eq @ v
        lifted = v @ p.Q @ v + p.c @ v + w1 @ ae + w2 @ ae**2 + w3 @ (A_ub @ v)
        assert float(v @ Q @ v) == pytest.approx(float(lifted), abs=1e-12)


def test_residual_of_the_relaxation_shrinks():
    p = random_qcbo(8, num_eq=3, seed=2)
    res = qcgd(p, "exact", iterations=200, seed=1)
    r = dict(res.info["residual"])
    assert r[200] < r[10]


def test_noisy_and_coarse_oracles():
    p = random_qcbo(10, num_eq=2, seed=7)
    ref = p.brute_force()
    res = qcgd(p, "anneal", iterations=40, seed=3, num_reads=8, num_sweeps=200)
    assert res.feasible and res.objective == pytest.approx(ref.objective, abs=1e-9)
    coarse = qcgd(p, "exact", iterations=40, seed=3, precision=6)
    assert coarse.feasible and coarse.objective >= ref.objective - 1e-9


def test_quantize_coefficients_grid():
    Q = torch.tensor([[1.0, -0.3], [0.26, 0.0]], dtype=torch.float64)
    q = quantize_coefficients(Q, 3)  # delta = 1/3
    assert torch.allclose(q, torch.tensor([[1.0, -1 / 3], [1 / 3, 0.0]], dtype=torch.float64))
    assert torch.equal(quantize_coefficients(Q, None), Q)
    with pytest.raises(ValueError, match="precision"):
        quantize_coefficients(Q, 1)


def test_repair_reaches_a_feasible_point():
    p = QCBO(torch.zeros(4, 4), c=[1.0, 2.0, 3.0, 4.0], A_eq=[[1.0, 1.0, 1.0, 1.0]], b_eq=[2.0])
    x = repair(p, torch.ones(4))
    assert p.is_feasible(x) and x.tolist() == [1.0, 1.0, 0.0, 0.0]


class AllOnes(QUBOSampler):
    """A broken oracle: every read is the all-ones point."""

    name = "all-ones"

    def _sample(self, qubo, num_reads, seed, **_):
        return torch.ones(qubo.num_problems, num_reads, qubo.num_variables, dtype=torch.int8), {}


def test_infeasible_only_oracle_warns_and_repairs():
    p = QCBO(torch.zeros(3, 3), c=[1.0, -1.0, 0.5], A_eq=[[1.0, 1.0, 1.0]], b_eq=[1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired to a feasible point: no warning
        res = qcgd(p, AllOnes(), iterations=5, seed=0)
    assert res.info["rounding"] == "repair" and res.feasible and res.x.tolist() == [0, 1, 0]
    # an infeasible program: no repair helps, a warning names the rows
    bad = QCBO(torch.zeros(2, 2), A_eq=[[1.0, 1.0]], b_eq=[3.0])
    with pytest.warns(RuntimeWarning, match=r"eq\[0\]"):
        res = qcgd(bad, "exact", iterations=3, seed=0)
    assert not res.feasible and res.violation == pytest.approx(1.0)


def test_bad_arguments():
    p = random_qcbo(3, seed=0)
    with pytest.raises(ValueError, match="iterations"):
        qcgd(p, iterations=0)
    with pytest.raises(ValueError, match="beta0"):
        qcgd(p, beta0=-1.0)
    with pytest.raises(ValueError, match="at most 26"):
        qcgd(QCBO(torch.zeros(27, 27)), "exact", iterations=1)
    with pytest.raises(TypeError, match="QCBO"):
        qcgd(torch.zeros(2, 2))
