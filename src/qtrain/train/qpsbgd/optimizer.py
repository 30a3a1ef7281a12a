"""QP-SBGD: a layer-wise optimiser for binary networks whose steps are QUBOs.

Each step: capture every binary layer's inputs ``X`` and output gradients ``G`` (hooks), build one
``QUBO`` batch per layer with :mod:`qtrain.train.qpsbgd.formulate` (formulate), solve all layers'
neurons in one sampler call per QUBO size (solve), decode, and update the weights (apply).

Reference: Krahn, Sasdelli, Yang, Golyanik, Kannala, Chin, Birdal, "Projected Stochastic Gradient
Descent with Quantum Annealed Binary Gradients", arXiv:2310.15128.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from qtrain.nn.binary import BinaryLinear, binarize, binary_layers
from qtrain.qubo import QUBO, QUBOSampler, get_sampler
from qtrain.train.qpsbgd.formulate import (
    binary_gradient_qubo,
    normalize_gradients,
    projected_flip_qubo,
    quadratic_direction_qubo,
    refine_directions,
    sign_objective,
)
from qtrain.train.qpsbgd.milp import sign_directions_milp

__all__ = ["QPSBGD", "binary_gradient_qubo"]

_OBJECTIVES = ("sign", "quadratic")
_CURVATURES = ("fisher", "diagonal")
_FORMULATIONS = ("qubo", "milp")


class _Capture:
    """Forward/backward hooks on one :class:`BinaryLinear`: its last input and output gradient."""

    def __init__(self, name: str, layer: BinaryLinear):
        self.name, self.layer = name, layer
        self.X: torch.Tensor | None = None
        self.G: torch.Tensor | None = None
        self.handle = layer.register_forward_hook(self._forward)

    def _forward(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if not (torch.is_grad_enabled() and output.requires_grad):
            return
        self.X = inputs[0].detach().reshape(-1, module.in_features)
        self.G = None
        output.register_hook(self._backward)

    def _backward(self, grad: torch.Tensor) -> None:
        self.G = grad.detach().reshape(-1, self.layer.out_features)


def _split_rows(X: torch.Tensor, G: torch.Tensor, size: int
                ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Rows of ``X`` ``[B, n]`` and ``G`` ``[B, m]`` split into ``C = ceil(B / size)`` chunks of
    equal size ``k = ceil(B / C)`` (the last padded with repeated rows of zero gradient, which
    leave every neuron's objective unchanged): per-(chunk, neuron) inputs ``[C m, k, n]`` and
    gradients ``[k, C m]`` (column ``c m + j`` is neuron ``j`` on chunk ``c``), and ``C``."""
    B, n = X.shape
    m = G.shape[1]
    C = -(-B // size)
    k = -(-B // C)
    pad = C * k - B
    if pad:
        X = torch.cat([X, X[:pad]])
        G = torch.cat([G, G.new_zeros(pad, m)])
    Xc = X.reshape(C, k, n)[:, None].expand(C, m, k, n).reshape(C * m, k, n)
    Gc = G.reshape(C, k, m).permute(1, 0, 2).reshape(k, C * m)
    return Xc, Gc, C


class QPSBGD(torch.optim.Optimizer):
    r"""Quantum-annealed binary-gradient descent for binary layers (:class:`~qtrain.nn.BinaryLinear`).

    Per layer and step, with captured inputs ``X`` (``B x n``, +-1) and output gradients ``G``
    (``B x m``), every neuron ``j`` gets a binary direction ``d_j in {-1, +1}^n`` from a QUBO:

    * ``objective="sign"`` (the paper's): ``d_j = argmax sum_i G_ij sign(x_i . d + eps)``
      (:func:`~qtrain.train.qpsbgd.formulate.binary_gradient_qubo`), then ``W_j <- W_j - lr d_j``;
    * ``objective="quadratic"``: ``d_j = argmin -lr g_j . d + lr^2/2 d^T H_j d`` with ``g_j`` the
      weight gradient and ``H_j = s^2 B X^T diag(G_j^2) X`` the empirical-Fisher block
      (``curvature="fisher"``) or its diagonal (which reduces to signSGD);
    * ``projected=True``: the weights are binary themselves (set to ``sign(W)`` on the first
      step); the QUBO chooses which bits to flip
      (:func:`~qtrain.train.qpsbgd.formulate.projected_flip_qubo`), optionally with a cost per flip and
      a Hamming budget; a neuron whose best flip does not strictly improve the objective keeps
      its weights, and a step that changes nothing sets ``fixed_point`` in :attr:`last_info`.

    Latent weights are clipped to ``[-clip, clip]`` after each update (BinaryConnect's practice;
    ``clip=None`` disables). Reads are decoded and repaired (slack bits set from ``d``), and each
    neuron keeps the read with the best *true* objective, so a sampler's broken slack bits never
    cost more than its direction is worth. Neurons with all-zero gradients are not updated.

    Args:
        params: a model (``nn.Module``: every ``BinaryLinear`` in it, including those inside GCN
            layers, is hooked) or its binary layers' weight parameters after the model was
            attached with :meth:`attach`.
        sampler: a :func:`~qtrain.qubo.get_sampler` name or a ``QUBOSampler`` instance.
        lr: step size (> 0).
        objective: ``"sign"`` or ``"quadratic"``.
        projected: binary weights, bit-flip steps.
        eps: sign tie-break of the sign objective.
        num_reads: sampler reads per problem.
        sampler_params: extra keywords for ``sample_qubo_batch`` (e.g. ``{"num_sweeps": 200}``).
        penalty_margin: margin above the minimal exact penalty (see the formulation).
        curvature: ``"fisher"`` or ``"diagonal"`` for the quadratic objective.
        flip_penalty, hamming_budget: projected variant's cost per flip and budget per neuron.
        max_rows: use at most this many rows of ``X`` per step (rows with zero gradient are
            dropped first, the rest drawn at random): bounds the QUBO size ``n + B (R + 1)``.
        clip: latent weight bound (None: no clipping).
        seed: base seed; step ``t`` uses ``seed + t`` for the sampler and row draws.
        refine: polish every decoded read by greedy single-flip ascent on the exact sign objective
            (:func:`~qtrain.train.qpsbgd.formulate.refine_directions`): classical post-processing of
            the sampler's reads, like a QPU's optional postprocessing. Default (``None``): on
            for the plain sign objective, off for ``objective="quadratic"`` and
            ``projected=True`` (where it does not apply). Why on: with the whole batch in the
            QUBO (``max_rows=None``, 64 + 32 x 7 = 288 variables per hidden neuron of the
            ``qpsbgd-digits`` benchmark), 4 reads x 100 sweeps reach a mean objective of 2.3
            and refined 5.8 (greedy ascent from 64 random starts: 6.3), and test accuracy rose
            from 0.874 / 0.938 to 0.974 / 0.996 on pairs 1/2 and 1/7 (seeds 0-2); see
            BENCHMARKS.md.
        chunk_rows: split the step's rows into ``ceil(B / chunk_rows)`` equal chunks (padded
            with zero-gradient rows); every (chunk, neuron) pair gets its own QUBO, all in the
            same sampler call, and a neuron's update is the mean of its chunks' directions over
            the chunks where it has a gradient. Uses the whole batch with QUBOs of
            ``n + chunk_rows (R + 1)`` variables; measured below one QUBO over every row on the
            digit pairs (0.956 vs 0.974 on 1/2) and on a separable toy problem (the mean of
            per-chunk optima can stall where the whole-batch optimum does not). Sign objective
            only; ``None`` (default): one chunk.
        formulation: ``"qubo"`` (default): the sign QUBO handed to ``sampler``; ``"milp"``:
            every neuron's exact maximiser from the big-M program of
            :func:`~qtrain.train.qpsbgd.milp.sign_directions_milp` (``n + B`` binaries, HiGHS;
            ``sampler`` unused; ``sampler_params`` may set ``time_limit``, ``mip_rel_gap`` and
            ``tie_break="random"``, a random maximiser per neuron instead of HiGHS' biased one,
            seeded by ``seed + t``).
            Far smaller than the linearised QUBO for the ``milp`` sampler: on a 64-input layer
            with 32 rows HiGHS proves a neuron optimal in about 0.03 s, where ``milp`` on the
            120-variable QUBO of 8 rows had not closed a 95% gap after 30 s. Sign objective
            without projection only.

    Raises:
        ValueError: invalid hyperparameters (at construction); at :meth:`step`, a layer without
            captured inputs or gradients, non-binary inputs, mismatched shapes, or a QUBO larger
            than the sampler takes (naming the layer and the limit). A failing sampler leaves
            every parameter unchanged.

    Example:
        >>> from qtrain.nn import BinaryMLP
        >>> model = BinaryMLP([4, 3, 2])
        >>> opt = QPSBGD(model, sampler="exact", lr=0.1, max_rows=2)

    References:
        Krahn et al., arXiv:2310.15128.
    """

    def __init__(self, params: Any, sampler: str | QUBOSampler = "anneal", lr: float = 0.05,
                 objective: str = "sign", projected: bool = False, eps: float = 0.01,
                 num_reads: int = 10, sampler_params: dict[str, Any] | None = None,
                 penalty_margin: float = 0.5, curvature: str = "fisher",
                 flip_penalty: float = 0.0, hamming_budget: int | None = None,
                 max_rows: int | None = None, clip: float | None = 1.0, seed: int = 0,
                 refine: bool | None = None, chunk_rows: int | None = None, formulation: str = "qubo"):
        if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"Invalid learning rate: {lr!r} (must be > 0)")
        if objective not in _OBJECTIVES:
            raise ValueError(f"objective must be one of {_OBJECTIVES}, got {objective!r}")
        if curvature not in _CURVATURES:
            raise ValueError(f"curvature must be one of {_CURVATURES}, got {curvature!r}")
        if projected and objective != "sign":
            raise ValueError("projected=True uses the sign objective; set objective='sign'")
        if isinstance(num_reads, bool) or not isinstance(num_reads, int) or num_reads < 1:
            raise ValueError(f"num_reads must be a positive integer, got {num_reads!r}")
        if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int)
                                     or max_rows < 1):
            raise ValueError(f"max_rows must be a positive integer or None, got {max_rows!r}")
        if clip is not None and not (math.isfinite(clip) and clip > 0):
            raise ValueError(f"clip must be a positive finite number or None, got {clip!r}")
        if not (math.isfinite(penalty_margin) and penalty_margin > 0):
            raise ValueError(f"penalty_margin must be > 0, got {penalty_margin!r}")
        if not (math.isfinite(flip_penalty) and flip_penalty >= 0):
            raise ValueError(f"flip_penalty must be >= 0, got {flip_penalty!r}")
        if hamming_budget is not None and (not isinstance(hamming_budget, int)
                                           or hamming_budget < 0):
            raise ValueError(f"hamming_budget must be a non-negative integer or None, got "
                             f"{hamming_budget!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if refine is None:
            refine = objective == "sign" and not projected
        if refine and (projected or objective != "sign"):
            raise ValueError("refine=True applies to the sign objective without projection")
        if formulation not in _FORMULATIONS:
            raise ValueError(f"formulation must be one of {_FORMULATIONS}, got {formulation!r}")
        if formulation == "milp" and (projected or objective != "sign"):
            raise ValueError("formulation='milp' solves the sign objective without projection")
        if chunk_rows is not None:
            if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
                raise ValueError(f"chunk_rows must be a positive integer or None, got {chunk_rows!r}")
            if projected or objective != "sign":
                raise ValueError("chunk_rows applies to the sign objective without projection")
        self.sampler = get_sampler(sampler) if isinstance(sampler, str) else sampler
        if not isinstance(self.sampler, QUBOSampler):
            raise ValueError(f"sampler must be a sampler name or a QUBOSampler, got {sampler!r}")
        self.objective, self.projected, self.curvature = objective, projected, curvature
        self.num_reads, self.max_rows, self.seed = num_reads, max_rows, seed
        self.refine, self.chunk_rows, self.formulation = refine, chunk_rows, formulation
        self.sampler_params = dict(sampler_params or {})
        self._captures: dict[int, _Capture] = {}
        if isinstance(params, nn.Module):
            layers = self.attach(params)
            if not layers:
                raise ValueError("the model has no BinaryLinear layers for QP-SBGD to train")
            params = [layer.weight for layer in layers]
        defaults = dict(lr=lr, eps=eps, penalty_margin=penalty_margin, clip=clip,
                        flip_penalty=flip_penalty, hamming_budget=hamming_budget)
        super().__init__(params, defaults)
        self.last_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ hooks
    def attach(self, model: nn.Module) -> list[BinaryLinear]:
        """Hook every :class:`BinaryLinear` of ``model``; returns them in order."""
        names = {id(m): n or type(m).__name__ for n, m in model.named_modules()}
        layers = binary_layers(model)
        for layer in layers:
            if id(layer.weight) not in self._captures:
                self._captures[id(layer.weight)] = _Capture(names[id(layer)], layer)
        return layers

    def detach(self) -> None:
        """Remove every hook this optimiser registered."""
        for cap in self._captures.values():
            cap.handle.remove()
        self._captures.clear()

    # ------------------------------------------------------------------ formulate
    def _rows(self, cap: _Capture, X: torch.Tensor, G: torch.Tensor, gen: torch.Generator
              ) -> tuple[torch.Tensor, torch.Tensor]:
        keep = (G != 0).any(1)
        X, G = X[keep], G[keep]
        if self.max_rows is not None and X.shape[0] > self.max_rows:
            idx = torch.randperm(X.shape[0], generator=gen)[: self.max_rows].to(X.device)
            X, G = X[idx], G[idx]
        return X, G

    def _problem(self, p: torch.Tensor, group: dict, gen: torch.Generator) -> dict[str, Any]:
        cap = self._captures.get(id(p))
        if cap is None:
            raise ValueError(f"parameter of shape {tuple(p.shape)} belongs to no hooked layer: "
                             "construct QPSBGD(model, ...) or call attach(model) first")
        if cap.X is None or cap.G is None:
            raise ValueError(f"layer {cap.name!r} has no captured inputs/gradients: run forward and "
                             "backward on the model (or pass a closure) before step()")
        X, G = cap.X, cap.G.to(torch.float64)
        m, n = p.shape
        if X.shape[-1] != n or G.shape[-1] != m or X.shape[0] != G.shape[0]:
            raise ValueError(f"layer {cap.name!r}: captured X {tuple(X.shape)} and G "
                             f"{tuple(G.shape)} do not match its weight {tuple(p.shape)}")
        if not bool(((X == 1) | (X == -1)).all()):
            raise ValueError(f"layer {cap.name!r} got non-binary inputs (entries other than +-1); "
                             "QP-SBGD needs binary inputs: binarise the data or put a "
                             "BinaryActivation before the layer")
        X, G = self._rows(cap, X, G, gen)
        active = (G != 0).any(0) if G.shape[0] else torch.zeros(m, dtype=torch.bool, device=G.device)
        prob = {"cap": cap, "p": p, "group": group, "X": X, "G": G, "active": active}
        if not bool(active.any()):
            return prob
        if self.projected:
            W = binarize(p.detach()).to(torch.float64)
            prob["W"] = W
            prob["qubo"], prob["decode"] = projected_flip_qubo(
                X, G, W, group["eps"], group["flip_penalty"], group["hamming_budget"],
                group["penalty_margin"])
        elif self.objective == "sign":
            if self.chunk_rows is not None and X.shape[0] > self.chunk_rows:
                X, G, prob["chunks"] = _split_rows(X, G, self.chunk_rows)
                prob["X"], prob["G"], prob["active"] = X, G, (G != 0).any(0)
            if self.formulation == "milp":
                prob["milp"] = True
            else:
                prob["qubo"], prob["decode"] = binary_gradient_qubo(X, G, group["eps"],
                                                                    group["penalty_margin"])
        else:
            s = cap.layer.scale
            Xd = X.to(torch.float64)
            g = s * G.T @ Xd
            H = s**2 * X.shape[0] * torch.einsum("bm,bu,bv->muv", G**2, Xd, Xd)
            if self.curvature == "diagonal":
                H = torch.diagonal(H, dim1=-2, dim2=-1)
            prob["g"], prob["H"] = g, H
            prob["qubo"], prob["decode"] = quadratic_direction_qubo(g, H, group["lr"])
        return prob

    def _score(self, prob: dict, cand: torch.Tensor) -> torch.Tensor:
        """True objective (larger is better) of candidates ``[m, k, n]``."""
        group = prob["group"]
        if self.projected:
            Gn = normalize_gradients(prob["G"])
            flips = (cand != prob["W"][:, None, :]).sum(-1).to(torch.float64)
            score = -sign_objective(prob["X"], Gn.T, cand, group["eps"]) - \
                group["flip_penalty"] * flips
            if group["hamming_budget"] is not None:
                score = torch.where(flips <= group["hamming_budget"], score, -math.inf)
            return score
        if self.objective == "sign":
            return sign_objective(prob["X"], normalize_gradients(prob["G"]).T, cand, group["eps"])
        lr = group["lr"]
        model = -lr * torch.einsum("mn,mkn->mk", prob["g"], cand)
        H = prob["H"]
        if H.dim() == 2:
            H = torch.diag_embed(H)
        return -(model + lr**2 / 2 * torch.einsum("mkn,muv,mkv->mk", cand, H, cand))

    # ------------------------------------------------------------------ solve + apply
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One QP-SBGD step; returns the closure's loss (``None`` without a closure).

        ``last_info`` afterwards holds ``qubo_sizes`` (layer -> ``[m, N]``; with ``chunk_rows``,
        ``m`` counts (chunk, neuron) problems), ``milp_sizes`` (``formulation="milp"``: layer ->
        ``[m, n + B]`` binaries), ``sampler_calls``, ``num_reads``,
        ``solver_time_s`` (sum of the samplers' ``total_ns``), ``formulate_time_s``,
        ``energies`` (mean best energy per layer), ``sampler_info`` and ``fixed_point``.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        t0 = time.perf_counter()
        params = [(p, g) for g in self.param_groups for p in g["params"]]
        if not params:
            return loss
        state0 = self.state[params[0][0]]
        t = int(state0.get("step", 0))
        gen = torch.Generator().manual_seed(self.seed + t)
        probs = [self._problem(p, g, gen) for p, g in params]
        by_size: dict[int, list[dict]] = {}
        limit = self.sampler.max_variables
        for prob in probs:
            if "qubo" not in prob:
                continue
            N = prob["qubo"].num_variables
            if limit is not None and N > limit:
                raise ValueError(
                    f"layer {prob['cap'].name!r}: its QUBO has {N} variables per neuron but sampler "
                    f"{self.sampler.name!r} takes at most {limit}; lower max_rows (now "
                    f"{self.max_rows}) or use 'anneal'")
            by_size.setdefault(N, []).append(prob)
        t_form = time.perf_counter() - t0
        solver_ns, infos = 0, []
        for N, group in by_size.items():
            batch = QUBO(torch.cat([pr["qubo"].Q for pr in group]),
                         torch.cat([pr["qubo"].offset for pr in group]))
            try:
                res = self.sampler.sample_qubo_batch(batch, num_reads=self.num_reads,
                                                     seed=self.seed + t, return_all=True,
                                                     **self.sampler_params)
            except Exception as exc:
                names = [pr["cap"].name for pr in group]
                msg = (f"sampler {self.sampler.name!r} failed on layer(s) {names} (QUBO size "
                       f"{N}); parameters are unchanged: {exc}")
                raise (ValueError(msg) if isinstance(exc, ValueError) else RuntimeError(msg)) \
                    from exc
            solver_ns += res.info["timing"]["total_ns"]
            infos.append({k: v for k, v in res.info.items() if k != "timing"})
            start = 0
            for pr in group:
                m = pr["qubo"].num_problems
                pr["samples"] = res.samples[start:start + m]
                pr["energy"] = float(res.energy[start:start + m].mean())
                start += m
        for pr in probs:  # formulation="milp": exact directions, one small MILP per neuron
            if "milp" not in pr:
                continue
            try:
                d, minfo = sign_directions_milp(pr["X"], pr["G"], pr["group"]["eps"],
                                                **{"seed": self.seed + t, **self.sampler_params})
            except ValueError as exc:
                raise ValueError(f"layer {pr['cap'].name!r}: the sign MILP failed; parameters "
                                 f"are unchanged: {exc}") from exc
            pr["cand"] = d[:, None, :]
            solver_ns += int(minfo["solver_time_s"] * 1e9)
            infos.append({"sampler": "sign-milp", "proven_optimal": minfo["proven_optimal"]})
        updates, changed = [], 0
        for pr in probs:
            if "samples" not in pr and "cand" not in pr:
                continue
            cand = pr["cand"] if "cand" in pr else pr["decode"](pr["samples"])
            if self.refine:
                cand = refine_directions(pr["X"], normalize_gradients(pr["G"]).T, cand,
                                         pr["group"]["eps"])
            score = self._score(pr, cand)
            best = score.argmax(-1)
            rows = torch.arange(cand.shape[0], device=cand.device)
            choice = cand[rows, best]
            active = pr["active"]
            if self.projected:
                current = self._score(pr, pr["W"][:, None, :])[:, 0]
                improve = active & (score[rows, best] > current + 1e-12)
                new = torch.where(improve[:, None], choice, pr["W"])
                changed += int(improve.sum())
            else:
                new = choice * active[:, None]
                if "chunks" in pr:  # mean of each neuron's directions over its active chunks
                    C = pr["chunks"]
                    act = active.reshape(C, -1).to(new.dtype)
                    new = new.reshape(C, -1, new.shape[-1]).sum(0) / act.sum(0).clamp(min=1)[:, None]
                    active = act.sum(0) > 0
                changed += int(active.sum())
            updates.append((pr, new))
        for pr, new in updates:  # apply only once every layer has been solved
            p, g = pr["p"], pr["group"]
            new = new.to(p.dtype).to(p.device)
            if self.projected:
                p.copy_(new)
            else:
                p.sub_(g["lr"] * new)
                if g["clip"] is not None:
                    p.clamp_(-g["clip"], g["clip"])
        for p, _ in params:
            self.state[p]["step"] = t + 1
        for pr in probs:  # these gradients belong to the old weights: the next step needs new ones
            pr["cap"].G = None
        self.last_info = {
            "qubo_sizes": {pr["cap"].name: [int(pr["qubo"].num_problems), int(N)]
                           for N, grp in by_size.items() for pr in grp},
            "milp_sizes": {pr["cap"].name: [int(pr["G"].shape[1]), int(pr["X"].shape[-1]
                                                                          + pr["G"].shape[0])]
                           for pr in probs if "milp" in pr},
            "sampler_calls": len(by_size),
            "num_reads": self.num_reads,
            "solver_time_s": solver_ns / 1e9,
            "formulate_time_s": t_form,
            "energies": {pr["cap"].name: pr["energy"] for pr in probs if "energy" in pr},
            "sampler_info": infos,
            "neurons_updated": changed,
            "fixed_point": self.projected and changed == 0,
        }
        return loss
