"""QPSBGD follows torch.optim semantics (issue 13 item 4), each case beside torch.optim.SGD.

What ``p.grad`` says is what a step uses: captured rows accumulate with the gradients, are cleared by
``zero_grad``, parameters without gradients are skipped, and a second ``step()`` without a new
backward pass works.
"""

import copy
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from qtrain.nn import BinaryMLP
from qtrain.testing import separable_problem
from qtrain.train import QPSBGD


def loss_sum(model, X, y):
    """A summed loss, so that two micro-batches' gradients add up to the union's exactly."""
    return F.softplus(-y * model(X)[:, 0]).sum()


def make_pair(seed=0, sizes=(3, 2, 1)):
    """The same model twice: one for SGD, one for QPSBGD (exact sampler, no clipping)."""
    torch.manual_seed(seed)
    model = BinaryMLP(list(sizes))
    twin = copy.deepcopy(model)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    qp = QPSBGD(twin, sampler="exact", lr=0.1, clip=None, seed=0)
    return (model, sgd), (twin, qp)


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def moved(before, model):
    return [not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)]


X, Y = separable_problem(8, 3, seed=4)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_then_step_moves_nothing(set_to_none):
    for model, opt in make_pair():
        opt.zero_grad()
        loss_sum(model, X, Y).backward()
        opt.zero_grad(set_to_none=set_to_none)
        before = weights(model)
        opt.step()
        assert not any(moved(before, model)), type(opt).__name__
    if set_to_none:
        assert opt.last_info["skipped"] == ["0", "2"] and opt.last_info["sampler_calls"] == 0


def test_two_micro_batches_step_as_their_union():
    outcomes = {}
    for how in ("micro", "union", "last"):
        for model, opt in make_pair(seed=1):
            opt.zero_grad()
            if how == "micro":
                loss_sum(model, X[:4], Y[:4]).backward()
                loss_sum(model, X[4:], Y[4:]).backward()
            elif how == "union":
                loss_sum(model, X, Y).backward()
            else:
                loss_sum(model, X[4:], Y[4:]).backward()
            opt.step()
            outcomes[how, type(opt).__name__] = weights(model)
    for name in ("SGD", "QPSBGD"):
        for a, b in zip(outcomes["micro", name], outcomes["union", name], strict=True):
            torch.testing.assert_close(a, b)
    # and accumulating is not the last micro-batch alone (the defect)
    assert any(not torch.equal(a, b) for a, b in
               zip(outcomes["micro", "QPSBGD"], outcomes["last", "QPSBGD"], strict=True))


def test_frozen_layer_is_skipped_not_refused():
    for model, opt in make_pair(seed=2):
        model[0].weight.requires_grad_(False)
        before = weights(model)
        opt.zero_grad()
        loss_sum(model, X, Y).backward()
        opt.step()
        assert moved(before, model) == [False, True], type(opt).__name__
    assert opt.last_info["skipped"] == ["0"]


def test_second_step_without_backward_repeats_the_step():
    for model, opt in make_pair(seed=3):
        w0 = weights(model)
        opt.zero_grad()
        loss_sum(model, X, Y).backward()
        opt.step()
        w1 = weights(model)
        opt.step()  # the same p.grad: SGD moves by the same amount again; so does QP-SBGD
        w2 = weights(model)
        for a, b, c in zip(w0, w1, w2, strict=True):
            torch.testing.assert_close(c - b, b - a)
        assert any(not torch.equal(a, b) for a, b in zip(w0, w1, strict=True))


@pytest.mark.parametrize("set_to_none", [True, False])
def test_model_zero_grad_drops_the_older_rows(set_to_none):
    """After ``model.zero_grad()`` (not the optimiser's) only the newer backward pass counts."""
    results = {}
    for fresh in (False, True):
        for model, opt in make_pair(seed=5):
            opt.zero_grad()
            if not fresh:
                loss_sum(model, X[:4], Y[:4]).backward()
                model.zero_grad(set_to_none=set_to_none)
            loss_sum(model, X[4:], Y[4:]).backward()
            opt.step()
            results[fresh, type(opt).__name__] = weights(model)
    for name in ("SGD", "QPSBGD"):
        for a, b in zip(results[False, name], results[True, name], strict=True):
            torch.testing.assert_close(a, b)


def test_a_rescaled_gradient_is_the_same_rows():
    """Clipping the gradient's norm scales it: the rows are the same, the sign objective too."""
    out = []
    for clip in (False, True):
        _, (model, opt) = make_pair(seed=6)
        opt.zero_grad()
        loss_sum(model, X, Y).backward()
        if clip:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)
            assert float(norm) > 1e-3
        opt.step()
        out.append(weights(model))
    for a, b in zip(*out, strict=True):
        assert torch.equal(a, b)


