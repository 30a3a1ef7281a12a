"""Sampler specifics beyond the conformance kit: limits, registry, QPU pipeline on a mock."""

import pytest
import torch

from qtrain.qubo import QUBO, available_samplers, get_sampler
from qtrain.qubo.anneal import default_beta_range
from qtrain.qubo.exact import ExactSampler
from qtrain.testing import assert_sampler_conforms, random_qubo


def test_registry_names_and_unknown_name():
    assert {"exact", "anneal", "steepest", "dwave-sa", "tabu", "dwave"} <= set(available_samplers())
    with pytest.raises(ValueError, match="unknown sampler 'nope'"):
        get_sampler("nope")


def test_exact_refuses_past_its_limit():
    with pytest.raises(ValueError, match="at most 10 variables"):
        ExactSampler(max_variables=10).sample_qubo_batch(torch.zeros(11, 11))
    with pytest.raises(ValueError, match="max_variables"):
        ExactSampler(max_variables=0)


def test_exact_returns_lowest_states_in_order():
    q = random_qubo(2, 6, seed=3)
    res = get_sampler("exact").sample_qubo_batch(q, num_reads=5, return_all=True)
    assert bool((res.energies[:, 1:] >= res.energies[:, :-1]).all())
    assert len({tuple(s.tolist()) for s in res.samples[0]}) == 5
    many = get_sampler("exact").sample_qubo_batch(q[0], num_reads=100, return_all=True)
    assert many.samples.shape == (100, 6)


def test_anneal_parameter_errors():
    s = get_sampler("anneal")
    q = random_qubo(1, 3)
    for bad in ({"num_sweeps": 0}, {"beta_range": (2.0, 1.0)}, {"beta_range": 3},
                {"beta_schedule_type": "cosine"}, {"precision": "float16"}, {"backend": "gpu"}):
        with pytest.raises(ValueError):
            s.sample_qubo_batch(q, **bad)


def test_anneal_seed_changes_samples_and_polish_reaches_local_minimum():
    q = random_qubo(2, 40, seed=5)
    s = get_sampler("anneal", num_sweeps=5)
    a = s.sample_qubo_batch(q, num_reads=4, seed=1, return_all=True)
    b = s.sample_qubo_batch(q, num_reads=4, seed=2, return_all=True)
    assert not torch.equal(a.samples, b.samples)
    p = s.sample_qubo_batch(q, num_reads=4, seed=1, polish=True, return_all=True)
    x = p.samples.to(torch.float64)
    W, d = q.couplings(), q.linear()
    delta = (1 - 2 * x) * (d[:, None, :] + x @ W)
    assert bool((delta >= -1e-9).all()), "polished reads must be 1-flip local minima"


def test_default_beta_range_is_hot_to_cold_and_scale_free():
    q = random_qubo(3, 20, seed=0)
    br = default_beta_range(q)
    assert bool((br[:, 0] < br[:, 1]).all())
    scaled = default_beta_range(QUBO(10 * q.Q, q.offset))
    assert torch.allclose(scaled * 10, br)


def test_anneal_solves_batch_of_20_variable_problems():
    q = random_qubo(8, 20, seed=11)
    exact = get_sampler("exact").sample_qubo_batch(q).energy
    res = get_sampler("anneal").sample_qubo_batch(q, num_reads=20, num_sweeps=500, seed=0)
    assert torch.allclose(res.energy, exact)


# --------------------------------------------------------------- D-Wave QPU on the mock
dwave_system = pytest.importorskip("dwave.system")


def mock_qpu():
    from dwave.system.testing import MockDWaveSampler

    return MockDWaveSampler(topology_type="pegasus", topology_shape=[4])


