"""``torch.optim``'s conventions as a kit: any optimiser against what ``torch.optim.SGD`` does.

Every check is a small function of one optimiser factory; :func:`assert_torch_optim_conventions`
runs them all (or a chosen few) and names the first that fails. ``torch.optim.SGD`` passes every
check (the suite's reference test runs it), so a failure is a difference from the behaviour users
of ``torch.optim`` rely on.
"""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from qtrain.nn import BinaryActivation, BinaryLinear, set_binary
from qtrain.testing.optimizers import separable_problem

__all__ = ["CONVENTIONS", "CLOSURE_FREE", "assert_torch_optim_conventions"]

OptimizerFactory = Callable[..., torch.optim.Optimizer]


@dataclass
class _Setup:
    make: OptimizerFactory
    X: torch.Tensor
    y: torch.Tensor
    binary: bool
    create_graph: bool
    seed: int
    lr: float

    def model(self) -> nn.Module:
        torch.manual_seed(self.seed)
        model = nn.Sequential(BinaryLinear(self.X.shape[1], 3), BinaryActivation(), BinaryLinear(3, 1))
        set_binary(model, self.binary)
        return model

    def loss(self, model: nn.Module, rows: slice = slice(None), extra: torch.Tensor | None = None,
             scale: float = 1.0) -> torch.Tensor:
        out = model(self.X[rows])[:, 0] + (0 if extra is None else extra.sum())
        return F.softplus(-self.y[rows] * out).sum() * scale / len(self.y)

    def closure(self, model: nn.Module, opt: torch.optim.Optimizer,
                extra: torch.Tensor | None = None) -> Callable[[], torch.Tensor]:
        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = self.loss(model, extra=extra)
            loss.backward(create_graph=self.create_graph)
            return loss
        return closure


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], atol: float = 0.0) -> bool:
    return all(torch.allclose(p, q, rtol=0, atol=atol) if atol else torch.equal(p, q)
               for p, q in zip(a, b, strict=True))


def check_closure(s: _Setup) -> None:
    """``step(closure)`` calls the closure once or more and returns its (first) loss."""
    model = s.model()
    opt = s.make(model)
    with torch.no_grad():
        start = float(s.loss(model))
    out = opt.step(s.closure(model, opt))
    assert isinstance(out, torch.Tensor) and math.isclose(float(out.detach()), start, rel_tol=1e-6), \
        f"closure: step(closure) returned {out!r}, not the closure's loss {start}"


def check_state_dict_continuation(s: _Setup, steps: int = 3) -> None:
    """An optimiser reloaded from ``state_dict()`` after one step continues exactly as the
    original: same parameters after ``steps`` steps in all."""
    straight = s.model()
    opt = s.make(straight)
    for _ in range(steps):
        opt.step(s.closure(straight, opt))
    first = s.model()
    opt1 = s.make(first)
    opt1.step(s.closure(first, opt1))
    saved_model, saved_opt = copy.deepcopy(first.state_dict()), copy.deepcopy(opt1.state_dict())
    resumed = s.model()
    resumed.load_state_dict(saved_model)
    opt2 = s.make(resumed)
    opt2.load_state_dict(saved_opt)
    for _ in range(steps - 1):
        opt2.step(s.closure(resumed, opt2))
    assert _same(_params(straight), _params(resumed)), \
        "state_dict continuation: a reloaded optimiser continued differently from the original"


def _check_scheduler(s: _Setup, make_scheduler: Callable[[torch.optim.Optimizer], Any],
                     expected: Callable[[float, int], float], name: str) -> None:
    model = s.model()
    opt = s.make(model)
    base = [g["lr"] for g in opt.param_groups]
    sched = make_scheduler(opt)
    for k in range(1, 4):
        opt.step(s.closure(model, opt))
        sched.step()
        for g, b in zip(opt.param_groups, base, strict=True):
            assert math.isclose(g["lr"], expected(b, k), rel_tol=1e-9, abs_tol=1e-12), \
                f"{name}: lr after {k} epochs is {g['lr']}, expected {expected(b, k)}"
    state = sched.state_dict()
    again = make_scheduler(s.make(s.model()))
    again.load_state_dict(state)
    assert again.last_epoch == sched.last_epoch, f"{name}: the scheduler's state_dict did not round trip"


