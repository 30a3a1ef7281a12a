"""Gate fusion: merge runs of gates on a window of ``k`` adjacent qubits into one ``2^k`` unitary.

A gate may join the current block when its qubits lie in the window and no earlier gate left out
of the block touches them (so it commutes past every skipped gate). Each block is applied as one
batched matrix product on the amplitudes viewed as ``[B 2^(n-q-k), 2^k, 2^q]``: one pass over the
state instead of one per gate (the idea behind the gate fusers of Aer and qsim).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from qtrain.quantum.gates import Gate, apply_gate
from qtrain.quantum.statevector import apply_adjacent

__all__ = ["FusedOp", "fuse"]


@dataclass
class FusedOp:
    """A block: ``matrix`` on the adjacent qubits ``lo .. lo+k-1``, or a single unfused gate."""

    lo: int = 0
    matrix: torch.Tensor | None = None
    gate: Gate | None = None
    num_gates: int = 1

    def apply(self, psi: torch.Tensor, n: int) -> torch.Tensor:
        if self.gate is not None:
            return apply_gate(psi, n, self.gate)
        return apply_adjacent(psi, n, self.matrix, self.lo)


def _block_matrix(gates: list[Gate], lo: int, k: int, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """The ``2^k`` unitary of ``gates`` (all inside ``lo..lo+k-1``): run on the identity's columns."""
    mapping = {q: q - lo for q in range(lo, lo + k)}
    eye = torch.eye(2**k, dtype=torch.complex128, device=device)
    for g in gates:
        eye = apply_gate(eye, k, g.remap([mapping.get(q, -1) for q in range(lo + k)]))
    return eye.T.contiguous().to(dtype)


def fuse(gates: list[Gate], num_qubits: int, max_qubits: int = 5, dtype: torch.dtype = torch.complex64,
         device: Any = "cpu") -> list[FusedOp]:
    """Group ``gates`` into fused blocks of at most ``max_qubits`` adjacent qubits.

    Args:
        gates: :class:`~qtrain.quantum.gates.Gate` list in circuit order.
        num_qubits: register size ``n``.
        max_qubits: block width ``k`` (1..10); gates wider than ``k`` (e.g. an ``n``-qubit
            diagonal) run unfused.

    Returns:
        Operations whose product, in order, equals the circuit's unitary.
    """
    if not isinstance(max_qubits, int) or not 1 <= max_qubits <= 10:
        raise ValueError(f"max_qubits must be an integer in [1, 10], got {max_qubits!r}")
    k = min(max_qubits, max(num_qubits, 1))
    pending = list(gates)
    ops: list[FusedOp] = []
    while pending:
        g0 = pending[0]
        lo0, hi0 = min(g0.qubits), max(g0.qubits)
        if hi0 - lo0 + 1 > k:
            ops.append(FusedOp(gate=g0))
            pending.pop(0)
            continue
        best: tuple[int, list[int]] | None = None
        for lo in range(max(0, hi0 - k + 1), min(lo0, num_qubits - k) + 1):
            take = _absorb(pending, lo, lo + k)
            if best is None or len(take) > len(best[1]):
                best = (lo, take)
        lo, take = best
        chosen = [pending[i] for i in take]
        used = {q for g in chosen for q in g.qubits}
        lo, hi = min(used), max(used)
        ops.append(FusedOp(lo=lo, matrix=_block_matrix(chosen, lo, hi - lo + 1, dtype, device),
                           num_gates=len(chosen)))
        keep = set(take)
        pending = [g for i, g in enumerate(pending) if i not in keep]
    return ops


def _absorb(pending: list[Gate], lo: int, hi: int) -> list[int]:
    """Indices of the gates that can join a block on qubits ``lo..hi-1``."""
    blocked: set[int] = set()
    take = []
    for i, g in enumerate(pending):
        qs = g.qubits
        if all(lo <= q < hi for q in qs) and not blocked.intersection(qs):
            take.append(i)
        else:
            blocked.update(qs)
            if all(q in blocked for q in range(lo, hi)):
                break
    return take
