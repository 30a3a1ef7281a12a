"""Regression tests of issue 13 for the samplers: the peer seed rule, empty batches, device errors,
energy overflow and the memory pre-flight."""

import math

import dimod
import pytest
import torch

import qtrain._device
from qtrain._info import peer_seed
from qtrain.qubo import QUBO, get_sampler

SAMPLERS = ["anneal", "exact", "steepest", "milp", "grover", "qaoa", "dwave-sa", "tabu"]


def _tiny_memory(monkeypatch, free):
    monkeypatch.setattr(qtrain._device, "free_memory_bytes", lambda device="cpu": free)


@pytest.mark.parametrize("seed", [2**31, 2**32 - 1])
def test_dwave_sa_takes_every_qtrain_seed(seed):
    # dwave-samplers' SA accepts [0, 2**31) only; qtrain's seeds lie in [0, 2**32)
    ss = get_sampler("dwave-sa").sample_qubo({(0, 1): -1}, seed=seed, num_reads=3)
    assert ss.info["seed"] == seed and ss.info["peer_seed"] == seed % 2**31
    assert ss.first.energy == -1


def test_peer_seed_is_the_stated_reduction():
    Q = torch.randn(2, 6, 6, generator=torch.Generator().manual_seed(0))
    sampler = get_sampler("dwave-sa")
    same = sampler.sample_qubo_batch(Q, seed=7, num_reads=5, return_all=True)
    wrapped = sampler.sample_qubo_batch(Q, seed=7 + 2**31, num_reads=5, return_all=True)
    assert torch.equal(same.samples, wrapped.samples)
    assert peer_seed(2**32 - 1, 2**31) == 2**31 - 1
    with pytest.raises(ValueError, match="bound"):
        peer_seed(3, 0)


@pytest.mark.parametrize("name", SAMPLERS)
def test_empty_batch_gives_empty_result(name):
    res = get_sampler(name).sample_qubo_batch(QUBO(torch.zeros(0, 5, 5)), num_reads=2, return_all=True)
    assert res.sample.shape == (0, 5) and res.energy.shape == (0,)
    assert res.samples.shape == (0, 2, 5) and res.energies.shape == (0, 2)


@pytest.mark.parametrize("name", ["anneal", "exact", "steepest"])
def test_unknown_device_is_a_value_error_naming_it(name):
    with pytest.raises(ValueError, match="tpu"):
        get_sampler(name, device="tpu")
    with pytest.raises(ValueError, match="tpu"):
        get_sampler(name).sample_qubo_batch(torch.eye(2), device="tpu")
    with pytest.raises(TypeError, match="device"):
        get_sampler(name, device=1.5)


def test_energy_overflow_is_refused_with_the_bound():
    with pytest.raises(ValueError, match=r"overflow float64.*1\.798e\+308"):
        QUBO([[-1e308, -1e308], [-1e308, -1e308]])
    with pytest.raises(ValueError, match="overflow"):
        QUBO([[1e308]], offset=1e308)
    # the largest finite range is accepted and every energy is finite
    q = QUBO([[4e307, 4e307], [4e307, 4e307]])
    assert math.isfinite(float(get_sampler("exact").sample_qubo_batch(q).energy))


def test_num_sweeps_beyond_memory_is_refused_before_work():
    with pytest.raises(ValueError, match="num_sweeps"):
        get_sampler("anneal").sample_qubo_batch(torch.eye(3), num_sweeps=10**12, num_reads=1)
    with pytest.raises(ValueError, match="num_sweeps"):
        get_sampler("dwave-sa").sample_qubo_batch(torch.eye(3), num_sweeps=10**12, num_reads=1)


@pytest.mark.parametrize("name", ["anneal", "steepest", "exact"])
def test_num_reads_preflight_names_a_limit_that_fits(monkeypatch, name):
    _tiny_memory(monkeypatch, 2**20)
    sampler = get_sampler(name)
    with pytest.raises(ValueError, match=r"num_reads=(\d+) fit") as err:
        sampler.sample_qubo_batch(torch.eye(8), num_reads=10**6)
    fit = int(err.value.args[0].split("num_reads=")[1].split()[0])
    assert fit >= 1
    res = sampler.sample_qubo_batch(torch.eye(8), num_reads=fit, **({"num_sweeps": 2} if name == "anneal" else {}))
    assert res.info["num_reads"] == fit


def test_dense_bqm_beyond_memory_is_refused(monkeypatch):
    _tiny_memory(monkeypatch, 2**30)
    bqm = dimod.BinaryQuadraticModel({i: 1.0 for i in range(20_000)}, {}, 0.0, "BINARY")
    with pytest.raises(ValueError, match=r"n=20000 variables needs 3\.0 GiB.*at most n=11585"):
        QUBO.from_bqm(bqm)


@pytest.mark.parametrize("name", ["grover", "qaoa"])
def test_quantum_samplers_preflight_their_state_memory(monkeypatch, name):
    sampler = get_sampler(name)
    one = sampler.working_bytes(QUBO(torch.zeros(1, 16, 16)), 1)
    assert one >= 32 * 2**16  # at least the 2^n energies of the problem, in float64 and copies
    _tiny_memory(monkeypatch, 4 * one)  # four problems fit, 64 do not
    with pytest.raises(ValueError, match="needs .* GiB"):
        sampler.sample_qubo_batch(QUBO(torch.zeros(64, 16, 16)), num_reads=1)


@pytest.mark.parametrize("kw", [{}, {"precision": "float64"}, {"backend": "torch"}])
@pytest.mark.parametrize("power", [700, -700])
def test_anneal_is_scale_invariant_for_huge_and_tiny_coefficients(kw, power):
    gen = torch.Generator().manual_seed(3)
    Q = 1.8 * torch.rand(6, 6, generator=gen, dtype=torch.float64) - 0.9
    Q[0, 0] = 0.9  # max |Q| in [0.5, 1): the rescaled copy is Q itself
    big = torch.ldexp(Q, torch.tensor(power))  # 2^700 ~ 5e210: squares overflow; 2^-700 underflow
    sampler = get_sampler("anneal", num_sweeps=50, **kw)
    res = sampler.sample_qubo_batch(QUBO(torch.stack([Q, big])), seed=5, num_reads=6, return_all=True)
    assert torch.equal(res.samples[0], res.samples[1])
    hot, cold = res.info["beta_range"][1]
    assert 0 < hot <= cold < math.inf
    assert math.isclose(hot * 2.0**power, res.info["beta_range"][0][0], rel_tol=1e-12)
    exact = get_sampler("exact").sample_qubo_batch(QUBO(big))
    assert float(res.energy[1]) == float(exact.energy)  # the ground state, in the original units
