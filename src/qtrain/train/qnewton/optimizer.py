"""Q-Newton (arXiv:2405.00252): Newton training whose per-block linear solves go to a quantum or a
classical solver, with condition-number control and sparsification.

A step: evaluate the closure; build curvature blocks ``C_b`` (exact Hessian from the closure's
graph, or Hessian / Gauss-Newton / empirical Fisher of ``model`` on a batch by torch.func);
regularise ``C_b + lam_b I``; solve ``(C_b + lam_b I) d_b = g_b`` for all blocks of one size in
one batched call of the linear solver (``ScheduledSolver`` routes each block); then apply ``d``
either as a damped, clipped Newton step or as the gradient fed to SGD-momentum or Adam (as the
published experiments did). The maths of the update is in pure functions; :class:`QNewton` is a
thin ``torch.optim.Optimizer`` shell.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import torch

from qtrain._device import synchronize
from qtrain.linalg import (
    CURVATURES,
    REGULARIZERS,
    LinearSolver,
    ParamLayout,
    ScheduledSolver,
    curvature_blocks,
    get_linear_solver,
    make_blocks,
    regularize,
)

__all__ = ["UPDATES", "QNewton", "adam_update", "clip_by_norm", "momentum_update"]

UPDATES = ("newton", "sgd", "adam")


def clip_by_norm(steps: list[torch.Tensor], max_norm: float | None) -> tuple[list[torch.Tensor],
                                                                                float]:
    """Scale ``steps`` so their joint 2-norm is at most ``max_norm``; returns ``(steps, norm)``."""
    norm = float(torch.sqrt(sum((s.double() ** 2).sum() for s in steps))) if steps else 0.0
    if max_norm is None or norm <= max_norm:
        return steps, norm
    return [s * (max_norm / norm) for s in steps], norm


def momentum_update(d: torch.Tensor, buf: torch.Tensor | None, momentum: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Heavy ball on direction ``d``: ``buf = momentum buf + d``; returns ``(step, buf)``."""
    buf = d.clone() if buf is None else buf.mul(momentum).add_(d)
    return buf, buf


def adam_update(d: torch.Tensor, m: torch.Tensor, v: torch.Tensor, t: int,
                betas: tuple[float, float], eps: float) -> torch.Tensor:
    """Adam (Kingma & Ba, arXiv:1412.6980) on direction ``d``; updates ``m``, ``v`` in place and
    returns ``m_hat / (sqrt(v_hat) + eps)``."""
    b1, b2 = betas
    m.mul_(b1).add_(d, alpha=1 - b1)
    v.mul_(b2).addcmul_(d, d, value=1 - b2)
    return (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)


def _hessian_from_graph(grads: list[torch.Tensor], params: list[torch.Tensor]) -> torch.Tensor:
    """``d^2 L / d theta^2`` of one block from gradients that carry their graph (one batched
    vector-Jacobian product over the identity; a loop where the ops do not batch)."""
    g = torch.cat([x.reshape(-1) for x in grads])
    eye = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
    try:
        rows = torch.autograd.grad(g, params, eye, retain_graph=True, is_grads_batched=True,
                                   allow_unused=True)
        rows = [torch.zeros(g.numel(), *p.shape, dtype=g.dtype, device=g.device) if r is None
                else r for r, p in zip(rows, params, strict=True)]
        H = torch.cat([r.reshape(g.numel(), -1) for r in rows], 1)
    except RuntimeError:
        out = []
        for i in range(g.numel()):
            r = torch.autograd.grad(g[i], params, retain_graph=True, allow_unused=True)
            out.append(torch.cat([torch.zeros_like(p).reshape(-1) if x is None else x.reshape(-1)
                                  for x, p in zip(r, params, strict=True)]))
        H = torch.stack(out)
    return 0.5 * (H + H.mT).detach()


