"""Regression tests of issue 13 for the searches and the statevector: termination at N = 1 and
N = 2, empty batches, clear errors for bad input and devices."""

import signal

import pytest
import torch

from qtrain.quantum import get_search_solver
from qtrain.quantum.search import bbht_search, grover_search, minimum_search
from qtrain.quantum.statevector import Statevector


@pytest.fixture
def deadline():
    """Fail (instead of hanging the suite) when a search does not return within 10 s."""
    def boom(*_):
        raise TimeoutError("the search did not terminate")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("seed", range(5))
def test_minimum_search_terminates_at_n1_and_n2(deadline, seed):
    one = minimum_search(torch.tensor([3.0]), seed=seed)
    assert int(one.index) == 0 and float(one.value) == 3.0 and int(one.oracle_calls) == 0 and bool(one.found)
    two = minimum_search(torch.tensor([3.0, 1.0]), seed=seed, max_oracle_calls=50)
    assert int(two.oracle_calls) <= 50 + 1 and int(two.index) == 1  # a budget of 50 finds the min of 2
    tie = minimum_search(torch.tensor([2.0, 2.0]), seed=seed)
    assert bool(tie.found) and 0 <= int(tie.oracle_calls) <= 22.5 * 2**0.5 + 1.4 + 2


@pytest.mark.parametrize("marked", [[False], [True], [False, False], [False, True], [True, True]])
def test_bbht_terminates_at_n1_and_n2(deadline, marked):
    res = bbht_search(torch.tensor(marked), seed=0)
    assert bool(res.found) == any(marked)
    budget = -(-9 * len(marked) ** 0.5 // 1)
    assert int(res.oracle_calls) <= budget + 1


@pytest.mark.parametrize("name", ["exhaustive", "durr-hoyer", "grover-threshold"])
@pytest.mark.parametrize("N", [1, 2])
def test_search_solvers_terminate_at_n1_and_n2(deadline, name, N):
    params = {"threshold": 0.5} if name == "grover-threshold" else {}
    costs = torch.arange(N, dtype=torch.float64)
    res = get_search_solver(name).search(costs, seed=1, **params)
    assert 0 <= int(res.index) < N
    if name != "grover-threshold":
        assert int(res.index) == 0


def test_empty_batches_give_empty_results(deadline):
    assert minimum_search(torch.zeros(0, 8), seed=0).index.shape == (0,)
    assert bbht_search(torch.zeros(0, 8, dtype=torch.bool), seed=0).found.shape == (0,)
    assert grover_search(torch.zeros(0, 8, dtype=torch.bool), seed=0).index.shape == (0,)
    for name in ("exhaustive", "durr-hoyer"):
        assert get_search_solver(name).search(torch.zeros(0, 8), seed=0).index.shape == (0,)


@pytest.mark.parametrize("bad", ["abc", [[1.0, 2.0], [3.0]], object()])
def test_non_numeric_costs_are_a_value_error(bad):
    with pytest.raises(ValueError, match="costs must be a real numeric tensor"):
        minimum_search(bad)
    with pytest.raises(ValueError, match="costs"):
        get_search_solver("durr-hoyer").search(bad)


def test_statevector_device_errors():
    with pytest.raises(ValueError, match="tpu"):
        Statevector(2, device="tpu")
    with pytest.raises(TypeError, match="device"):
        Statevector(2, device=3.5)
    assert Statevector(1, device="cpu").device.type == "cpu"
