"""QPSBGD's options for the authors' choices: gradient="output", tie="authors", step_mode."""

import itertools
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from qtrain.data import karate
from qtrain.nn import BinaryGCN, BinaryLinear, BinaryMLP
from qtrain.train import QPSBGD
from qtrain.train.qpsbgd import formulate_layer, sign_objective, sign_threshold, tie_offset
from qtrain.train.qpsbgd.apply import updated_weights

R2 = 1 / math.sqrt(2)


def hand_worked_mlp():
    """BinaryMLP([2, 2, 1]) with sign(W1) = [[1, 1], [1, -1]], sign(W2) = [[1, -1]]."""
    model = BinaryMLP([2, 2, 1])
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5, 0.5], [0.5, -0.5]]))
        model[2].weight.copy_(torch.tensor([[0.5, -0.5]]))
    return model


X2 = torch.tensor([[1.0, 1.0], [1.0, -1.0]])


def test_output_and_preactivation_gradients_differ_exactly_by_the_mask():
    # z = X sign(W1)^T / sqrt 2 = [[sqrt 2, 0], [0, sqrt 2]]: the mask 1{|z| <= 1} is [[0, 1], [1, 0]];
    # loss = sum of outputs: dL/dh = sign(W2) / sqrt 2 = [1, -1] / sqrt 2 on every row
    model = hand_worked_mlp()
    opt = QPSBGD(model, sampler="exact", gradient="output")
    opt.zero_grad()
    model(X2).sum().backward()
    caps = {c.name: c for c in opt._captures.values()}
    hidden, last = caps["0"].rows[0], caps["2"].rows[0]
    G_out = torch.tensor([[R2, -R2], [R2, -R2]])
    mask = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    torch.testing.assert_close(hidden.G_out, G_out)
    torch.testing.assert_close(hidden.G, G_out * mask)  # = [[0, -1], [1, 0]] / sqrt 2
    # p.grad is made of the masked gradient: p.grad = s G^T X
    torch.testing.assert_close(model[0].weight.grad, R2 * (G_out * mask).T @ X2)
    # the last layer has no activation after it, so no mask to remove
    assert last.G_out is None and torch.equal(last.G, torch.ones(2, 1))


@pytest.mark.parametrize("gradient", ["preactivation", "output"])
def test_each_option_builds_the_hidden_qubo_from_its_gradient(gradient):
    model = hand_worked_mlp()
    w0 = model[0].weight.detach().clone()
    opt = QPSBGD(model, sampler="exact", gradient=gradient, lr=0.25, clip=None, num_reads=1)
    opt.zero_grad()
    model(X2).sum().backward()
    opt.step()
    d = (w0 - model[0].weight.detach()) / 0.25
    G_out = torch.tensor([[R2, -R2], [R2, -R2]], dtype=torch.float64)
    G = G_out if gradient == "output" else G_out * torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    D = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=2)), dtype=torch.float64)
    F_all = G.T @ torch.sign(X2.double() @ D.T + 0.01)  # [m, 4]
    got = sign_objective(X2, G, d.double())
    torch.testing.assert_close(got, F_all.max(-1).values)
    if gradient == "output":
        # neuron 0 sees both rows with G_out (value 2/sqrt 2); under the mask it sees one row only
        assert math.isclose(float(got[0]), 2 * R2, rel_tol=1e-9)


def test_gcn_output_gradient_is_the_propagated_unmasked_gradient():
    g = karate(seed=0)
    torch.manual_seed(0)
    model = BinaryGCN(g.num_features, 4, 2, g.adjacency)
    opt = QPSBGD(model, sampler="exact", gradient="output")
    seen = {}

    def spy(module, inputs, output):
        seen["z"] = inputs[0].detach()
        output.register_hook(lambda grad: seen.update(g=grad))

    model[1].register_forward_hook(spy)
    opt.zero_grad()
    F.cross_entropy(model(g.features)[g.train_mask], g.labels[g.train_mask]).backward()
    rows = {c.name: c for c in opt._captures.values()}["0.lin"].rows[0]
    P = model[0].propagation
    mask = (seen["z"].abs() <= 1).float()
    torch.testing.assert_close(rows.G_out, P.T @ seen["g"])
    torch.testing.assert_close(rows.G, P.T @ (seen["g"] * mask))


