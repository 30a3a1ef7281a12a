"""Q-Newton's formulate stage: exact Hessian blocks, block partitions, weight decay, regularised systems."""

import pytest
import torch
from torch.func import hessian

from qtrain.linalg import regularize
from qtrain.testing import random_spd
from qtrain.train.qnewton import add_weight_decay, graph_blocks, graph_curvature, hessian_from_graph, newton_systems


def test_hessian_from_graph_equals_torch_func_on_a_non_quadratic_loss():
    torch.manual_seed(0)
    w = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 3, dtype=torch.float64)

    def loss_of(wf, vf):
        return torch.tanh(x @ wf @ vf).pow(2).sum()

    loss = loss_of(w, v)
    g = torch.autograd.grad(loss, [w, v], create_graph=True)
    H = hessian_from_graph(g, [w, v])
    flat = lambda th: loss_of(th[:6].reshape(3, 2), th[6:])  # noqa: E731
    ref = hessian(flat)(torch.cat([w.detach().reshape(-1), v.detach()]))
    assert torch.allclose(H, ref, atol=1e-10) and torch.equal(H, H.mT)


def test_graph_blocks_and_curvature_of_unused_parameters():
    a, b, c = (torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert graph_blocks([a, b], "tensor", [[a, b, c]]) == [[a], [b]]
    assert graph_blocks([a, b], "full", [[a], [b]]) == [[a, b]]
    assert graph_blocks([a, b], "layer", [[a], [c], [b]]) == [[a], [b]]
    loss = (a**3).sum()
    mats, grads = graph_curvature(loss, [a, b], [[a], [b]])
    zero = torch.zeros(2, dtype=torch.float64)
    assert torch.allclose(mats[0], torch.diag(6 * a.detach())) and torch.equal(mats[1], torch.diag(zero))
    assert torch.allclose(grads[0], 3 * a.detach() ** 2) and torch.equal(grads[1], zero)
    loss = (a**2).sum()
    loss.backward()
    with pytest.raises(ValueError, match="freed the graph"):
        graph_curvature(loss, [a], [[a]])


def test_weight_decay_adds_to_gradient_and_curvature_only_where_set():
    C, g, th = torch.eye(2), torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    mats, grads = add_weight_decay([C, C], [g, g], [th, th], [torch.tensor([0.5, 0.0]), torch.zeros(2)])
    assert grads[0].tolist() == [2.5, 2.0] and mats[0].tolist() == [[1.5, 0.0], [0.0, 1.0]]
    assert grads[1] is g and mats[1] is C


def test_newton_systems_stack_the_chosen_blocks_and_regularise_them():
    A = random_spd(3, 4, kappa=10.0, seed=1)
    g = torch.randn(3, 4, dtype=torch.float64)
    sys = newton_systems(list(A), list(g), [2, 0], "max-entry", eps_n=1e-2)
    ref = regularize(A[[2, 0]], "max-entry", eps_n=1e-2)
    assert torch.equal(sys.matrix, ref.matrix) and torch.equal(sys.lam, ref.lam)
    assert torch.equal(sys.rhs, g[[2, 0]]) and sys.blocks == [2, 0]