def check_step_lr(s: _Setup) -> None:
    """``StepLR(step_size=1, gamma=0.5)`` halves every group's ``lr`` each epoch."""
    _check_scheduler(s, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5),
                     lambda b, k: b * 0.5**k, "StepLR")


def check_cosine_lr(s: _Setup) -> None:
    """``CosineAnnealingLR(T_max=4)``: ``lr_k = lr_0 (1 + cos(pi k / 4)) / 2``."""
    _check_scheduler(s, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4),
                     lambda b, k: b * (1 + math.cos(math.pi * k / 4)) / 2, "CosineAnnealingLR")


def check_lr_is_read_each_step(s: _Setup) -> None:
    """The step uses the group's current ``lr`` (a scheduler's change), not the one at
    construction: halving it first gives the step of an optimiser built with half the rate."""
    a, b = s.model(), s.model()
    opt_a = s.make(a)
    with warnings.catch_warnings():  # the scheduler steps before the optimiser on purpose
        warnings.simplefilter("ignore", UserWarning)
        torch.optim.lr_scheduler.StepLR(opt_a, step_size=1, gamma=0.5).step()
    opt_b = s.make(b, lr=opt_a.param_groups[0]["lr"])
    opt_a.step(s.closure(a, opt_a))
    opt_b.step(s.closure(b, opt_b))
    assert _same(_params(a), _params(b), atol=1e-7), \
        "lr: the step ignored the lr a scheduler set (the rate at construction was used)"


def check_add_param_group(s: _Setup) -> None:
    """A parameter added with ``add_param_group`` (its own ``lr``) is stepped."""
    model = s.model()
    opt = s.make(model)
    extra = nn.Parameter(torch.zeros(1))
    opt.add_param_group({"params": [extra], "lr": s.lr})
    assert len(opt.param_groups) >= 2 and opt.param_groups[-1]["lr"] == s.lr, "add_param_group: no new group"
    opt.step(s.closure(model, opt, extra))
    assert float(extra.detach().abs()) > 0, "add_param_group: the added parameter was not stepped"


def check_zero_grad(s: _Setup) -> None:
    """After ``zero_grad(set_to_none=True)`` every ``p.grad`` is ``None`` and ``step()`` moves
    nothing: what ``p.grad`` says is what a step uses."""
    model = s.model()
    opt = s.make(model)
    s.loss(model).backward()
    opt.zero_grad(set_to_none=True)
    assert all(p.grad is None for g in opt.param_groups for p in g["params"]), \
        "zero_grad(set_to_none=True) left gradients"
    before = _params(model)
    opt.step()
    assert _same(before, _params(model)), "zero_grad: step() moved parameters without gradients"


def check_accumulation(s: _Setup) -> None:
    """Two backward passes (two halves of the batch) and one step equal one step on the whole
    batch: the step uses the accumulated ``p.grad``."""
    half = len(s.y) // 2
    a, b = s.model(), s.model()
    opt_a, opt_b = s.make(a), s.make(b)
    opt_a.zero_grad()
    s.loss(a, slice(0, half)).backward()
    s.loss(a, slice(half, None)).backward()
    opt_a.step()
    opt_b.zero_grad()
    s.loss(b).backward()
    opt_b.step()
    assert _same(_params(a), _params(b), atol=1e-6), \
        "accumulation: two accumulated micro-batches stepped differently from the whole batch"


def check_second_step_without_backward(s: _Setup) -> None:
    """A second ``step()`` without a new backward uses the same ``p.grad`` again (no error)."""
    model = s.model()
    opt = s.make(model)
    opt.zero_grad()
    s.loss(model).backward()
    opt.step()
    opt.step()


def check_frozen_parameter(s: _Setup) -> None:
    """A parameter with ``requires_grad=False`` is skipped: not moved, no error."""
    model = s.model()
    frozen = model[0].weight
    frozen.requires_grad_(False)
    before = frozen.detach().clone()
    opt = s.make(model)
    opt.step(s.closure(model, opt))
    assert torch.equal(frozen.detach(), before), "frozen: a parameter with requires_grad=False moved"


def check_pickle(s: _Setup) -> None:
    """``(model, optimiser)`` pickled and unpickled together keep the hyperparameters and step
    as the original does."""
    model = s.model()
    opt = s.make(model)
    opt.step(s.closure(model, opt))
    twin, back = pickle.loads(pickle.dumps((model, opt)))
    strip = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    assert [{k: v for k, v in g.items() if k != "params"} for g in back.param_groups] == strip, \
        "pickle: hyperparameters changed"
    opt.step(s.closure(model, opt))
    back.step(s.closure(twin, back))
    assert _same(_params(model), _params(twin)), "pickle: the unpickled optimiser stepped differently"


