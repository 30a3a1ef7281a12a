"""QP-SBGD's exact paths: the big-M sign MILP, chunked rows, and the ``milp`` QUBO sampler on the
sign QUBO, all against brute force."""

import itertools

import pytest
import torch
from torch import nn

from qtrain.nn import BinaryLinear
from qtrain.qubo import get_sampler
from qtrain.testing import separable_problem
from qtrain.train import QPSBGD
from qtrain.train.qpsbgd.directions import SignMILPDirections
from qtrain.train.qpsbgd.formulate import (
    binary_gradient_qubo,
    normalize_gradients,
    refine_directions,
    sign_objective,
)
from qtrain.train.qpsbgd.milp import sign_directions_milp
from tests.train.qpsbgd.test_optimizer import linear_step


def brute_best(X, G, eps=0.01):
    """``max_d F_j(d)`` per neuron over all ``2^n`` directions (normalised gradients)."""
    n = X.shape[-1]
    D = 2 * torch.tensor(list(itertools.product([0, 1], repeat=n)), dtype=torch.float64) - 1
    Gn = normalize_gradients(G.double()).T
    return sign_objective(X, Gn, D.expand(G.shape[1], -1, -1), eps).amax(-1)


@pytest.mark.parametrize("n,B", [(1, 3), (2, 4), (5, 4), (8, 6), (10, 5), (11, 3)])
def test_sign_milp_reaches_the_brute_force_maximum(n, B):
    gen = torch.Generator().manual_seed(10 * n + B)
    X = 2 * torch.randint(0, 2, (B, n), generator=gen).double() - 1
    G = torch.randn(B, 3, generator=gen, dtype=torch.float64)
    G[0, 1] = 0.0
    d, info = sign_directions_milp(X, G)
    best = brute_best(X, G)
    assert info["proven_optimal"] is True
    assert bool((d.abs() == 1).all()) and tuple(d.shape) == (3, n)
    Gn = normalize_gradients(G).T
    torch.testing.assert_close(sign_objective(X, Gn, d), best, rtol=0, atol=1e-9)
    torch.testing.assert_close(torch.tensor(info["objective"], dtype=torch.float64), best)
    # the shared solver timing keys, the HiGHS calls as the solve stage
    assert set(info["timing"]) == {"preprocessing_ns", "solve_ns", "postprocessing_ns", "total_ns"}
    assert info["timing"]["total_ns"] >= info["timing"]["solve_ns"] == round(info["solver_time_s"] * 1e9)


@pytest.mark.parametrize("n,B", [(3, 2), (8, 4), (10, 5)])
def test_sign_milp_random_tie_break_returns_maximisers_and_removes_the_bias(n, B):
    gen = torch.Generator().manual_seed(7 * n + B)
    X = 2 * torch.randint(0, 2, (B, n), generator=gen).double() - 1
    G = torch.randn(B, 4, generator=gen, dtype=torch.float64)
    best = brute_best(X, G)
    Gn = normalize_gradients(G).T
    first, _ = sign_directions_milp(X, G)
    picks = []
    for seed in range(12):
        d, info = sign_directions_milp(X, G, tie_break="random", seed=seed)
        assert info["proven_optimal"]
        torch.testing.assert_close(sign_objective(X, Gn, d), best, rtol=0, atol=1e-9)
        picks.append(d)
    picks = torch.stack(picks)  # [seeds, m, n]
    # with n weights judged on B < n signs there are many maximisers: the seeds reach several,
    # where HiGHS alone returns one vertex every time
    distinct = {tuple(p.flatten().tolist()) for p in picks}
    assert len(distinct) >= 6
    assert torch.equal(sign_directions_milp(X, G, tie_break="random", seed=3)[0], picks[3])
    # every coordinate that is free among the maximisers comes out both ways across seeds, so
    # the mean entry is far from HiGHS' deterministic +-1 pattern
    assert float(picks.mean(0).abs().mean()) < 0.8
    assert float((picks == first).double().mean()) < 0.9


def test_sign_milp_rejects_bad_tie_breaks():
    X, G = torch.ones(2, 3), torch.ones(2, 1)
    with pytest.raises(ValueError, match="tie_break"):
        sign_directions_milp(X, G, tie_break="lowest")
    with pytest.raises(ValueError, match="seed"):
        sign_directions_milp(X, G, tie_break="random", seed=-1)


