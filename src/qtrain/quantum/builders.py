"""Gate-level builders: oracles, Grover diffusion and circuits, QFT, phase estimation and QAOA.

Each builder returns a new :class:`~qtrain.quantum.circuit.Circuit` with named registers; a caller
places it with ``circ.compose(block, qubits)`` (the calling style of the reversible arithmetic in
:mod:`qtrain.quantum.arithmetic` too). The tests check every builder against the semantic level
(:mod:`qtrain.quantum.search`, :mod:`qtrain.quantum.phase_estimation`, :mod:`qtrain.quantum.qaoa`)
on random instances, probabilities to 1e-6.

Example:
    >>> circ = grover_circuit(phase_oracle(torch.tensor([3.0, -1.0, 2.0, 0.5]), threshold=0.0), iterations=1)
    >>> circ.run(device="cpu").probabilities()  # N = 4, one marked state: one iteration finds it
    tensor([0.0000, 1.0000, 0.0000, 0.0000])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from qtrain.quantum.arithmetic import less_than_phase, lookup
from qtrain.quantum.circuit import Circuit

__all__ = [
    "comparator_oracle",
    "diffusion",
    "grover_circuit",
    "inverse_qft",
    "phase_estimation_circuit",
    "phase_oracle",
    "qaoa_circuit",
    "qft",
    "rank_values",
]


def _costs(costs: Any) -> torch.Tensor:
    c = torch.as_tensor(costs).to(torch.float64).reshape(-1)
    N = c.shape[0]
    if N < 2 or N & (N - 1):
        raise ValueError(f"costs must have a power-of-two length >= 2, got {N}")
    if not bool(torch.isfinite(c).all()):
        raise ValueError("costs must be finite (found NaN or inf)")
    return c


def phase_oracle(costs: Any, threshold: float) -> Circuit:
    """The phase oracle ``|x> -> (-1)^[c(x) < threshold] |x>`` as one diagonal gate on register
    ``x`` (``n = log2 N`` qubits): what a Qiskit user writes with ``DiagonalGate``."""
    c = _costs(costs)
    n = c.shape[0].bit_length() - 1
    circ = Circuit.with_registers(x=n)
    circ.diagonal(torch.where(c < threshold, -1.0, 1.0).to(torch.complex128), circ["x"], label="oracle")
    return circ


def rank_values(costs: Any) -> torch.Tensor:
    """Dense integer ranks (0 = smallest cost): ``c(x) < c(y)`` iff ``rank(x) < rank(y)``."""
    c = _costs(costs)
    return torch.unique(c, return_inverse=True)[1]


def comparator_oracle(costs: Any, threshold: float) -> Circuit:
    """A gate-level comparator oracle ``|x>|0> -> (-1)^[c(x) < threshold] |x>|0>``.

    Registers ``x`` (``n`` qubits) and ``v`` (``b`` qubits for the dense cost ranks): look up
    ``rank(x)`` into ``v`` (:func:`~qtrain.quantum.arithmetic.lookup`, a QROM), compare ``v < T``
    with :func:`~qtrain.quantum.arithmetic.less_than_phase` (``T`` = the number of distinct costs
    below ``threshold``), uncompute the lookup.
    """
    c = _costs(costs)
    ranks = rank_values(c)
    distinct = torch.unique(c)
    T = int((distinct < threshold).sum())
    b = max(1, math.ceil(math.log2(int(ranks.max()) + 1)))
    n = c.shape[0].bit_length() - 1
    circ = Circuit.with_registers(x=n, v=b)
    qrom = lookup(ranks, target_bits=b)
    xv = [*circ["x"], *circ["v"]]
    circ.compose(qrom, xv)
    circ.compose(less_than_phase(b, T), circ["v"])
    return circ.compose(qrom, xv)


def diffusion(num_qubits: int) -> Circuit:
    """Grover diffusion ``H^n X^n C^{n-1}Z X^n H^n = I - 2|s><s|`` on register ``x`` (equal to
    ``2|s><s| - I`` up to a global phase -1)."""
    circ = Circuit.with_registers(x=num_qubits)
    x = circ["x"]
    circ.h(x).x(x)
    if num_qubits == 1:
        circ.z(x[0])
    else:
        circ.mcz(list(x)[:-1], x[-1])
    return circ.x(x).h(x)


def grover_circuit(oracle: Circuit, iterations: int, prepare: bool = True) -> Circuit:
    """``H^n`` on ``oracle``'s register ``x``, then ``iterations`` x (oracle, diffusion).

    Raises:
        ValueError: negative ``iterations``; an oracle without an ``x`` register.
    """
    if not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, got {iterations!r}")
    if "x" not in oracle.registers:
        raise ValueError("oracle must have a search register named 'x'")
    circ = Circuit(dict(oracle.registers), [], oracle.num_qubits)
    x = circ["x"]
    if prepare:
        circ.h(x)
    d = diffusion(len(x))
    for _ in range(iterations):
        circ.compose(oracle)
        circ.compose(d, list(x))
    return circ


def qft(num_qubits: int, swaps: bool = True) -> Circuit:
    """Quantum Fourier transform ``|x> -> 2^{-n/2} sum_y exp(2 pi i x y / 2^n) |y>`` on register
    ``x`` (little-endian integers): Hadamards and controlled phases ``pi / 2^(j-k)``, then swaps
    (Coppersmith, quant-ph/0201067)."""
    n = num_qubits
    circ = Circuit.with_registers(x=n)
    for j in reversed(range(n)):
        circ.h(j)
        for k in reversed(range(j)):
            circ.cp(math.pi / 2 ** (j - k), k, j)
    if swaps:
        for i in range(n // 2):
            circ.swap(i, n - 1 - i)
    return circ


def inverse_qft(num_qubits: int, swaps: bool = True) -> Circuit:
    """The adjoint of :func:`qft`."""
    return qft(num_qubits, swaps).inverse()


def phase_estimation_circuit(phases: Any, t: int, prepare: bool = True, repeat: bool = False) -> Circuit:
    """Phase estimation of ``U = diag(exp(2 pi i phi_x))`` with ``t`` counting qubits.

    Registers ``count`` (``t`` qubits) and ``target`` (``n``, ``2^n = len(phases)``). ``H^t`` on
    ``count`` (and ``H^n`` on ``target`` when ``prepare``), controlled ``U^{2^j}`` from count qubit
    ``j`` (one controlled diagonal with phases ``2^j phi``, or ``2^j`` repetitions of controlled-U
    when ``repeat``), then the inverse QFT on ``count``. Reading ``count`` as ``m`` estimates
    ``phi ~ m / 2^t``.

    Raises:
        ValueError: ``t < 1``; phases not of power-of-two length or non-finite.
    """
    if isinstance(t, bool) or not isinstance(t, int) or t < 1:
        raise ValueError(f"t must be an integer >= 1, got {t!r}")
    phi = _costs(phases)
    n = phi.shape[0].bit_length() - 1
    circ = Circuit.with_registers(count=t, target=n)
    count, target = circ["count"], circ["target"]
    circ.h(count)
    if prepare:
        circ.h(target)
    for j in range(t):
        if repeat:
            d = torch.polar(torch.ones_like(phi), 2 * math.pi * phi)
            for _ in range(2**j):
                circ.add("diagonal", target, [count[j]], (), d, f"c-U^{2**j}")
        else:
            d = torch.polar(torch.ones_like(phi), 2 * math.pi * torch.remainder(phi * 2**j, 1.0))
            circ.add("diagonal", target, [count[j]], (), d, f"c-U^{2**j}")
    circ.compose(inverse_qft(t), list(count))
    return circ


def qaoa_circuit(problem: Any, gammas: Sequence[float], betas: Sequence[float]) -> Circuit:
    """QAOA circuit of depth ``p = len(gammas)`` on register ``x``.

    For a ``QUBO`` (one problem) the cost layer ``exp(-i gamma (x^T Q x))`` is ``P(-gamma Q_ii)`` on
    each qubit and ``CP(-gamma (Q_ij + Q_ji))`` on each pair (the offset is a global phase); for
    a cost vector it is one diagonal phase gate ``exp(-i gamma C)``. The mixer is ``RX(2 beta)``
    on every qubit.

    Raises:
        ValueError: ``p < 1`` or ``len(gammas) != len(betas)``; a batched QUBO.
    """
    gammas, betas = [float(g) for g in gammas], [float(b) for b in betas]
    if len(gammas) < 1 or len(gammas) != len(betas):
        raise ValueError(f"p must be >= 1 with len(gammas) == len(betas), got {len(gammas)} and {len(betas)}")
    if hasattr(problem, "Q"):
        if len(problem.batch_shape) != 0:
            raise ValueError("qaoa_circuit takes one QUBO, not a batch")
        Q = problem.Q.to(torch.float64)
        n = Q.shape[-1]
        costs = None
    else:
        costs = _costs(problem)
        n = costs.shape[0].bit_length() - 1
    circ = Circuit.with_registers(x=n)
    circ.h(circ["x"])
    for g, b in zip(gammas, betas, strict=True):
        if costs is None:
            for i in range(n):
                if float(Q[i, i]) != 0:
                    circ.p(-g * float(Q[i, i]), i)
            for i in range(n):
                for j in range(i + 1, n):
                    w = float(Q[i, j] + Q[j, i])
                    if w != 0:
                        circ.cp(-g * w, i, j)
        else:
            circ.phase(-g * costs, circ["x"], label="cost")
        circ.rx(2 * b, circ["x"])
    return circ
