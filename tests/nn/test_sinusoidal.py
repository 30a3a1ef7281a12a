"""SinNN / DSinNN: quantisers, straight-through gradients, batched forward, presets, bad input."""

import math

import pytest
import torch

from qtrain.data import toy_data
from qtrain.nn import DSinNN, SinNN, deep_dsinnn, deep_sinnn, toy_dsinnn, toy_sinnn
from qtrain.nn.sinusoidal import deep_widths, kbit_levels, quantize_levels, ternarize


def test_ternarize_values_dead_zone_and_straight_through_gradient():
    v = torch.tensor([-2.0, -1e-7, 0.0, 5e-7, 0.3, 1e-5], requires_grad=True)
    q = ternarize(v)
    assert q.tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    (q * torch.arange(6.0)).sum().backward()
    assert v.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert ternarize(torch.tensor([0.05, -0.2]), threshold=0.1).tolist() == [0.0, -1.0]
    with pytest.raises(ValueError, match="threshold"):
        ternarize(v, threshold=-1)


def test_kbit_levels_and_nearest_level_quantiser():
    assert kbit_levels(1).tolist() == [-1.0, 1.0]
    assert kbit_levels(2).tolist() == [-3.0, -1.0, 1.0, 3.0]
    q = quantize_levels(torch.tensor([-9.0, -2.1, 0.2, 1.9, 2.1, 7.0]), kbit_levels(2))
    assert q.tolist() == [-3.0, -3.0, 1.0, 1.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="bits"):
        kbit_levels(0)


def test_discrete_toy_has_exactly_zero_gradients_and_the_three_loss_levels():
    x, y = toy_data(discrete=True)
    largest, seen = 0.0, set()
    for s in range(20):
        m = toy_dsinnn(torch.Generator().manual_seed(s))
        loss = (m(x) - y).pow(2).mean()
        loss.backward()
        largest = max(largest, float(m.weights[0].grad.abs().max()))
        w = m.discrete_weights()[0].flatten().tolist()
        expect = 0.0 if w == [1.0, 1.0] else (4.0 if w == [-1.0, -1.0] else 1.0)
        assert float(loss.detach()) == expect
        seen.add(expect)
    assert largest <= 1e-12 and seen == {0.0, 1.0, 4.0}


def test_continuous_toy_is_sin_w1x_plus_sin_w2x():
    m = toy_sinnn(torch.Generator().manual_seed(3))
    w1, w2 = m.weights[0].detach().flatten().tolist()
    x = torch.linspace(-5, 5, 7, dtype=torch.float64).unsqueeze(-1)
    assert torch.allclose(m(x)[:, 0], torch.sin(w1 * x[:, 0]) + torch.sin(w2 * x[:, 0]))


def test_batched_forward_equals_one_net_at_a_time():
    m = DSinNN(2, [4, 3], 1, weights=2, activation=3, offset=0.1, readout="linear")
    ws = m.init_weights(batch=(5,), generator=torch.Generator().manual_seed(0))
    x = torch.randn(7, 2, dtype=torch.float64)
    out = m.forward_with(ws, x)
    assert out.shape == (5, 7, 1)
    for b in range(5):
        assert torch.equal(out[b], m.forward_with([w[b] for w in ws], x))
    s = deep_sinnn(6, 2)
    ws = s.init_weights(batch=(3,), generator=torch.Generator().manual_seed(1))
    xs = torch.rand(4, 1)
    assert torch.allclose(s.forward_with(ws, xs)[1], s.forward_with([w[1] for w in ws], xs))


def test_deep_presets_follow_the_v2_spec():
    assert deep_widths(8, 5) == [8, 7, 6, 5, 5]
    d = deep_dsinnn(10, 3)
    assert d.hidden_sizes == [10, 9, 8] and d.offset == 0.1 and d.activation_threshold == 0.1
    # hidden scale min(pi/2, pi/2^(m-1)), m = floor(log2 fan_in): fan_in 10 and 9 -> m = 3 -> pi/4
    assert d.scales == [1.0, math.pi / 4, math.pi / 4]
    assert set(d.discrete_weights()[1].unique().tolist()) <= {-1.0, 1.0}
    s = deep_sinnn(10, 3, torch.Generator().manual_seed(0))
    assert s.omega_0 == 20.0 and float(s.weights[0].detach().abs().max()) <= 1.0
    assert float(s.weights[1].detach().abs().max()) <= math.sqrt(6 / 10)


def test_kbit_activation_outputs_integers():
    m = DSinNN(1, [3], 1, weights=2, activation=3, scales=[1.0])
    y = m(torch.linspace(-3, 3, 11, dtype=torch.float64).unsqueeze(-1)).detach()
    assert torch.equal(y, torch.round(y)) and float(y.abs().max()) <= 9


@pytest.mark.parametrize("kwargs,match", [
    (dict(weights="quaternary"), "weights"), (dict(activation=1), "activation"), (dict(output="relu"), "output"),
    (dict(scales=[1.0, 2.0]), "scales"), (dict(init_range=0), "init_range")])
def test_dsinnn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DSinNN(1, [3], 1, **kwargs)


def test_sinnn_bad_arguments():
    with pytest.raises(ValueError, match="hidden_sizes"):
        SinNN(1, [], 1)
    with pytest.raises(ValueError, match="out_features"):
        SinNN(1, [3], 2)
    with pytest.raises(ValueError, match="init"):
        SinNN(1, [3], 1, init="xavier")
    with pytest.raises(ValueError, match="last dimension"):
        DSinNN(1, [3], 1).unflatten(torch.zeros(4))
