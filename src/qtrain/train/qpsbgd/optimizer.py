"""QP-SBGD: a layer-wise optimiser for binary networks whose steps are QUBOs.

:class:`QPSBGD` is a thin ``torch.optim`` shell over three stages. Each step: hooks capture every
binary layer's inputs ``X`` and output gradients ``G``; **formulate** builds one
:class:`~qtrain.train.qpsbgd.problem.LayerProblem` per layer
(:func:`~qtrain.train.qpsbgd.problem.formulate_layer`); **solve** hands all of them to the
direction solver (:mod:`qtrain.train.qpsbgd.directions`: a QUBO sampler, one batched call per
QUBO size, or the exact sign MILP); **apply** picks each neuron's best candidate and computes the
new weights (:mod:`qtrain.train.qpsbgd.apply`), copied into the parameters once every layer is done.

Reference: Krahn, Sasdelli, Yang, Golyanik, Kannala, Chin, Birdal, "Projected Stochastic Gradient
Descent with Quantum Annealed Binary Gradients", arXiv:2310.15128.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from qtrain._info import SolveContext, Stopwatch
from qtrain.nn.binary import BinaryActivation, BinaryGCNConv, BinaryLinear, binary_layers
from qtrain.qubo import QUBOSampler
from qtrain.train.qpsbgd.apply import STEP_MODES, choose_directions, updated_weights
from qtrain.train.qpsbgd.capture import ActivationLink, Capture, GCNLink, Links, matching_rows
from qtrain.train.qpsbgd.directions import (
    DirectionSolver,
    SignMILPDirections,
    get_direction_solver,
)
from qtrain.train.qpsbgd.formulate import TIES
from qtrain.train.qpsbgd.problem import LayerProblem, formulate_layer

__all__ = ["QPSBGD"]

_OBJECTIVES = ("sign", "quadratic")
_CURVATURES = ("fisher", "diagonal")
_FORMULATIONS = ("qubo", "milp")
_GRADIENTS = ("preactivation", "output")
#: ``sampler_params`` keys the deprecated ``formulation="milp"`` hands to :class:`SignMILPDirections`.
_MILP_OPTIONS = ("time_limit", "mip_rel_gap", "tie_break")


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
        sampler: who solves the step's problems (:mod:`qtrain.train.qpsbgd.directions`): a
            :func:`~qtrain.qubo.get_sampler` name or a ``QUBOSampler`` instance (the problems'
            QUBOs, every layer of one QUBO size in one call), ``"sign-milp"`` (each neuron's
            exact maximiser from the big-M program of
            :func:`~qtrain.train.qpsbgd.milp.sign_directions_milp`, ``n + B`` binaries, HiGHS;
            far smaller than the linearised QUBO of the ``milp`` sampler; sign objective without
            projection only), or a ``DirectionSolver`` instance such as
            ``SignMILPDirections(time_limit=..., mip_rel_gap=..., tie_break="random")`` (a random
            maximiser per neuron instead of HiGHS' biased one, seeded by ``seed + t``).
        lr: step size (> 0).
        objective: ``"sign"`` or ``"quadratic"``.
        projected: binary weights, bit-flip steps.
        eps: sign tie-break of the sign objective.
        num_reads: sampler reads per problem (QUBO samplers).
        sampler_params: extra keywords for ``sample_qubo_batch`` (e.g. ``{"num_sweeps": 200}``);
            QUBO samplers only.
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
        formulation: deprecated. ``"qubo"`` (default) changes nothing; ``"milp"`` is
            ``sampler="sign-milp"`` (with a ``DeprecationWarning``): ``sampler`` is then unused
            and ``sampler_params`` may only hold ``time_limit``, ``mip_rel_gap`` and
            ``tie_break``, handed to :class:`~qtrain.train.qpsbgd.directions.SignMILPDirections`.
        gradient: which gradient ``G`` each neuron's problem is built from (its rows are the
            layer's inputs ``X`` either way):

            * ``"preactivation"`` (default): ``G = dL/dz`` at the layer's output ``z``, which for
              a hidden layer includes the next activation's straight-through mask:
              ``G = G_out * 1{|z| <= 1}`` (so ``p.grad = s G^T X``);
            * ``"output"`` (the authors' formulation): ``G_out = dL/d sign(z)``, at the binarised
              output before that mask (through a GCN convolution: ``A_hat^T dL/d sign(A_hat z)``).
              The last layer has no mask: both are the same there.
        tie: ``"fixed"`` (default): the output test is ``sign(x . d + eps)``; ``"authors"``:
            ``sign(x . d + eps B)`` with ``B`` the rows per problem, the authors' column scaling
            (:func:`~qtrain.train.qpsbgd.formulate.tie_offset`); the two differ once
            ``B >= 1 / eps`` (100 rows at ``eps = 0.01``), never on the 32-row batches of the
            digits benchmarks.
        step_mode: ``"all"`` (default): ``W <- W - lr d``; ``"disagree"``: only the weights whose
            step ``-d`` points against their current sign move
            (:func:`~qtrain.train.qpsbgd.apply.updated_weights`). Latent weights only.

    ``torch.optim`` semantics: what ``p.grad`` says is what a step uses. The hooks capture the
    rows of every backward pass since :meth:`zero_grad` (micro-batches accumulate, as their
    gradients do); a parameter whose ``p.grad`` is None (``zero_grad(set_to_none=True)``, a frozen
    layer) is skipped; a zeroed ``p.grad`` moves nothing; after ``model.zero_grad()`` only the
    newer backward passes count; a second ``step()`` without a new backward solves the same rows
    again. A ``p.grad`` that is no (positive multiple of a) sum of captured rows' gradients is a
    ``ValueError``.

    Raises:
        ValueError: invalid hyperparameters, or a direction solver that cannot take this
            objective (at construction); at :meth:`step`, a layer with a gradient but no
            captured rows (or a ``p.grad`` changed by other means), non-binary inputs,
            mismatched shapes, or a QUBO larger than the sampler takes (naming the layer and the
            limit). A failing solver leaves every parameter unchanged (``ValueError`` or ``RuntimeError`` saying so).

    Example:
        >>> from qtrain.nn import BinaryMLP
        >>> model = BinaryMLP([4, 3, 2])
        >>> opt = QPSBGD(model, sampler="exact", lr=0.1, max_rows=2)

    References:
        Krahn et al., arXiv:2310.15128.
    """

    def __init__(self, params: Any, sampler: str | QUBOSampler | DirectionSolver = "anneal",
                 lr: float = 0.05, objective: str = "sign", projected: bool = False,
                 eps: float = 0.01, num_reads: int = 10,
                 sampler_params: dict[str, Any] | None = None, penalty_margin: float = 0.5,
                 curvature: str = "fisher", flip_penalty: float = 0.0,
                 hamming_budget: int | None = None, max_rows: int | None = None,
                 clip: float | None = 1.0, seed: int = 0, refine: bool | None = None,
                 chunk_rows: int | None = None, formulation: str = "qubo",
                 gradient: str = "preactivation", tie: str = "fixed", step_mode: str = "all"):
        if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"Invalid learning rate: {lr!r} (must be > 0)")
        for name, value, options in (("objective", objective, _OBJECTIVES),
                                     ("curvature", curvature, _CURVATURES),
                                     ("gradient", gradient, _GRADIENTS), ("tie", tie, TIES),
                                     ("step_mode", step_mode, STEP_MODES)):
            if value not in options:
                raise ValueError(f"{name} must be one of {options}, got {value!r}")
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
        if projected and step_mode != "all":
            raise ValueError("step_mode applies to latent weights; projected=True flips bits")
        if isinstance(eps, bool) or not isinstance(eps, int | float) or not math.isfinite(eps):
            raise ValueError(f"eps must be a finite number, got {eps!r}")
        if refine is None:
            refine = objective == "sign" and not projected
        if refine and (projected or objective != "sign"):
            raise ValueError("refine=True applies to the sign objective without projection")
        if chunk_rows is not None:
            if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
                raise ValueError(f"chunk_rows must be a positive integer or None, got {chunk_rows!r}")
            if projected or objective != "sign":
                raise ValueError("chunk_rows applies to the sign objective without projection")
        self.kind = "projected" if projected else objective
        self.directions = self._directions(sampler, num_reads, sampler_params, formulation)
        self.sampler = self.directions.sampler
        self.objective, self.projected, self.curvature = objective, projected, curvature
        self.num_reads, self.max_rows, self.seed = num_reads, max_rows, seed
        self.refine, self.chunk_rows = refine, chunk_rows
        self.gradient, self.tie, self.step_mode = gradient, tie, step_mode
        # keyed by the parameter and the module themselves (hashed by identity), not by id(): a
        # pickled or deep-copied optimiser finds its copies under the same keys
        self._captures: dict[torch.Tensor, Capture] = {}
        self._links = Links()
        self._handles: list[Any] = []
        self._linked: set[nn.Module] = set()
        if isinstance(params, nn.Module):
            layers = self.attach(params)
            if not layers:
                raise ValueError("the model has no BinaryLinear layers for QP-SBGD to train")
            params = [layer.weight for layer in layers]
        defaults = dict(lr=lr, eps=eps, penalty_margin=penalty_margin, clip=clip,
                        flip_penalty=flip_penalty, hamming_budget=hamming_budget)
        super().__init__(params, defaults)
        self.last_info: dict[str, Any] = {}

    def _directions(self, sampler: Any, num_reads: int, sampler_params: dict[str, Any] | None,
                    formulation: str) -> DirectionSolver:
        """The direction solver ``sampler`` names; ``formulation="milp"`` is the deprecated
        spelling of ``sampler=SignMILPDirections(**sampler_params)``."""
        if formulation not in _FORMULATIONS:
            raise ValueError(f"formulation must be one of {_FORMULATIONS}, got {formulation!r}")
        label = f"sampler={getattr(sampler, 'name', sampler)!r}"
        if formulation == "milp":
            warnings.warn("QPSBGD(formulation='milp') is deprecated: use sampler='sign-milp' or "
                          "sampler=SignMILPDirections(time_limit=..., mip_rel_gap=..., "
                          "tie_break=...)", DeprecationWarning, stacklevel=3)
            options = dict(sampler_params or {})
            unknown = sorted(set(options) - set(_MILP_OPTIONS))
            if unknown:
                raise ValueError(f"formulation='milp' takes sampler_params {_MILP_OPTIONS} only, "
                                 f"got {unknown}")
            sampler, sampler_params, label = SignMILPDirections(**options), None, \
                "formulation='milp'"
        directions = get_direction_solver(sampler, num_reads, sampler_params)
        if self.kind not in directions.kinds:
            raise ValueError(f"{label} solves problems of kind {directions.kinds} only, not "
                             f"{self.kind!r} ('sign' is objective='sign' without projection)")
        return directions

    # ------------------------------------------------------------------ hooks
    def attach(self, model: nn.Module) -> list[BinaryLinear]:
        """Hook every :class:`BinaryLinear` of ``model`` (and, for ``gradient="output"``, the
        binary activations and GCN convolutions that consume their outputs); returns the layers
        in order."""
        names = {id(m): n or type(m).__name__ for n, m in model.named_modules()}
        layers = binary_layers(model)
        for layer in layers:
            if layer.weight not in self._captures:
                self._captures[layer.weight] = Capture(names[id(layer)], layer, self._links)
        for m in model.modules():
            if m in self._linked:
                continue
            if isinstance(m, BinaryActivation):
                self._handles.append(m.register_forward_hook(ActivationLink(self._links)))
            elif isinstance(m, BinaryGCNConv):
                self._handles.append(m.register_forward_hook(GCNLink(self._links, self._captures)))
            else:
                continue
            self._linked.add(m)
        return layers

    def __getstate__(self) -> dict[str, Any]:
        # torch.optim pickles only defaults, state and param_groups: the direction solver, the
        # hooks' captures and the options must travel too, or an unpickled (deep-copied) QPSBGD
        # cannot step. Pickle it together with its model, whose modules hold the hooks.
        return dict(self.__dict__)

    def detach(self) -> None:
        """Remove every hook this optimiser registered."""
        for cap in self._captures.values():
            cap.handle.remove()
        for handle in self._handles:
            handle.remove()
        self._captures.clear()
        self._handles.clear()
        self._linked.clear()
        self._links.clear()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """``torch.optim``'s ``zero_grad``, which also clears the rows captured since the last one
        (they are what the gradients were made of)."""
        super().zero_grad(set_to_none=set_to_none)
        for cap in self._captures.values():
            cap.rows.clear()
        self._links.clear()

    def _rows(self, p: torch.Tensor) -> tuple[Capture, torch.Tensor, torch.Tensor] | None:
        """The hooked layer of ``p`` and the rows ``(X, G)`` its step uses, or None when ``p`` has
        no gradient (it is skipped, as ``torch.optim.SGD`` skips it).

        ``G`` is the gradient the ``gradient`` option names, of the rows ``p.grad`` is made of
        (:func:`~qtrain.train.qpsbgd.capture.matching_rows`, times its factor); the rows of older
        backward passes, which ``p.grad`` no longer holds, are dropped."""
        cap = self._captures.get(p)
        if cap is None:
            raise ValueError(f"parameter of shape {tuple(p.shape)} belongs to no hooked layer: "
                             "construct QPSBGD(model, ...) or call attach(model) first")
        if p.grad is None:
            cap.rows.clear()
            return None
        rows, c = matching_rows(cap, p.grad)
        pending = [r for r in cap.rows if r.G is None]
        cap.rows[:] = rows + pending
        m, n = p.shape
        if not rows:
            return cap, p.new_zeros(0, n), p.new_zeros(0, m, dtype=torch.float64)
        X = torch.cat([r.X for r in rows])
        key = "G_out" if self.gradient == "output" else "G"
        G = torch.cat([(getattr(r, key) if getattr(r, key) is not None else r.G)
                       .to(torch.float64) for r in rows])
        return cap, X, G * c if c != 1.0 else G

    def _formulate(self, cap: Capture, X: torch.Tensor, G: torch.Tensor, p: torch.Tensor,
                   group: dict[str, Any], gen: torch.Generator) -> LayerProblem:
        return formulate_layer(
            cap.name, X, G, p, kind=self.kind, eps=group["eps"],
            penalty_margin=group["penalty_margin"], lr=group["lr"], scale=cap.layer.scale,
            curvature=self.curvature, flip_penalty=group["flip_penalty"],
            hamming_budget=group["hamming_budget"], max_rows=self.max_rows,
            chunk_rows=self.chunk_rows, generator=gen, with_qubo=self.directions.uses_qubo,
            tie=self.tie)

    # ------------------------------------------------------------------ the step
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One QP-SBGD step; returns the closure's loss (``None`` without a closure).

        ``torch.optim`` semantics: a parameter whose ``p.grad`` is None is skipped; the rows of
        every backward pass since :meth:`zero_grad` form the step's problems (two micro-batches
        step as their union, as their gradients add); a second ``step()`` without a new backward
        pass solves the same rows again from the new weights, as ``SGD`` reuses ``p.grad``.

        ``last_info`` afterwards holds ``timing`` (ns of the stages: ``formulate_ns``,
        ``solve_ns``, ``apply_ns``, ``total_ns``), ``solver_info`` (the direction solver's
        ``info`` per call, ``timing`` included), ``qubo_sizes`` (layer -> ``[m, N]``; with
        ``chunk_rows``, ``m`` counts (chunk, neuron) problems), ``milp_sizes`` (``"sign-milp"``:
        layer -> ``[m, n + B]`` binaries), ``sampler_calls``, ``num_reads``, ``solver_time_s``
        (the sum of the solvers' own ``total_ns``), ``energies`` (mean best QUBO energy per
        layer), ``neurons_updated``, ``fixed_point``, ``skipped`` (layers without a gradient) and
        ``grad_cosine`` (layer -> the cosine between the step's direction, ``W - W'`` before
        clipping, and ``p.grad``; a layer that does not move has none) and ``sign_cosine`` (the
        same for signSGD's direction ``sign(p.grad)``, the diagnostic's reference).
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = [(p, g) for g in self.param_groups for p in g["params"]]
        watch = Stopwatch()
        t = max((int(self.state[p].get("step", 0)) for p, _ in params), default=0)
        gen = torch.Generator().manual_seed(self.seed + t)
        items, skipped = [], []
        for p, g in params:
            got = self._rows(p)
            if got is None:
                cap = self._captures.get(p)
                skipped.append(cap.name if cap is not None else str(tuple(p.shape)))
                continue
            cap, X, G = got
            items.append((p, g, self._formulate(cap, X, G, p, g, gen)))
        todo = [i for i, (_, _, pr) in enumerate(items) if pr.solvable]
        watch.lap("formulate")
        try:
            result = self.directions.solve([items[i][2] for i in todo], seed=self.seed + t,
                                           context=SolveContext(step=t))
        except Exception as exc:
            msg = f"QP-SBGD step {t} failed; parameters are unchanged: {exc}"
            raise (ValueError(msg) if isinstance(exc, ValueError) else RuntimeError(msg)) from exc
        watch.lap("solve")
        new, moved, cosine, sign_cosine = [], 0, {}, {}
        for i, cand in zip(todo, result.candidates, strict=True):
            p, g, problem = items[i]
            choice = choose_directions(problem, cand, refine=self.refine)
            moved += int(choice.moved.sum())
            w = updated_weights(p.detach(), choice.update, lr=g["lr"], clip=g["clip"],
                                projected=self.projected, step_mode=self.step_mode)
            raw = updated_weights(p.detach(), choice.update, lr=g["lr"], clip=None,
                                  projected=self.projected, step_mode=self.step_mode)
            cos = _cosine(p.detach() - raw, p.grad)
            if cos is not None:
                cosine[problem.name] = cos
            cos = _cosine(torch.sign(p.grad), p.grad)
            if cos is not None:
                sign_cosine[problem.name] = cos
            new.append(w)
        for i, w in zip(todo, new, strict=True):  # only once every layer has been solved
            items[i][0].copy_(w)
        for p, _, _ in items:
            self.state[p]["step"] = t + 1
        watch.lap("apply")
        names = [items[i][2].name for i in todo]
        sizes = dict(zip(names, result.sizes, strict=True))
        self.last_info = {
            "timing": watch.timing(),
            "solver_info": result.info,
            "qubo_sizes": sizes if self.directions.sizes_key == "qubo_sizes" else {},
            "milp_sizes": sizes if self.directions.sizes_key == "milp_sizes" else {},
            "sampler_calls": result.sampler_calls,
            "num_reads": self.num_reads,
            "solver_time_s": sum(info["timing"]["total_ns"] for info in result.info) / 1e9,
            "energies": {name: e for name, e in zip(names, result.energies, strict=True)
                         if e is not None},
            "neurons_updated": moved,
            "fixed_point": self.projected and moved == 0,
            "skipped": skipped,
            "grad_cosine": cosine,
            "sign_cosine": sign_cosine,
        }
        return loss


def _cosine(step: torch.Tensor, grad: torch.Tensor) -> float | None:
    """``<step, grad> / (|step| |grad|)`` over a layer's weights (None if either is zero)."""
    a, b = step.reshape(-1).to(torch.float64), grad.reshape(-1).to(torch.float64)
    norm = float(a.norm() * b.norm())
    return float(a @ b) / norm if norm > 0 else None
