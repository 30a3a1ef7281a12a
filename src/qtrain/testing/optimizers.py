"""Conformance kit for optimisers: the ``torch.optim`` contract on a small binary-input problem."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from qtrain._info import OPTIMIZER_TIMING_KEYS
from qtrain.nn import BinaryLinear, set_binary

__all__ = ["assert_optimizer_conforms", "separable_problem"]

OptimizerFactory = Callable[..., torch.optim.Optimizer]


def separable_problem(num_samples: int = 16, num_features: int = 6, seed: int = 0
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """+-1 inputs ``X`` ``[B, n]`` and labels ``y = sign(X w*)`` of a random binary teacher
    ``w*`` (odd ``n`` avoids ties; with even ``n`` ties go to +1): linearly separable by a
    binary weight vector."""
    gen = torch.Generator().manual_seed(seed)
    X = 2 * torch.randint(0, 2, (num_samples, num_features), generator=gen).float() - 1
    w = 2 * torch.randint(0, 2, (num_features,), generator=gen).float() - 1
    y = torch.where(X @ w >= 0, 1.0, -1.0)
    return X, y


def _model(n: int, binary: bool, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(BinaryLinear(n, 1))
    set_binary(model, binary)
    return model


def assert_optimizer_conforms(make: OptimizerFactory, *, binary: bool = True,
                              invalid: Sequence[dict[str, Any]] = ({"lr": -1.0}, {"lr": 0.0},
                                                                   {"lr": float("nan")}),
                              steps: int = 10, num_samples: int = 16, num_features: int = 6,
                              seed: int = 0, create_graph: bool = False,
                              check_info: bool = True, conventions: bool = True,
                              requires_closure: bool = False,
                              skip_conventions: Sequence[str] = ()) -> None:
    """Check that an optimiser keeps the ``torch.optim`` contract and makes progress.

    The problem: a one-layer :class:`~qtrain.nn.BinaryLinear` model (``binary`` sets whether its
    forward pass binarises the weights) on :func:`separable_problem`, with the logistic loss
    ``mean softplus(-y f(x))`` (convex in the weights when ``binary=False``).

    Checks:
        1. every keyword set in ``invalid`` raises ``ValueError`` at construction;
        2. it is a ``torch.optim.Optimizer`` with ``param_groups`` carrying ``lr``;
        3. ``step(closure)`` evaluates the closure and returns its loss;
        4. within ``steps`` steps the loss falls strictly below its starting value;
        5. ``state_dict`` round trips: an optimiser built on a copy of the model and loaded with
           the state of the first makes the same next step (identical parameters);
        6. the same construction on the same model gives the same step (seeded);
        7. (``check_info``, for an optimiser with a ``last_info`` attribute) after a step,
           ``last_info["timing"]`` has exactly the keys of
           :data:`qtrain._info.OPTIMIZER_TIMING_KEYS`, non-negative integer nanoseconds with
           ``total_ns`` at least each stage, and ``last_info["solver_info"]`` is a list;
        8. (``conventions``) ``torch.optim``'s conventions as ``torch.optim.SGD`` keeps them:
           :func:`~qtrain.testing.assert_torch_optim_conventions` (closure, state-dict
           continuation, ``StepLR``/``CosineAnnealingLR``, ``add_param_group``, ``zero_grad``,
           accumulation, frozen parameters, pickling, deepcopy).

    Args:
        make: ``make(model, **overrides) -> Optimizer`` (a model, because layer-wise optimisers
            such as QP-SBGD hook its layers; plain ones use ``model.parameters()``).
        binary: the model's ``binary`` flag while training.
        invalid: keyword overrides that must be rejected.
        steps: step budget for check 4.
        num_samples, num_features, seed: the problem.
        create_graph: the closure calls ``loss.backward(create_graph=True)``, as second-order
            optimisers (``QNewton``) need the graph of the gradient to form curvature.
        check_info: run check 7.
        conventions: run check 8.
        requires_closure: the optimiser needs ``step(closure)`` (as LBFGS): check 8 skips the
            conventions of a closure-free ``step()``.
        skip_conventions: names of conventions check 8 skips (say why at the call).

    Raises:
        AssertionError: naming the first check that fails.

    Example:
        >>> from qtrain.train import BinaryConnect
        >>> assert_optimizer_conforms(lambda m, **kw: BinaryConnect(m.parameters(), **{"lr": 0.5, **kw}))
    """
    X, y = separable_problem(num_samples, num_features, seed)

    def closure_for(model: nn.Module, opt: torch.optim.Optimizer, calls: list[int] | None = None
                    ) -> Callable[[], torch.Tensor]:
        def closure() -> torch.Tensor:
            if calls is not None:
                calls.append(1)
            opt.zero_grad()
            loss = F.softplus(-y * model(X)[:, 0]).mean()
            loss.backward(create_graph=create_graph)
            return loss
        return closure

    def loss_of(model: nn.Module) -> float:
        with torch.no_grad():
            return float(F.softplus(-y * model(X)[:, 0]).mean())

    # 1. invalid hyperparameters
    for bad in invalid:
        try:
            make(_model(num_features, binary, seed), **bad)
        except ValueError:
            continue
        raise AssertionError(f"invalid hyperparameters {bad} were accepted (expected ValueError)")

    # 2. the object
    model = _model(num_features, binary, seed)
    opt = make(model)
    assert isinstance(opt, torch.optim.Optimizer), f"{type(opt).__name__} is no torch.optim.Optimizer"
    assert opt.param_groups and all("lr" in g for g in opt.param_groups), "param_groups lack 'lr'"

    # 3. closure
    calls: list[int] = []
    closure = closure_for(model, opt, calls)
    start = loss_of(model)
    out = opt.step(closure)
    assert calls, "step(closure) did not call the closure"
    assert isinstance(out, torch.Tensor) and math.isclose(float(out.detach()), start, rel_tol=1e-6), \
        f"step(closure) returned {out!r}, not the closure's loss {start}"
    if check_info and hasattr(opt, "last_info"):
        _assert_step_info(opt.last_info)

    # 4. progress
    losses = [loss_of(model)]
    for _ in range(steps - 1):
        if losses[-1] < start:
            break
        opt.step(closure)
        losses.append(loss_of(model))
    assert min(losses) < start, f"{steps} steps did not lower the loss {start:.4f} (got {losses})"

    # 5. state_dict round trip and 6. determinism
    twin = _model(num_features, binary, seed)
    twin.load_state_dict(model.state_dict())
    opt_twin = make(twin)
    opt_twin.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert opt_twin.state_dict()["param_groups"] == opt.state_dict()["param_groups"], \
        "load_state_dict did not restore param_groups"
    third = _model(num_features, binary, seed)
    third.load_state_dict(model.state_dict())
    opt_third = make(third)
    opt_third.load_state_dict(copy.deepcopy(opt.state_dict()))
    for m, o in ((model, opt), (twin, opt_twin), (third, opt_third)):
        o.step(closure_for(m, o))
    for p, q, r in zip(model.parameters(), twin.parameters(), third.parameters(), strict=True):
        assert torch.equal(p, q), "an optimiser loaded from state_dict made a different step"
        assert torch.equal(q, r), "two identical optimisers made different steps (unseeded?)"

    # 8. torch.optim's conventions
    if conventions:
        from qtrain.testing.optim_conventions import assert_torch_optim_conventions

        assert_torch_optim_conventions(make, binary=binary, requires_closure=requires_closure,
                                       create_graph=create_graph, skip=skip_conventions,
                                       num_samples=num_samples, num_features=num_features, seed=seed)


def _assert_step_info(info: Any) -> None:
    """Check 7 of :func:`assert_optimizer_conforms`: the shared ``last_info`` shape."""
    assert isinstance(info, dict), f"last_info is {type(info).__name__}, not a dict"
    timing = info.get("timing")
    assert isinstance(timing, dict) and tuple(sorted(timing)) == tuple(sorted(OPTIMIZER_TIMING_KEYS)), \
        f"last_info['timing'] must have the keys {OPTIMIZER_TIMING_KEYS}, got {timing!r}"
    for key, ns in timing.items():
        assert isinstance(ns, int) and not isinstance(ns, bool) and ns >= 0, \
            f"last_info['timing'][{key!r}] = {ns!r} is not a non-negative integer (ns)"
    for key in OPTIMIZER_TIMING_KEYS[:-1]:
        assert timing["total_ns"] >= timing[key], \
            f"last_info['timing']: total_ns {timing['total_ns']} < {key} {timing[key]}"
    assert isinstance(info.get("solver_info"), list), \
        f"last_info['solver_info'] must be a list of the solvers' info, got {info.get('solver_info')!r}"
