r"""Adiabatic evolution on a diagonal cost, Trotterised on the statevector engine.

``H(s) = (1 - s) H_0 + s H_C`` with ``s = t / T`` from 0 to 1, started in the ground state of
``H_0``; by the adiabatic theorem the final state is the ground state of ``H_C`` (a minimiser)
when ``T >> 1 / gap^2``. ``H_C = diag(C')`` with the costs rescaled to ``C' = n (C - C_min) /
(C_max - C_min)`` (the scale of ``H_0``; ``normalize=False`` keeps ``C``). Mixers:

* ``"transverse-field"``: ``H_0 = -sum_i X_i``, ground state ``|+>^n`` (the uniform superposition);
* ``"bit-flip"``: the paper's bit-flip Hamiltonian read as ``H_0 = +sum_i X_i`` (the plain sum of
  bit flips), ground state ``|->^n``; the end point is the same.

Each of ``steps`` second-order Trotter steps at ``s_k = (k + 1/2) / steps``, ``dt = T / steps``, is
``e^{-i dt/2 (1-s_k) H_0} e^{-i dt s_k H_C} e^{-i dt/2 (1-s_k) H_0}``: ``2n`` RX gates and one
diagonal phase gate (the same circuit family as QAOA with linearly ramped angles).

References:
    Farhi, Goldstone, Gutmann & Sipser, quant-ph/0001106; Whitaker, arXiv:2302.05984 (the
    schedule ``H(t) = (1 - t/T) H_0 + (t/T) H_C`` for mask selection).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain.quantum.gates import gate_matrix
from qtrain.quantum.qaoa import qaoa_costs
from qtrain.quantum.resources import Resources
from qtrain.quantum.statevector import Statevector

__all__ = ["MIXERS", "AdiabaticResult", "adiabatic_evolution", "adiabatic_success_curve"]

MIXERS = ("transverse-field", "bit-flip")


@dataclass
class AdiabaticResult:
    """Outcome of :func:`adiabatic_evolution` (tensors of the batch shape unless noted).

    Attributes:
        probabilities: ``[..., 2^n]`` final outcome distribution.
        success_probability: probability of measuring a global minimiser of the costs.
        index: the most likely outcome; ``value``: its cost.
        T: total evolution time; ``steps``: Trotter steps; ``mixer``: the mixer's name.
        resources: the circuit's resources (``2n`` RX per step, one diagonal per step,
            ``oracle_calls`` = cost layers = ``steps``).
    """

    probabilities: torch.Tensor
    success_probability: torch.Tensor
    index: torch.Tensor
    value: torch.Tensor
    T: float
    steps: int
    mixer: str
    resources: Resources | None = None
    info: dict[str, Any] = field(default_factory=dict)


def adiabatic_evolution(problem: Any, T: float, steps: int | None = None, mixer: str = "transverse-field",
                        normalize: bool = True, device: Any = "cpu") -> AdiabaticResult:
    """Simulate Trotterised adiabatic evolution on costs ``[..., 2^n]`` or a ``QUBO`` batch.

    Args:
        problem: costs ``[..., 2^n]`` (``n >= 1``) or a :class:`~qtrain.qubo.QUBO` (enumerated).
        T: total time ``> 0`` (in units of ``1 / ||H_0||`` per qubit).
        steps: Trotter steps ``>= 1`` (default ``max(10, ceil(4 T))``).
        mixer: ``"transverse-field"`` or ``"bit-flip"``.
        normalize: rescale the costs to ``[0, n]`` (a constant problem stays 0).
        device: where the amplitudes live.

    Returns:
        :class:`AdiabaticResult`.

    Raises:
        ValueError: ``T <= 0``, ``steps < 1``, an unknown mixer, non-finite costs or a length that
            is not a power of two.

    Example:
        >>> res = adiabatic_evolution(torch.tensor([3.0, 1.0, 2.0, 0.0]), T=20.0)
        >>> int(res.index), float(res.success_probability) > 0.9
        (3, True)
    """
    if not (isinstance(T, int | float) and not isinstance(T, bool) and T > 0 and math.isfinite(T)):
        raise ValueError(f"T must be a finite number > 0, got {T!r}")
    if steps is None:
        steps = max(10, math.ceil(4 * T))
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if mixer not in MIXERS:
        raise ValueError(f"mixer must be one of {MIXERS}, got {mixer!r}")
    costs = qaoa_costs(problem)
    batch, N = costs.shape[:-1], costs.shape[-1]
    n = N.bit_length() - 1
    flat = costs.reshape(-1, N).to(device)
    R = flat.shape[0]
    h = flat
    if normalize:
        lo, hi = flat.min(-1, keepdim=True).values, flat.max(-1, keepdim=True).values
        span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        h = n * (flat - lo) / span
    sv = Statevector(n, device=device, dtype=torch.complex128, batch=R)
    for q in range(n):
        if mixer == "bit-flip":  # |-> = H X |0>
            sv.apply(gate_matrix("x"), [q])
        sv.apply(gate_matrix("h"), [q])
    sign = -1.0 if mixer == "transverse-field" else 1.0  # H_0 = sign * sum X
    dt = T / steps
    for k in range(steps):
        s = (k + 0.5) / steps
        # exp(-i a sign X) = RX(2 a sign)
        half = gate_matrix("rx", (2 * sign * dt * (1 - s) / 2,), device=sv.device)
        for q in range(n):
            sv.apply(half, [q])
        sv.data = sv.data * torch.polar(torch.ones_like(h), -dt * s * h)
        for q in range(n):
            sv.apply(half, [q])
    probs = sv.probabilities().reshape(R, N).to(torch.float64)
    cmin = flat.min(-1, keepdim=True).values
    success = (probs * (flat == cmin)).sum(-1)
    index = probs.argmax(-1)
    res = Resources.from_counts({"h": n, "x": n if mixer == "bit-flip" else 0, "rx": 2 * n * steps,
                                 "diagonal": steps}, qubits=n, measurements=n, diagonal_sizes=[n] * steps,
                                oracle_calls=steps)
    return AdiabaticResult(probs.reshape(*batch, N).cpu(), success.reshape(batch).cpu(), index.reshape(batch).cpu(),
                           flat.gather(1, index[:, None]).reshape(batch).cpu(), float(T), steps, mixer, res,
                           {"normalize": normalize})


def adiabatic_success_curve(problem: Any, times: Any, steps_per_unit: float = 4.0,
                            mixer: str = "transverse-field") -> torch.Tensor:
    """Success probability against total time: ``[len(times), ...]`` for each ``T`` of ``times``
    (``ceil(steps_per_unit T)`` Trotter steps each, at least 10).

    Raises:
        ValueError: as :func:`adiabatic_evolution`; ``steps_per_unit <= 0``.
    """
    if not steps_per_unit > 0:
        raise ValueError(f"steps_per_unit must be > 0, got {steps_per_unit!r}")
    out = [adiabatic_evolution(problem, float(t), max(10, math.ceil(steps_per_unit * float(t))), mixer
                               ).success_probability for t in times]
    return torch.stack(out)
