r"""Layer-wise distillation: a wide random student, twice as deep, masked block by block to match a
trained teacher.

Teacher layer ``i`` (``d_{i-1} -> d_i``, pre-activation ``t_i = W_i h_{i-1}``) is matched by a
student block of two frozen random layers ``d_{i-1} -> w -> r d_i`` whose output is average-pooled
over groups of ``r`` to the teacher's width. One mask over the block's ``w`` hidden neurons (it
removes a row of the first layer and a column of the second) is chosen so that

.. math:: \sum_b \| t_i(x_b) - \mathrm{pool}(W^{(2)} (m \circ \mathrm{relu}(W^{(1)} s_{i-1}(x_b)))) \|^2

is smallest on validation inputs, ``s_{i-1}`` the student's own (already fixed) output before the
block. Pooling is linear, so this block loss is exactly the QUBO of
:func:`~qtrain.train.subnetwork.formulate.last_layer_qubo`: every route of
:class:`~qtrain.train.subnetwork.SubnetworkSelector` applies, and the exhaustive block optimum is
the reference where ``2^w`` masks fit. Blocks are chosen one at a time, earlier ones frozen.

References:
    Whitaker, arXiv:2302.05984 (local method 1: layer-wise distillation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from qtrain.nn.masked import MaskedMLP, masked_mlp
from qtrain.train.subnetwork.formulate import MaskRegister, mask_costs
from qtrain.train.subnetwork.selector import SubnetworkSelector

__all__ = ["DistillResult", "LayerwiseStudent", "layerwise_distill", "pool_rows", "teacher_layers"]


def pool_rows(W: torch.Tensor, width: int) -> torch.Tensor:
    """Average consecutive groups of ``rows / width`` rows of ``W [rows, h]``: ``[width, h]``.

    Raises:
        ValueError: ``rows`` not a multiple of ``width`` (the widths cannot be paired).
    """
    rows = W.shape[0]
    if width < 1 or rows % width:
        raise ValueError(f"a student block output of width {rows} cannot be paired with a teacher layer of "
                         f"width {width}: it must be a positive multiple of it")
    return W.reshape(width, rows // width, -1).mean(1)


def teacher_layers(teacher: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of a ReLU teacher, in order.

    Raises:
        TypeError: a teacher with no linear layer.
    """
    layers = [m for m in teacher.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise TypeError("teacher must contain nn.Linear layers")
    return layers


class LayerwiseStudent(nn.Module):
    """The student: ``blocks[i]`` a pooled two-layer :class:`~qtrain.nn.MaskedMLP`
    ``[d_{i-1}, w, d_i]`` (its second layer the pooled ``r d_i`` random outputs), ReLU between
    blocks, logits after the last."""

    def __init__(self, blocks: list[MaskedMLP]):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def features(self, x: torch.Tensor, block: int) -> torch.Tensor:
        """The input of block ``block``."""
        h = x
        for b in self.blocks[:block]:
            h = torch.relu(b(h))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks[-1](self.features(x, len(self.blocks) - 1))


@dataclass
class DistillResult:
    """The masked student and one record per block (``loss``: the chosen mask's block loss,
    ``optimum``: the exhaustive block optimum where it fits, else ``None``, ``route`` info)."""

    student: LayerwiseStudent
    blocks: list[dict[str, Any]] = field(default_factory=list)


def _block(d_in: int, hidden: int, d_out: int, ratio: int, init: str, seed: int) -> MaskedMLP:
    wide = masked_mlp([d_in, hidden, ratio * d_out], init=init, granularity="neuron", seed=seed,
                      dtype=torch.float64)
    pooled = masked_mlp([d_in, hidden, d_out], init=init, granularity="neuron", seed=seed, dtype=torch.float64)
    pooled.layers[0].weight.copy_(wide.layers[0].weight)
    pooled.layers[1].weight.copy_(pool_rows(wide.layers[1].weight, d_out))
    return pooled


def layerwise_distill(teacher: nn.Module, X: Any, *, hidden: int | list[int] = 16, ratio: int = 2,
                      solver: Any = "exhaustive", params: dict[str, Any] | None = None,
                      init: str = "signed-constant", exhaustive_max: int = 20, match_scale: bool = True,
                      seed: int = 0, device: Any = "cpu") -> DistillResult:
    """Mask a random student block by block to match the teacher's pre-activations on ``X``.

    Args:
        teacher: a ReLU network of ``nn.Linear`` layers (biases allowed; the student has none, so
            they are part of what the block must match).
        X: validation inputs ``[B, d_0]``.
        hidden: the ``w`` hidden neurons per block (one int or one per teacher layer): the mask
            register of each block.
        ratio: ``r``, the student block's output is ``r`` times the teacher layer's width
            (average-pooled back).
        solver: any route of :class:`~qtrain.train.subnetwork.SubnetworkSelector` (and ``params``).
        init: the student's random init.
        exhaustive_max: blocks with ``w <= exhaustive_max`` also get their exhaustive optimum.
        match_scale: rescale each block's pooled output layer once, before masking, so that its
            all-kept output has the standard deviation of the teacher's pre-activation (a binary
            mask selects but cannot scale; without it the random block's output is several times
            too small).
        seed: seeds the student's weights and the solver.

    Returns:
        :class:`DistillResult`.

    Raises:
        ValueError: ``ratio < 1``, a ``hidden`` list of the wrong length, non-finite inputs.
    """
    layers = teacher_layers(teacher)
    if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer (student width / teacher width), got {ratio!r}")
    widths = [hidden] * len(layers) if isinstance(hidden, int) else list(hidden)
    if len(widths) != len(layers):
        raise ValueError(f"hidden must give one width per teacher layer ({len(layers)}), got {len(widths)}")
    Xt = torch.as_tensor(X, dtype=torch.float64)
    if not bool(torch.isfinite(Xt).all()):
        raise ValueError("X (validation inputs) must be finite, found NaN or infinity")
    blocks: list[MaskedMLP] = []
    records: list[dict[str, Any]] = []
    h_teacher = Xt
    for i, lin in enumerate(layers):
        d_in, d_out = lin.in_features, lin.out_features
        with torch.no_grad():
            target = torch.nn.functional.linear(h_teacher, lin.weight.double(),
                                                None if lin.bias is None else lin.bias.double())
        block = _block(d_in, widths[i], d_out, ratio, init, seed * 1000 + i)
        student_in = LayerwiseStudent(blocks).features(Xt, len(blocks)) if blocks else Xt
        if match_scale:  # a mask cannot rescale: give the all-kept block the target's spread once
            with torch.no_grad():
                spread = block(student_in).std()
                if float(spread) > 0:
                    block.layers[1].weight.mul_(target.std() / spread)
        reg = MaskRegister.of(block, 0)
        optimum = None
        costs = None
        if reg.k <= exhaustive_max:
            costs = mask_costs(block, reg, student_in, target, loss="sse", device=device).costs
            optimum = float(costs.min())
        sel = SubnetworkSelector(block, reg, solver, loss="sse", params=params, device=device)
        res = sel.select(student_in, target, seed=seed + i, apply=True,
                         costs=costs if sel.problem == "black-box" else None)
        records.append({"block": i, "bits": reg.k, "loss": res.loss, "optimum": optimum,
                        "target_energy": float(target.pow(2).sum()), "route": res.route,
                        "info": {k: v for k, v in res.info.items() if k != "solver_info"}})
        blocks.append(block)
        h_teacher = torch.relu(target)
    return DistillResult(LayerwiseStudent(blocks), records)
