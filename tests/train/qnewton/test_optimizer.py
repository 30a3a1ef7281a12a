"""QNewton: exact Newton steps on quadratics, closure vs torch.func curvature, scheduling."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from qtrain._info import OPTIMIZER_TIMING_KEYS
from qtrain.linalg import ClassicalCostModel, QLSACostModel, ScheduledSolver
from qtrain.testing import random_spd
from qtrain.train import QNewton


def _quadratic(n=6, seed=0):
    A = random_spd(1, n, kappa=50.0, seed=seed)[0]
    c = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    w = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    return A, c, w, (lambda: 0.5 * w @ A @ w - c @ w)


def test_one_undamped_newton_step_solves_a_quadratic():
    A, c, w, f = _quadratic()
    opt = QNewton([w], lr=1.0, regularizer="fixed", lam=0.0, max_step_norm=None)
    loss = opt.step(f)
    assert float(loss) == 0.0
    assert torch.allclose(w.detach(), torch.linalg.solve(A, c), atol=1e-10)
    assert torch.allclose(w.grad, -c)  # the gradient at the start, detached, as torch.optim shows


def test_regularised_step_is_the_shifted_solve_and_clipping_caps_the_norm():
    A, c, w, f = _quadratic(seed=1)
    opt = QNewton([w], lr=1.0, eps_n=0.1, max_step_norm=None)
    opt.step(f)
    lam = 0.1 * A.abs().max()
    assert torch.allclose(w.detach(), torch.linalg.solve(A + lam * torch.eye(6).double(), c))
    assert opt.last_info["lam"][0] == pytest.approx(float(lam))
    _, _, w2, f2 = _quadratic(seed=1)
    QNewton([w2], lr=1.0, eps_n=0.1, max_step_norm=0.01).step(f2)
    assert float(w2.detach().norm()) == pytest.approx(0.01)


def _mlp_and_data(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    g = torch.Generator().manual_seed(seed)
    return model, torch.randn(24, 5, generator=g, dtype=torch.float64), \
        torch.randint(0, 3, (24,), generator=g)


@pytest.mark.parametrize("blocking", ["tensor", "full"])
def test_closure_hessian_equals_torch_func_hessian_path(blocking):
    traj = []
    for mode in ("closure", "model"):
        model, x, y = _mlp_and_data()
        kw = {"model": model, "loss_fn": F.cross_entropy} if mode == "model" else {}
        opt = QNewton(model.parameters(), lr=0.5, blocking=blocking, **kw)
        losses = []
        for _ in range(4):
            def closure(model=model, x=x, y=y):
                return F.cross_entropy(model(x), y)
            losses.append(float(opt.step(closure, batch=(x, y)) if kw else opt.step(closure)))
        traj.append((losses, torch.cat([p.detach().reshape(-1) for p in model.parameters()])))
    assert traj[0][0] == pytest.approx(traj[1][0], rel=1e-10)
    assert torch.allclose(traj[0][1], traj[1][1], atol=1e-10)
    assert traj[0][0][-1] < traj[0][0][0]


def test_closure_that_called_backward_with_create_graph_is_accepted():
    model, x, y = _mlp_and_data(1)
    opt = QNewton(model.parameters(), lr=0.5)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward(create_graph=True)
        return loss

    l0 = float(opt.step(closure))
    assert float(opt.step(closure)) < l0
    assert all(p.grad is not None and p.grad.grad_fn is None for p in model.parameters())


@pytest.mark.parametrize("kind", ["gauss-newton", "fisher"])
def test_psd_curvatures_train_an_mlp(kind):
    model, x, y = _mlp_and_data(2)
    opt = QNewton(model.parameters(), lr=1.0, curvature=kind, blocking="layer", eps_n=1e-2,
                  model=model, loss_fn=F.cross_entropy)
    losses = [float(opt.step(lambda: F.cross_entropy(model(x), y), batch=(x, y)))
              for _ in range(8)]
    assert losses[-1] < 0.8 * losses[0]
    assert opt.last_info["block_sizes"] == [24, 15] and opt.last_info["fallbacks"] == 0


def test_scheduled_solver_logs_every_block_and_step():
    model, x, y = _mlp_and_data(3)
    sched = ScheduledSolver(policy="argmin", quantum_cost=QLSACostModel(profile="attosecond"),
                            classical_cost=ClassicalCostModel("analytic", flops=1e6))
    opt = QNewton(model.parameters(), lr=0.5, curvature="gauss-newton", solver=sched,
                  model=model, loss_fn=F.cross_entropy)
    for _ in range(3):
        opt.step(lambda: F.cross_entropy(model(x), y), batch=(x, y))
    assert len(sched.log) == 3 * 4
    assert sorted({(r["step"], r["block"]) for r in sched.log}) == \
        [(s, b) for s in range(3) for b in range(4)]
    assert {r["N"] for r in sched.log} == {20, 4, 12, 3}
    assert all(r["route"] in ("quantum", "classical") for r in sched.log)
    info = opt.last_info
    assert info["curvature_s"] > 0 and info["solve_s"] > 0 and len(opt.history) == 3


def test_non_descent_directions_fall_back_to_the_gradient():
    w = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    A = torch.diag(torch.tensor([1.0, -4.0], dtype=torch.float64))  # indefinite
    c = torch.tensor([1.0, -1.0], dtype=torch.float64)
    opt = QNewton([w], lr=0.1, regularizer="fixed", lam=0.0, max_step_norm=None)
    # g = A w - c = (0, -3): Newton d = A^{-1} g = (0, 0.75) has g.d < 0
    opt.step(lambda: 0.5 * w @ A @ w - c @ w)
    assert opt.last_info["fallbacks"] == 1
    assert torch.allclose(w.detach(), torch.tensor([1.0, 1.3], dtype=torch.float64))


def test_sgd_and_adam_updates_match_torch_optim_on_identity_curvature():
    for update, ref_cls, kw in (("sgd", torch.optim.SGD, {"momentum": 0.8}),
                                ("adam", torch.optim.Adam, {"betas": (0.8, 0.9)})):
        c = torch.tensor([3.0, -1.0, 2.0], dtype=torch.float64)
        w1 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        w2 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        opt = QNewton([w1], lr=0.1, update=update, regularizer="fixed", lam=0.0, **kw)
        ref = ref_cls([w2], lr=0.1, **kw)
        for _ in range(5):
            opt.step(lambda w1=w1, c=c: 0.5 * ((w1 - c) ** 2).sum())
            ref.zero_grad()
            (0.5 * ((w2 - c) ** 2).sum()).backward()
            ref.step()
        assert torch.allclose(w1.detach(), w2.detach(), atol=1e-12), update


def test_missing_model_batch_or_kind_is_refused():
    model, x, y = _mlp_and_data()
    with pytest.raises(ValueError, match="needs model and loss_fn"):
        QNewton(model.parameters(), curvature="fisher")
    with pytest.raises(ValueError, match="together"):
        QNewton(model.parameters(), model=model)
    opt = QNewton(model.parameters(), model=model, loss_fn=F.cross_entropy)
    with pytest.raises(ValueError, match="batch=\\(inputs, targets\\) is required"):
        opt.step(lambda: F.cross_entropy(model(x), y))
    other = nn.Linear(2, 2)
    opt2 = QNewton(other.parameters(), model=model, loss_fn=F.cross_entropy)
    with pytest.raises(ValueError, match="not parameters of model"):
        opt2.step(lambda: F.cross_entropy(model(x), y), batch=(x, y))


def test_weight_decay_enters_gradient_and_curvature():
    A, c, w, f = _quadratic(seed=4)
    opt = QNewton([w], lr=1.0, regularizer="fixed", lam=0.0, max_step_norm=None,
                  weight_decay=0.5)
    opt.step(f)
    # minimiser of 0.5 w^T A w - c^T w + 0.25 ||w||^2 in one exact Newton step
    assert torch.allclose(w.detach(), torch.linalg.solve(A + 0.5 * torch.eye(6).double(), c))


def test_last_info_reports_the_three_stages_and_every_solver_call():
    model, x, y = _mlp_and_data()
    opt = QNewton(model.parameters(), model=model, loss_fn=F.cross_entropy, curvature="fisher")
    opt.step(lambda: F.cross_entropy(model(x), y), batch=(x, y))
    info = opt.last_info
    assert tuple(info["timing"]) == OPTIMIZER_TIMING_KEYS
    t = info["timing"]
    assert all(isinstance(v, int) and v > 0 for v in t.values())
    assert t["total_ns"] == t["formulate_ns"] + t["solve_ns"] + t["apply_ns"]
    sizes = sorted(set(info["block_sizes"]))
    assert [si["timing"]["total_ns"] > 0 for si in info["solver_info"]] == [True] * len(sizes)
    assert [s["N"] for s in info["solves"]] == sizes  # one call per block size, increasing