class QNewton(torch.optim.Optimizer):
    r"""Newton's method with scheduled quantum/classical linear solves (Q-Newton).

    Per block ``b`` of parameters: ``d_b = (C_b + lam_b I)^{-1} g_b`` with ``C_b`` the curvature
    and ``lam_b`` from ``regularizer`` (default the published ``eps_n max|C_ij|``); a block whose
    direction is not a descent direction (``g_b . d_b <= 0``, possible for an indefinite Hessian)
    or not finite falls back to ``d_b = g_b`` (counted in :attr:`last_info`). Then

    * ``update="newton"``: ``theta -= lr d`` with the joint step clipped to ``max_step_norm``;
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
        max_step_norm: clip of the joint Newton step (``None``: no clipping).
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
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr} (must be > 0)")
        if not 0 <= momentum < 1:
            raise ValueError(f"Invalid momentum value: {momentum} (must be in [0, 1))")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Invalid betas: {betas} (each must be in [0, 1))")
        if not adam_eps > 0:
            raise ValueError(f"Invalid adam_eps value: {adam_eps} (must be > 0)")
        if max_step_norm is not None and not max_step_norm > 0:
            raise ValueError(f"Invalid max_step_norm: {max_step_norm} (must be > 0 or None)")
        if not weight_decay >= 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
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
        if regularizer in ("max-entry", "lambda-max") and not eps_n > 0:
            raise ValueError(f"Invalid eps_n value: {eps_n} (must be > 0)")
        make_blocks([], blocking)  # validates the name
        defaults = {"lr": lr, "momentum": momentum, "betas": tuple(betas), "adam_eps": adam_eps,
                    "max_step_norm": max_step_norm, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        self.curvature, self.blocking, self.update = curvature, blocking, update
        self.solver = get_linear_solver(solver)
        self.reg_kwargs = {"eps_n": eps_n, "lam": lam, "kappa_target": kappa_target}
        self.regularizer = regularizer
        if regularizer == "fixed" and (lam is None or lam < 0):
            raise ValueError(f"Invalid lam value: {lam} (regularizer 'fixed' needs lam >= 0)")
        if regularizer == "kappa-target" and (kappa_target is None or not kappa_target > 1):
            raise ValueError(f"Invalid kappa_target: {kappa_target} (must be > 1)")
        self.model, self.loss_fn, self.seed = model, loss_fn, seed
        self.last_info: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self._steps = 0

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"] if p.requires_grad]

    def _curvature(self, closure, batch):
        """Run the closure and return ``(loss, blocks of params, matrices, gradients)``."""
        params = self._params()
        if self.model is not None:
            if batch is None:
                raise ValueError("batch=(inputs, targets) is required when QNewton has a model "
                                 "(torch.func curvature on that batch)")
            with torch.enable_grad():
                loss = closure()
            names = {id(p): n for n, p in self.model.named_parameters()}
            unknown = [tuple(p.shape) for p in params if id(p) not in names]
            if unknown:
                raise ValueError(f"parameters of shapes {unknown} are not parameters of model")
            pd = {names[id(p)]: p for p in params}
            t0 = time.perf_counter()
            mats, grads, lays = curvature_blocks(self.model, self.loss_fn, batch[0], batch[1],
                                                 self.curvature, self.blocking, params=pd)
            blocks = [[pd[n] for n in lay.names] for lay in lays]
        else:
            with torch.enable_grad():
                loss = closure()
            if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
                raise ValueError("closure must return the loss tensor attached to its autograd "
                                 "graph (QNewton differentiates it twice)")
            t0 = time.perf_counter()
            try:
                gl = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
            except RuntimeError as err:
                raise ValueError("closure freed the graph: call loss.backward(create_graph=True) "
                                 "or no backward at all in a QNewton closure") from err
            gl = [torch.zeros_like(p) if g is None else g for p, g in zip(params, gl, strict=True)]
            gmap = {id(p): g for p, g in zip(params, gl, strict=True)}
            if self.blocking == "tensor":
                blocks = [[p] for p in params]
            elif self.blocking == "full":
                blocks = [params]
            else:
                blocks = [[p for p in g["params"] if p.requires_grad] for g in self.param_groups]
                blocks = [b for b in blocks if b]
            mats, grads = [], []
            for blk in blocks:
                gb = [gmap[id(p)] for p in blk]
                mats.append(_hessian_from_graph(gb, blk))
                grads.append(torch.cat([g.reshape(-1) for g in gb]).detach())
        synchronize(params[0].device)
        return loss, blocks, mats, grads, time.perf_counter() - t0

    def _directions(self, mats, grads) -> tuple[list[torch.Tensor], dict[str, Any]]:
        """Regularise and solve every block (one solver call per block size)."""
        by_size: dict[int, list[int]] = {}
        for i, M in enumerate(mats):
            by_size.setdefault(M.shape[-1], []).append(i)
        dirs: list[torch.Tensor] = [torch.empty(0)] * len(mats)
        info: dict[str, Any] = {"solves": [], "lam": [None] * len(mats), "fallbacks": 0}
        for n, idx in sorted(by_size.items()):
            A = torch.stack([mats[i] for i in idx])
            b = torch.stack([grads[i] for i in idx])
            reg = regularize(A, self.regularizer, **self.reg_kwargs)
            kw = {"block_ids": idx, "step": self._steps} \
                if isinstance(self.solver, ScheduledSolver) else {}
            res = self.solver.solve(reg.matrix, b, seed=self.seed + self._steps, **kw)
            x = res.x
            bad = ~torch.isfinite(x).all(-1) | ((x * b).sum(-1) <= 0)
            info["fallbacks"] += int((bad & (b.abs().sum(-1) > 0)).sum())
            x = torch.where(bad.unsqueeze(-1), b, x)
            for j, i in enumerate(idx):
                dirs[i] = x[j]
                info["lam"][i] = float(reg.lam[j])
            info["solves"].append({"N": n, "blocks": len(idx), "info": res.info})
        return dirs, info

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None,
             batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """One Q-Newton step; returns the closure's loss (before the step).

        Raises:
            ValueError: no closure, a closure that freed its graph, a missing batch (model mode).
        """
        if closure is None:
            raise ValueError("QNewton requires a closure that re-evaluates the model and returns "
                             "the loss (like LBFGS): opt.step(closure)")
        t0 = time.perf_counter()
        with torch.enable_grad():
            loss, blocks, mats, grads, t_curv = self._curvature(closure, batch)
        t1 = time.perf_counter()
        for i, (blk, g) in enumerate(zip(blocks, grads, strict=True)):
            # L2 weight decay (wd/2) ||theta||^2: wd theta joins the gradient, wd I the curvature
            wd = torch.cat([torch.full((p.numel(),), float(self._group_of(p)["weight_decay"]),
                                       dtype=g.dtype, device=g.device) for p in blk])
            if bool((wd > 0).any()):
                g.add_(wd * torch.cat([p.detach().reshape(-1).to(g.dtype) for p in blk]))
                mats[i] = mats[i] + torch.diag(wd)
        dirs, info = self._directions(mats, grads)
        synchronize(grads[0].device)
        t2 = time.perf_counter()
        per_param: dict[int, torch.Tensor] = {}
        for blk, d in zip(blocks, dirs, strict=True):
            lay = ParamLayout(tuple(str(i) for i in range(len(blk))),
                              tuple(tuple(p.shape) for p in blk))
            for p, part in zip(blk, lay.unflatten(d).values(), strict=True):
                per_param[id(p)] = part.to(p.dtype)
        self._apply(per_param, blocks, grads)
        self._steps += 1
        self.last_info = {"step": self._steps, "loss": float(loss), "closure_s": t1 - t0 - t_curv,
                          "curvature_s": t_curv, "solve_s": t2 - t1, "block_sizes":
                          [int(M.shape[-1]) for M in mats], **info}
        self.history.append(self.last_info)
        return loss.detach()

    def _group_of(self, p: torch.Tensor) -> dict[str, Any]:
        for g in self.param_groups:
            if any(q is p for q in g["params"]):
                return g
        raise KeyError("parameter not in any group")

    def _apply(self, per_param, blocks, grads) -> None:
        for blk, g in zip(blocks, grads, strict=True):
            off = 0
            for p in blk:
                k = p.numel()
                p.grad = g[off:off + k].reshape(p.shape).to(p.dtype).clone()
                off += k
        for group in self.param_groups:
            ps = [p for p in group["params"] if id(p) in per_param]
            if self.update == "newton":
                steps, _ = clip_by_norm([per_param[id(p)] for p in ps], group["max_step_norm"])
                for p, s in zip(ps, steps, strict=True):
                    p.add_(s, alpha=-group["lr"])
                    self.state[p]["step"] = self.state[p].get("step", 0) + 1
                continue
            for p in ps:
                st, d = self.state[p], per_param[id(p)]
                st["step"] = st.get("step", 0) + 1
                if self.update == "sgd":
                    s, st["momentum_buffer"] = momentum_update(d, st.get("momentum_buffer"),
                                                               group["momentum"])
                else:
                    if "exp_avg" not in st:
                        st["exp_avg"], st["exp_avg_sq"] = torch.zeros_like(d), torch.zeros_like(d)
                    s = adam_update(d, st["exp_avg"], st["exp_avg_sq"], st["step"],
                                    group["betas"], group["adam_eps"])
                p.add_(s, alpha=-group["lr"])
