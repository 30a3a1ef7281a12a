"""QPSBGD, the optimiser: steps against brute force, batching, variants, errors, every solver."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from qtrain._info import OPTIMIZER_TIMING_KEYS
from qtrain.data import karate
from qtrain.nn import BinaryGCN, BinaryLinear, BinaryMLP
from qtrain.qubo import get_sampler
from qtrain.qubo.exact import ExactSampler
from qtrain.testing import separable_problem
from qtrain.train import QPSBGD


def logistic(model, X, y):
    return F.softplus(-y * model(X)[:, 0]).mean()


def linear_step(opt, model, X, G):
    """One step on the loss ``sum(model(X) * G)``, whose output gradients are exactly ``G``."""
    def closure():
        opt.zero_grad()
        loss = (model(X) * G.float()).sum()
        loss.backward()
        return loss
    opt.step(closure)


def run_step(model, opt, X, y):
    def closure():
        opt.zero_grad()
        loss = logistic(model, X, y)
        loss.backward()
        return loss
    return opt.step(closure)


class CountingSampler(ExactSampler):
    """The exact sampler, counting calls (and able to fail on demand)."""

    def __init__(self, fail_on_call=None, **kw):
        super().__init__(**kw)
        self.calls, self.sizes, self.fail_on_call = 0, [], fail_on_call

    def _sample(self, qubo, num_reads, seed, **params):
        self.calls += 1
        self.sizes.append((qubo.num_problems, qubo.num_variables))
        if self.fail_on_call == self.calls:
            raise RuntimeError("solver lost")
        return super()._sample(qubo, num_reads, seed, **params)


def test_exact_step_moves_every_neuron_against_the_brute_force_best_direction():
    X, _ = separable_problem(4, 5, seed=1)
    torch.manual_seed(0)
    layer = BinaryLinear(5, 3)
    w0 = layer.weight.detach().clone()
    # a linear loss sum(C * output): its output gradient is G = C; neuron 2 gets none
    G = torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    G[:, 2] = 0
    D = 2 * torch.tensor(list(itertools.product([0, 1], repeat=5)), dtype=torch.float64) - 1
    best = (G.T @ torch.sign(X.double() @ D.T + 0.01)).max(-1).values  # [m]
    model = nn.Sequential(layer)
    opt = QPSBGD(model, sampler="exact", lr=0.25, clip=None)
    linear_step(opt, model, X, G)
    d = (w0 - layer.weight.detach()).double() / 0.25
    got = (G.T @ torch.sign(X.double() @ d.T + 0.01)).diagonal()
    torch.testing.assert_close(got[:2], best[:2])
    assert bool((d[:2].abs() == 1).all())
    assert torch.equal(d[2], torch.zeros(5, dtype=torch.float64))  # no gradient, no move


def test_separable_problem_reaches_full_training_accuracy():
    X, y = separable_problem(32, 9, seed=3)
    torch.manual_seed(0)
    model = nn.Sequential(BinaryLinear(9, 1))
    opt = QPSBGD(model, sampler="anneal", lr=0.3, num_reads=8, max_rows=12,
                 sampler_params={"num_sweeps": 200}, seed=0)
    acc = 0.0
    for _ in range(40):
        run_step(model, opt, X, y)
        with torch.no_grad():
            acc = float((torch.sign(model(X)[:, 0] + 1e-9) == y).float().mean())
        if acc == 1.0:
            break
    assert acc == 1.0


def test_one_sampler_call_per_qubo_size_for_the_whole_model():
    X, y = separable_problem(4, 6, seed=0)
    model = BinaryMLP([6, 6, 6, 1])  # three layers of fan-in 6: one QUBO size
    sampler = CountingSampler()
    opt = QPSBGD(model, sampler=sampler, lr=0.1, max_rows=2)
    run_step(model, opt, X, y)
    assert sampler.calls == 1
    assert opt.last_info["sampler_calls"] == 1
    assert sampler.sizes[0][0] == 6 + 6 + 1  # every neuron of every layer in one batch
    model2 = BinaryMLP([6, 3, 1])  # fan-in 6 and 3: two sizes, two calls
    sampler2 = CountingSampler()
    opt2 = QPSBGD(model2, sampler=sampler2, lr=0.1, max_rows=2)
    run_step(model2, opt2, X, y)
    assert sampler2.calls == 2
    assert set(opt2.last_info["qubo_sizes"]) == {"0", "2"}


def test_last_info_reports_stage_timing_and_every_solver_call():
    X, y = separable_problem(4, 6, seed=0)
    model = BinaryMLP([6, 3, 1])  # two QUBO sizes, two calls
    opt = QPSBGD(model, sampler="exact", lr=0.1, max_rows=2)
    run_step(model, opt, X, y)
    info = opt.last_info
    timing = info["timing"]
    assert tuple(timing) == OPTIMIZER_TIMING_KEYS
    assert all(isinstance(v, int) and v >= 0 for v in timing.values())
    assert timing["total_ns"] == timing["formulate_ns"] + timing["solve_ns"] + timing["apply_ns"]
    assert len(info["solver_info"]) == info["sampler_calls"] == 2
    assert [i["sampler"] for i in info["solver_info"]] == ["exact", "exact"]
    # the solvers' own time, not the stage's wall time
    assert info["solver_time_s"] == sum(i["timing"]["total_ns"] for i in info["solver_info"]) / 1e9
    assert info["solver_time_s"] * 1e9 <= timing["solve_ns"]
    assert set(info["qubo_sizes"]) == set(info["energies"]) == {"0", "2"}
    assert info["milp_sizes"] == {} and info["num_reads"] == 10
    assert info["neurons_updated"] == 4 and info["fixed_point"] is False


def test_projected_variant_stops_at_a_fixed_point():
    X, y = separable_problem(6, 5, seed=2)
    torch.manual_seed(1)
    model = nn.Sequential(BinaryLinear(5, 2))
    opt = QPSBGD(model, sampler="exact", projected=True, lr=1.0, max_rows=4, flip_penalty=0.01)
    history = []
    for _ in range(20):
        run_step(model, opt, X[:4], y[:4])
        history.append(opt.last_info["fixed_point"])
        W = model[0].weight.detach()
        assert bool(((W == 1) | (W == -1)).all())  # the weights stay binary
        if history[-1]:
            break
    assert history[-1], "no fixed point within 20 steps"
    W = model[0].weight.detach().clone()
    run_step(model, opt, X[:4], y[:4])  # at a fixed point, another step changes nothing
    assert torch.equal(model[0].weight.detach(), W) and opt.last_info["fixed_point"]


def test_projected_hamming_budget_limits_flips_per_step():
    X, y = separable_problem(4, 6, seed=5)
    torch.manual_seed(2)
    model = nn.Sequential(BinaryLinear(6, 3))
    opt = QPSBGD(model, sampler="exact", projected=True, hamming_budget=1, max_rows=3)
    run_step(model, opt, X, y)  # first step binarises the latents
    for _ in range(3):
        W = model[0].weight.detach().clone()
        run_step(model, opt, X, y)
        assert int((model[0].weight.detach() != W).sum(1).max()) <= 1


def test_quadratic_diagonal_objective_is_signsgd():
    X, y = separable_problem(8, 5, seed=4)
    torch.manual_seed(3)
    model = nn.Sequential(BinaryLinear(5, 2))
    w0 = model[0].weight.detach().clone()
    opt = QPSBGD(model, sampler="exact", objective="quadratic", curvature="diagonal", lr=0.1,
                 clip=None)
    run_step(model, opt, X, y)
    grad = model[0].weight.grad
    nz = grad != 0
    expected = w0 - 0.1 * torch.sign(grad)
    torch.testing.assert_close(model[0].weight.detach()[nz], expected[nz])


def test_gcn_layers_are_trained():
    g = karate(seed=0)
    torch.manual_seed(0)
    model = BinaryGCN(g.num_features, 4, 2, g.adjacency)
    opt = QPSBGD(model, sampler="anneal", lr=0.1, num_reads=2, max_rows=6,
                 sampler_params={"num_sweeps": 50})
    before = [p.detach().clone() for p in model.parameters()]

    opt.zero_grad()
    F.cross_entropy(model(g.features)[g.train_mask], g.labels[g.train_mask]).backward()
    caps = {c.name: c for c in opt._captures.values()}
    assert set(caps) == {"0.lin", "2.lin"}
    # the first layer sees the node features, the second the binary hidden features, N rows each
    assert torch.equal(caps["0.lin"].rows[-1].X, g.features)
    X2 = caps["2.lin"].rows[-1].X
    assert X2.shape == (34, 4) and bool((X2.abs() == 1).all())
    # its output gradient already carries the propagation: G = A_hat^T dL/dH'
    assert caps["2.lin"].rows[-1].G.shape == (34, 2)
    opt.step()
    sizes = opt.last_info["qubo_sizes"]
    assert sizes["2.lin"][0] == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


dwave_system = pytest.importorskip("dwave.system")


def test_dwave_mock_qpu_trains_and_reuses_its_embedding():
    from dwave.system.testing import MockDWaveSampler

    sampler = get_sampler("dwave", child=MockDWaveSampler(topology_type="pegasus",
                                                          topology_shape=[4]))
    X, y = separable_problem(8, 3, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(BinaryLinear(3, 2))
    # one row per step: with two, couplings sum_i lam_i x_ik x_il can cancel to 0 and change the
    # problem structure (then the sampler rightly embeds anew)
    opt = QPSBGD(model, sampler=sampler, lr=0.2, num_reads=20, max_rows=1, seed=0)
    W0 = model[0].weight.detach().clone()
    run_step(model, opt, X, y)
    first = opt.last_info["solver_info"][0]
    run_step(model, opt, X, y)
    second = opt.last_info["solver_info"][0]
    assert first["embedding_cache_misses"] >= 1
    assert second["embedding_cache_misses"] == 0 and second["embedding_cache_hits"] == 2
    assert len(sampler.embedding_cache) == first["embedding_cache_misses"]
    assert not torch.equal(model[0].weight.detach(), W0)


# ---------------------------------------------------------------- bad input
def test_a_gradient_without_captured_rows_names_the_layer():
    X, y = separable_problem(4, 4, seed=0)
    model = BinaryMLP([4, 3, 1])
    logistic(model, X, y).backward()  # before the optimiser hooked the model
    opt = QPSBGD(model, sampler="exact")
    with pytest.raises(ValueError, match=r"layer '0' has a gradient but no captured inputs"):
        opt.step()


def test_a_changed_gradient_is_refused_naming_the_layer():
    X, y = separable_problem(4, 5, seed=0)
    model = nn.Sequential(BinaryLinear(5, 2))
    opt = QPSBGD(model, sampler="exact", max_rows=3)
    opt.zero_grad()
    logistic(model, X, y).backward()
    model[0].weight.grad.add_(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"layer '0': p.grad is not the gradient of the rows"):
        opt.step()


def test_non_binary_inputs_name_the_layer():
    model = nn.Sequential(BinaryLinear(4, 2))
    opt = QPSBGD(model, sampler="exact")
    X = torch.randn(3, 4)
    with pytest.raises(ValueError, match=r"layer '0' got non-binary inputs"):
        run_step(model, opt, X, torch.ones(3))


def test_too_large_a_qubo_names_the_layer_and_the_limit():
    X, y = separable_problem(16, 6, seed=0)
    model = nn.Sequential(BinaryLinear(6, 2))
    opt = QPSBGD(model, sampler=get_sampler("exact", max_variables=12))
    with pytest.raises(ValueError, match=r"layer '0'.*54 variables.*at most 12"):
        run_step(model, opt, X, y)


def test_failing_sampler_leaves_every_parameter_unchanged():
    X, y = separable_problem(4, 6, seed=0)
    model = BinaryMLP([6, 3, 1])  # two sizes: the second call fails after the first succeeded
    opt = QPSBGD(model, sampler=CountingSampler(fail_on_call=2), lr=0.5, max_rows=2)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(RuntimeError, match="parameters are unchanged.*solver lost"):
        run_step(model, opt, X, y)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize("kw, match", [
    ({"lr": -1.0}, "learning rate"), ({"objective": "cubic"}, "objective"),
    ({"num_reads": 0}, "num_reads"), ({"max_rows": 0}, "max_rows"), ({"clip": 0.0}, "clip"),
    ({"projected": True, "objective": "quadratic"}, "projected"),
    ({"hamming_budget": -1}, "hamming_budget"), ({"sampler": "nope"}, "unknown sampler"),
])
def test_invalid_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        QPSBGD(BinaryMLP([4, 2]), **kw)


def test_model_without_binary_layers_is_rejected():
    with pytest.raises(ValueError, match="no BinaryLinear"):
        QPSBGD(nn.Sequential(nn.Linear(3, 2)))


def test_quadratic_step_is_the_minimiser_of_the_local_model_among_many_reads():
    X, _ = separable_problem(8, 5, seed=4)
    G = torch.randn(8, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.manual_seed(3)
    layer = BinaryLinear(5, 3)
    model = nn.Sequential(layer)
    w0 = layer.weight.detach().clone()
    # ten reads of the exact sampler: the ten lowest states, of which the step must take the best
    opt = QPSBGD(model, sampler="exact", objective="quadratic", lr=0.1, clip=None, num_reads=10)
    linear_step(opt, model, X, G)
    d = torch.round((w0 - layer.weight.detach()).double() / 0.1)  # float32 steps of +-0.1
    s, Xd, Gd = layer.scale, X.double(), G.float().double()
    g = s * Gd.T @ Xd
    H = s**2 * 8 * torch.einsum("bm,bu,bv->muv", Gd**2, Xd, Xd)
    D = 2 * torch.tensor(list(itertools.product([0, 1], repeat=5)), dtype=torch.float64) - 1
    model_of = lambda dd: -0.1 * g @ dd.T + 0.005 * torch.einsum("kn,mnv,kv->mk", dd, H, dd)  # noqa: E731
    best = model_of(D).min(-1).values
    got = model_of(d).diagonal()
    torch.testing.assert_close(got, best, rtol=0, atol=1e-9)
