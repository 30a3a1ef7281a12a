"""Q-Newton (arXiv:2405.00252): Newton training whose per-block linear solves go to a quantum or a
classical solver, with condition-number control and sparsification.

A step is three stages: **formulate** (evaluate the closure; build curvature blocks ``C_b``, the
exact Hessian from the closure's graph or Hessian / Gauss-Newton / empirical Fisher of ``model`` on a
batch by torch.func; add weight decay; regularise ``C_b + lam_b I``:
:mod:`qtrain.train.qnewton.formulate`), **solve** (all blocks of one size in one batched call of the
linear solver, through :func:`qtrain._batching.solve_by_size`; a :class:`~qtrain._info.SolveContext`
tells composites such as ``ScheduledSolver`` the step and block ids) and **apply** (a damped,
clipped Newton step, or ``d`` fed to SGD-momentum or Adam: :mod:`qtrain.train.qnewton.apply`).
:class:`QNewton` is the thin ``torch.optim.Optimizer`` shell around them.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch

from qtrain._batching import solve_by_size
from qtrain._device import synchronize
from qtrain._info import SolveContext, Stopwatch
from qtrain.linalg import (
    CURVATURES,
    REGULARIZERS,
    LinearSolver,
    ParamLayout,
    SingularSystemError,
    UnconvergedWarning,
    curvature_blocks,
    get_linear_solver,
    make_blocks,
)
from qtrain.train.qnewton.apply import UPDATES, clip_by_norm, descent_directions, direction_step
from qtrain.train.qnewton.formulate import add_weight_decay, graph_blocks, graph_curvature, newton_systems

__all__ = ["QNewton"]


def _check_real(what: str, value: Any, rule: str, ok: Callable[[float], bool]) -> None:
    """``ValueError("Invalid <what>: ...")`` unless ``value`` is a finite real number obeying ``ok``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not ok(value):
        raise ValueError(f"Invalid {what}: {value!r} (must be a finite number {rule})")


