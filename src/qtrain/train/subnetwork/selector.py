"""Choose a register's mask with any search solver, QUBO sampler, QAOA or adiabatic evolution.

:class:`SubnetworkSelector` is the thin shell over the three stages: **formulate** (the black-box
cost vector of :func:`~qtrain.train.subnetwork.formulate.mask_costs`, or a QUBO: the exact
:func:`~qtrain.train.subnetwork.formulate.register_qubo` where it exists, else a surrogate),
**solve** (by name: a search solver of :func:`qtrain.quantum.get_search_solver`, a sampler of
:func:`qtrain.qubo.get_sampler`, ``"qaoa"`` or ``"adiabatic"``), **apply**
(:func:`apply_mask` writes the chosen bits into the layer). Every result carries the measured wall
time of each stage and, for quantum routes, the resources and the projected hardware time on a
named profile, never mixed.

Example:
    >>> from qtrain.nn import masked_mlp
    >>> net = masked_mlp([4, 5, 2], granularity="neuron", seed=0)
    >>> X, Y = torch.randn(20, 4), torch.randint(0, 2, (20,))
    >>> res = SubnetworkSelector(net, MaskRegister.of(net, 0), "durr-hoyer", loss="sse").select(X, Y, seed=0)
    >>> res.mask.shape, res.problem
    (torch.Size([5]), 'black-box')
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._info import resolve_seed
from qtrain.nn.masked import MaskedMLP, check_density
from qtrain.quantum import available_search_solvers, get_search_solver
from qtrain.quantum.adiabatic import adiabatic_evolution
from qtrain.quantum.qaoa import qaoa
from qtrain.quantum.resources import anneal_time
from qtrain.qubo import QUBO, available_samplers, get_sampler
from qtrain.train.subnetwork.formulate import (
    MaskRegister,
    density_penalty,
    fit_qubo,
    mask_bits,
    mask_costs,
    mask_losses,
    register_qubo,
    taylor_qubo,
    taylor_row_qubos,
)

__all__ = ["SelectionResult", "SubnetworkSelector", "apply_mask", "approximation_ratio", "routes", "select_layerwise"]

_QUBOS = ("auto", "exact", "taylor", "fit")


def routes() -> list[str]:
    """Every solver name the selector accepts: search solvers, samplers, ``qaoa``, ``adiabatic``."""
    return sorted({*available_search_solvers(), *available_samplers(), "qaoa", "adiabatic"})


def apply_mask(model: MaskedMLP, register: MaskRegister, bits: Any) -> torch.Tensor:
    """Write the register's 0/1 ``bits [k]`` into its layer's mask; returns the new mask.

    Raises:
        ValueError: ``bits`` of the wrong length or not 0/1.
    """
    b = torch.as_tensor(bits).reshape(-1)
    if b.shape[0] != register.k or not bool(((b == 0) | (b == 1)).all()):
        raise ValueError(f"bits must be a 0/1 vector of length k={register.k}")
    layer = model.layers[register.layer]
    m = layer.mask.reshape(-1).clone()
    m[list(register.bits)] = b.to(m.dtype, copy=False).to(m.device)
    layer.mask = m.reshape(layer.mask.shape)
    return layer.mask


def approximation_ratio(value: float, costs: torch.Tensor) -> float:
    """``(C_max - value) / (C_max - C_min)``: 1 at the optimum, 0 at the worst mask (1 for a
    constant cost)."""
    lo, hi = float(costs.min()), float(costs.max())
    return 1.0 if hi == lo else (hi - float(value)) / (hi - lo)


@dataclass
class SelectionResult:
    """A chosen mask and how it was found.

    Attributes:
        mask: the register's bits (0/1 float ``[k]``); ``state``: their index ``sum_j m_j 2^j``.
        loss: the black-box validation loss of that mask (the selector's loss).
        route: the solver's name; ``problem``: ``"black-box"`` or ``"qubo"``.
        info: ``formulate_s``, ``solve_s``, ``wall_s`` (measured), ``oracle_calls`` or
            ``evaluations``, ``success_probability`` where the route has one, ``resources`` and
            ``projected_time_s`` on ``profile`` (quantum routes), ``qubo`` (its kind), and the
            solver's own ``solver_info``.
    """

    mask: torch.Tensor
    state: int
    loss: float
    route: str
    problem: str
    info: dict[str, Any] = field(default_factory=dict)


class SubnetworkSelector:
    """Select a register's mask with one named solver.

    Args:
        model: a :class:`~qtrain.nn.MaskedMLP`.
        register: the :class:`~qtrain.train.subnetwork.MaskRegister` to choose.
        solver: a name of :func:`routes` (or a search-solver / sampler instance).
        problem: ``"black-box"`` (the cost of every mask) or ``"qubo"``; default: black-box for
            search solvers and ``adiabatic``, QUBO for samplers (``qaoa`` is a sampler too; pass
            ``problem="black-box"`` for QAOA on the diagonal cost).
        loss: ``"cross-entropy"``, ``"sse"`` or ``"mse"`` (the exact QUBO is the ``sse`` loss).
        qubo: ``"auto"`` (exact where it exists, else ``taylor``), ``"exact"``, ``"taylor"`` or
            ``"fit"`` (least squares on ``fit_samples`` random masks).
        density: optional fraction kept: a filter on the black box, a penalty
            ``lam (sum m - round(density k))^2`` on the QUBO.
        lam: the penalty's weight (default: the QUBO's largest absolute entry).
        params: solver parameters (``threshold``, ``num_reads``, ``p``, ``T``, ...).
        profile: hardware profile of the projected times.
        device: where the costs are computed.

    Raises:
        ValueError: an unknown solver or problem, ``density`` outside ``(0, 1]``.
    """

    def __init__(self, model: MaskedMLP, register: MaskRegister, solver: Any = "durr-hoyer", *,
                 problem: str | None = None, loss: str = "cross-entropy", qubo: str = "auto",
                 density: float | None = None, lam: float | None = None, params: dict[str, Any] | None = None,
                 profile: str = "superconducting-today", fit_samples: int | None = None, device: Any = "cpu"):
        names = routes()
        if isinstance(solver, str) and solver not in names:
            raise ValueError(f"unknown solver {solver!r}; choose one of {names}")
        self.kind = self._kind(solver)
        default = "qubo" if self.kind in ("sampler", "qaoa") else "black-box"
        self.problem = problem or default
        if self.problem not in ("black-box", "qubo"):
            raise ValueError(f"problem must be 'black-box' or 'qubo', got {problem!r}")
        if self.kind == "search" and self.problem == "qubo":
            raise ValueError("search solvers take the black-box cost vector (problem='black-box')")
        if qubo not in _QUBOS:
            raise ValueError(f"qubo must be one of {_QUBOS}, got {qubo!r}")
        self.model, self.register, self.solver = model, register, solver
        self.loss, self.qubo, self.lam = loss, qubo, lam
        self.density = None if density is None else check_density(density)
        self.params = dict(params or {})
        self.profile, self.fit_samples, self.device = profile, fit_samples, device

    @staticmethod
    def _kind(solver: Any) -> str:
        if solver in ("qaoa", "adiabatic"):
            return str(solver)
        if isinstance(solver, str):
            return "search" if solver in available_search_solvers() else "sampler"
        from qtrain.quantum import SearchSolver

        return "search" if isinstance(solver, SearchSolver) else "sampler"

    # ---------------------------------------------------------------- formulate
    def formulate_qubo(self, X: Any, Y: Any, seed: int = 0) -> tuple[QUBO, str]:
        """The QUBO of the register (and its kind), with the density penalty when asked for."""
        reg, kind = self.register, self.qubo
        if kind == "auto":
            exact = reg.kind == "neuron" and reg.layer == len(self.model.layers) - 2 and self.loss == "sse"
            kind = "exact" if exact else "taylor"
        if kind == "exact":
            q = register_qubo(self.model, reg, X, Y, device=self.device)
        elif kind == "taylor":
            q = taylor_qubo(self.model, reg, X, Y, loss=self.loss, device=self.device)
        else:
            S = self.fit_samples or 4 * (1 + reg.k * (reg.k + 1) // 2)
            g = torch.Generator().manual_seed(seed)
            masks = torch.randint(0, 2, (S, reg.k), generator=g).to(torch.float64)
            q = fit_qubo(masks, mask_losses(self.model, reg, X, Y, masks, loss=self.loss, device=self.device).cpu())
        if self.density is not None:
            kept = round(self.density * reg.k)
            lam = self.lam if self.lam is not None else float(q.Q.abs().max())
            q = density_penalty(q, kept, lam)
        return q, kind

    # ---------------------------------------------------------------- the three stages
    def select(self, X: Any, Y: Any, seed: int | None = None, apply: bool = False,
               costs: torch.Tensor | None = None) -> SelectionResult:
        """Formulate, solve and (when ``apply``) write the mask into the model.

        Args:
            X, Y: validation data (see :func:`~qtrain.train.subnetwork.formulate.mask_costs`).
            seed: the solver's seed (``None``: fresh entropy, recorded in ``info["seed"]``).
            apply: write the chosen bits into the layer.
            costs: a black-box cost vector already computed for this register (reused, not timed).
        """
        seed = resolve_seed(seed)
        t0 = time.perf_counter()
        table = None
        extra: dict[str, Any] = {"seed": seed}
        if self.problem == "black-box":
            table = costs if costs is not None else mask_costs(
                self.model, self.register, X, Y, loss=self.loss, density=self.density, device=self.device).costs
            target: Any = table
        else:
            target, extra["qubo"] = self.formulate_qubo(X, Y, seed)
        t1 = time.perf_counter()
        bits, solved = self._solve(target, seed)
        t2 = time.perf_counter()
        state = sum(1 << j for j, b in enumerate(bits.tolist()) if b)  # a Python int: registers may exceed 63 bits
        if table is not None:
            loss = float(table[state])
        else:
            loss = float(mask_losses(self.model, self.register, X, Y, bits[None], loss=self.loss,
                                     device=self.device)[0])
        if apply:
            apply_mask(self.model, self.register, bits)
        t3 = time.perf_counter()
        info = {**extra, **solved, "formulate_s": t1 - t0, "solve_s": t2 - t1, "wall_s": t3 - t0}
        return SelectionResult(bits, state, loss, self.solver if isinstance(self.solver, str)
                               else self.solver.name, self.problem, info)

    def _solve(self, target: Any, seed: int) -> tuple[torch.Tensor, dict[str, Any]]:
        """The chosen register bits (float64 ``[k]``, CPU) and the route's info."""
        p = dict(self.params)
        k = self.register.k
        if self.kind == "search":
            res = get_search_solver(self.solver).search(target, seed=seed, **p)
            info = {k: v for k, v in res.info.items() if k != "timing"}
            out = {"solver_info": info, "oracle_calls": info.get("oracle_calls", info.get("evaluations")),
                   "success_probability": info.get("success_probability")}
            return mask_bits(int(res.index), k).cpu(), {**out, **_projected(info.get("resources"))}
        if self.kind == "qaoa" and self.problem == "black-box":
            res = qaoa(target, p=p.pop("p", 1), seed=seed, **p)
            info = {"expectation": float(res.expectation), "approximation_ratio":
                    approximation_ratio(float(res.expectation), target.cpu()),
                    "success_probability": float(res.success_probability), "oracle_calls": res.oracle_calls,
                    "layers": res.info["p"]}
            return mask_bits(int(res.index), k).cpu(), {**info, **_projected(res.resources.to_dict(self.profile))}
        if self.kind == "adiabatic":
            res = adiabatic_evolution(target, T=float(p.pop("T", 20.0)), **p)
            info = {"success_probability": float(res.success_probability), "T": res.T, "steps": res.steps,
                    "oracle_calls": res.steps, "mixer": res.mixer}
            return mask_bits(int(res.index), k).cpu(), {**info, **_projected(res.resources.to_dict(self.profile))}
        sampler = get_sampler(self.solver)
        res = sampler.sample_qubo_batch(target, seed=seed, **p)
        info = {k: v for k, v in res.info.items() if k != "timing"}
        prob = info.get("success_probability")
        out = {"solver_info": info, "num_reads": info.get("num_reads"), "energy": float(res.energy),
               "success_probability": prob[0] if isinstance(prob, list) and len(prob) == 1 else prob}
        if sampler.name == "qaoa":  # the ratio of <C> against the enumerated energies
            from qtrain.qubo.exact import enumerate_energies

            energies = enumerate_energies(target.to(torch.float64)).reshape(-1)
            out["approximation_ratio"] = approximation_ratio(float(info["expectation"][0]), energies)
        if "resources" in info and isinstance(info["resources"], dict) and "projected_time_s" in info["resources"]:
            out.update(_projected(info["resources"]))
        elif sampler.name == "dwave":
            out["projected_time_s"] = anneal_time(int(info["num_reads"]))
            out["profile"] = "annealer-today"
        return res.sample.to(torch.float64).reshape(-1).cpu(), out