def test_dwave_without_token_says_how_to_provide_one(monkeypatch, tmp_path):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(tmp_path / "none.conf"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    s = get_sampler("dwave")
    with pytest.raises(RuntimeError, match="DWAVE_API_TOKEN"):
        s.sample_qubo_batch(random_qubo(1, 3))


def test_dwave_sampler_is_a_composite_with_resources():
    mock = mock_qpu()
    s = get_sampler("dwave", child=mock)
    assert s.children == [mock] and s.child is mock
    res = s.sample_qubo_batch(QUBO(torch.tensor([[[-1.0, 2.0], [0.0, -1.0]]] * 2)), num_reads=5, seed=0)
    r = res.info["resources"]
    assert r["reads"] == 10 and r["qubits"] == res.info["physical_qubits"] >= 2
    assert r["qpu_access_time_us"] is None or r["qpu_access_time_us"] > 0


def test_dwave_mock_embedding_cached_and_reported():
    s = get_sampler("dwave", child=mock_qpu())
    q = random_qubo(2, 6, seed=4)  # dense: both problems share one structure (K6)
    first = s.sample_qubo_batch(q, num_reads=20, seed=0)
    assert first.info["embedding_cache_misses"] == 1 and first.info["embedding_cache_hits"] == 1
    assert first.info["physical_qubits"] >= 6
    assert 0.0 <= first.info["chain_break_fraction"] <= 1.0
    second = s.sample_qubo_batch(q, num_reads=20, seed=0)
    assert second.info["embedding_cache_hits"] == 2 and second.info["embedding_cache_misses"] == 0
    assert len(s.embedding_cache) == 1
    exact = get_sampler("exact").sample_qubo_batch(q).energy
    assert torch.allclose(second.energy, exact)


def test_dwave_mock_reuses_a_supergraph_embedding_when_couplings_cancel():
    s = get_sampler("dwave", child=mock_qpu())
    q = random_qubo(1, 6, seed=5)
    s.sample_qubo_batch(q, num_reads=10, seed=0)
    Q = q.Q.clone()
    Q[0, 1, 3] = -Q[0, 3, 1]  # W_13 = Q_13 + Q_31 = 0: a subgraph of K6
    sparse = s.sample_qubo_batch(QUBO(Q), num_reads=10, seed=0)
    assert sparse.info["embedding_cache_hits"] == 1 and sparse.info["embedding_cache_misses"] == 0
    assert torch.allclose(sparse.energy, get_sampler("exact").sample_qubo_batch(QUBO(Q)).energy)
    # a structure that is not a subgraph of anything cached still needs its own embedding
    other = s.sample_qubo_batch(random_qubo(1, 7, seed=6), num_reads=10, seed=0)
    assert other.info["embedding_cache_misses"] == 1


def test_dwave_mock_conforms():
    assert_sampler_conforms(get_sampler("dwave", child=mock_qpu()), sizes=(1, 4, 6), num_reads=20)


def test_compiled_preparation_matches_torch_beta_range_and_couplings():
    """The one-pass numba preparation gives the same W, d and automatic beta range as the torch path."""
    import numpy as np

    from qtrain.qubo.anneal import _betas_from_stats, _prepare_kernel_arrays, default_beta_range

    rng = np.random.default_rng(3)
    for Q in (rng.uniform(-1, 1, (5, 30, 30)), rng.integers(-3, 4, (4, 12, 12)).astype(float),
              np.zeros((2, 5, 5))):
        q = QUBO(torch.from_numpy(Q))
        W, d, stats = _prepare_kernel_arrays(q, np.dtype("float64"))
        assert np.allclose(W, q.couplings().numpy()) and np.allclose(d, q.linear().numpy())
        torch.testing.assert_close(_betas_from_stats(torch.from_numpy(stats), q.num_variables),
                                   default_beta_range(q), rtol=1e-12, atol=0)


def test_non_finite_entries_are_found_even_when_the_sum_is_finite_or_overflows():
    big = torch.full((3, 3), 1e308, dtype=torch.float64)  # finite entries whose sum overflows
    with pytest.raises(ValueError, match="overflow float64"):  # issue 13: energies would be inf
        QUBO(big)
    bad = torch.zeros(3, 3)
    bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match="Q must be finite"):
        QUBO(bad)