def test_sign_milp_matches_the_milp_sampler_on_the_sign_qubo():
    gen = torch.Generator().manual_seed(4)
    X = 2 * torch.randint(0, 2, (3, 6), generator=gen).double() - 1
    G = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    qubo, decode = binary_gradient_qubo(X, G)
    res = get_sampler("milp").sample_qubo_batch(qubo, num_reads=1)
    assert res.info["proven_optimal"]
    Gn = normalize_gradients(G).T
    via_qubo = sign_objective(X, Gn, decode(res.sample))
    torch.testing.assert_close(-res.energy, via_qubo)  # the QUBO's minimum is -max F
    d, _ = sign_directions_milp(X, G)
    torch.testing.assert_close(sign_objective(X, Gn, d), via_qubo)


def test_sign_milp_bad_input():
    X = torch.ones(2, 3, dtype=torch.float64)
    G = torch.ones(2, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="time_limit"):
        sign_directions_milp(X, G, time_limit=0)
    with pytest.raises(ValueError, match="binary"):
        sign_directions_milp(X * 0.5, G)


def test_refine_accepts_per_neuron_inputs():
    gen = torch.Generator().manual_seed(5)
    X = 2 * torch.randint(0, 2, (2, 4, 6), generator=gen).double() - 1  # [m, B, n]
    G = torch.randn(4, 2, generator=gen, dtype=torch.float64)
    d0 = 2 * torch.randint(0, 2, (2, 3, 6), generator=gen).double() - 1
    d = refine_directions(X, G, d0)
    for j in range(2):  # neuron j alone, with its own inputs, refines identically
        dj = refine_directions(X[j], G[:, j:j + 1], d0[j:j + 1])
        assert torch.equal(d[j:j + 1], dj)


def argmax_set(X, g, eps=0.01):
    """Every maximiser of ``F(d)`` for one neuron (gradient column ``g`` ``[B, 1]``)."""
    n = X.shape[-1]
    D = 2 * torch.tensor(list(itertools.product([0, 1], repeat=n)), dtype=torch.float64) - 1
    F = sign_objective(X, normalize_gradients(g.double()).T, D[None], eps)[0]
    return D[F >= F.max() - 1e-12]


@pytest.mark.parametrize("sampler", ["sign-milp", "exact"])
def test_chunked_step_is_the_mean_of_each_chunks_exact_direction(sampler):
    X, _ = separable_problem(7, 4, seed=6)  # 7 rows in chunks of at most 3: 3 chunks of 3
    G = torch.randn(7, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    G[3:6, 1] = 0.0  # neuron 1 has no gradient in chunk 1: its mean is over chunks 0 and 2
    torch.manual_seed(0)
    layer = BinaryLinear(4, 2)
    w0 = layer.weight.detach().clone()
    model = nn.Sequential(layer)
    opt = QPSBGD(model, sampler=sampler, lr=0.5, clip=None, chunk_rows=3)
    linear_step(opt, model, X, G)
    step = (w0 - layer.weight.detach()).double() / 0.5
    chunks = [slice(0, 3), slice(3, 6), slice(6, 7)]  # the last padded with zero-gradient rows
    for j in range(2):
        used = [c for c in chunks if bool((G[c, j] != 0).any())]
        assert len(used) == (3 if j == 0 else 2)
        sets = [argmax_set(X[c].double(), G[c, j:j + 1]) for c in used]
        means = [torch.stack(ds).mean(0) for ds in itertools.product(*sets)]
        assert any(torch.allclose(step[j], mu, atol=1e-6) for mu in means), (j, step[j])
    size = opt.last_info["milp_sizes"] if sampler == "sign-milp" else opt.last_info["qubo_sizes"]
    assert size["0"][0] == 3 * 2  # (chunk, neuron) problems in one batch


def test_chunk_rows_and_formulation_are_checked():
    model = nn.Sequential(BinaryLinear(3, 2))
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="chunk_rows"):
            QPSBGD(model, chunk_rows=bad)
    with pytest.raises(ValueError, match="chunk_rows"):
        QPSBGD(model, chunk_rows=4, objective="quadratic")
    with pytest.raises(ValueError, match="formulation"):
        QPSBGD(model, formulation="lp")
    with pytest.raises(ValueError, match="formulation"), pytest.warns(DeprecationWarning):
        QPSBGD(model, formulation="milp", projected=True)
    for kw in ({"projected": True}, {"objective": "quadratic"}):
        with pytest.raises(ValueError, match="sampler='sign-milp' solves problems of kind"):
            QPSBGD(model, sampler="sign-milp", **kw)
        with pytest.raises(ValueError, match="sampler='sign-milp' solves problems of kind"):
            QPSBGD(model, sampler=SignMILPDirections(), **kw)
    # the MILP's options are its constructor's, not a QUBO sampler's parameters
    with pytest.raises(ValueError, match="constructor"):
        QPSBGD(model, sampler="sign-milp", sampler_params={"tie_break": "random"})