def _projected(resources: dict[str, Any] | None) -> dict[str, Any]:
    if not resources:
        return {}
    t = resources.get("projected_time_s")
    return {"resources": resources, "projected_time_s": None if t is None or not math.isfinite(t) else t,
            "profile": resources.get("profile")}


def _repair_rows(bits: torch.Tensor, Q: torch.Tensor, kept: int) -> torch.Tensor:
    """Make every row keep exactly ``kept`` bits: drop the kept bits of largest linear cost, or
    add the dropped bits of smallest (the diagonal of each row's QUBO)."""
    d = torch.diagonal(Q, dim1=-2, dim2=-1)
    out = bits.clone()
    for o in range(bits.shape[0]):
        have = int(out[o].sum())
        if have > kept:
            on = torch.nonzero(out[o]).squeeze(-1)
            out[o, on[torch.topk(d[o, on], have - kept).indices]] = 0
        elif have < kept:
            off = torch.nonzero(out[o] == 0).squeeze(-1)
            out[o, off[torch.topk(-d[o, off], kept - have).indices]] = 1
    return out


def select_layerwise(model: MaskedMLP, X: Any, Y: Any, density: float, *, sampler: Any = "anneal",
                     rounds: int = 2, loss: str = "cross-entropy", samples: int | None = 256,
                     penalty: float = 0.1, params: dict[str, Any] | None = None, seed: int = 0,
                     device: Any = "cpu") -> dict[str, Any]:
    r"""Weight masks of every layer by a QUBO sampler on the Taylor surrogate, layer by layer,
    iterated: expand around the current masks, select, re-expand, select (``rounds`` passes).

    Each layer's problem is the batch of per-row QUBOs of
    :func:`~qtrain.train.subnetwork.formulate.taylor_row_qubos` plus
    ``lam_o (sum_i m_oi - kept)^2`` per row (``kept = round(density * in)``, ``lam_o`` =
    ``penalty`` times the row's largest absolute QUBO entry: a soft count, since the repair
    below enforces it; the default 0.1 is the choice of the validation protocol of
    ``subnet-digits-tune`` (:mod:`qtrain.bench.subnetwork.digits_tune`; at ``penalty = 1`` the
    count term drowns the loss terms: mean validation accuracy 0.36-0.47 against 0.73 at 0.1),
    solved in one batched sampler call; rows off the count
    are repaired to exactly ``kept`` bits by their linear terms, so every row keeps exactly
    ``density`` of its inputs. Masks start all kept.

    Returns:
        ``{"sampler_calls", "solve_s", "variables": per layer, "rounds"}``; the model's masks
        hold the selection.

    Raises:
        ValueError: ``density`` outside ``(0, 1]``, ``rounds < 1``, ``penalty < 0``.
    """
    density = check_density(density)
    if not penalty >= 0:
        raise ValueError(f"penalty must be >= 0, got {penalty!r}")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    s = get_sampler(sampler)
    calls, solve_s, sizes = 0, 0.0, []
    for r in range(rounds):
        for li, layer in enumerate(model.layers):
            q = taylor_row_qubos(model, li, X, Y, loss=loss, samples=samples, seed=seed + r, device=device)
            kept = max(1, round(density * layer.in_features))
            n = q.num_variables
            lam = penalty * q.Q.abs().amax((-1, -2))[:, None, None]
            eye = torch.eye(n, dtype=q.dtype)
            pen = QUBO(q.Q + lam * (torch.ones(n, n, dtype=q.dtype) - 2 * kept * eye),
                       q.offset + lam[:, 0, 0] * kept**2)
            t = time.perf_counter()
            res = s.sample_qubo_batch(pen, seed=seed + 1000 * r + li, **(params or {}))
            solve_s += time.perf_counter() - t
            calls += 1
            layer.mask = _repair_rows(res.sample.to(torch.float64), q.Q, kept).to(layer.mask.dtype)
            if r == 0:
                sizes.append([q.num_problems, n])
    return {"sampler_calls": calls, "solve_s": solve_s, "variables": sizes, "rounds": rounds}
