"""Phase estimation of diagonal unitaries, computed per basis state.

Phase estimation of ``diag(exp(2 pi i phi_x))`` factorises per basis state ``x``: the counting
register's outcome distribution depends on ``phi_x`` alone, so the joint distribution of ``(x, m)``
on a register in superposition is ``|a_x|^2 P(m | phi_x)``. The gate-level circuit is
:func:`qtrain.quantum.builders.phase_estimation_circuit` (the tests compare both to 1e-6).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from qtrain.quantum._checks import real_finite

__all__ = ["phase_estimation_distribution"]


def phase_estimation_distribution(phases: Any, t: int) -> torch.Tensor:
    r"""Exact outcome distribution of textbook phase estimation with ``t`` counting qubits.

    For an eigenphase ``phi`` (in turns: ``U|u> = e^{2 pi i phi}|u>``), the counting register after
    the controlled powers ``U^{2^j}`` and the inverse QFT reads ``m`` with probability

    ``P(m | phi) = | 2^{-t} sum_{k=0}^{2^t - 1} exp(2 pi i k (phi - m / 2^t)) |^2``

    (Nielsen & Chuang, Sec. 5.2; Cleve et al., quant-ph/9708016), computed here as one FFT per
    phase in float64. For a diagonal unitary ``diag(e^{2 pi i phi_x})`` on a register in
    superposition, the joint probability of ``(x, m)`` is ``|a_x|^2 P(m | phi_x)``.

    Args:
        phases: ``[K]`` (or any shape ``[...]``) real phases in turns.
        t: counting qubits, ``t >= 1``.

    Returns:
        float64 tensor ``[..., 2^t]`` (``[len(phases), 2^t]`` for a vector), rows summing to 1.

    Raises:
        ValueError: ``t < 1`` (or not an integer, or above 24), non-finite phases.

    Example:
        >>> phase_estimation_distribution(torch.tensor([0.25]), 2).round(decimals=12)
        tensor([[0., 1., 0., 0.]], dtype=torch.float64)

    References:
        Nielsen & Chuang, *Quantum Computation and Quantum Information*, Sec. 5.2;
        Cleve, Ekert, Macchiavello & Mosca, quant-ph/9708016.
    """
    if isinstance(t, bool) or not isinstance(t, int | np.integer) or not 1 <= t <= 24:
        raise ValueError(f"t must be an integer in [1, 24], got {t!r}")
    phi = real_finite(torch.as_tensor(phases).reshape(-1) if torch.as_tensor(phases).dim() == 0
                      else phases, "phases")
    T = 2 ** int(t)
    k = torch.arange(T, dtype=torch.float64, device=phi.device)
    frac = torch.remainder(phi, 1.0)[..., None]
    amps = torch.polar(torch.ones((), dtype=torch.float64, device=phi.device), 2 * math.pi * frac * k)
    out = torch.fft.fft(amps, dim=-1).abs().pow(2) / T**2
    return out