def test_sign_milp_trains_a_separable_problem_exactly():
    X, y = separable_problem(24, 9, seed=3)
    torch.manual_seed(0)
    model = nn.Sequential(BinaryLinear(9, 1))
    opt = QPSBGD(model, lr=0.3, sampler="sign-milp", seed=0)
    acc = 0.0
    for _ in range(5):  # exact directions on the whole batch: a few steps suffice
        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.softplus(-y * model(X)[:, 0]).mean()
            loss.backward()
            return loss
        opt.step(closure)
        with torch.no_grad():
            acc = float((torch.sign(model(X)[:, 0] + 1e-9) == y).float().mean())
        if acc == 1.0:
            break
    assert acc == 1.0
    assert opt.last_info["solver_info"][0]["proven_optimal"] is True


def test_sign_milp_steps_move_by_the_directions_of_sign_directions_milp():
    X, _ = separable_problem(6, 5, seed=1)
    torch.manual_seed(0)
    layer = BinaryLinear(5, 3)
    model = nn.Sequential(layer)
    opt = QPSBGD(model, sampler=SignMILPDirections(tie_break="random"), lr=0.25, clip=None, seed=4)
    for t in range(2):  # the tie-break is seeded by seed + t
        G = torch.randn(6, 3, generator=torch.Generator().manual_seed(t), dtype=torch.float64)
        G[:, 2] = 0  # no gradient, no move
        w0 = layer.weight.detach().clone()
        linear_step(opt, model, X, G)
        d, info = sign_directions_milp(X, G.float().double(), tie_break="random", seed=4 + t)
        d[2] = 0
        assert info["proven_optimal"]
        assert torch.equal(layer.weight.detach(), w0 - 0.25 * d.float())
        assert opt.last_info["milp_sizes"] == {"0": [3, 5 + 6]} and opt.last_info["qubo_sizes"] == {}
        assert opt.last_info["sampler_calls"] == 0 and opt.last_info["solver_info"][0]["seed"] == 4 + t


def test_deprecated_formulation_milp_is_sampler_sign_milp_with_its_options():
    X, y = separable_problem(12, 7, seed=2)
    steps = []
    for kw in ({"formulation": "milp", "sampler_params": {"tie_break": "random", "time_limit": 30}},
               {"sampler": SignMILPDirections(tie_break="random", time_limit=30)}):
        torch.manual_seed(0)
        model = nn.Sequential(BinaryLinear(7, 2))
        if "formulation" in kw:
            with pytest.warns(DeprecationWarning, match="sampler='sign-milp'"):
                opt = QPSBGD(model, lr=0.2, seed=1, **kw)
        else:
            opt = QPSBGD(model, lr=0.2, seed=1, **kw)
        assert isinstance(opt.directions, SignMILPDirections) and opt.sampler is None
        assert (opt.directions.tie_break, opt.directions.time_limit) == ("random", 30)
        for _ in range(2):
            def closure(model=model, opt=opt):
                opt.zero_grad()
                loss = torch.nn.functional.softplus(-y * model(X)[:, 0]).mean()
                loss.backward()
                return loss
            opt.step(closure)
        steps.append(model[0].weight.detach().clone())
    assert torch.equal(steps[0], steps[1])
    with pytest.raises(ValueError, match=r"sampler_params.*\['num_sweeps'\]"), \
            pytest.warns(DeprecationWarning):
        QPSBGD(nn.Sequential(BinaryLinear(3, 1)), formulation="milp",
               sampler_params={"num_sweeps": 10})
