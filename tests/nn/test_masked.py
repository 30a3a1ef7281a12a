"""Masked layers: frozen seeded random weights, mask buffers, density."""

import math

import pytest
import torch

from qtrain.nn import MaskedLinear, check_density, density, masked_mlp


def test_signed_constant_values_and_seed():
    a, b = MaskedLinear(8, 5, seed=3), MaskedLinear(8, 5, seed=3)
    assert torch.equal(a.weight, b.weight)
    assert torch.allclose(a.weight.abs(), torch.full((5, 8), math.sqrt(2) / math.sqrt(8)))
    assert not torch.equal(a.weight, MaskedLinear(8, 5, seed=4).weight)
    assert not a.weight.requires_grad and list(a.parameters()) == []


def test_kaiming_uniform_bound():
    w = MaskedLinear(50, 40, init="kaiming-uniform", seed=0).weight
    bound = math.sqrt(2) * math.sqrt(3 / 50)
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.9 * bound


def test_weight_mask_forward_and_density():
    layer = MaskedLinear(4, 3, seed=0)
    x = torch.randn(2, 4)
    m = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]])
    layer.mask = m
    assert layer.density == pytest.approx(7 / 12)
    assert torch.allclose(layer(x), x @ (layer.weight * m).T)


def test_neuron_mask_forward():
    layer = MaskedLinear(4, 3, granularity="neuron", bias=True, seed=0)
    layer.mask = torch.tensor([1, 0, 1])
    x = torch.randn(2, 4)
    full = x @ layer.weight.T + layer.bias
    assert torch.allclose(layer(x), full * torch.tensor([1.0, 0.0, 1.0]))


def test_mlp_builder_and_density_over_layers():
    net = masked_mlp([6, 4, 2], seed=1)
    assert net(torch.zeros(3, 6)).shape == (3, 2)
    net.layers[0].mask = torch.zeros(4, 6)
    assert net.density == pytest.approx(8 / 32) == density(net)
    assert density(torch.tensor([1, 0, 0, 0])) == 0.25


def test_bad_input():
    layer = MaskedLinear(4, 3)
    with pytest.raises(ValueError, match="shape"):
        layer.mask = torch.ones(3)
    with pytest.raises(ValueError, match="0 and 1"):
        layer.mask = torch.full((3, 4), 0.5)
    with pytest.raises(ValueError, match="init"):
        MaskedLinear(4, 3, init="xavier")
    for bad in (0, 1.5, -0.1, True):
        with pytest.raises(ValueError, match="density"):
            check_density(bad)
    with pytest.raises(ValueError, match="sizes"):
        masked_mlp([4])
