"""FIP soundness, spline exactness, and the network's QCBO against brute force, MILP and dimod."""

import itertools

import dimod
import pytest
import torch
from torch import nn

from qtrain.nn import QuantizedLinear, QuantizedMLP
from qtrain.qubo import get_sampler
from qtrain.train.qbo import (
    brute_force_weights,
    exhaustive_qcbo,
    formulate_qbo,
    forward_interval_propagation,
    spline_pieces,
)


def _net(d, H, K, act, k1=1, k2=1, integral=True):
    kw = {"scale": 2.0, "offset": 1.0} if integral else {}
    return nn.Sequential(QuantizedLinear(d, H, k1, **kw), act, QuantizedLinear(H, K, k2, **kw))


def _data(N, d, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-1, 2, (N, d), generator=g).double(), torch.randn(N, 1, generator=g).double()


@pytest.mark.parametrize("act", [nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
def test_fip_contains_every_reachable_value(act):
    model = QuantizedMLP([3, 2, 2], bits=[2, 1], activation=type(act).__name__.lower())
    lo, hi = torch.tensor([-1.0, 0.0, 0.5]), torch.tensor([1.0, 2.0, 0.5])
    bounds = forward_interval_propagation(model, lo, hi)
    l1, l2 = model[0], model[2]
    corners = torch.tensor(list(itertools.product(*[(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True)])))
    x = torch.cat([corners, lo + (hi - lo) * torch.rand(200, 3)])
    # every weight code of both layers (2-bit 3x2 is 4^6 codes: sample 300 of them plus the extremes)
    gen = torch.Generator().manual_seed(0)
    for t in range(300):
        c1 = torch.randint(0, 4, (2, 3), generator=gen) if t > 1 else torch.full((2, 3), 3 * t)
        c2 = torch.randint(0, 2, (2, 2), generator=gen) if t > 1 else torch.full((2, 2), t)
        l1.set_codes(c1)
        l2.set_codes(c2)
        z1 = l1(x.float()).double()
        z2 = model(x.float()).double()
        for z, (l, u) in ((z1, bounds[0]), (z2, bounds[1])):
            assert bool((z >= l - 1e-5).all()) and bool((z <= u + 1e-5).all())
    # the bounds are attained (tight for the first layer)
    r = 1 / 3**0.5  # w in [-r, r]: u_j = r sum_i max(|lo_i|, |hi_i|)
    assert float(bounds[0][1][0]) == pytest.approx(r * float(torch.maximum(lo.abs(), hi.abs()).sum()), rel=1e-6)


def test_fip_linear_layer_and_errors():
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[2.0, -1.0]]))
        lin.bias.fill_(0.5)
    (l, u), = forward_interval_propagation(nn.Sequential(lin), [0.0, 0.0], [1.0, 1.0])
    assert float(l) == pytest.approx(-0.5) and float(u) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="finite"):
        forward_interval_propagation(nn.Sequential(lin), [0.0, -float("inf")], [1.0, 1.0])
    with pytest.raises(TypeError, match="monotone"):
        forward_interval_propagation(nn.Sequential(lin, nn.Softmax(-1)), [0.0, 0.0], [1.0, 1.0])


def test_splines_relu_hardtanh_exact_tanh_error_shrinks():
    lo, hi = torch.tensor([-3.0, 0.5]), torch.tensor([2.0, 4.0])
    z = torch.linspace(-3, 4, 301, dtype=torch.float64)[:, None].expand(-1, 2)
    z = torch.minimum(torch.maximum(z, lo), hi)
    relu = spline_pieces(nn.ReLU(), lo, hi, 2)
    assert float(relu.max_error.max()) == 0 and torch.allclose(relu(z), torch.relu(z))
    ht = spline_pieces(nn.Hardtanh(), lo, hi, 3)
    assert float(ht.max_error.max()) < 1e-12 and torch.allclose(ht(z), torch.clamp(z, -1, 1))
    errs = [float(spline_pieces(nn.Tanh(), lo, hi, S).max_error.max()) for S in (2, 4, 8)]
    assert errs[0] > errs[1] > errs[2] > 0
    sp = spline_pieces(nn.Tanh(), lo, hi, 4)
    assert float((sp(z) - torch.tanh(z)).abs().max()) <= float(sp.max_error.max()) + 1e-9
    with pytest.raises(ValueError, match="pieces"):
        spline_pieces(nn.Tanh(), lo, hi, 0)


