"""Shared parts of the Q-Newton benchmarks: the four training methods on one loop and the
projected-time accounting (measured classical work + routed solve costs)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from qtrain.linalg import (
    ClassicalCostModel,
    QLSACostModel,
    ScheduledSolver,
    SimulatedQLSASolver,
    reprice,
)
from qtrain.quantum.resources import get_profile
from qtrain.train import QNewton
from qtrain.train.loop import fit_steps

__all__ = ["METHODS", "PROFILES", "projected_times", "train"]

METHODS = ("sgd", "adam", "newton", "qnewton")
#: Profiles the projected hybrid time is reported under (defined in qtrain.quantum.resources).
PROFILES = ("superconducting-today", "today", "optimistic", "attosecond")


def make_optimizer(method: str, model: nn.Module, loss_fn, params: dict[str, Any],
                   device: str) -> torch.optim.Optimizer:
    """SGD-momentum, Adam, classical Newton (Cholesky) or Q-Newton (scheduled solves)."""
    if method == "sgd":
        return torch.optim.SGD(model.parameters(), lr=params["lr_sgd"], momentum=0.9)
    if method == "adam":
        return torch.optim.Adam(model.parameters(), lr=params["lr_adam"])
    common = {"lr": params["lr_newton"], "curvature": params["curvature"],
              "blocking": params["blocking"], "eps_n": params["eps_n"],
              "update": params.get("update", "newton"), "max_step_norm": params["max_step_norm"],
              "model": model, "loss_fn": loss_fn}
    if method == "newton":
        return QNewton(model.parameters(), solver="cholesky", **common)
    solver = ScheduledSolver(
        quantum=SimulatedQLSASolver(perturb=True, eps=params["qlsa_eps"]),
        quantum_cost=QLSACostModel(profile=params["route_profile"], eps=params["qlsa_eps"]),
        classical_cost=ClassicalCostModel("measured", device=device, repeats=3),
        policy="threshold", kappa_threshold=1e4, kappa_method=params["kappa_method"],
        sparsify_k=params.get("sparsify_k"))
    return QNewton(model.parameters(), solver=solver, **common)


def train(method: str, model: nn.Module, loss_fn: Callable, data: dict[str, torch.Tensor],
          params: dict[str, Any], seed: int, device: str,
          evaluate: Callable[[nn.Module], dict[str, float]]) -> dict[str, Any]:
    """Train for ``params["steps"]`` mini-batch steps; evaluate every ``params["eval_every"]``.

    Returns metrics: ``loss_curve``, ``eval_steps`` and the ``evaluate`` curves, final values,
    measured ``wall_s``; for the Newton methods the per-step measured times and, for Q-Newton,
    the scheduler's log summarised (kappa and d per step, fraction routed quantum).
    """
    opt = make_optimizer(method, model, loss_fn, params, device)
    run = fit_steps(opt, model, loss_fn, data["train_inputs"], data["train_targets"],
                    steps=params["steps"], batch=params["batch"], eval_every=params["eval_every"],
                    seed=seed, evaluate=evaluate, newton=isinstance(opt, QNewton), device=device)
    losses, evals = run.losses, run.evals
    out: dict[str, Any] = {"wall_s": run.wall_s, "loss_curve": losses,
                           "eval_steps": run.eval_steps, "final_train_loss": losses[-1]}
    for k, v in evals.items():
        out[f"{k}_curve"] = v
        out[f"final_{k}"] = v[-1]
    if isinstance(opt, QNewton):
        h = opt.history
        out.update(closure_s=sum(i["closure_s"] for i in h),
                   curvature_s=sum(i["curvature_s"] for i in h),
                   solve_s=sum(i["solve_s"] for i in h),
                   fallbacks=sum(i["fallbacks"] for i in h),
                   max_block=max(h[0]["block_sizes"]), blocks=len(h[0]["block_sizes"]))
        if isinstance(opt.solver, ScheduledSolver):
            out.update(schedule_summary(opt.solver.log, params["steps"]))
            est = [s["info"]["kappa_estimate_cost"]["time_ns"] for i in h for s in i["solves"]]
            out["kappa_estimate_s"] = sum(est) / 1e9
            out["schedule"] = [{k: r[k] for k in ("step", "N", "kappa", "d", "cost_classical_s")}
                               for r in opt.solver.log]
            out.update(projected_times(out))
    return out


def schedule_summary(log: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    """Per-step median and max kappa, max d, and the fraction of solves routed quantum."""
    kap_med, kap_max, d_max = [], [], []
    for s in range(steps):
        rs = [r for r in log if r["step"] == s]
        k = torch.tensor([r["kappa"] for r in rs], dtype=torch.float64)
        kap_med.append(float(k.median()))
        kap_max.append(float(k.max()))
        d_max.append(max(r["d"] for r in rs))
    q = sum(r["route"] == "quantum" for r in log)
    return {"kappa_median_curve": kap_med, "kappa_max_curve": kap_max, "d_max_curve": d_max,
            "quantum_fraction": q / max(1, len(log)),
            "kappa_drop": kap_med[0] / kap_med[-1] if kap_med[-1] > 0 else math.inf}


def projected_times(run: dict[str, Any], eps: float = 0.01) -> dict[str, float]:
    """Projected hybrid training time per profile, with and without read-out, relative to the
    classical Newton time of the same run (same clock).

    classical = forward/backward + curvature + sum of measured Cholesky times per block;
    hybrid(P) = forward/backward + curvature + kappa estimation + sum over blocks of the routed
    branch's cost under profile P (a block goes quantum iff cheaper and kappa <= 1e4).
    """
    records = [{**r, "N": r["N"], "d": r["d"]} for r in run["schedule"]]
    base = run["closure_s"] + run["curvature_s"]
    classical = base + sum(r["cost_classical_s"] for r in records)
    out = {"projected_classical_s": classical}
    for p in PROFILES:
        get_profile(p)
        for readout in (False, True):
            rp = reprice(records, QLSACostModel(profile=p, eps=eps, readout=readout))
            hybrid = base + run["kappa_estimate_s"] + rp["hybrid_solve_s"]
            tag = f"{p}{'+readout' if readout else ''}"
            out[f"ratio:{tag}"] = hybrid / classical
            out[f"qfrac:{tag}"] = rp["quantum_fraction"]
            # the paper's accounting: the linear solves alone
            out[f"solve_ratio:{tag}"] = rp["hybrid_solve_s"] / max(rp["classical_solve_s"], 1e-300)
    # the floor: solves and kappa estimation free, what curvature and backprop leave
    out["ratio:free-solves"] = base / classical
    return out
