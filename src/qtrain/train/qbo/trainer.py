"""``QBOTrainer``: train a quantized MLP by QBO with any sampler; the STE-QAT baseline beside it.

One training run in the three stages of every qtrain method: **formulate** the network and data as
a QCBO (:func:`~qtrain.train.qbo.formulate_qbo`), **solve** it (monolithic QCGD for tiny programs,
sample-wise progressive hedging otherwise, each through any QUBO sampler), **apply** the decoded
weight codes. The network's weights are written only after a solve returns a feasible point, so a
failed step leaves them unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from qtrain._info import Stopwatch
from qtrain.nn.quantized import quantized_layers
from qtrain.train.qbo.formulate import QBOProblem, formulate_qbo, weight_bits_loss
from qtrain.train.qbo.hedging import progressive_hedging
from qtrain.train.qbo.qcgd import qcgd

__all__ = ["QBOTrainer", "train_ste_qat"]


class QBOTrainer:
    """Train ``Sequential(QuantizedLinear, activation, QuantizedLinear)`` by QBO.

    Args:
        model: the network (its codes are overwritten by :meth:`fit`).
        sampler: any QUBO sampler name or instance (the QCGD oracle or the PH subproblem solver).
        method: "auto" (monolithic when the program has at most ``monolithic_max_variables``
            variables), "monolithic" (QCGD on the whole QCBO) or "hedging" (progressive hedging).
        pieces: spline pieces of the hidden activation; integer_knots: see
            :func:`~qtrain.train.qbo.spline_pieces`.
        iterations: QCGD oracle calls or PH iterations.
        rho: PH's proximal penalty (> 0).
        seed: the run's seed; num_reads: reads per oracle call.
        sampler_params: keywords for every sampler call.

    Attributes:
        last_info: after :meth:`fit`: ``timing`` (``formulate_ns``, ``solve_ns``, ``apply_ns``,
            ``total_ns``), ``solver_info``, ``method``, ``counts``, ``oracle_calls``,
            ``spins_per_call``, ``progress`` (``(iteration, metric)``), ``training_loss``.

    Raises:
        ValueError: an unknown ``method``, ``rho <= 0``.

    Example:
        >>> from qtrain.nn import QuantizedMLP
        >>> model = QuantizedMLP([2, 1, 1], bits=1)
        >>> X, T = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0], [-1.0]])
        >>> info = QBOTrainer(model, "anneal", iterations=20, seed=0).fit(X, T)
        >>> info["method"]
        'monolithic'
    """

    def __init__(self, model: nn.Sequential, sampler: Any = "anneal", *, method: str = "auto", pieces: int = 3,
                 integer_knots: bool = False, iterations: int = 30, rho: float = 1.0, seed: int | None = 0,
                 num_reads: int | None = None, monolithic_max_variables: int = 64,
                 sampler_params: dict[str, Any] | None = None):
        if method not in ("auto", "monolithic", "hedging"):
            raise ValueError(f"method must be 'auto', 'monolithic' or 'hedging', got {method!r}")
        if not (isinstance(rho, int | float) and math.isfinite(rho) and rho > 0):
            raise ValueError(f"rho must be a positive finite number, got {rho!r}")
        self.model, self.sampler, self.method = model, sampler, method
        self.pieces, self.integer_knots, self.iterations, self.rho = pieces, integer_knots, iterations, rho
        self.seed, self.num_reads = seed, num_reads
        self.monolithic_max_variables = monolithic_max_variables
        self.sampler_params = dict(sampler_params or {})
        self.last_info: dict[str, Any] = {}

    def _score(self, problem: QBOProblem, X: torch.Tensor, T: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        return weight_bits_loss(problem, self.model[0], self.model[2], X, T)

    def fit(self, X: Any, T: Any, callback: Callable[[int, float], None] | None = None) -> dict[str, Any]:
        """Train on ``(X [N, d], T [N, K])``; returns (and keeps) :attr:`last_info`.

        Raises:
            RuntimeError: the solver returned no feasible point (the weights are unchanged).
        """
        sw = Stopwatch()
        X = torch.as_tensor(X, dtype=torch.float64)
        T = torch.as_tensor(T, dtype=torch.float64)
        T = T[:, None] if T.dim() == 1 else T
        problem = formulate_qbo(self.model, X, T, pieces=self.pieces, integer_knots=self.integer_knots)
        method = self.method
        if method == "auto":
            method = "monolithic" if problem.qcbo.num_variables <= self.monolithic_max_variables else "hedging"
        sw.lap("formulate")
        progress: list[tuple[int, float]] = []
        if method == "monolithic":
            sol = qcgd(problem.qcbo, self.sampler, iterations=self.iterations, seed=self.seed,
                       num_reads=self.num_reads, **self.sampler_params)
            if not sol.feasible:
                raise RuntimeError(f"QCGD returned an infeasible point (violation {sol.violation:.3g}); "
                                   "the network's weights are unchanged")
            bits, solver_info = sol.x.to(torch.float64), [sol.info]
            progress = [(t, r) for t, r in sol.info["residual"]]
            calls, spins = sol.info["oracle_calls"], problem.qcbo.num_variables
        else:
            res = progressive_hedging(problem, self.sampler, rho=self.rho, iterations=self.iterations,
                                      seed=self.seed, num_reads=self.num_reads, score=self._score(problem, X, T),
                                      callback=(lambda t, m, _: (progress.append((t, m)),
                                                                 callback(t, m) if callback else None)),
                                      **self.sampler_params)
            bits, solver_info = res.weights, [res.info]
            calls, spins = res.oracle_calls, res.info["spins_per_call"]
        sw.lap("solve")
        c1, c2 = problem.decode(bits)
        loss = float(self._score(problem, X, T)(bits[None])[0])
        self.model[0].set_codes(c1)
        self.model[2].set_codes(c2)
        sw.lap("apply")
        self.last_info = {"timing": sw.timing(), "solver_info": solver_info, "method": method,
                          "counts": problem.counts, "oracle_calls": calls, "spins_per_call": spins,
                          "progress": progress, "training_loss": loss}
        return self.last_info


def train_ste_qat(model: nn.Module, X: Any, T: Any, *, epochs: int = 300, lr: float = 0.01,
                  seed: int = 0) -> list[float]:
    """Quantisation-aware training with the straight-through estimator (the larq/brevitas
    baseline): Adam on the latent weights of every :class:`~qtrain.nn.QuantizedLinear`, the
    forward pass rounded to the codes, full-batch mean squared error. Returns the loss per epoch.

    Raises:
        ValueError: ``epochs < 1`` or ``lr`` not positive.
    """
    if epochs < 1 or not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"epochs must be >= 1 and lr positive, got {epochs!r}, {lr!r}")
    torch.manual_seed(seed)
    X = torch.as_tensor(X, dtype=torch.float32)
    T = torch.as_tensor(T, dtype=torch.float32)
    T = T[:, None] if T.dim() == 1 else T
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = ((model(X) - T) ** 2).sum(-1).mean()
        loss.backward()
        opt.step()
        for m in quantized_layers(model):  # keep latent weights inside the code range (larq's clip)
            if not m.quantize:
                continue
            with torch.no_grad():
                m.weight.clamp_(m.w_min, m.w_max)
        losses.append(float(loss.detach()))
    return losses