def test_tie_breaks_agree_below_one_over_eps_and_disagree_at_B_120():
    # below B = 1/eps the offsets eps and eps B give the same threshold for every fan-in
    for n in range(1, 70):
        assert sign_threshold(n, tie_offset(0.01, 32, n, "authors")) == sign_threshold(n, 0.01)
    # B = 120, fan-in 3: x . d = -1 gives -1 (fixed) but +1 (authors: -1 + 1.2 > 0)
    assert tie_offset(0.01, 120, 3, "authors") == pytest.approx(1.2)
    assert sign_threshold(3, 0.01) == (2, 1) and sign_threshold(3, 1.2) == (1, 2)
    # an exact zero (eps B = 1 for an odd fan-in) counts as +1
    assert sign_threshold(3, tie_offset(0.01, 100, 3, "authors"))[0] == 1


def test_tie_breaks_choose_different_steps_at_B_120():
    # 60 rows x and 60 rows -x, every gradient +1: d with x . d = +-1 puts both outputs at +1
    # under the authors' test (F = 120) while the fixed test sees one +1 and one -1 (F = 0)
    x = torch.tensor([[1.0, 1.0, 1.0]])
    X = torch.cat([x.expand(60, 3), -x.expand(60, 3)])
    C = torch.ones(120, 1)
    for tie, best in (("fixed", 0.0), ("authors", 120.0)):
        p = formulate_layer("0", X, C, torch.zeros(1, 3), tie=tie, with_qubo=False)
        D = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=3)), dtype=torch.float64)
        F_all = sign_objective(X, p.G, D[None].expand(1, 8, 3), p.eps)[0]
        assert float(F_all.max()) == best, tie
        torch.manual_seed(0)
        layer = BinaryLinear(3, 1)
        w0 = layer.weight.detach().clone()
        opt = QPSBGD(nn.Sequential(layer), sampler="sign-milp", tie=tie, lr=0.25, clip=None)
        opt.zero_grad()
        (layer(X) * C).sum().backward()
        opt.step()
        d = torch.round((w0 - layer.weight.detach()).double() / 0.25)
        assert float(sign_objective(X, p.G, d, p.eps)[0]) == best
        if tie == "authors":
            assert abs(float(x.double() @ d[0])) == 1.0
    d = torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64)  # x . d = 1: the two tests disagree
    scores = [float(sign_objective(X, C.double(), d, tie_offset(0.01, 120, 3, t))[0])
              for t in ("fixed", "authors")]
    assert scores == [0.0, 120.0]


def test_disagree_step_mode_moves_only_the_weights_pushed_towards_a_flip():
    W = torch.tensor([[0.3, -0.4, 0.0, -0.1]])
    d = torch.tensor([[1.0, 1.0, -1.0, -1.0]])  # step -d = [-, -, +, +]
    got = updated_weights(W, d, lr=0.5, clip=1.0, step_mode="disagree")
    # against the sign: entry 0 (+ pushed -) and entry 3 (- pushed +); sign(0) = +1 is pushed +
    torch.testing.assert_close(got, torch.tensor([[-0.2, -0.4, 0.0, 0.4]]))
    torch.testing.assert_close(updated_weights(W, d, lr=0.5, clip=1.0),
                               torch.tensor([[-0.2, -0.9, 0.5, 0.4]]))


def test_disagree_step_mode_in_the_optimizer():
    X = 2 * torch.randint(0, 2, (6, 4), generator=torch.Generator().manual_seed(0)).float() - 1
    G = torch.randn(6, 3, generator=torch.Generator().manual_seed(1))
    out = {}
    for mode in ("all", "disagree"):
        torch.manual_seed(0)
        layer = BinaryLinear(4, 3)
        w0 = layer.weight.detach().clone()
        opt = QPSBGD(nn.Sequential(layer), sampler="exact", lr=0.1, clip=None, step_mode=mode,
                     num_reads=1)
        opt.zero_grad()
        (layer(X) * G).sum().backward()
        opt.step()
        out[mode] = (w0, layer.weight.detach().clone())
    w0, w_all = out["all"]
    d = torch.round((w0 - w_all) / 0.1)
    keep = d * torch.where(w0 >= 0, 1.0, -1.0) > 0
    expected = torch.where(keep, w_all, w0)
    torch.testing.assert_close(out["disagree"][1], expected)
    assert bool(keep.any()) and not bool(keep.all())


@pytest.mark.parametrize("kw, match", [
    ({"gradient": "input"}, "gradient must be one of"), ({"tie": "random"}, "tie must be one of"),
    ({"step_mode": "some"}, "step_mode must be one of"),
    ({"projected": True, "step_mode": "disagree"}, "step_mode applies to latent weights"),
    ({"eps": float("nan")}, "eps must be a finite number"),
])
def test_invalid_options_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        QPSBGD(BinaryMLP([4, 2]), **kw)
