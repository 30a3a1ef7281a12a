"""GD baseline, chunked enumeration and brute force against explicit references."""

import itertools
import math

import pytest
import torch

from qtrain.nn import DSinNN, deep_dsinnn, toy_dsinnn
from qtrain.train.sinusoidal import bad_minimum_mask, brute_force_search, deep_data, gd_train, toy_data
from qtrain.train.sinusoidal import classical as C


def _explicit_losses(model, x, y, levels):
    out = []
    for combo in itertools.product(levels, repeat=model.num_weights):
        flat = torch.tensor(combo[::-1], dtype=model.dtype)  # little-endian: weight 0 varies fastest
        pred = model.forward_with(model.unflatten(flat.flip(0)), x, quantized=True)
        out.append(float((pred - y).pow(2).mean()))
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize("model", [
    DSinNN(1, [3], 1, weights="ternary", output="ternary", scales=[1.0]),
    DSinNN(2, [2, 2], 1, weights="binary", offset=0.1, activation_threshold=0.1),
    DSinNN(2, [3], 1, weights=2, activation=3)])
def test_enumeration_matches_explicit_loop_and_brute_force_finds_its_minimum(model):
    g = torch.Generator().manual_seed(0)
    x = (2 * torch.randint(-3, 3, (5, model.in_features), generator=g) + 1).double() * math.pi / 2
    y = torch.randint(-2, 3, (5, 1), generator=g).double()
    levels = model.weight_levels.tolist()
    ref = _explicit_losses(model, x, y, levels)
    got = C.enumerate_losses(model, x, y, reduce="mse", chunk_size=7, device="cpu")
    assert torch.allclose(got, ref)
    bf = brute_force_search(model, x, y, chunk_size=5, device="cpu")
    assert bf.loss == pytest.approx(float(ref.min())) and bf.index == int(ref.argmin())
    assert bf.evaluations == 5 * len(ref) and bf.num_minima == int((ref <= ref.min() + 1e-9).sum())


def test_fast_path_equals_the_batched_forward(monkeypatch):
    m = DSinNN(1, [6], 1, weights="binary", scales=[1.0], output="ternary")
    x = torch.tensor([[-3.0], [1.0], [5.0], [7.0]], dtype=torch.float64) * math.pi / 2
    y = torch.tensor([[1.0], [0.0], [-1.0], [1.0]], dtype=torch.float64)
    fast = C.enumerate_losses(m, x, y, chunk_size=16, device="cpu")
    monkeypatch.setattr(C, "_additive", lambda model: False)
    assert torch.equal(fast, C.enumerate_losses(m, x, y, chunk_size=16, device="cpu"))


def test_toy_brute_force_and_frozen_gd():
    x, y = toy_data(discrete=True)
    bf = brute_force_search(toy_dsinnn(), x, y, levels=[-1, 1])
    assert [w.flatten().tolist() for w in bf.weights] == [[1.0, 1.0]] and bf.loss == 0.0 and bf.evaluations == 16
    r = gd_train(toy_dsinnn(), x, y, list(range(20)), epochs=30, lr=0.01, batch_size=1, device="cpu")
    init = torch.stack([toy_dsinnn().init_weights(generator=torch.Generator().manual_seed(s))[0] for s in range(20)])
    assert float(r.max_grad.max()) <= 1e-12
    assert float((r.weights[0] - init).abs().max()) <= 1e-12  # GD never moves
    assert set(r.loss.tolist()) <= {0.0, 1.0, 4.0}


def test_gd_seeds_are_independent_of_the_batch_and_clip_bounds_the_step():
    x, y, _, _ = deep_data(discrete=True, n=40, n_train=30)
    m = deep_dsinnn(5, 2)
    both = gd_train(m, x, y, [3, 7], epochs=5, lr=0.01, clip=1.0, device="cpu")
    alone = gd_train(m, x, y, [7], epochs=5, lr=0.01, clip=1.0, device="cpu")
    assert torch.allclose(both.weights[0][1], alone.weights[0][0]) and torch.allclose(both.loss[1], alone.loss[0])
    one = gd_train(m, x, y, [3], epochs=1, lr=0.5, clip=1e-3, device="cpu")
    init = m.init_weights(generator=torch.Generator().manual_seed(3))
    step = torch.sqrt(sum((a[0] - b).pow(2).sum() for a, b in zip(one.weights, init, strict=True)))
    assert float(step) <= 0.5 * 1e-3 * (1 + 1e-4)  # float32 weights
    with pytest.raises(ValueError, match="lr"):
        gd_train(m, x, y, [0], epochs=1, lr=0)
    for bad in (float("inf"), float("nan")):  # non-finite steps would turn the weights into inf/NaN
        with pytest.raises(ValueError, match="lr"):
            gd_train(m, x, y, [0], epochs=1, lr=bad)
        with pytest.raises(ValueError, match="clip"):
            gd_train(m, x, y, [0], epochs=1, lr=0.1, clip=bad)
    with pytest.raises(ValueError, match="epochs"):
        gd_train(m, x, y, [0], epochs=0, lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        gd_train(m, x, y, [0], epochs=1, lr=0.1, batch_size=1000)


def test_bad_minimum_criterion():
    losses = torch.tensor([0.10, 0.15, 0.25, 0.2001, 0.1000001])
    assert bad_minimum_mask(losses).tolist() == [False, False, True, True, False]
    assert bad_minimum_mask(torch.tensor([0.0, 1e-5, 2e-4])).tolist() == [False, False, True]


def test_deep_data_split_is_fixed_and_targets_are_the_five_sines():
    a = deep_data(discrete=False)
    b = deep_data(discrete=False)
    assert [t.shape[0] for t in a] == [160, 160, 40, 40] and all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    x, y = a[0][:, 0].double(), a[1][:, 0].double()
    assert torch.allclose(y, sum(torch.sin(k * x) for k in range(1, 6)), atol=1e-5)
    d = deep_data(discrete=True)
    assert torch.equal(d[1], torch.round(d[1]))
    assert float(deep_data(False, scaled=True)[0].abs().max()) <= 1.0
