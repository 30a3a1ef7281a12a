"""Binary layers: forward maps, straight-through gradients, GCN propagation, builders, flags."""

import pytest
import torch
from torch.nn import functional as F

from qtrain.nn import (
    BinaryActivation,
    BinaryGCN,
    BinaryGCNConv,
    BinaryLinear,
    BinaryMLP,
    binarize,
    binary_activation,
    binary_layers,
    binary_mode,
    normalized_adjacency,
    set_binary,
    ste_sign,
)


def test_ste_sign_forward_and_identity_backward():
    w = torch.tensor([-0.3, 0.0, 2.0, -5.0], requires_grad=True)
    out = ste_sign(w)
    assert out.tolist() == [-1.0, 1.0, 1.0, -1.0]
    out.backward(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert w.grad.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_binary_activation_has_the_hardtanh_gradient():
    values = [-2.0, -1.0, -0.5, 0.0, 0.7, 1.0, 1.5]
    z = torch.tensor(values, requires_grad=True)
    out = binary_activation(z)
    assert out.tolist() == [-1, -1, -1, 1, 1, 1, 1]
    out.sum().backward()
    ref = torch.tensor(values, requires_grad=True)
    F.hardtanh(ref).sum().backward()
    inside = torch.tensor(values).abs() != 1
    assert torch.equal(z.grad[inside], ref.grad[inside])
    # the window is closed, 1_{|z| <= 1} (Hubara et al.); torch's hardtanh has 0 at the kinks
    assert z.grad[~inside].tolist() == [1.0, 1.0]


def test_binary_linear_uses_sign_weights_and_straight_through_gradient():
    torch.manual_seed(0)
    layer = BinaryLinear(5, 3)
    x = torch.randn(4, 5)
    out = layer(x)
    ref = x @ binarize(layer.weight.detach()).T / 5**0.5
    torch.testing.assert_close(out.detach(), ref)
    out.sum().backward()
    # d/dW of sum(s x sign(W)^T) with the identity STE is s * sum_i x_i, for every neuron
    torch.testing.assert_close(layer.weight.grad, (x.sum(0) / 5**0.5).expand(3, 5))
    layer.binary = False
    torch.testing.assert_close(layer(x).detach(), x @ layer.weight.detach().T / 5**0.5)


def test_normalized_adjacency_formula():
    A = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    P = normalized_adjacency(A)
    deg = torch.tensor([2.0, 3.0, 2.0])
    expected = (A + torch.eye(3)) / torch.sqrt(deg[:, None] * deg[None, :])
    torch.testing.assert_close(P, expected)
    torch.testing.assert_close(P, P.T)
    with pytest.raises(ValueError, match="square"):
        normalized_adjacency(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        normalized_adjacency(-torch.ones(2, 2))


def test_gcn_conv_propagates_binary_features():
    torch.manual_seed(1)
    A = (torch.rand(6, 6) < 0.4).float()
    A = ((A + A.T) > 0).float().fill_diagonal_(0)
    conv = BinaryGCNConv(4, 2, A)
    h = torch.randn(6, 4)
    expected = normalized_adjacency(A) @ (h @ binarize(conv.lin.weight.detach()).T / 2)
    torch.testing.assert_close(conv(h).detach(), expected)
    with pytest.raises(ValueError, match="nodes"):
        conv(torch.randn(5, 4))
    # the sparse propagation gives the same outputs and gradients
    sparse = BinaryGCNConv(4, 2, A, sparse=True)
    sparse.lin.weight.data.copy_(conv.lin.weight.data)
    assert sparse.propagation.is_sparse and not conv.propagation.is_sparse
    out_d, out_s = conv(h), sparse(h)
    torch.testing.assert_close(out_s, out_d)
    out_d.square().sum().backward()
    out_s.square().sum().backward()
    torch.testing.assert_close(sparse.lin.weight.grad, conv.lin.weight.grad)


def test_builders_and_binary_flags():
    mlp = BinaryMLP([8, 4, 3, 2])
    assert [type(m).__name__ for m in mlp] == ["BinaryLinear", "BinaryActivation", "BinaryLinear",
                                               "BinaryActivation", "BinaryLinear"]
    assert mlp(torch.randn(5, 8)).shape == (5, 2)
    hidden = mlp[:2](torch.randn(5, 8))
    assert bool((hidden.abs() == 1).all())  # binary activations
    fp = BinaryMLP([8, 4, 2], binary=False)
    assert not any(m.binary for m in fp if hasattr(m, "binary"))
    gcn = BinaryGCN(3, 4, 2, torch.ones(5, 5) - torch.eye(5))
    assert gcn(torch.randn(5, 3)).shape == (5, 2)
    assert len(binary_layers(gcn)) == 2 and len(binary_layers(mlp)) == 3
    set_binary(mlp, False)
    assert not mlp[0].binary and not mlp[1].binary
    with binary_mode(mlp, True):
        assert all(m.binary for m in mlp)
    assert not any(m.binary for m in mlp)  # restored


@pytest.mark.parametrize("args, match", [
    ((0, 3), "in_features"), ((3, -1), "out_features"), ((3, 2.5), "out_features"),
])
def test_bad_layer_sizes(args, match):
    with pytest.raises(ValueError, match=match):
        BinaryLinear(*args)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="3 features, layer expects 4"):
        BinaryLinear(4, 2)(torch.ones(2, 3))
    with pytest.raises(ValueError, match="sizes"):
        BinaryMLP([4])
    with pytest.raises(ValueError, match="scale"):
        BinaryLinear(4, 2, scale=-1.0)
    assert BinaryActivation(binary=False)(torch.tensor([3.0])).item() == 1.0
