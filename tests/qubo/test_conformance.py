"""Every built-in sampler passes the shipped conformance kit."""

import pytest

from qtrain.qubo import get_sampler
from qtrain.testing import assert_sampler_conforms

CASES = {
    "exact": {},
    "anneal": {"num_sweeps": 200},
    "steepest": None,  # greedy descent: no ground-state guarantee
    "dwave-sa": {"num_sweeps": 200},
    "tabu": {"timeout": 5},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_builtin_sampler_conforms(name):
    params = CASES[name]
    if params is None:
        assert_sampler_conforms(get_sampler(name), ground_state=False, num_reads=4)
    else:
        assert_sampler_conforms(get_sampler(name), params=params, num_reads=8)


def test_anneal_torch_backend_conforms():
    assert_sampler_conforms(get_sampler("anneal", backend="torch", num_sweeps=50), sizes=(1, 5),
                            num_reads=6)


def test_anneal_float64_conforms():
    assert_sampler_conforms(get_sampler("anneal", precision="float64", num_sweeps=100, polish=True))


def test_steepest_torch_backend_conforms():
    assert_sampler_conforms(get_sampler("steepest", backend="torch"), ground_state=False)
