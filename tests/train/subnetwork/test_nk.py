"""NK landscapes: DP against exhaustive search, per-output search, merging, the NK-ESN."""

import random

import pytest
import torch

from qtrain.data import narma10
from qtrain.train.subnetwork import nk_dynamic_programming
from qtrain.train.subnetwork.nk import (
    adjacent_neighbourhoods,
    merge_patterns,
    nk_esn_problem,
    nk_exhaustive,
    nk_value,
    per_output_search,
    random_neighbourhoods,
)


def test_dp_equals_exhaustive_on_100_random_instances():
    rng = random.Random(0)
    for trial in range(100):
        K = rng.randint(1, 3)
        N = rng.randint(max(K, 2), 20 if trial % 10 == 0 else 12)
        adjacent = trial % 2 == 0
        nb = adjacent_neighbourhoods(N, K) if adjacent else random_neighbourhoods(N, K, seed=trial)
        tables = torch.randn(N, 2**K, generator=torch.Generator().manual_seed(trial), dtype=torch.float64)
        mask, value = nk_dynamic_programming(tables, nb)
        ref_mask, ref_value = nk_exhaustive(tables, nb)
        assert value == pytest.approx(ref_value, abs=1e-9), (trial, N, K, adjacent)
        assert float(nk_value(tables, nb, mask)) == pytest.approx(value)


def test_table_bit_convention():
    # output 0 reads (probe 2, probe 0): index bit 0 is probe 2
    tables = torch.tensor([[0.0, 5.0, 0.0, 0.0]])
    mask, value = nk_dynamic_programming(tables, [[2, 0]])
    assert mask.tolist() == [0, 0, 1] and value == 5.0


def test_per_output_search_and_majority_merge():
    N, K = 12, 3
    nb = adjacent_neighbourhoods(N, K)
    tables = torch.randn(N, 2**K, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    hits = torch.zeros(N)
    for seed in range(20):
        pat, info = per_output_search(tables, seed=seed)
        hits += torch.tensor(info["found"], dtype=torch.float64)
    assert float((hits / 20).min()) >= 0.9
    assert info["classical_evaluations"] == N * 2**K and info["oracle_calls"] > 0
    merged = merge_patterns(tables.argmax(1), nb, N)
    assert merged.shape == (N,)
    # with one output per probe window the merge cannot beat the joint optimum
    assert float(nk_value(tables, nb, merged)) <= nk_dynamic_programming(tables, nb)[1] + 1e-12
    # a probe read by outputs that all agree takes their bit
    assert merge_patterns(torch.tensor([1, 1]), [[0, 1], [0, 2]], 3).tolist() == [1, 0, 0]


def test_nk_esn_tables_and_test_error():
    u, y = narma10(700, seed=0)
    prob = nk_esn_problem(u, y, num_probes=10, K=2, reservoir=50, seed=0)
    assert prob.tables.shape == (10, 4)
    # reading no probe predicts the training mean: the same fit for every output, at most 0
    assert torch.allclose(prob.tables[:, 0], prob.tables[0, 0].expand(10)) and float(prob.tables[0, 0]) <= 1e-12
    mask, _ = nk_dynamic_programming(prob.tables, prob.neighbourhoods)
    assert prob.test_nrmse(mask) < prob.test_nrmse(torch.zeros(10)) and prob.test_nrmse(mask) < 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="K must be"):
        adjacent_neighbourhoods(4, 5)
    u, y = narma10(400, seed=0)
    with pytest.raises(ValueError, match="K must be"):
        nk_esn_problem(u, y, num_probes=3, K=4)
    with pytest.raises(ValueError, match="finite"):
        nk_dynamic_programming(torch.tensor([[0.0, float("nan")]]), [[0]])
    with pytest.raises(ValueError, match="repeats"):
        nk_dynamic_programming(torch.zeros(1, 4), [[1, 1]])


def test_tables_as_a_list_of_rows_and_ragged_tables():
    """``tables[i]`` may be one tensor per output (the documented shape), the same answer as one
    stacked tensor; ragged rows are a ValueError naming the argument, not a raw torch error."""
    tables = [torch.tensor([0.0, 1.0, 2.0, 0.5]), torch.tensor([1.0, 0.0, 0.0, 3.0])]
    nb = [[0, 1], [1, 2]]
    mask, value = nk_dynamic_programming(tables, nb)
    assert (mask.tolist(), value) == (nk_dynamic_programming(torch.stack(tables), nb)[0].tolist(),
                                      nk_dynamic_programming(torch.stack(tables), nb)[1])
    # exhaustive check over the 3 probes: bit j of output i's index is probe nb[i][j]
    def value_of(m):
        return sum(float(t[sum(((m >> p) & 1) << j for j, p in enumerate(row))])
                   for t, row in zip(tables, nb, strict=True))
    best = max(value_of(m) for m in range(8))
    assert value == pytest.approx(best)
    with pytest.raises(ValueError, match="tables"):
        nk_dynamic_programming([[0.0, 1.0], [0.0]], [[0], [1]])
