"""Progressive hedging (consensus, batched calls, fixing) and the QBO trainer (stages, failures)."""

import pytest
import torch

from qtrain.bench.qbo.exact import tiny_instance
from qtrain.nn import QuantizedMLP
from qtrain.qubo import QUBOSampler
from qtrain.train.qbo import QBOTrainer, progressive_hedging, spline_loss, subproblem_qubos, train_ste_qat


class CountingSampler(QUBOSampler):
    """Greedy-free stand-in that records every batch it gets and answers with the exact optimum of
    each problem by the milp sampler."""

    name = "counting"

    def __init__(self):
        super().__init__()
        self.batches = []

    def _sample(self, qubo, num_reads, seed, **_):
        from qtrain.qubo import get_sampler

        self.batches.append(qubo.num_problems)
        res = get_sampler("anneal").sample_qubo_batch(qubo, num_reads=16, num_sweeps=300, seed=seed)
        return res.sample[:, None, :].expand(-1, num_reads, -1), {}


def test_subproblems_share_one_size_and_keep_their_optimum():
    model, X, T, prob = tiny_instance(2, 1, 3, "relu", 2, 1)
    batch, lam = subproblem_qubos(prob)
    assert batch.batch_shape == (3,) and lam > 1
    from qtrain.qubo import get_sampler
    res = get_sampler("milp").sample_qubo_batch(batch, num_reads=1)
    for n, sub in enumerate(prob.subproblems):  # padding and penalties keep each sample's optimum
        assert float(res.energy[n]) == pytest.approx(sub.solve_milp().objective, abs=1e-6)


def test_hedging_reaches_consensus_in_one_call_per_iteration():
    model, X, T, prob = tiny_instance(2, 1, 3, "hardtanh", 3, 1)
    s = CountingSampler()
    seen = []
    res = progressive_hedging(prob, s, rho=1.0, iterations=20, seed=0, callback=lambda t, m, w: seen.append(m))
    assert res.converged and res.metric[-1] == 0.0 and len(seen) == res.iterations
    assert s.batches == [3] * res.iterations  # all samples of an iteration in one batched call
    assert res.info["spins_per_call"] == prob.num_weight_bits + prob.num_local
    assert res.info["spins_monolithic"] == prob.qcbo.num_variables
    assert res.fixed[-1] <= prob.num_weight_bits


def test_hedging_with_score_is_no_worse_than_majority():
    model, X, T, prob = tiny_instance(3, 1, 4, "tanh", 3, 1)

    def score(bits):
        c1, c2 = zip(*(prob.decode(b) for b in bits), strict=True)
        return spline_loss(prob, torch.stack(c1), torch.stack(c2), X, T, model[0], model[2])

    plain = progressive_hedging(prob, "anneal", iterations=15, seed=1, num_reads=8, num_sweeps=200)
    best = progressive_hedging(prob, "anneal", iterations=15, seed=1, num_reads=8, num_sweeps=200, score=score)
    assert float(score(best.weights[None])[0]) <= float(score(plain.weights[None])[0]) + 1e-12
    ref = prob.qcbo.solve_milp().objective
    assert float(score(best.weights[None])[0]) >= ref - 1e-9  # never below the exact optimum
    assert float(score(best.weights[None])[0]) <= 1.05 * ref  # within 5% of the monolithic MILP


def test_hedging_bad_arguments():
    *_, prob = tiny_instance(2, 1, 2, "relu", 2, 1)
    with pytest.raises(ValueError, match="rho"):
        progressive_hedging(prob, rho=0.0)
    with pytest.raises(ValueError, match="iterations"):
        progressive_hedging(prob, iterations=0)


def test_trainer_monolithic_and_hedging_keep_the_info_shape():
    model, X, T, prob = tiny_instance(2, 1, 2, "relu", 2, 1)
    tr = QBOTrainer(model, "anneal", pieces=2, iterations=30, seed=0, sampler_params={"num_sweeps": 200})
    info = tr.fit(X, T)
    assert info["method"] == "monolithic"
    assert set(info["timing"]) == {"formulate_ns", "solve_ns", "apply_ns", "total_ns"}
    assert isinstance(info["solver_info"], list)
    assert info["training_loss"] == pytest.approx(prob.qcbo.solve_milp().objective, abs=1e-9)
    c1, c2 = model[0].codes(), model[2].codes()
    assert float(spline_loss(prob, c1[None], c2[None], X, T, model[0], model[2])[0]) == pytest.approx(
        info["training_loss"])
    model2, X2, T2, _ = tiny_instance(3, 1, 4, "tanh", 3, 2)
    info2 = QBOTrainer(model2, "anneal", method="hedging", iterations=10, seed=0, num_reads=8,
                       sampler_params={"num_sweeps": 100}).fit(X2, T2)
    assert info2["method"] == "hedging" and info2["oracle_calls"] == len(info2["progress"])


class BrokenSampler(QUBOSampler):
    """Fails on its second call, as a lost QPU connection would."""

    name = "broken"
    calls = 0

    def _sample(self, qubo, num_reads, seed, **_):
        BrokenSampler.calls += 1
        if BrokenSampler.calls >= 2:
            raise ConnectionError("solver went away")
        gen = torch.Generator().manual_seed(seed)  # disagreeing answers: PH does not stop at once
        return torch.randint(0, 2, (qubo.num_problems, num_reads, qubo.num_variables), generator=gen,
                             dtype=torch.int8), {}


def test_failed_step_leaves_weights_unchanged():
    model, X, T, _ = tiny_instance(2, 1, 2, "relu", 2, 1)
    model[0].set_codes(torch.tensor([[0, 1]]))
    before = [m.weight.detach().clone() for m in (model[0], model[2])]
    for method in ("monolithic", "hedging"):
        BrokenSampler.calls = 0
        tr = QBOTrainer(model, BrokenSampler(), method=method, pieces=2, iterations=5, seed=0)
        with pytest.raises(ConnectionError):
            tr.fit(X, T)
    assert all(torch.equal(b, m.weight) for b, m in zip(before, (model[0], model[2]), strict=True))


def test_ste_qat_lowers_the_loss():
    torch.manual_seed(0)
    model = QuantizedMLP([4, 3, 1], bits=2)
    X = torch.randn(32, 4)
    T = torch.sign(X[:, :1])
    losses = train_ste_qat(model, X, T, epochs=100, lr=0.05)
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match="epochs"):
        train_ste_qat(model, X, T, epochs=0)
