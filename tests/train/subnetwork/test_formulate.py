"""Costs over mask registers against direct forwards: the black box, the exact QUBO, surrogates."""

import pytest
import torch

from qtrain.data import digits
from qtrain.nn import masked_mlp
from qtrain.qubo.exact import enumerate_energies
from qtrain.train.subnetwork import (
    MaskRegister,
    density_penalty,
    fit_qubo,
    last_layer_qubo,
    mask_bits,
    mask_costs,
    mask_losses,
    register_qubo,
    spearman,
    taylor_qubo,
)


def _direct_loss(net, reg, X, Y, bits, loss):
    """Set the mask on the model and run its own forward: the reference."""
    lin = net.layers[reg.layer]
    old = lin.mask.clone()
    m = old.reshape(-1).clone()
    m[list(reg.bits)] = bits.to(m.dtype)
    lin.mask = m.reshape(old.shape)
    logits = net.double()(X.double())
    lin.mask = old
    if loss == "cross-entropy":
        return float(torch.nn.functional.cross_entropy(logits, Y))
    return float(((logits - torch.nn.functional.one_hot(Y, logits.shape[1])) ** 2).sum())


@pytest.fixture(scope="module")
def data():
    s = digits(seed=0, binary=False)
    return s.X_test[:120], s.y_test[:120]


def test_exact_qubo_equals_black_box_on_every_mask_at_h16(data):
    X, Y = data
    net = masked_mlp([64, 16, 10], granularity="neuron", seed=0, dtype=torch.float64)
    reg = MaskRegister.of(net, 0)
    costs = mask_costs(net, reg, X, Y, loss="sse", device="cpu").costs
    energies = enumerate_energies(register_qubo(net, reg, X, Y))
    rel = ((energies - costs).abs() / costs.abs()).max()
    assert costs.shape == (2**16,) and float(rel) < 1e-6
    # and the black box is the model's own forward
    for s in (0, 1, 12345, 2**16 - 1):
        assert float(costs[s]) == pytest.approx(_direct_loss(net, reg, X, Y, mask_bits(s, 16), "sse"), rel=1e-10)


def test_last_layer_qubo_formula_with_bias():
    g = torch.Generator().manual_seed(0)
    H, W, Y, b = torch.rand(7, 5, generator=g), torch.randn(3, 5, generator=g), torch.randn(7, 3, generator=g), \
        torch.randn(3, generator=g)
    q = last_layer_qubo(H, W, Y, bias=b)
    M = mask_bits(torch.arange(32), 5)
    want = ((Y.double() - (M[:, None, :] * H.double()) @ W.double().T - b.double()) ** 2).sum((1, 2))
    assert torch.allclose(q.energy(M), want, rtol=1e-10)
    with pytest.raises(ValueError, match="W must be"):
        last_layer_qubo(H, W[:, :4], Y)
    with pytest.raises(ValueError, match="H must be finite"):
        last_layer_qubo(H.masked_fill(H > 0.5, float("nan")), W, Y)


def test_weight_register_and_subset_of_a_deeper_layer(data):
    X, Y = data
    net = masked_mlp([64, 12, 8, 10], seed=2)
    reg = MaskRegister.of(net, 1, bits=[0, 5, 13, 40, 77, 95])
    costs = mask_costs(net, reg, X, Y, device="cpu").costs
    for s in range(0, 64, 7):
        assert float(costs[s]) == pytest.approx(_direct_loss(net, reg, X, Y, mask_bits(s, 6), "cross-entropy"),
                                                rel=1e-6)
    net2 = masked_mlp([64, 12, 8, 10], granularity="neuron", seed=2)
    reg2 = MaskRegister.of(net2, 0, bits=[1, 3, 4, 9])
    some = mask_bits(torch.tensor([0, 5, 15]), 4)
    got = mask_losses(net2, reg2, X, Y, some, device="cpu")
    for row, v in zip(some, got, strict=True):
        assert float(v) == pytest.approx(_direct_loss(net2, reg2, X, Y, row, "cross-entropy"), rel=1e-6)


def test_density_filter_and_penalty(data):
    X, Y = data
    net = masked_mlp([64, 8, 10], granularity="neuron", seed=0)
    reg = MaskRegister.of(net, 0)
    mc = mask_costs(net, reg, X, Y, density=0.5, device="cpu")
    ones = mask_bits(torch.arange(256), 8).sum(-1)
    assert torch.equal(mc.feasible, ones == 4)
    best = int(mc.costs.argmin())
    assert ones[best] == 4 and float(mc.costs[~mc.feasible].min()) > float(mc.costs[mc.feasible].max())
    q = register_qubo(net, reg, X, Y)
    pen = density_penalty(q, 4, 2.5)
    M = mask_bits(torch.arange(256), 8)
    assert torch.allclose(pen.energy(M), q.energy(M) + 2.5 * (ones - 4) ** 2)
    with pytest.raises(ValueError, match="density"):
        mask_costs(net, reg, X, Y, density=1.5)


def test_memory_preflight_refuses_before_allocating(data):
    X, Y = data
    net = masked_mlp([64, 16, 10], seed=0)
    reg = MaskRegister.of(net, 0, bits=range(48))
    with pytest.raises(ValueError, match=r"k=48 bits .* at most \d+ bits fit"):
        mask_costs(net, reg, X, Y, device="cpu")


def test_bad_data(data):
    X, Y = data
    net = masked_mlp([64, 8, 10], granularity="neuron", seed=0)
    reg = MaskRegister.of(net, 0)
    with pytest.raises(ValueError, match="X .* finite"):
        mask_costs(net, reg, X.masked_fill(X > 0.9, float("inf")), Y)
    with pytest.raises(ValueError, match="last hidden layer"):
        register_qubo(masked_mlp([64, 8, 8, 10], granularity="neuron"), MaskRegister.of(
            masked_mlp([64, 8, 8, 10], granularity="neuron"), 0), X, Y)
    with pytest.raises(ValueError, match="bits must index"):
        MaskRegister.of(net, 0, bits=[8])


def test_taylor_qubo_matches_value_and_gradient_at_the_expansion_point(data):
    X, Y = data
    net = masked_mlp([64, 10, 10], granularity="neuron", seed=3)
    reg = MaskRegister.of(net, 0)
    m0 = torch.ones(10)
    q = taylor_qubo(net, reg, X, Y, at=m0)
    L0 = _direct_loss(net, reg, X, Y, m0, "cross-entropy")
    assert float(q.energy(m0.double())) == pytest.approx(L0, rel=1e-9)
    # the first-order term: flipping one bit moves the surrogate by g_j plus the Fisher's curvature
    for j in range(3):
        m = m0.clone()
        m[j] = 0
        true = _direct_loss(net, reg, X, Y, m, "cross-entropy")
        assert abs(float(q.energy(m.double())) - true) < 0.2 * max(1e-3, abs(true - L0)) + 0.05


def test_fit_qubo_recovers_an_exact_quadratic_and_spearman():
    g = torch.Generator().manual_seed(1)
    Q = torch.randn(6, 6, generator=g, dtype=torch.float64).triu()
    M = mask_bits(torch.arange(64), 6)
    v = (M @ Q * M).sum(-1) + 3.0
    fit = fit_qubo(M, v)
    assert torch.allclose(fit.energy(M), v, atol=1e-6)
    assert spearman(fit.energy(M), v) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="at least 22"):
        fit_qubo(M[:10], v[:10])
