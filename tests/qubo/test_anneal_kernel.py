"""The annealing kernel against exact references: its random variates and its Metropolis chain."""

import itertools
import math

import numpy as np
import pytest
import torch

from qtrain.qubo import QUBO, get_sampler
from qtrain.qubo._kernels import _G32, _uniform24


def _draws(key: int, count: int, start: int = 0) -> np.ndarray:
    ka, kb = np.uint32(key & 0xFFFFFFFF), np.uint32(key >> 32)
    return np.array([_uniform24(np.uint32(((start + t) * int(_G32)) & 0xFFFFFFFF), ka, kb)
                     for t in range(count)], dtype=np.float64)


@pytest.mark.parametrize("key", [1, 0xDEADBEEF12345678, 2**63 + 5])
def test_counter_based_variates_are_uniform_and_uncorrelated(key):
    u = _draws(key, 20000)
    assert u.min() >= 0 and u.max() < 1
    # every variate is a multiple of 2^-24 (24 random bits)
    assert np.all(np.round(u * 2**24) == u * 2**24)
    # mean, variance and lag-1 correlation within 5 standard errors of U(0, 1)'s
    n = len(u)
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / n)
    lag = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(lag) < 5 / math.sqrt(n)
    # chi-square over 50 equal bins: 49 degrees of freedom, 99.99th percentile about 95
    counts = np.bincount((u * 50).astype(int), minlength=50)
    chi2 = ((counts - n / 50) ** 2 / (n / 50)).sum()
    assert chi2 < 95


def test_streams_of_neighbouring_keys_are_uncorrelated():
    a, b = _draws(1000, 20000), _draws(1001, 20000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(20000)
    assert not np.array_equal(a[1:], b[:-1])


def test_kernel_samples_the_boltzmann_distribution_at_fixed_temperature():
    """At a constant beta the kernel is a Metropolis chain: after enough sweeps the reads' final
    states follow exp(-beta E(x)) / Z, computed exactly by enumeration over 2^4 states."""
    q = QUBO(torch.tensor([[[0.5, -1.0, 0.3, 0.0], [0.0, -0.4, 0.8, -0.6],
                            [0.0, 0.0, 0.2, 0.7], [0.0, 0.0, 0.0, -0.3]]], dtype=torch.float64))
    beta = 1.3
    states = torch.tensor(list(itertools.product([0, 1], repeat=4)), dtype=torch.float64)
    energy = q.energy(states[None])[0]
    p = torch.softmax(-beta * energy, 0).numpy()
    reads = 6000
    res = get_sampler("anneal").sample_qubo_batch(q, num_reads=reads, num_sweeps=40, seed=7,
                                                  beta_range=(beta, beta), return_all=True)
    idx = (res.samples[0].long() * torch.tensor([8, 4, 2, 1])).sum(-1).numpy()
    freq = np.bincount(idx, minlength=16) / reads
    # total variation distance: sampling noise alone gives about 0.02 at 6000 reads
    tv = 0.5 * np.abs(freq - p).sum()
    assert tv < 0.035


def test_kernel_results_do_not_depend_on_the_job_layout():
    """Chains are independent: cutting the (problem, read) chains into jobs of 1, 3, 7 or all
    lanes, across problem boundaries, gives bit-identical samples."""
    from qtrain.qubo import _kernels
    from qtrain.qubo.anneal import _prepare_kernel_arrays, _stream_seeds

    q = QUBO(torch.from_numpy(np.random.default_rng(3).uniform(-1, 1, size=(5, 12, 12))))
    W, d, _ = _prepare_kernel_arrays(q, np.dtype("float32"))
    betas = np.geomspace(0.1, 3.0, 150)[None, :].repeat(5, 0).astype(np.float32)
    rng, seeds = _stream_seeds(11, 6)
    x0 = rng.integers(0, 2, size=(6, 12), dtype=np.int8)
    outs = []
    for lanes in (1, 3, 7, 30):
        out = np.empty((5, 6, 12), dtype=np.int8)
        _kernels.anneal_dense(W, d, betas, x0, seeds, True, lanes, out)
        outs.append(out)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    # and the reads differ from each other (independent streams, not one stream copied)
    assert len({outs[0][0, r].tobytes() for r in range(6)}) > 1


def test_float32_exponential_is_accurate_on_its_whole_range():
    from qtrain.qubo._kernels import _expm

    z = np.linspace(0.0, 22.0, 4001, dtype=np.float32)
    approx = np.array([_expm(v) for v in z], dtype=np.float64)
    assert np.max(np.abs(approx / np.exp(-z.astype(np.float64)) - 1)) < 2e-5
