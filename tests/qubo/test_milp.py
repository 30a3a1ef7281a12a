"""The ``milp`` sampler: Fortet linearisation solved by HiGHS, checked against brute force."""

import itertools

import numpy as np
import pytest
import torch

from qtrain.qubo import QUBO, get_sampler
from qtrain.qubo.exact import enumerate_energies
from qtrain.qubo.milp import MILPSampler, linearize_qubo
from qtrain.testing import assert_sampler_conforms, random_qubo


def test_milp_conforms():
    assert_sampler_conforms(get_sampler("milp"), num_reads=3)


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("n", [3, 7, 12])
def test_milp_matches_brute_force(n, integer):
    qubo = random_qubo(6, n, seed=100 + n, integer=integer)
    res = get_sampler("milp").sample_qubo_batch(qubo, num_reads=1)
    exact = enumerate_energies(qubo).min(-1).values
    assert torch.allclose(res.energy, exact, rtol=0, atol=1e-9)
    assert res.info["proven_optimal"] is True and all(res.info["optimal"])
    # HiGHS' dual bound is a certificate: it lies at or below the optimum, within its tolerance
    bounds = torch.tensor(res.info["dual_bound"], dtype=torch.float64)
    assert bool((bounds <= exact + 1e-6).all()) and bool((bounds >= exact - 1e-4).all())


def test_linearisation_is_exact_on_every_state():
    rng = np.random.default_rng(3)
    Q = rng.integers(-3, 4, size=(5, 5)).astype(np.float64)
    Q[0, 1] = -Q[1, 0]  # a coupling that cancels must not create a product variable
    c, A, lo, hi, pairs = linearize_qubo(Q)
    assert pairs.shape[0] == np.count_nonzero(np.triu(Q + Q.T, 1))
    assert not any((i, j) == (0, 1) for i, j in pairs)
    assert A.shape == (3 * len(pairs), 5 + len(pairs))
    for bits in itertools.product((0, 1), repeat=5):
        x = np.array(bits, dtype=np.float64)
        y = x[pairs[:, 0]] * x[pairs[:, 1]]
        z = np.concatenate([x, y])
        assert np.isclose(c @ z, x @ Q @ x)
        assert np.all(A @ z <= hi + 1e-12) and np.all(A @ z >= lo)
        # any other binary value of a product violates a Fortet constraint
        for p in range(len(pairs)):
            z2 = z.copy()
            z2[5 + p] = 1 - z2[5 + p]
            assert np.any(A @ z2 > hi + 1e-12)


def test_sparse_qubo_and_offset():
    Q = torch.zeros(2, 6, 6, dtype=torch.float64)
    Q[:, range(6), range(6)] = torch.tensor([1.0, -2, 0.5, -1, 3, -0.25], dtype=torch.float64)
    Q[0, 1, 3] = 4.0   # penalises x1 = x3 = 1
    Q[1, 0, 5] = -5.0  # rewards x0 = x5 = 1
    qubo = QUBO(Q, torch.tensor([0.5, -1.0], dtype=torch.float64))
    res = get_sampler("milp").sample_qubo_batch(qubo, num_reads=2, return_all=True)
    exact = enumerate_energies(qubo).min(-1).values
    assert torch.allclose(res.energy, exact, atol=1e-12)
    assert res.info["num_products"] == [1, 1]
    assert torch.equal(res.samples[:, 0], res.samples[:, 1])  # every read is the optimum


def test_time_limit_reports_an_unproven_incumbent():
    qubo = random_qubo(1, 40, seed=40)
    res = MILPSampler().sample_qubo_batch(qubo, time_limit=0.2, num_reads=1)
    assert res.info["proven_optimal"] is False and res.info["optimal"] == [False]
    gap, bound = res.info["mip_gap"][0], res.info["dual_bound"][0]
    assert gap is None or gap > 0
    assert bound is None or bound < float(res.energy) - 1e-9
    assert torch.allclose(res.energy, qubo.energy(res.sample.to(torch.float64)))


def test_size_limits_and_bad_parameters():
    with pytest.raises(ValueError, match="at most 4 variables"):
        MILPSampler(max_variables=4).sample_qubo_batch(random_qubo(1, 5))
    with pytest.raises(ValueError, match="max_products=3"):
        MILPSampler(max_products=3).sample_qubo_batch(random_qubo(1, 4))
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="time_limit"):
            MILPSampler().sample_qubo_batch(random_qubo(1, 3), time_limit=bad)
    with pytest.raises(ValueError, match="mip_rel_gap"):
        MILPSampler().sample_qubo_batch(random_qubo(1, 3), mip_rel_gap=-0.1)
    with pytest.raises(ValueError, match="max_variables"):
        MILPSampler(max_variables=0)
