"""QNewton against the torch.optim contract (the properties of the shared optimiser table):
invalid hyperparameters raise ValueError, state_dict round trips, the closure contract, and a
step lowers the loss of a small convex problem."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from qtrain.train import QNewton

CONFIGS = {
    "newton": {"lr": 0.5},
    "sgd": {"lr": 0.1, "update": "sgd", "momentum": 0.9},
    "adam": {"lr": 0.05, "update": "adam"},
    "fisher-adam": {"lr": 0.05, "update": "adam", "curvature": "fisher", "blocking": "layer"},
}


def _problem(seed=0):
    """Logistic regression with L2: strictly convex."""
    torch.manual_seed(seed)
    model = nn.Linear(4, 1).double()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = (x[:, :1] - x[:, 1:2] > 0).double()

    def loss_fn(out, t):
        return F.binary_cross_entropy_with_logits(out, t)

    return model, x, y, loss_fn


def _make(name, model, loss_fn, **over):
    kw = {**CONFIGS[name], **over}
    if kw.get("curvature", "hessian") != "hessian":
        kw.update(model=model, loss_fn=loss_fn)
    return QNewton(model.parameters(), **kw)


def _step(opt, model, x, y, loss_fn):
    def closure():
        return loss_fn(model(x), y) + 1e-3 * sum((p * p).sum() for p in model.parameters())
    return opt.step(closure, batch=(x, y)) if opt.model is not None else opt.step(closure)


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": 0.0}, "Invalid learning rate"),
    ({"lr": -1.0}, "Invalid learning rate"),
    ({"momentum": 1.0}, "Invalid momentum"),
    ({"betas": (0.9, 1.0)}, "Invalid betas"),
    ({"adam_eps": 0.0}, "Invalid adam_eps"),
    ({"max_step_norm": 0.0}, "Invalid max_step_norm"),
    ({"weight_decay": -1e-3}, "Invalid weight_decay"),
    ({"eps_n": 0.0}, "Invalid eps_n"),
    ({"regularizer": "fixed"}, "Invalid lam"),
    ({"regularizer": "kappa-target", "kappa_target": 1.0}, "Invalid kappa_target"),
    ({"update": "lbfgs"}, "update must be one of"),
    ({"curvature": "kfac"}, "curvature must be one of"),
    ({"blocking": "rows"}, "blocking must be one of"),
])
def test_invalid_hyperparameters_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QNewton([torch.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_step_lowers_the_loss_of_a_convex_problem_and_returns_it(name):
    model, x, y, loss_fn = _problem()
    opt = _make(name, model, loss_fn)
    with torch.no_grad():
        l0 = float(loss_fn(model(x), y) + 1e-3 * sum((p * p).sum() for p in model.parameters()))
    returned = float(_step(opt, model, x, y, loss_fn))
    assert returned == pytest.approx(l0)
    losses = [float(_step(opt, model, x, y, loss_fn)) for _ in range(5)]
    assert losses[-1] < l0 and losses[0] < l0


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_round_trip_continues_identically(name):
    model, x, y, loss_fn = _problem(1)
    opt = _make(name, model, loss_fn)
    for _ in range(2):
        _step(opt, model, x, y, loss_fn)
    sd = copy.deepcopy(opt.state_dict())
    twin = copy.deepcopy(model)
    opt2 = _make(name, twin, loss_fn)
    opt2.load_state_dict(sd)
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for _ in range(2):
        _step(opt, model, x, y, loss_fn)
        _step(opt2, twin, x, y, loss_fn)
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-12)
    if name != "newton":
        assert any(len(s) > 1 for s in opt2.state.values())  # momentum / Adam moments restored


def test_closure_is_required_and_must_keep_its_graph():
    model, x, y, loss_fn = _problem()
    opt = _make("newton", model, loss_fn)
    with pytest.raises(ValueError, match="requires a closure"):
        opt.step()

    def plain_backward():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    with pytest.raises(ValueError, match="create_graph=True"):
        opt.step(plain_backward)
    with pytest.raises(ValueError, match="attached to its autograd graph"):
        opt.step(lambda: torch.tensor(1.0))


def test_param_groups_lr_and_zero_grad():
    model, x, y, loss_fn = _problem(2)
    opt = QNewton([{"params": [model.weight], "lr": 0.5}, {"params": [model.bias], "lr": 1e-9}],
                  lr=0.1, blocking="layer")
    b0 = model.bias.detach().clone()
    _step(opt, model, x, y, loss_fn)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 1e-9]
    assert torch.allclose(model.bias.detach(), b0, atol=1e-8)
    assert opt.last_info["block_sizes"] == [4, 1]  # one block per group, in group order
    assert model.weight.grad is not None
    opt.zero_grad()
    assert model.weight.grad is None
