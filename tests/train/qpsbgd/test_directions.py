"""Direction solvers: one batched call per QUBO size scattered back, the exact sign MILP, by name."""

import pytest
import torch

from qtrain._info import TIMING_KEYS, SolveContext
from qtrain.qubo import get_sampler
from qtrain.qubo.exact import ExactSampler
from qtrain.train.qpsbgd.directions import (
    QUBODirections,
    SignMILPDirections,
    get_direction_solver,
)
from qtrain.train.qpsbgd.milp import sign_directions_milp
from qtrain.train.qpsbgd.problem import formulate_layer
from tests.train.qpsbgd.test_optimizer import CountingSampler


class ContextSampler(ExactSampler):
    """The exact sampler, recording the context of every call."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.contexts = []

    def _sample(self, qubo, num_reads, seed, context=None, **params):
        self.contexts.append(context)
        return super()._sample(qubo, num_reads, seed, **params)


def problem(name, B, n, m, seed, **kw):
    gen = torch.Generator().manual_seed(seed)
    X = 2 * torch.randint(0, 2, (B, n), generator=gen).float() - 1
    G = torch.randn(B, m, generator=gen)
    return formulate_layer(name, X, G, torch.zeros(m, n), **kw)


def test_one_call_per_qubo_size_and_results_scattered_back_to_their_layers():
    # sizes n + B (R + 1) = 3 + 2 * 2 = 7 and 2 + 2 * 2 = 6: layers a and c share a call
    probs = [problem("a", 2, 3, 2, 0), problem("b", 2, 2, 3, 1), problem("c", 2, 3, 1, 2)]
    sampler = CountingSampler()
    res = QUBODirections(sampler, num_reads=3).solve(probs, seed=5)
    assert sampler.calls == res.sampler_calls == len(res.info) == 2
    assert sampler.sizes == [(3, 7), (3, 6)]  # a's 2 neurons and c's 1 in one batch, then b
    assert res.sizes == [[2, 7], [3, 6], [1, 7]]
    for p, cand, energy in zip(probs, res.candidates, res.energies, strict=True):
        alone = get_sampler("exact").sample_qubo_batch(p.qubo, num_reads=3, seed=5, return_all=True)
        assert torch.equal(cand, p.decode(alone.samples))  # [m, reads, n]
        assert tuple(cand.shape) == (p.num_problems, 3, p.fan_in)
        assert energy == pytest.approx(float(alone.energy.mean()), abs=1e-12)
    for info in res.info:
        assert info["sampler"] == "exact" and info["seed"] == 5
        assert set(TIMING_KEYS) <= set(info["timing"])


def test_the_context_names_every_neuron_of_the_batch():
    sampler = ContextSampler()
    probs = [problem("a", 2, 3, 2, 0), problem("c", 2, 3, 1, 2)]
    QUBODirections(sampler, num_reads=1).solve(probs, seed=0, context=SolveContext(step=4))
    (ctx,) = sampler.contexts
    assert ctx.step == 4 and ctx.block_ids == (("a", 0), ("a", 1), ("c", 0))
    QUBODirections(sampler, num_reads=1).solve(probs, seed=0)
    assert sampler.contexts[-1] is None


def test_too_large_a_qubo_is_refused_before_any_call():
    sampler = CountingSampler(max_variables=8)
    probs = [problem("small", 1, 2, 1, 0), problem("big", 4, 3, 1, 1)]
    with pytest.raises(ValueError, match=r"layer 'big'.*11 variables.*\(4 rows\).*at most 8"):
        QUBODirections(sampler).solve(probs, seed=0)
    assert sampler.calls == 0


def test_a_failing_sampler_names_the_layers_of_its_call():
    probs = [problem("a", 2, 3, 2, 0), problem("b", 2, 2, 3, 1)]
    with pytest.raises(RuntimeError, match=r"sampler 'exact' failed on layer\(s\) \['b'\].*solver lost"):
        QUBODirections(CountingSampler(fail_on_call=2)).solve(probs, seed=0)
    with pytest.raises(ValueError, match="no QUBO"):
        QUBODirections("exact").solve([problem("a", 2, 3, 2, 0, with_qubo=False)], seed=0)
    with pytest.raises(ValueError, match="num_reads"):
        QUBODirections("exact", num_reads=0)


@pytest.mark.parametrize("tie_break", ["first", "random"])
def test_sign_milp_directions_are_exactly_sign_directions_milp(tie_break):
    probs = [problem("a", 6, 7, 3, 0, with_qubo=False), problem("b", 5, 3, 2, 1, with_qubo=False),
             problem("chunked", 7, 5, 2, 2, chunk_rows=3, with_qubo=False)]
    solver = SignMILPDirections(tie_break=tie_break)
    assert not solver.uses_qubo and solver.sizes_key == "milp_sizes"
    res = solver.solve(probs, seed=11)
    for p, cand, info in zip(probs, res.candidates, res.info, strict=True):
        d, ref = sign_directions_milp(p.X, p.G, p.eps, tie_break=tie_break, seed=11)
        assert torch.equal(cand, d[:, None, :])
        assert info["proven_optimal"] is ref["proven_optimal"] is True
        assert info["layer"] == p.name and info["seed"] == 11 and info["sampler"] == "sign-milp"
        assert set(info["timing"]) == set(TIMING_KEYS)
        assert info["timing"]["total_ns"] >= info["timing"]["solve_ns"] > 0
    assert res.sizes == [[3, 7 + 6], [2, 3 + 5], [6, 5 + 3]]  # chunked: 3 chunks x 2 neurons, 3 rows
    assert res.sampler_calls == 0 and res.energies == [None, None, None]


def test_sign_milp_checks_its_options_and_its_problems():
    with pytest.raises(ValueError, match="time_limit"):
        SignMILPDirections(time_limit=0)
    with pytest.raises(ValueError, match="mip_rel_gap"):
        SignMILPDirections(mip_rel_gap=-1.0)
    with pytest.raises(ValueError, match="tie_break"):
        SignMILPDirections(tie_break="lowest")
    projected = problem("p", 3, 4, 2, 0, kind="projected", with_qubo=False)
    with pytest.raises(ValueError, match=r"layer 'p'.*'projected'"):
        SignMILPDirections().solve([projected], seed=0)


def test_direction_solvers_by_name_like_samplers():
    milp = get_direction_solver("sign-milp")
    assert isinstance(milp, SignMILPDirections) and milp.tie_break == "first"
    assert milp.sampler is None
    mine = SignMILPDirections(tie_break="random")
    assert get_direction_solver(mine) is mine
    anneal = get_direction_solver("anneal", num_reads=3, params={"num_sweeps": 5})
    assert isinstance(anneal, QUBODirections) and anneal.sampler.name == "anneal"
    assert (anneal.num_reads, anneal.params) == (3, {"num_sweeps": 5})
    exact = ExactSampler()
    assert get_direction_solver(exact).sampler is exact
    with pytest.raises(ValueError, match="constructor"):
        get_direction_solver("sign-milp", params={"tie_break": "random"})
    with pytest.raises(ValueError, match="unknown sampler"):
        get_direction_solver("nope")
    with pytest.raises(ValueError, match="sampler must be"):
        get_direction_solver(3)
