"""Q-Newton's apply stage: pure update functions, against hand-worked values and torch.optim."""

import pytest
import torch

from qtrain.train.qnewton import adam_update, clip_by_norm, descent_directions, direction_step, momentum_update


def test_pure_update_functions():
    s, n = clip_by_norm([torch.tensor([3.0]), torch.tensor([4.0])], 1.0)
    assert n == 5.0 and torch.allclose(torch.cat(s), torch.tensor([0.6, 0.8]))
    step, buf = momentum_update(torch.ones(2), torch.full((2,), 2.0), 0.5)
    assert torch.equal(step, torch.full((2,), 2.0)) and step is buf
    m, v = torch.zeros(1), torch.zeros(1)
    assert torch.allclose(adam_update(torch.tensor([2.0]), m, v, 1, (0.9, 0.999), 0.0),
                          torch.tensor([1.0]))


def test_descent_directions_keep_finite_descent_solutions_and_fall_back_otherwise():
    x = torch.tensor([[1.0, 1.0], [-1.0, 0.0], [float("nan"), 0.0], [0.0, 0.0]])
    g = torch.tensor([[1.0, 0.0], [1.0, 0.0], [2.0, 2.0], [0.0, 0.0]])
    d, fallbacks = descent_directions(x, g)
    assert d.tolist() == [[1.0, 1.0], [1.0, 0.0], [2.0, 2.0], [0.0, 0.0]]
    assert fallbacks == 2  # the zero-gradient block falls back too, but is not counted


def test_direction_step_matches_torch_sgd_momentum_and_adam():
    torch.manual_seed(0)
    grads = [torch.randn(3, dtype=torch.float64) for _ in range(4)]
    for update, ref_cls, group in (("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                   ("adam", torch.optim.Adam, {"lr": 0.1, "betas": (0.9, 0.99),
                                                               "eps": 1e-8})):
        w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        ref = ref_cls([w], **group)
        ours, state = torch.zeros(3, dtype=torch.float64), {}
        mine = {"momentum": group.get("momentum", 0.0), "betas": group.get("betas"), "adam_eps": 1e-8}
        for g in grads:
            w.grad = g.clone()
            ref.step()
            ours = ours - 0.1 * direction_step(update, g, state, mine)
        assert torch.allclose(ours, w.detach(), atol=1e-12) and state["step"] == 4
    with pytest.raises(ValueError, match="update"):
        direction_step("newton", grads[0], {}, {})
