"""The quantum samplers pass the foundation's conformance kit."""

from __future__ import annotations

import torch

from qtrain.qubo import get_sampler
from qtrain.testing import assert_sampler_conforms, random_qubo


def test_grover_sampler_conforms():
    assert_sampler_conforms(get_sampler("grover"))


def test_qaoa_sampler_conforms():
    assert_sampler_conforms(get_sampler("qaoa", steps=40), num_reads=32)


def test_grover_sampler_reports_resources_and_tts():
    res = get_sampler("grover").sample_qubo_batch(random_qubo(2, 8, seed=0), num_reads=4, seed=1)
    info = res.info
    assert info["resources"]["qubits"] == 8 and info["resources"]["oracle_calls"] > 0
    assert info["resources"]["projected_time_s"] > 0
    assert len(info["success_probability"]) == 2 and len(info["tts99_s"]) == 2
    assert all(t >= info["resources"]["projected_time_s"] for t in info["tts99_s"])


def test_qaoa_sampler_info():
    res = get_sampler("qaoa", p=1, steps=20).sample_qubo_batch(random_qubo(1, 5, seed=0)[0], seed=0)
    assert len(res.info["gammas"]) == 1 and len(res.info["gammas"][0]) == 1
    assert 0 < res.info["success_probability"][0] <= 1
    assert torch.is_tensor(res.sample) and res.sample.shape == (5,)
