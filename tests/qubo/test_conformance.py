"""Every built-in sampler passes the shipped conformance kit."""

import dimod
import pytest

from qtrain.qubo import get_sampler
from qtrain.testing import assert_dimod_sampler_suite, assert_sampler_conforms

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
    else:  # as constructor defaults too: dimod's suite inside the kit calls with the defaults
        assert_sampler_conforms(get_sampler(name, **params), params=params, num_reads=8)


@pytest.mark.parametrize("name, defaults", [("milp", {}), ("grover", {}), ("qaoa", {"steps": 20})])
def test_every_other_builtin_sampler_passes_dimods_suite(name, defaults):
    sampler = get_sampler(name, **defaults)
    assert_dimod_sampler_suite(sampler, max_num_variables=sampler.max_variables)


def test_dimod_suite_catches_a_sampler_that_breaks_dimods_contract():
    class Wrong(dimod.ExactSolver):  # energies shifted: dimod's own checks must fail
        def sample(self, bqm, **kw):
            ss = super().sample(bqm, **kw)
            return dimod.SampleSet.from_samples(ss.record.sample, bqm.vartype, ss.record.energy + 1.0,
                                                info={})

    with pytest.raises(AssertionError, match="dimod sampler tests failed"):
        assert_dimod_sampler_suite(Wrong())


def test_anneal_torch_backend_conforms():
    assert_sampler_conforms(get_sampler("anneal", backend="torch", num_sweeps=50), sizes=(1, 5),
                            num_reads=6)


def test_anneal_float64_conforms():
    assert_sampler_conforms(get_sampler("anneal", precision="float64", num_sweeps=100, polish=True))


def test_steepest_torch_backend_conforms():
    assert_sampler_conforms(get_sampler("steepest", backend="torch"), ground_state=False)
