"""QP-SBGD's apply stage: pure functions from a layer problem and its candidates to new weights.

* :func:`candidate_scores`: the true objective of every candidate (larger is better);
* :func:`choose_directions`: per neuron the best candidate (optionally polished by greedy ascent),
  the projected variant's "keep unless strictly better" rule, the mean over row chunks;
* :func:`updated_weights`: ``clip(W - lr d)``, or the projected variant's new binary weights.

Nothing here writes into a parameter: :class:`~qtrain.train.qpsbgd.QPSBGD` copies the returned
tensors in once every layer has been solved, so a failing solver leaves every parameter unchanged.

Reference: Krahn et al., "Projected Stochastic Gradient Descent with Quantum Annealed Binary
Gradients", arXiv:2310.15128.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from qtrain.train.qpsbgd.formulate import normalize_gradients, refine_directions, sign_objective
from qtrain.train.qpsbgd.problem import LayerProblem

__all__ = ["STEP_MODES", "Choice", "candidate_scores", "choose_directions", "updated_weights"]

#: How a direction's step is taken: ``"all"``, every weight by ``lr``; ``"disagree"``, only the
#: weights whose step ``-d`` disagrees with their current sign (see :func:`updated_weights`).
STEP_MODES = ("all", "disagree")

#: A projected neuron moves only when its best candidate beats its weights by more than this.
IMPROVEMENT_TOL = 1e-12


class Choice(NamedTuple):
    """A layer's chosen step.

    Attributes:
        update: ``[m, n]`` float64: the direction ``d`` of each neuron (zero where it does not
            move; with chunks, the mean over its chunks with a gradient), or for a projected
            problem the new +-1 weights.
        moved: ``[m]`` bool, the neurons that change.
    """

    update: torch.Tensor
    moved: torch.Tensor


def _scores(problem: LayerProblem, cand: torch.Tensor, Gn: torch.Tensor | None) -> torch.Tensor:
    """:func:`candidate_scores` with the normalised gradients ``Gn`` ``[B, m]`` given."""
    if problem.kind == "projected":
        flips = (cand != problem.W[:, None, :]).sum(-1).to(torch.float64)
        score = -sign_objective(problem.X, Gn, cand, problem.eps) - problem.flip_penalty * flips
        if problem.hamming_budget is not None:
            score = torch.where(flips <= problem.hamming_budget, score, -math.inf)
        return score
    if problem.kind == "sign":
        return sign_objective(problem.X, Gn, cand, problem.eps)
    lr = problem.lr
    linear = -lr * torch.einsum("mn,mkn->mk", problem.g, cand)
    H = problem.H if problem.H.dim() == 3 else torch.diag_embed(problem.H)
    return -(linear + lr**2 / 2 * torch.einsum("mku,muv,mkv->mk", cand, H, cand))


def candidate_scores(problem: LayerProblem, candidates: torch.Tensor) -> torch.Tensor:
    r"""The true objective (larger is better) of candidates ``[m, k, n]``, per kind:

    * ``sign``: ``F_j(d) = sum_i g_ij sign(x_i . d + eps)`` with ``g`` normalised per neuron
      (:func:`~qtrain.train.qpsbgd.formulate.sign_objective`);
    * ``projected`` (candidates are new weights ``w'``): ``-F_j(w') - mu #flips``, and ``-inf``
      beyond the Hamming budget;
    * ``quadratic``: ``lr g_j . d - lr^2/2 d^T H_j d``, minus the local model.

    Returns:
        ``[m, k]`` float64.

    Example:
        >>> from qtrain.train.qpsbgd.problem import formulate_layer
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> p = formulate_layer("0", X, G, torch.zeros(1, 2), with_qubo=False)
        >>> candidate_scores(p, torch.tensor([[[-1.0, -1.0], [1.0, 1.0]]])).tolist()
        [[2.0, 0.0]]
    """
    Gn = None if problem.kind == "quadratic" else normalize_gradients(problem.G).T
    return _scores(problem, candidates, Gn)


def choose_directions(problem: LayerProblem, candidates: torch.Tensor, *,
                      refine: bool = False) -> Choice:
    r"""Each neuron's step from its candidates ``[m, k, n]``.

    1. ``refine`` (``sign`` only): every candidate polished by greedy single-flip ascent on the
       exact objective (:func:`~qtrain.train.qpsbgd.formulate.refine_directions`);
    2. per neuron the candidate with the best :func:`candidate_scores` (the first on ties);
    3. ``projected``: a neuron takes it only if it beats the current weights by more than
       :data:`IMPROVEMENT_TOL`, and keeps ``W`` otherwise; other kinds: neurons without a
       gradient get ``d = 0``;
    4. chunked (``problem.chunks = C > 1``): neuron ``j``'s direction is the mean of its
       chunks' directions over the chunks where it has a gradient.

    Returns:
        :class:`Choice` for the layer's ``m`` neurons.

    Raises:
        ValueError: ``refine`` on a problem that is not ``sign``.

    Example:
        >>> from qtrain.train.qpsbgd.problem import formulate_layer
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> p = formulate_layer("0", X, G, torch.zeros(1, 2), with_qubo=False)
        >>> choose_directions(p, torch.tensor([[[1.0, 1.0], [-1.0, -1.0]]])).update.tolist()
        [[-1.0, -1.0]]
    """
    if refine and problem.kind != "sign":
        raise ValueError(f"refine applies to the sign objective, not to a {problem.kind!r} problem")
    Gn = None if problem.kind == "quadratic" else normalize_gradients(problem.G).T
    if refine:
        candidates = refine_directions(problem.X, Gn, candidates, problem.eps)
    score = _scores(problem, candidates, Gn)
    best = score.argmax(-1)
    rows = torch.arange(candidates.shape[0], device=candidates.device)
    choice = candidates[rows, best]
    active = problem.active
    if problem.kind == "projected":
        current = _scores(problem, problem.W[:, None, :], Gn)[:, 0]
        improve = active & (score[rows, best] > current + IMPROVEMENT_TOL)
        return Choice(torch.where(improve[:, None], choice, problem.W), improve)
    update = choice * active[:, None]
    if problem.chunks > 1:
        act = active.reshape(problem.chunks, -1).to(update.dtype)
        update = update.reshape(problem.chunks, -1, update.shape[-1]).sum(0) / \
            act.sum(0).clamp(min=1)[:, None]
        active = act.sum(0) > 0
    return Choice(update, active)


def updated_weights(W: torch.Tensor, update: torch.Tensor, *, lr: float, clip: float | None = None,
                    projected: bool = False, step_mode: str = "all") -> torch.Tensor:
    r"""A layer's new weights (a new tensor, of ``W``'s dtype and device).

    ``W' = clip(W - lr M d, -clip, clip)`` for latent weights (``clip=None``: no clipping), or, when
    ``projected``, ``update`` itself (the new +-1 weights). The mask ``M`` is the step mode:

    * ``"all"``: ``M = 1``, every weight moves by ``lr d``;
    * ``"disagree"``: ``M_jk = 1{d_jk sign(W_jk) > 0}``, only the weights whose step ``-d_jk``
      points against their current sign (towards a flip) move; weights the direction would push
      further from zero stay where they are (``sign(0) = +1``).

    Args:
        W: ``[m, n]`` current weights.
        update: ``[m, n]`` :attr:`Choice.update`.
        lr: step size. clip: latent weight bound. projected: ``update`` holds weights.
        step_mode: one of :data:`STEP_MODES` (latent weights only).

    Raises:
        ValueError: an unknown ``step_mode``.

    Example:
        >>> W = torch.tensor([[0.95, -0.2]]); d = torch.tensor([[-1.0, 1.0]])
        >>> updated_weights(W, d, lr=0.1, clip=1.0).tolist()
        [[1.0, -0.30000001192092896]]
        >>> updated_weights(W, torch.tensor([[1.0, 1.0]]), lr=0.1, step_mode="disagree").tolist()
        [[0.8499999642372131, -0.20000000298023224]]
    """
    if step_mode not in STEP_MODES:
        raise ValueError(f"step_mode must be one of {STEP_MODES}, got {step_mode!r}")
    update = update.to(W.dtype).to(W.device)
    if projected:
        return update
    if step_mode == "disagree":
        update = update * (update * torch.where(W >= 0, 1.0, -1.0).to(W.dtype) > 0)
    new = W - lr * update
    return new if clip is None else new.clamp(-clip, clip)