def test_state_dict_round_trip_keeps_the_step_counter_and_seed_stream():
    _, (model, opt) = make_pair(seed=7)
    for _ in range(2):
        opt.zero_grad()
        loss_sum(model, X, Y).backward()
        opt.step()
    state = opt.state_dict()
    assert all(s["step"] == 2 for s in state["state"].values())
    twin = copy.deepcopy(model)
    opt2 = QPSBGD(twin, sampler="exact", lr=0.1, clip=None, seed=0)
    opt2.load_state_dict(copy.deepcopy(state))
    for m, o in ((model, opt), (twin, opt2)):
        o.zero_grad()
        loss_sum(m, X, Y).backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def test_grad_cosine_is_the_cosine_of_the_step_and_the_gradient():
    _, (model, opt) = make_pair(seed=8)
    w0 = weights(model)
    opt.zero_grad()
    loss_sum(model, X, Y).backward()
    opt.step()
    for name, (p, a) in zip(("0", "2"), zip(model.parameters(), w0, strict=True), strict=True):
        step, g = (a - p.detach()).double().reshape(-1), p.grad.double().reshape(-1)
        if float(step.norm()) == 0:
            assert name not in opt.last_info["grad_cosine"]
            continue
        expected = float(step @ g) / float(step.norm() * g.norm())
        assert math.isclose(opt.last_info["grad_cosine"][name], expected, rel_tol=1e-6)
        assert -1.0 <= expected <= 1.0


def test_a_frozen_first_layer_does_not_capture_rows():
    torch.manual_seed(0)
    model = nn.Sequential(BinaryMLP([3, 2, 1]))
    model[0][0].weight.requires_grad_(False)
    opt = QPSBGD(model, sampler="exact", lr=0.1)
    opt.zero_grad()
    loss_sum(model, X, Y).backward()
    caps = {c.name: c for c in opt._captures.values()}
    assert caps["0.0"].rows == [] and len(caps["0.2"].rows) == 1


def test_an_unscaled_gradient_uses_the_captured_rows_exactly():
    """``p.grad`` differs from the rows' own ``s G^T X`` by rounding only: the rows are used as they
    are (no factor), so a step is bit-identical to one built from the captured gradients."""
    from qtrain.train.qpsbgd.capture import matching_rows

    _, (model, opt) = make_pair(seed=9)
    opt.zero_grad()
    loss_sum(model, X, Y).backward()
    for p in model.parameters():
        cap = opt._captures[p]
        rows, c = matching_rows(cap, p.grad)
        assert c == 1.0 and rows == cap.rows
        _, c2 = matching_rows(cap, 0.5 * p.grad)
        assert c2 == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("gradient", ["preactivation", "output"])
def test_pickled_and_deep_copied_with_its_model_steps_as_the_original(gradient):
    import pickle

    torch.manual_seed(0)
    model = BinaryMLP([3, 4, 1])
    opt = QPSBGD(model, sampler="anneal", num_reads=4, lr=0.1, clip=None, seed=0, gradient=gradient)
    X, y = separable_problem(12, 3, seed=0)

    def step(m, o):
        o.zero_grad()
        loss_sum(m, X, y).backward()
        o.step()

    step(model, opt)
    twins = [pickle.loads(pickle.dumps((model, opt))), copy.deepcopy((model, opt))]
    for twin, twin_opt in twins:  # the copies hook the copied model's own layers
        assert twin_opt.gradient == gradient and len(twin_opt._captures) == 2
        assert [cap.layer.weight for cap in twin_opt._captures.values()] == list(twin.parameters())
        assert all(cap.layer.weight is p for p, cap in twin_opt._captures.items())
    step(model, opt)
    for twin, twin_opt in twins:
        step(twin, twin_opt)
        assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters(), strict=True))
        assert twin_opt.last_info["timing"]["total_ns"] > 0


def test_a_hooked_model_and_its_optimizer_pickle_and_the_copy_steps_the_same():
    import pickle

    torch.manual_seed(0)
    model = BinaryMLP([3, 2, 1])
    opt = QPSBGD(model, sampler="exact", lr=0.1, clip=None, gradient="output")
    opt.zero_grad()
    loss_sum(model, X, Y).backward()
    model2 = pickle.loads(pickle.dumps(model))  # the hooks travel with the modules
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)
    opt.step()
    opt2 = QPSBGD(model2, sampler="exact", lr=0.1, clip=None, gradient="output")
    opt2.zero_grad()
    loss_sum(model2, X, Y).backward()
    opt2.step()
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)
    pickle.dumps(opt)  # torch.optim pickles defaults, state and param_groups