def check_deepcopy(s: _Setup) -> None:
    """``deepcopy((model, optimiser))`` is an independent twin: its step equals the original's
    and leaves the original untouched."""
    model = s.model()
    opt = s.make(model)
    opt.step(s.closure(model, opt))
    twin, opt_twin = copy.deepcopy((model, opt))
    before = _params(model)
    opt_twin.step(s.closure(twin, opt_twin))
    assert _same(before, _params(model)), "deepcopy: stepping the copy moved the original"
    opt.step(s.closure(model, opt))
    assert _same(_params(model), _params(twin)), "deepcopy: the copy stepped differently"


#: every convention, by name, in the order they run
CONVENTIONS: dict[str, Callable[[_Setup], None]] = {
    "closure": check_closure,
    "state_dict_continuation": check_state_dict_continuation,
    "step_lr": check_step_lr,
    "cosine_lr": check_cosine_lr,
    "lr_read_each_step": check_lr_is_read_each_step,
    "add_param_group": check_add_param_group,
    "zero_grad": check_zero_grad,
    "accumulation": check_accumulation,
    "second_step_without_backward": check_second_step_without_backward,
    "frozen_parameter": check_frozen_parameter,
    "pickle": check_pickle,
    "deepcopy": check_deepcopy,
}
#: conventions of a ``step()`` without a closure: an optimiser that requires one (as LBFGS and
#: QNewton do) evaluates the gradient itself and skips them
CLOSURE_FREE = ("zero_grad", "accumulation", "second_step_without_backward")


def assert_torch_optim_conventions(make: OptimizerFactory, *, lr: float = 0.1, binary: bool = False,
                                   requires_closure: bool = False, create_graph: bool = False,
                                   skip: Sequence[str] = (), num_samples: int = 16,
                                   num_features: int = 5, seed: int = 0) -> None:
    """Check an optimiser against ``torch.optim``'s conventions, as ``torch.optim.SGD`` keeps them.

    The problem: a two-layer :class:`~qtrain.nn.BinaryLinear` model (``binary``: binarised
    forward pass) on :func:`~qtrain.testing.separable_problem` with the logistic loss. The checks
    (:data:`CONVENTIONS`): ``step(closure)`` returns the loss; a ``state_dict`` reload continues
    identically; ``StepLR`` and ``CosineAnnealingLR`` set every group's ``lr`` by their formulas,
    and the step reads the current ``lr``; ``add_param_group`` adds a stepped group;
    ``zero_grad(set_to_none=True)`` clears ``p.grad`` and a step then moves nothing; two
    accumulated micro-batches step as the whole batch; a second ``step()`` reuses ``p.grad``; a
    frozen parameter is skipped; pickling keeps the hyperparameters; ``deepcopy`` gives an
    independent twin.

    Args:
        make: ``make(model, **overrides) -> Optimizer`` (overrides include ``lr``).
        lr: the rate of the reference runs and of the added parameter group.
        binary: the model's ``binary`` flag.
        requires_closure: the optimiser needs ``step(closure)`` (skips :data:`CLOSURE_FREE`).
        create_graph: the closure calls ``backward(create_graph=True)`` (second-order methods).
        skip: names of checks not to run (say why where it is called).
        num_samples, num_features, seed: the problem.

    Raises:
        AssertionError: naming the first convention that fails.
        ValueError: an unknown name in ``skip``.

    Example:
        >>> assert_torch_optim_conventions(lambda m, **kw: torch.optim.SGD(m.parameters(), **{"lr": 0.1, **kw}))
    """
    unknown = sorted(set(skip) - set(CONVENTIONS))
    if unknown:
        raise ValueError(f"skip names unknown checks {unknown}; the checks are {list(CONVENTIONS)}")
    X, y = separable_problem(num_samples, num_features, seed)
    setup = _Setup(make, X, y, binary, create_graph, seed, lr)
    for name, check in CONVENTIONS.items():
        if name in skip or (requires_closure and name in CLOSURE_FREE):
            continue
        try:
            check(setup)
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(f"{name}: raised {type(exc).__name__}: {exc}") from exc
