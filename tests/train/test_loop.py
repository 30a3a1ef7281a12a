"""The shared training loops against hand-written loops with torch.optim.SGD."""

import math

import pytest
import torch
import torch.nn.functional as F

from qtrain.nn import BinaryMLP
from qtrain.testing import separable_problem
from qtrain.train.loop import cosine_schedule, fit, fit_steps


def test_cosine_schedule_runs_from_one_to_the_floor():
    f = cosine_schedule(10)
    assert f(0) == 1.0 and f(5) == pytest.approx(0.5) and f(10) == 1e-3
    assert all(f(t) >= f(t + 1) for t in range(10))
    with pytest.raises(ValueError, match="total"):
        cosine_schedule(0)


def test_fit_steps_equals_a_hand_written_sgd_loop_and_reports_every_evaluation():
    X, y = separable_problem(32, 5, seed=1)
    y = (y > 0).long()

    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(5, 2)

    model = make()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    seen = []
    run = fit_steps(opt, model, F.cross_entropy, X, y, steps=7, batch=8, eval_every=3, seed=4,
                    evaluate=lambda m: {"acc": float((m(X).argmax(1) == y).double().mean())},
                    on_step=lambda o: seen.append(o))
    ref = make()
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.3)
    g = torch.Generator().manual_seed(4)
    losses = []
    for _ in range(7):
        idx = torch.randperm(32, generator=g)[:8]
        ref_opt.zero_grad()
        loss = F.cross_entropy(ref(X[idx]), y[idx])
        loss.backward()
        ref_opt.step()
        losses.append(float(loss.detach()))
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        assert torch.equal(p, q)
    assert run.losses == losses and len(seen) == 7 and all(o is opt for o in seen)
    assert run.eval_steps == [0, 3, 6, 7] and len(run.evals["acc"]) == 4 and run.wall_s > 0


def test_fit_runs_every_step_with_the_cosine_step_size_and_evaluates_binarised():
    X, y = separable_problem(16, 6, seed=0)
    torch.manual_seed(0)
    model = BinaryMLP([6, 2])
    lrs = []
    res = fit("signsgd", model, lr=0.1, epochs=3, steps_per_epoch=2,
              batch_loss=lambda e, i: F.cross_entropy(model(X), (y > 0).long()),
              evaluate=lambda: float((model(X).argmax(1) == (y > 0).long()).double().mean()),
              on_step=lambda o: lrs.append(o.param_groups[0]["lr"]))
    assert [s for s, _ in res.curve] == [0, 2, 4, 6] and res.final == res.curve[-1][1]
    assert lrs == pytest.approx([0.1 * cosine_schedule(6)(t) for t in range(1, 7)])
    assert math.isfinite(res.train_loss) and res.optimizer.__class__.__name__ == "SignSGD"
    with pytest.raises(ValueError, match="unknown method"):
        fit("adamw", model, lr=0.1, epochs=1, steps_per_epoch=1, batch_loss=None, evaluate=None)
