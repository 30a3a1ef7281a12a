"""Curvature blocks against autograd references, with the parameter ordering pinned down."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from qtrain.linalg import ParamLayout, curvature_blocks, make_blocks


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()


def _data(seed=0, B=12):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, 4, generator=g, dtype=torch.float64),
            torch.randint(0, 2, (B,), generator=g))


@settings(max_examples=30, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3), min_size=1,
                       max_size=4))
def test_layout_flatten_unflatten_round_trip(shapes):
    params = {f"p{i}": torch.randn(tuple(s)) for i, s in enumerate(shapes)}
    lay = ParamLayout.of(params)
    v = lay.flatten(params)
    assert v.shape == (lay.size,)
    back = lay.unflatten(v)
    assert list(back) == list(params)
    assert all(torch.equal(back[k], params[k]) for k in params)
    assert torch.equal(lay.flatten(back), v)


def test_layout_order_is_row_major_and_explicit():
    w = torch.arange(6.0).reshape(2, 3)
    b = torch.tensor([10.0, 11.0])
    lay = ParamLayout.of({"w": w, "b": b}, ["b", "w"])
    assert lay.flatten({"w": w, "b": b}).tolist() == [10, 11, 0, 1, 2, 3, 4, 5]
    assert lay.offsets == (0, 2)
    with pytest.raises(ValueError, match="do not match the layout"):
        lay.flatten([w, b])
    with pytest.raises(ValueError, match="unknown parameter names"):
        ParamLayout.of({"w": w}, ["v"])


def test_make_blocks():
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert make_blocks(names, "tensor") == [[n] for n in names]
    assert make_blocks(names, "layer") == [names[:2], names[2:]]
    assert make_blocks(names, "full") == [names]
    with pytest.raises(ValueError, match="blocking must be one of"):
        make_blocks(names, "row")


def test_hessian_blocks_equal_autograd_hessian_diagonal_blocks():
    model, (x, y) = _mlp(), _data()
    names = [n for n, _ in model.named_parameters()]
    vals = tuple(p.detach() for p in model.parameters())

    def loss(*ps):
        return F.cross_entropy(functional_call(model, dict(zip(names, ps, strict=True)), (x,)), y)

    H = torch.autograd.functional.hessian(loss, vals)
    full, gfull, lays = curvature_blocks(model, F.cross_entropy, x, y, "hessian", "full")
    tens, gt, _ = curvature_blocks(model, F.cross_entropy, x, y, "hessian", "tensor")
    off = lays[0].offsets
    for i, p in enumerate(vals):
        n = p.numel()
        ref = H[i][i].reshape(n, n)
        assert torch.allclose(tens[i], ref, atol=1e-12)
        # the full block's diagonal sub-block sits at this tensor's offset: the ordering is right
        assert torch.allclose(full[0][off[i]:off[i] + n, off[i]:off[i] + n], ref, atol=1e-12)
        assert torch.allclose(gt[i], gfull[0][off[i]:off[i] + n])
    # an off-diagonal block: weight of layer 0 against bias of layer 2
    assert torch.allclose(full[0][off[0]:off[0] + 12, off[3]:off[3] + 2],
                          H[0][3].reshape(12, 2), atol=1e-12)


def test_gauss_newton_equals_hessian_for_a_linear_model_with_mse():
    torch.manual_seed(1)
    model = nn.Linear(5, 3).double()
    x, y = torch.randn(20, 5, dtype=torch.float64), torch.randn(20, 3, dtype=torch.float64)
    H, _, _ = curvature_blocks(model, F.mse_loss, x, y, "hessian", "full")
    G, _, _ = curvature_blocks(model, F.mse_loss, x, y, "gauss-newton", "full")
    assert torch.allclose(H[0], G[0], atol=1e-12)


def test_gauss_newton_is_psd_and_matches_the_jacobian_formula():
    model, (x, y) = _mlp(2), _data(2, B=6)
    G, _, _ = curvature_blocks(model, F.cross_entropy, x, y, "gauss-newton", "tensor")
    w = dict(model.named_parameters())["2.weight"].detach()
    ref = torch.zeros(6, 6, dtype=torch.float64)
    with torch.no_grad():
        h = torch.tanh(model[0](x))
        p = torch.softmax(model(x), -1)
    for i in range(6):  # d logits / d W2 = I kron h_i, H_out = diag(p) - p p^T
        J = torch.kron(torch.eye(2, dtype=torch.float64), h[i:i + 1])
        Hout = torch.diag(p[i]) - torch.outer(p[i], p[i])
        ref += J.T @ Hout @ J / 6
    assert torch.allclose(G[2], ref, atol=1e-12) and w.shape == (2, 3)
    assert float(torch.linalg.eigvalsh(G[0]).min()) > -1e-12


def test_empirical_fisher_is_mean_outer_product_of_per_sample_gradients():
    model, (x, y) = _mlp(3), _data(3, B=5)
    Fm, g, _ = curvature_blocks(model, F.cross_entropy, x, y, "fisher", "layer")
    per = []
    for i in range(5):
        model.zero_grad()
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        per.append(torch.cat([model[0].weight.grad.reshape(-1), model[0].bias.grad]))
    Gs = torch.stack(per)
    assert torch.allclose(Fm[0], Gs.T @ Gs / 5, atol=1e-12)
    assert torch.allclose(g[0], Gs.mean(0), atol=1e-12)
    assert int(torch.linalg.matrix_rank(Fm[0])) <= 5 and len(Fm) == 2


def test_unknown_kind_is_refused():
    model, (x, y) = _mlp(), _data()
    with pytest.raises(ValueError, match="kind must be one of"):
        curvature_blocks(model, F.cross_entropy, x, y, "kfac")
