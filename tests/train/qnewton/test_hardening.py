"""Regression tests of issue 13 for QNewton: zero and singular blocks, the step counter in the
state dict, per-group clipping, finite hyperparameters."""

import math

import pytest
import torch
from torch import nn

from qtrain.train import QNewton


def test_zero_curvature_block_takes_the_gradient_step_with_the_default_solver():
    c = torch.tensor([3.0, -4.0], dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = QNewton([w], lr=0.5)  # default: cholesky, eps_n max|C| = 0 on a linear loss
    opt.step(lambda: (c * w).sum())
    # d = g = c, clipped to max_step_norm = 1: w = -0.5 c / |c|
    assert torch.allclose(w.detach(), -0.5 * c / 5.0)
    assert opt.last_info["zero_curvature"] == 1 and opt.last_info["fallbacks"] == 1


def test_dead_relu_network_still_steps():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every ReLU dead: the first layer has zero gradient and curvature
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    before = [p.detach().clone() for p in model.parameters()]
    opt = QNewton(model.parameters(), lr=1.0, model=model, loss_fn=nn.functional.mse_loss)
    opt.step(lambda: nn.functional.mse_loss(model(x), y), batch=(x, y))
    after = list(model.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert torch.equal(after[0].detach(), before[0])  # zero gradient: no move
    assert not torch.equal(after[3].detach(), before[3])  # the output bias moved
    assert opt.last_info["zero_curvature"] >= 1


def test_singular_block_falls_back_to_the_gradient():
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = QNewton([w], lr=0.1, regularizer="fixed", lam=0.0, max_step_norm=None)
    loss = opt.step(lambda: (w[0] + w[1]) ** 2 + w[0])  # H = 2 [[1, 1], [1, 1]], singular
    assert float(loss) == 0.0
    assert torch.allclose(w.detach(), torch.tensor([-0.1, 0.0], dtype=torch.float64))
    assert opt.last_info["fallbacks"] == 1 and opt.last_info["solver_info"][0]["converged"] is False


def _run(steps, reload_after=None):
    torch.manual_seed(0)
    A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    w = torch.ones(2, dtype=torch.float64, requires_grad=True)

    def make(params):  # the perturbed QLSA draws its perturbation from seed + step
        return QNewton(params, lr=0.5, solver="simulated-qlsa", eps_n=1e-3, seed=3)

    opt = make([w])
    for k in range(steps):
        if k == reload_after:
            saved = opt.state_dict()
            opt = make([w])
            opt.load_state_dict(saved)
        opt.solver.perturb = True
        opt.step(lambda: 0.5 * w @ A @ w)
    return w.detach(), opt


def test_state_dict_keeps_the_step_counter_and_continues_identically():
    straight, a = _run(3)
    reloaded, b = _run(3, reload_after=1)
    assert torch.equal(straight, reloaded)
    assert a.state_dict()["qnewton_steps"] == b.state_dict()["qnewton_steps"] == 3
    with pytest.raises(ValueError, match="qnewton_steps"):
        b.load_state_dict({**b.state_dict(), "qnewton_steps": -1})


def test_clip_is_per_parameter_group_as_documented():
    u = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    v = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = QNewton([{"params": [u], "max_step_norm": 0.5}, {"params": [v], "max_step_norm": 0.25}],
                  lr=1.0, regularizer="fixed", lam=1.0, blocking="full")
    opt.step(lambda: -(u.sum() * 10 + v.sum() * 10))
    assert float(u.detach().norm()) == pytest.approx(0.5)
    assert float(v.detach().norm()) == pytest.approx(0.25)


@pytest.mark.parametrize("kwargs", [
    {"lr": math.inf}, {"lr": math.nan}, {"momentum": math.nan}, {"adam_eps": math.inf},
    {"max_step_norm": math.inf}, {"weight_decay": math.inf}, {"eps_n": math.inf},
    {"regularizer": "fixed", "lam": math.inf}, {"regularizer": "kappa-target", "kappa_target": math.inf},
    {"betas": (0.9, math.nan)}, {"lr": True},
])
def test_non_finite_hyperparameters_are_refused(kwargs):
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid .*finite number"):
        QNewton([w], **kwargs)


def test_a_solver_that_refuses_a_singular_block_gives_the_gradient_step():
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    # H = diag(1, 0): Cholesky meets a zero pivot, LU an exactly singular matrix, and the direct
    # solver raises SingularSystemError; the step is the gradient's
    opt = QNewton([w], lr=0.1, regularizer="fixed", lam=0.0, max_step_norm=None)
    opt.step(lambda: 0.5 * w[0] ** 2 + w[1])
    assert torch.allclose(w.detach(), torch.tensor([0.0, -0.1], dtype=torch.float64))
    assert opt.last_info["fallbacks"] == 1 and "singular" in opt.last_info["solver_info"][0]