class QNewton(torch.optim.Optimizer):
    r"""Newton's method with scheduled quantum/classical linear solves (Q-Newton).

    Per block ``b`` of parameters: ``d_b = (C_b + lam_b I)^{-1} g_b`` with ``C_b`` the curvature
    and ``lam_b`` from ``regularizer`` (default the published ``eps_n max|C_ij|``); a block whose
    direction is not a descent direction (``g_b . d_b <= 0``, possible for an indefinite Hessian)
    or not finite falls back to ``d_b = g_b`` (counted in :attr:`last_info`), and so does a block
    with no Newton system: an exactly zero ``C_b + lam_b I`` (zero curvature makes the relative
    shift zero too: all ReLUs dead, a linear loss), a singular one that the solver refuses
    (:class:`~qtrain.linalg.SingularSystemError`) or one it did not solve to its tolerance
    (``info["converged"]`` False). Then

    * ``update="newton"``: ``theta -= lr d`` with each parameter group's step clipped to the
      group's ``max_step_norm`` (the 2-norm over all of the group's parameters jointly; groups
      are clipped separately, as they have their own ``lr`` and ``max_step_norm``);
    * ``update="sgd"``: SGD with momentum on ``d`` (``buf = momentum buf + d``);
    * ``update="adam"``: Adam on ``d``.

    Curvature: with ``model`` and ``loss_fn`` given, ``step(closure, batch=(inputs, targets))``
    builds ``curvature`` (``"hessian"``, ``"gauss-newton"`` or ``"fisher"``) by torch.func over
    ``blocking`` (``"tensor"``, ``"layer"``, ``"full"``). Without a model only the exact Hessian is
    available, taken from the closure's graph: the closure returns the loss and either calls no
    ``backward`` or ``loss.backward(create_graph=True)``; ``"layer"`` then means one block per
    parameter group.

    Args:
        params: parameters or parameter groups.
        lr: step size (> 0).
        curvature, blocking: see above.
        solver: a :class:`~qtrain.linalg.LinearSolver` or its name (``"cholesky"``, ``"cg"``,
            ``"simulated-qlsa"``, ``"scheduled"``); a ``ScheduledSolver`` logs its routing.
        regularizer, eps_n, lam, kappa_target: see :func:`qtrain.linalg.regularize`.
        update: ``"newton"``, ``"sgd"`` or ``"adam"``.
        momentum: for ``"sgd"``, in ``[0, 1)``.
        betas, adam_eps: for ``"adam"``.
        max_step_norm: clip of the Newton step of each parameter group, its joint 2-norm over
            the group's parameters (``None``: no clipping).
        weight_decay: L2 added to the gradient, ``>= 0``.
        model, loss_fn: enable torch.func curvature (``loss_fn`` reduces by the batch mean).
        seed: seed passed to the solver (stochastic solvers).

    Raises:
        ValueError: an invalid hyperparameter (``"Invalid learning rate: ..."`` etc.), or at
            ``step`` a missing closure or batch.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> x, y = torch.randn(16, 3), torch.randn(16, 1)
        >>> opt = QNewton(model.parameters(), lr=1.0, model=model,
        ...               loss_fn=torch.nn.functional.mse_loss, blocking="full")
        >>> loss = opt.step(lambda: torch.nn.functional.mse_loss(model(x), y), batch=(x, y))

    References:
        Li, Liu, Wang, Chen, arXiv:2405.00252 (Q-Newton).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, *, curvature: str = "hessian",
                 blocking: str = "tensor", solver: LinearSolver | str = "cholesky",
                 regularizer: str = "max-entry", eps_n: float = 1e-3, lam: float | None = None,
                 kappa_target: float | None = None, update: str = "newton",
                 momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999),
                 adam_eps: float = 1e-8, max_step_norm: float | None = 1.0,
                 weight_decay: float = 0.0, model: torch.nn.Module | None = None,
                 loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 seed: int = 0):
        _check_real("learning rate", lr, "> 0", lambda v: v > 0)
        _check_real("momentum value", momentum, "in [0, 1)", lambda v: 0 <= v < 1)
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas} (each must be in [0, 1))")
        for beta in betas:
            _check_real("betas", beta, "in [0, 1) each", lambda v: 0 <= v < 1)
        _check_real("adam_eps value", adam_eps, "> 0", lambda v: v > 0)
        if max_step_norm is not None:
            _check_real("max_step_norm", max_step_norm, "> 0 or None", lambda v: v > 0)
        _check_real("weight_decay value", weight_decay, ">= 0", lambda v: v >= 0)
        if update not in UPDATES:
            raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
        if curvature not in CURVATURES:
            raise ValueError(f"curvature must be one of {CURVATURES}, got {curvature!r}")
        if curvature != "hessian" and model is None:
            raise ValueError(f"curvature={curvature!r} needs model and loss_fn (per-sample "
                             "gradients or outputs); without them only 'hessian' is available")
        if (model is None) != (loss_fn is None):
            raise ValueError("model and loss_fn must be given together")
        if regularizer not in REGULARIZERS:
            raise ValueError(f"regularizer must be one of {REGULARIZERS}, got {regularizer!r}")
        if regularizer in ("max-entry", "lambda-max"):
            _check_real("eps_n value", eps_n, "> 0", lambda v: v > 0)
        make_blocks([], blocking)  # validates the name
        defaults = {"lr": lr, "momentum": momentum, "betas": tuple(betas), "adam_eps": adam_eps,
                    "max_step_norm": max_step_norm, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        self.curvature, self.blocking, self.update = curvature, blocking, update
        self.solver = get_linear_solver(solver)
        self.reg_kwargs = {"eps_n": eps_n, "lam": lam, "kappa_target": kappa_target}
        self.regularizer = regularizer
        if regularizer == "fixed":
            _check_real("lam value", lam, ">= 0 (regularizer 'fixed' needs it)", lambda v: v >= 0)
        if regularizer == "kappa-target":
            _check_real("kappa_target", kappa_target, "> 1", lambda v: v > 1)
        self.model, self.loss_fn, self.seed = model, loss_fn, seed
        self.last_info: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self._steps = 0

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"] if p.requires_grad]

    def _curvature(self, closure, batch):
        """Run the closure and return ``(loss, blocks of params, matrices, gradients, seconds of
        curvature)``."""
        params = self._params()
        with torch.enable_grad():
            loss = closure()
        t0 = time.perf_counter()
        if self.model is not None:
            names = {id(p): n for n, p in self.model.named_parameters()}
            unknown = [tuple(p.shape) for p in params if id(p) not in names]
            if unknown:
                raise ValueError(f"parameters of shapes {unknown} are not parameters of model")
            pd = {names[id(p)]: p for p in params}
            mats, grads, lays = curvature_blocks(self.model, self.loss_fn, batch[0], batch[1],
                                                 self.curvature, self.blocking, params=pd)
            blocks = [[pd[n] for n in lay.names] for lay in lays]
        else:
            if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
                raise ValueError("closure must return the loss tensor attached to its autograd "
                                 "graph (QNewton differentiates it twice)")
            blocks = graph_blocks(params, self.blocking, [g["params"] for g in self.param_groups])
            with torch.enable_grad():
                mats, grads = graph_curvature(loss, params, blocks)
        synchronize(params[0].device)
        return loss, blocks, mats, grads, time.perf_counter() - t0

    def _solve(self, mats, grads, clock: Stopwatch) -> tuple[list[torch.Tensor], dict[str, Any]]:
        """Regularise and solve every block, one solver call per block size (increasing)."""
        info: dict[str, Any] = {"solves": [], "lam": [None] * len(mats), "fallbacks": 0,
                                "zero_curvature": 0, "solver_info": []}

        def solve_size(n: int, idx: list[int]) -> list[tuple[torch.Tensor, float]]:
            systems = newton_systems(mats, grads, idx, self.regularizer, **self.reg_kwargs)
            clock.lap("formulate")
            try:
                with warnings.catch_warnings():  # unconverged blocks fall back, counted below
                    warnings.simplefilter("ignore", UnconvergedWarning)
                    res = self.solver.solve(systems.matrix, systems.rhs, seed=self.seed + self._steps,
                                            context=SolveContext(self._steps, tuple(idx)))
                ok = torch.tensor(res.info["converged_blocks"], device=res.x.device)
                x, res_info = torch.where(ok[:, None], res.x, math.nan), res.info
            except SingularSystemError as err:  # a direct solver met a singular block: gradient steps
                x = torch.full_like(systems.rhs, math.nan)
                res_info = {"solver": getattr(self.solver, "name", ""), "singular": str(err)}
            d, fallbacks = descent_directions(x, systems.rhs)
            clock.lap("solve")
            moving = systems.rhs.abs().sum(-1) > 0
            info["fallbacks"] += fallbacks + int((systems.zero & moving).sum())
            info["zero_curvature"] += int(systems.zero.sum())
            info["solves"].append({"N": n, "blocks": len(idx), "info": res_info})
            info["solver_info"].append(res_info)
            return list(zip(d, systems.lam.tolist(), strict=True))

        out = solve_by_size(list(range(len(mats))), lambda i: mats[i].shape[-1], solve_size, sort=True)
        info["lam"] = [float(lam) for _, lam in out]
        return [d for d, _ in out], info

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None,
             batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """One Q-Newton step; returns the closure's loss (before the step).

        ``last_info`` afterwards: ``timing`` (ns: ``formulate_ns`` closure, curvature and
        regularisation; ``solve_ns``; ``apply_ns``; ``total_ns``), ``solver_info`` (the linear
        solver's ``info`` per block size), ``step``, ``loss``, ``closure_s``, ``curvature_s``,
        ``solve_s``, ``block_sizes``, ``lam`` (per block), ``fallbacks`` and ``solves``.

        Raises:
            ValueError: no closure, a closure that freed its graph, a missing batch (model mode).
        """
        if closure is None:
            raise ValueError("QNewton requires a closure that re-evaluates the model and returns "
                             "the loss (like LBFGS): opt.step(closure)")
        if self.model is not None and batch is None:
            raise ValueError("batch=(inputs, targets) is required when QNewton has a model "
                             "(torch.func curvature on that batch)")
        clock = Stopwatch()
        t0 = time.perf_counter()
        with torch.enable_grad():
            loss, blocks, mats, grads, t_curv = self._curvature(closure, batch)
        thetas = [torch.cat([p.detach().reshape(-1) for p in blk]) for blk in blocks]
        decays = [torch.cat([torch.full((p.numel(),), float(self._group_of(p)["weight_decay"]),
                                        dtype=g.dtype, device=g.device) for p in blk])
                  for blk, g in zip(blocks, grads, strict=True)]
        mats, grads = add_weight_decay(mats, grads, thetas, decays)
        t1 = time.perf_counter()
        clock.lap("formulate")
        dirs, info = self._solve(mats, grads, clock)
        synchronize(grads[0].device)
        t2 = time.perf_counter()
        self._apply(blocks, dirs, grads)
        clock.lap("apply")
        self._steps += 1
        self.last_info = {"step": self._steps, "loss": float(loss), "closure_s": t1 - t0 - t_curv,
                          "curvature_s": t_curv, "solve_s": t2 - t1, "block_sizes":
                          [int(M.shape[-1]) for M in mats], **info, "timing": clock.timing()}
        self.history.append(self.last_info)
        return loss.detach()

    def __getstate__(self) -> dict[str, Any]:
        # torch.optim pickles only defaults, state and param_groups: the model, the solver and
        # the step counter must travel too, or an unpickled (deep-copied) QNewton cannot step
        return dict(self.__dict__)

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim``'s state dict plus ``"qnewton_steps"``, the step counter that seeds the
        solver (``seed + step``) and numbers a scheduler's log, so that a reloaded optimiser
        continues exactly as the original would."""
        out = super().state_dict()
        out["qnewton_steps"] = self._steps
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a :meth:`state_dict` (one without ``"qnewton_steps"``, saved before it existed,
        keeps the current counter)."""
        state_dict = dict(state_dict)
        steps = state_dict.pop("qnewton_steps", None)
        super().load_state_dict(state_dict)
        if steps is not None:
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
                raise ValueError(f"qnewton_steps must be a non-negative integer, got {steps!r}")
            self._steps = steps

    def _group_of(self, p: torch.Tensor) -> dict[str, Any]:
        for g in self.param_groups:
            if any(q is p for q in g["params"]):
                return g
        raise KeyError("parameter not in any group")

    def _apply(self, blocks, dirs, grads) -> None:
        """Write ``p.grad`` (the decayed gradient) and take each group's step."""
        per_param: dict[int, torch.Tensor] = {}
        for blk, d, g in zip(blocks, dirs, grads, strict=True):
            lay = ParamLayout(tuple(str(i) for i in range(len(blk))), tuple(tuple(p.shape) for p in blk))
            for p, part, gp in zip(blk, lay.unflatten(d).values(), lay.unflatten(g).values(), strict=True):
                per_param[id(p)] = part.to(p.dtype)
                p.grad = gp.to(p.dtype).clone()
        for group in self.param_groups:
            ps = [p for p in group["params"] if id(p) in per_param]
            if self.update == "newton":
                steps, _ = clip_by_norm([per_param[id(p)] for p in ps], group["max_step_norm"])
                for p, s in zip(ps, steps, strict=True):
                    p.add_(s, alpha=-group["lr"])
                    self.state[p]["step"] = self.state[p].get("step", 0) + 1
                continue
            for p in ps:
                p.add_(direction_step(self.update, per_param[id(p)], self.state[p], group),
                       alpha=-group["lr"])