@pytest.mark.parametrize("case", [(2, 1, 2, nn.ReLU(), 2), (2, 1, 3, nn.Hardtanh(), 3), (3, 1, 2, nn.Tanh(), 3)])
def test_qcbo_agrees_with_brute_force_and_milp(case):
    d, H, N, act, S = case
    model = _net(d, H, 1, act)
    X, T = _data(N, d)
    p = formulate_qbo(model, X, T, pieces=S, integer_knots=True)
    assert p.counts["spins_monolithic"] == p.num_weight_bits + N * p.num_local
    assert p.qcbo.num_variables == p.counts["spins_monolithic"]
    bits, loss = brute_force_weights(p, model, X, T)
    ebits, eloss = exhaustive_qcbo(p)
    milp = p.qcbo.solve_milp()
    assert eloss == pytest.approx(loss, abs=1e-9) and milp.objective == pytest.approx(loss, abs=1e-6)
    assert milp.feasible
    # the MILP's weights are optimal for the spline network too (same argmin up to ties)
    from qtrain.train.qbo import spline_loss
    c1, c2 = p.decode(milp.x)
    assert float(spline_loss(p, c1[None], c2[None], X, T, model[0], model[2])[0]) == pytest.approx(loss, abs=1e-6)


def test_qcbo_point_from_weights_is_feasible_with_the_spline_loss():
    model = _net(3, 2, 1, nn.Tanh())
    X, T = _data(4, 3, seed=5)
    p = formulate_qbo(model, X, T, pieces=3, integer_knots=True)
    from qtrain.train.qbo import spline_loss
    for code in range(5):
        w = ((torch.tensor(code * 37) >> torch.arange(p.num_weight_bits)) & 1).double()
        c1, c2 = p.decode(w)
        ref = float(spline_loss(p, c1[None], c2[None], X, T, model[0], model[2])[0])
        total = 0.0
        for n, sub in enumerate(p.subproblems):
            pats = torch.nn.functional.one_hot(torch.tensor(list(itertools.product(range(3), repeat=2))), 3)
            v = p.complete(n, w, pats.double())
            ok = sub.is_feasible(v)
            assert bool(ok.any())
            total += float(sub.energy(v)[ok].min())
        assert total == pytest.approx(ref, abs=1e-9)


def test_cqm_and_penalty_on_a_tiny_network():
    model = _net(2, 1, 1, nn.ReLU())
    X, T = _data(1, 2, seed=3)
    X[0] = torch.tensor([1.0, -1.0])
    p = formulate_qbo(model, X, T, pieces=2)
    q = p.qcbo
    assert q.num_variables <= 12
    ref = q.brute_force().objective
    ss = dimod.ExactCQMSolver().sample_cqm(q.to_cqm())
    assert ss.filter(lambda r: r.is_feasible).first.energy == pytest.approx(ref, abs=1e-9)
    lam = 1 + float(q.Q.abs().sum() + q.c.abs().sum())
    pen = get_sampler("exact").sample_qubo_batch(q.to_penalty_qubo(lam), num_reads=1)
    assert float(pen.energy) == pytest.approx(ref, abs=1e-9)


def test_network_shape_errors():
    with pytest.raises(TypeError, match="one hidden layer"):
        formulate_qbo(QuantizedMLP([2, 2, 2, 1]), torch.zeros(1, 2), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="X must have shape"):
        formulate_qbo(_net(2, 1, 1, nn.ReLU()), torch.zeros(1, 3), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="finite"):
        formulate_qbo(_net(2, 1, 1, nn.ReLU()), torch.full((1, 2), float("nan")), torch.zeros(1, 1))
