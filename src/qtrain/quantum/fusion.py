"""Gate fusion: merge runs of gates on a window of ``k`` adjacent qubits into one ``2^k`` unitary.

A gate may join the current block when its qubits lie in the window and no earlier gate left out
of the block touches them (so it commutes past every skipped gate). Each block is applied as one
batched matrix product on the amplitudes viewed as ``[B 2^(n-q-k), 2^k, 2^q]``: one pass over the
state instead of one per gate (the idea behind the gate fusers of Aer and qsim).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
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


@functools.lru_cache(maxsize=4096)
def _layout(targets: tuple[int, ...], controls: tuple[int, ...], k: int) -> np.ndarray:
    """Row groups of a gate on local ``targets``/``controls`` inside a ``2^k`` matrix.

    Returns ``R [2^m, A]``: column ``j`` lists the ``2^m`` basis indices that share their
    non-target bits (every control set), ordered by the target sub-index ``b``; the gate maps
    row ``R[a, j]`` to rows ``R[b, j]`` with weight ``U[b, a]`` and leaves the other rows alone.
    """
    s = np.arange(2**k)
    cmask = sum(1 << c for c in controls)
    tmask = sum(1 << t for t in targets)
    base = s[((s & cmask) == cmask) & ((s & tmask) == 0)]
    b = np.arange(2 ** len(targets))
    scatter = sum(((b >> j) & 1) << t for j, t in enumerate(targets))
    return base[None, :] | scatter[:, None]


def _block_matrix(gates: list[Gate], lo: int, k: int, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """The ``2^k`` unitary ``F_m ... F_1`` of ``gates`` (all inside ``lo..lo+k-1``), built in
    complex128 with NumPy: each gate updates the rows of its :func:`_layout` groups of the
    running product, ``M[R[b]] <- sum_a U[b, a] M[R[a]]`` (a gather, one small GEMM, a scatter);
    a run of consecutive gates on the same targets and controls is multiplied first."""
    D = 2**k
    total = np.eye(D, dtype=np.complex128)
    i = 0
    while i < len(gates):
        g, U = gates[i], gates[i].array()
        i += 1
        while i < len(gates) and gates[i].targets == g.targets and gates[i].controls == g.controls:
            U = gates[i].array() @ U  # consecutive gates on the same qubits: one small product
            i += 1
        R = _layout(tuple(q - lo for q in g.targets), tuple(q - lo for q in g.controls), k)
        total[R] = (U @ total[R].reshape(R.shape[0], -1)).reshape(R.shape + (D,))
    return torch.from_numpy(total).to(device=device, dtype=dtype)


def fuse(gates: list[Gate], num_qubits: int, max_qubits: int = 5, dtype: torch.dtype = torch.complex64,
         device: Any = "cpu") -> list[FusedOp]:
    """Group ``gates`` into fused blocks of at most ``max_qubits`` adjacent qubits.

    Greedy: the first pending gate opens a block; of the windows of ``k`` adjacent qubits that
    hold it, the one absorbing the most pending gates wins (the lowest on a tie). Qubit sets are
    bit masks, so the absorb scan costs a few integer operations per gate.

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
    masks = []
    for g in gates:
        m = 0
        for q in g.qubits:
            m |= 1 << q
        masks.append(m)
    pending = list(range(len(gates)))
    ops: list[FusedOp] = []
    while pending:
        m0 = masks[pending[0]]
        lo0, hi0 = (m0 & -m0).bit_length() - 1, m0.bit_length() - 1
        if hi0 - lo0 + 1 > k:
            ops.append(FusedOp(gate=gates[pending.pop(0)]))
            continue
        best: tuple[int, list[int]] | None = None
        for lo in range(max(0, hi0 - k + 1), min(lo0, num_qubits - k) + 1):
            take = _absorb(pending, masks, ((1 << k) - 1) << lo)
            if best is None or len(take) > len(best[1]):
                best = (lo, take)
        _, take = best
        used = 0
        for i in take:
            used |= masks[pending[i]]
        lo, hi = (used & -used).bit_length() - 1, used.bit_length() - 1
        ops.append(FusedOp(lo=lo, matrix=_block_matrix([gates[pending[i]] for i in take], lo, hi - lo + 1,
                                                       dtype, device),
                           num_gates=len(take)))
        keep = set(take)
        pending = [g for i, g in enumerate(pending) if i not in keep]
    return ops


def _absorb(pending: list[int], masks: list[int], window: int) -> list[int]:
    """Positions in ``pending`` of the gates that can join a block on the qubits of ``window``
    (a bit mask): inside the window and touching no qubit of a gate left out before them."""
    blocked = 0
    take = []
    for i, g in enumerate(pending):
        m = masks[g]
        if not m & ~window and not m & blocked:
            take.append(i)
        else:
            blocked |= m
            if blocked & window == window:
                break
    return take
