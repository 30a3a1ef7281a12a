"""Statevector engine on torch (CPU or CUDA): dense amplitudes of ``n`` qubits.

Conventions (the same as Qiskit's): qubit ``q`` is bit ``q`` of the basis index, so basis state
``k`` has ``x_q = (k >> q) & 1``; a ``k``-qubit matrix acting on ``targets = (t_0, ..., t_{k-1})``
has its row/column index ``sum_j x_{t_j} 2^j`` (``t_0`` is its least significant bit).

A gate on qubits ``q..q+k-1`` is one batched matrix product on the amplitudes viewed as
``[B * 2^(n-q-k), 2^k, 2^q]``; other target sets are contracted with ``tensordot`` on the
``[B] + [2] * n`` view. Controlled gates act on the slice where every control is 1; diagonal gates
multiply by a broadcast phase vector.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import torch

from qtrain._device import free_memory_bytes, resolve_device

__all__ = [
    "Statevector",
    "apply_adjacent",
    "apply_diagonal",
    "apply_matrix",
    "apply_x",
    "apply_x_mask",
    "check_memory",
    "free_memory_bytes",
    "max_qubits",
    "resolve_device",
]

_COMPLEX = (torch.complex64, torch.complex128)


def max_qubits(device: Any = "cpu", dtype: torch.dtype = torch.complex64, copies: int = 2,
               batch: int = 1) -> int:
    """Largest ``n`` with ``batch * 2^n * itemsize * copies`` bytes in free memory on ``device``."""
    per_amp = torch.empty((), dtype=dtype).element_size() * copies * batch
    free = free_memory_bytes(device)
    return max(0, int(math.floor(math.log2(max(free, 1) / per_amp))))


def check_memory(num_qubits: int, device: Any = "cpu", dtype: torch.dtype = torch.complex64,
                 copies: int = 2, batch: int = 1) -> None:
    """Pre-flight: refuse a register whose ``batch * 2^n * itemsize * copies`` bytes exceed the
    device's free memory.

    Raises:
        ValueError: naming ``num_qubits``, the bytes needed and how many qubits fit.
    """
    itemsize = torch.empty((), dtype=dtype).element_size()
    need = batch * (2**num_qubits) * itemsize * copies
    free = free_memory_bytes(device)
    if need > free:
        fit = max_qubits(device, dtype, copies, batch)
        raise ValueError(
            f"num_qubits={num_qubits} needs {need / 2**30:.1f} GiB ({copies} working copies of "
            f"{batch} x 2^{num_qubits} {dtype} amplitudes) but {resolve_device(device)} has "
            f"{free / 2**30:.1f} GiB free: at most {fit} qubits fit"
        )


def _check_qubits(qubits: Sequence[int], n: int, name: str) -> tuple[int, ...]:
    qubits = tuple(int(q) for q in qubits)
    for q in qubits:
        if not 0 <= q < n:
            raise ValueError(f"{name} contains qubit {q}, outside the register of {n} qubits")
    if len(set(qubits)) != len(qubits):
        raise ValueError(f"{name} repeats a qubit: {qubits}")
    return qubits


def _axis(q: int, n: int) -> int:
    """Axis of qubit ``q`` in the ``[B] + [2] * n`` view (the last axis is qubit 0)."""
    return 1 + (n - 1 - q)


def apply_adjacent(psi: torch.Tensor, n: int, U: torch.Tensor, q: int) -> torch.Tensor:
    """``U`` (``2^k x 2^k``) on the adjacent qubits ``q..q+k-1`` of ``psi [B, 2^n]``; a new tensor.

    ``psi'[a, :, i] = U psi[a, :, i]`` on the view ``[B 2^(n-q-k), 2^k, 2^q]``: with the block axis
    last (``q = 0``) or first (the window at the top) one GEMM; with ``2^q >= 8`` a batched product;
    otherwise the block axis is moved to the front (one copy), as batched products of tiny matrices
    are slow. A one-qubit gate is elementwise. The kernel of uncontrolled gates on adjacent targets
    and of fused blocks (:mod:`qtrain.quantum.fusion`).

    Args:
        psi: amplitudes ``[B, 2^n]``.
        n: number of qubits.
        U: ``[2^k, 2^k]`` matrix in ``psi``'s dtype and on its device.
        q: the lowest target qubit (``U``'s least significant index bit).
    """
    k, B = U.shape[0].bit_length() - 1, psi.shape[0]
    A, inner = B * 2 ** (n - q - k), 2**q
    if k == 1:  # elementwise: BLAS calls on 2x2 matrices cost more than the arithmetic
        v = psi.reshape(A, 2, inner)
        a0, a1 = v[:, 0], v[:, 1]
        (u00, u01), (u10, u11) = U.tolist()  # Python scalars: one call, not four tensor indexings
        return torch.stack([u00 * a0 + u01 * a1, u10 * a0 + u11 * a1], 1).reshape(B, 2**n)
    if q == 0:
        return (psi.reshape(A, 2**k) @ U.T).reshape(B, 2**n)
    if A == 1:
        return (U @ psi.reshape(2**k, inner)).reshape(B, 2**n)
    if inner >= 8:  # batched product of [2^k, 2^k] with [2^k, inner] blocks
        return torch.matmul(U, psi.reshape(A, 2**k, inner)).reshape(B, 2**n)
    v = psi.reshape(A, 2**k, inner).transpose(0, 1).reshape(2**k, A * inner)
    return (U @ v).reshape(2**k, A, inner).transpose(0, 1).reshape(B, 2**n)


def _apply_uncontrolled(psi: torch.Tensor, n: int, U: torch.Tensor, targets: tuple[int, ...]
                        ) -> torch.Tensor:
    """``psi [B, 2^n]`` with ``U [2^k, 2^k]`` applied on ``targets``; a new tensor."""
    k, B = len(targets), psi.shape[0]
    q0 = targets[0]
    if targets == tuple(range(q0, q0 + k)):
        return apply_adjacent(psi, n, U, q0)
    # General target set: contract the k axes, then move the output axes back in place.
    Ut = U.reshape([2] * (2 * k))  # axes: out_{k-1}..out_0, in_{k-1}..in_0
    view = psi.reshape([B] + [2] * n)
    psi_axes = [_axis(targets[k - 1 - j], n) for j in range(k)]
    out = torch.tensordot(Ut, view, dims=(list(range(k, 2 * k)), psi_axes))
    # out axes: out_{k-1}..out_0, then the remaining view axes in order
    rest = [a for a in range(n + 1) if a not in psi_axes]
    order = [0] * (n + 1)
    for j, a in enumerate(psi_axes):
        order[a] = j
    for j, a in enumerate(rest):
        order[a] = k + j
    return out.permute(order).reshape(B, 2**n)


def apply_matrix(psi: torch.Tensor, num_qubits: int, U: torch.Tensor, targets: Sequence[int],
                 controls: Sequence[int] = (), control_values: Sequence[int] | None = None) -> torch.Tensor:
    """Apply ``U`` on ``targets``, controlled on every qubit of ``controls`` being 1 (or the
    matching entry of ``control_values``).

    ``psi' = (P_0 (x) I + P_1 (x) U) psi`` with ``P_1`` the projector on all controls set.

    Args:
        psi: amplitudes ``[B, 2^n]`` (a batch of states).
        num_qubits: ``n``.
        U: ``[2^k, 2^k]`` matrix in ``psi``'s dtype.
        targets: ``k`` distinct qubits; ``targets[0]`` is the least significant bit of ``U``'s index.
        controls: qubits that must all be 1.
        control_values: the value (0 or 1) each control must have instead (default all 1).

    Returns:
        A new ``[B, 2^n]`` tensor (the input is not modified).
    """
    n = num_qubits
    targets, controls = tuple(targets), tuple(controls)
    if not controls:
        return _apply_uncontrolled(psi, n, U, targets)
    out = psi.clone()
    view = out.view([psi.shape[0]] + [2] * n)
    idx = _control_index(n, controls, control_values)
    sub = view[tuple(idx)]  # the controls-set slice, a view of ``out``
    # Qubits of the slice: the uncontrolled ones, renumbered from 0 (least significant first).
    free = [q for q in range(n) if q not in controls]
    renum = {q: i for i, q in enumerate(free)}
    m = len(free)
    flat = sub.reshape(psi.shape[0], 2**m)
    new = _apply_uncontrolled(flat, m, U, tuple(renum[t] for t in targets))
    sub.copy_(new.reshape(sub.shape))
    return out


def _control_index(n: int, controls: Sequence[int], values: Sequence[int] | None) -> list[Any]:
    """Index of the ``[B] + [2] * n`` view selecting the slice where each control has its value."""
    idx: list[Any] = [slice(None)] * (n + 1)
    for j, c in enumerate(controls):
        idx[_axis(c, n)] = 1 if values is None else int(values[j])
    return idx


def apply_x_mask(psi: torch.Tensor, num_qubits: int, mask: int) -> torch.Tensor:
    """X on every qubit whose bit is set in ``mask``: ``psi'(x) = psi(x XOR mask)``, one ``flip``
    of those axes of the ``[B] + [2] * n`` view; a new tensor."""
    n = num_qubits
    axes = [_axis(q, n) for q in range(n) if mask >> q & 1]
    if not axes:
        return psi.clone()
    return psi.reshape([psi.shape[0]] + [2] * n).flip(axes).reshape(psi.shape)


def apply_x(psi: torch.Tensor, num_qubits: int, target: int, controls: Sequence[int] = (),
            control_values: Sequence[int] | None = None, inplace: bool = False) -> torch.Tensor:
    """Pauli X on ``target`` (controlled on every qubit of ``controls`` being 1, or the matching
    entry of ``control_values``) as a permutation.

    ``psi'(x) = psi(x XOR 2^t)`` where all controls are set: one ``flip`` of the target axis
    (plus a clone and a slice copy when controlled) instead of a matrix product; exact, and a
    handful of torch calls for the CNOT/Toffoli/MCX ladders of oracles and diffusions.

    ``inplace=True`` (controlled only) updates ``psi`` itself, saving the clone: for callers
    that own the tensor (:func:`qtrain.quantum.gates.run_gates` after its first gate).

    Returns:
        A new ``[B, 2^n]`` tensor (the input is not modified), or ``psi`` when ``inplace``.
    """
    n, B = num_qubits, psi.shape[0]
    if not controls:
        return psi.reshape(B * 2 ** (n - target - 1), 2, 2**target).flip(1).reshape(B, 2**n)
    out = psi if inplace and psi.is_contiguous() else psi.clone()
    shape, idx, axis = _x_layout(n, target, tuple(controls), None if control_values is None else tuple(control_values))
    sub = out.view((B, *shape))[idx]  # the controls-set slice, a view of ``out``
    sub.copy_(sub.flip(axis))
    return out


@functools.lru_cache(maxsize=8192)
def _x_layout(n: int, target: int, controls: tuple[int, ...], values: tuple[int, ...] | None
              ) -> tuple[tuple[int, ...], tuple[Any, ...], int]:
    """``([2] * n, the controls' slice index, the target's axis in that slice)`` for :func:`apply_x`,
    cached: the MCX ladders of a QROM repeat the same few layouts thousands of times."""
    t = _axis(target, n)
    return (2,) * n, tuple(_control_index(n, controls, values)), t - sum(1 for c in controls if _axis(c, n) < t)


def apply_diagonal(psi: torch.Tensor, num_qubits: int, diagonal: torch.Tensor,
                   qubits: Sequence[int] | None = None) -> torch.Tensor:
    """Multiply by ``diag(d)`` acting on ``qubits`` (default: all, ``d`` of length ``2^n``).

    ``psi'(x) = d(x_{q_0} + 2 x_{q_1} + ...) psi(x)``; a new ``[B, 2^n]`` tensor.
    """
    n = num_qubits
    qubits = tuple(range(n)) if qubits is None else tuple(qubits)
    k = len(qubits)
    if qubits == tuple(range(n)):
        return psi * diagonal
    # d viewed [2]*k has axes (q_{k-1}, ..., q_0); put them in psi-axis order and broadcast.
    dk = diagonal.reshape([2] * k)
    dk_axes = [_axis(qubits[k - 1 - j], n) for j in range(k)]
    perm = sorted(range(k), key=lambda j: dk_axes[j])
    shape = [1] * (n + 1)
    for a in dk_axes:
        shape[a] = 2
    d = dk.permute(perm).reshape(shape)
    return (psi.reshape([psi.shape[0]] + [2] * n) * d).reshape(psi.shape)


class Statevector:
    """Amplitudes of ``num_qubits`` qubits (optionally a batch of states) as a torch tensor.

    Starts in ``|0...0>``. Gates update the state in place of the object (the tensor is replaced).

    Args:
        num_qubits: ``n >= 0``.
        device: "auto" (CUDA when present) | "cpu" | "cuda" | ``torch.device``.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.
        batch: number of independent states held at once (``None``: a single state).
        copies: working copies of the amplitudes the memory pre-flight budgets for.

    Raises:
        ValueError: a bad ``num_qubits``/``dtype``/``batch``, or a register that does not fit in
            the device's free memory (the message says how many qubits fit).

    Example:
        >>> from qtrain.quantum.gates import gate_matrix
        >>> sv = Statevector(2, device="cpu")
        >>> sv.apply(gate_matrix("h"), [0]).apply(gate_matrix("x"), [1], controls=[0]).probabilities()
        tensor([0.5000, 0.0000, 0.0000, 0.5000])
    """

    def __init__(self, num_qubits: int, device: Any = "auto", dtype: torch.dtype = torch.complex64,
                 batch: int | None = None, copies: int = 2):
        if isinstance(num_qubits, bool) or not isinstance(num_qubits, int) or num_qubits < 0:
            raise ValueError(f"num_qubits must be a non-negative integer, got {num_qubits!r}")
        if dtype not in _COMPLEX:
            raise ValueError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
        if batch is not None and (not isinstance(batch, int) or batch < 1):
            raise ValueError(f"batch must be a positive integer or None, got {batch!r}")
        self.num_qubits = num_qubits
        self.device = resolve_device(device)
        self.dtype = dtype
        self.batched = batch is not None
        B = batch or 1
        if num_qubits > 62:
            raise ValueError(f"num_qubits={num_qubits} exceeds the 62-qubit index range")
        check_memory(num_qubits, self.device, dtype, copies, B)
        self._psi = torch.zeros(B, 2**num_qubits, dtype=dtype, device=self.device)
        self._psi[:, 0] = 1

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_amplitudes(cls, amplitudes: Any, normalize: bool = False) -> Statevector:
        """A state holding ``amplitudes`` (``[2^n]`` or a batch ``[B, 2^n]``), on their device."""
        a = torch.as_tensor(amplitudes)
        if not a.is_complex():
            a = a.to(torch.complex128 if a.dtype == torch.float64 else torch.complex64)
        if a.dim() not in (1, 2):
            raise ValueError(f"amplitudes must have shape [2^n] or [B, 2^n], got {tuple(a.shape)}")
        size = a.shape[-1]
        n = size.bit_length() - 1
        if size < 1 or 2**n != size:
            raise ValueError(f"amplitudes must have a power-of-two length, got {size}")
        if not bool(torch.isfinite(torch.view_as_real(a)).all()):
            raise ValueError("amplitudes must be finite")
        sv = cls.__new__(cls)
        sv.num_qubits, sv.device, sv.dtype = n, a.device, a.dtype
        sv.batched = a.dim() == 2
        psi = a.reshape(-1, size).clone()
        if normalize:
            psi = psi / psi.abs().pow(2).sum(-1, keepdim=True).sqrt()
        sv._psi = psi
        return sv

    @property
    def amplitudes(self) -> torch.Tensor:
        """The amplitudes, ``[2^n]`` (or ``[B, 2^n]`` for a batch)."""
        return self._psi if self.batched else self._psi[0]

    @property
    def data(self) -> torch.Tensor:
        """The amplitudes as ``[B, 2^n]`` (``B = 1`` for a single state)."""
        return self._psi

    @data.setter
    def data(self, value: torch.Tensor) -> None:
        if tuple(value.shape) != tuple(self._psi.shape):
            raise ValueError(f"data must keep shape {tuple(self._psi.shape)}, got {tuple(value.shape)}")
        self._psi = value

    def copy(self) -> Statevector:
        return Statevector.from_amplitudes(self.amplitudes)

    def __repr__(self) -> str:
        b = f", batch={self._psi.shape[0]}" if self.batched else ""
        return f"Statevector(num_qubits={self.num_qubits}{b}, device={self.device}, dtype={self.dtype})"

    # ------------------------------------------------------------------ gates
    def _matrix(self, matrix: Any, k: int, check_unitary: bool, atol: float) -> torch.Tensor:
        U = torch.as_tensor(matrix).to(device=self.device, dtype=self.dtype)
        if U.shape != (2**k, 2**k):
            raise ValueError(f"matrix must have shape ({2**k}, {2**k}) for {k} target qubit(s), "
                             f"got {tuple(U.shape)}")
        if not bool(torch.isfinite(torch.view_as_real(U)).all()):
            raise ValueError("matrix must be finite")
        if check_unitary:
            err = (U.conj().T @ U - torch.eye(2**k, dtype=self.dtype, device=self.device)).abs().max()
            if float(err) > atol:
                raise ValueError(f"matrix is not unitary: max |U^dagger U - I| = {float(err):.2e} "
                                 f"> atol={atol}")
        return U

    def apply(self, matrix: Any, targets: Sequence[int], controls: Sequence[int] = (),
              check_unitary: bool = False, atol: float = 1e-5) -> Statevector:
        """Apply a ``2^k x 2^k`` gate on ``targets`` (controlled on ``controls`` all being 1).

        Raises:
            ValueError: a matrix of the wrong shape, non-finite, or non-unitary when
                ``check_unitary``; qubits out of range or repeated.
        """
        n = self.num_qubits
        targets = _check_qubits(targets, n, "targets")
        controls = _check_qubits(controls, n, "controls")
        if not targets:
            raise ValueError("targets must name at least one qubit")
        if set(targets) & set(controls):
            raise ValueError(f"targets {targets} and controls {controls} overlap")
        U = self._matrix(matrix, len(targets), check_unitary, atol)
        self._psi = apply_matrix(self._psi, n, U, targets, controls)
        return self

    def apply_diagonal(self, diagonal: Any, qubits: Sequence[int] | None = None,
                       check_unitary: bool = False, atol: float = 1e-5) -> Statevector:
        """Multiply by ``diag(diagonal)`` on ``qubits`` (default all; length ``2^len(qubits)``)."""
        n = self.num_qubits
        qubits = tuple(range(n)) if qubits is None else _check_qubits(qubits, n, "qubits")
        d = torch.as_tensor(diagonal).to(device=self.device, dtype=self.dtype)
        if d.shape != (2 ** len(qubits),):
            raise ValueError(f"diagonal must have length {2 ** len(qubits)} for {len(qubits)} "
                             f"qubit(s), got shape {tuple(d.shape)}")
        if not bool(torch.isfinite(torch.view_as_real(d)).all()):
            raise ValueError("diagonal must be finite")
        if check_unitary:
            err = (d.abs() - 1).abs().max()
            if float(err) > atol:
                raise ValueError(f"diagonal is not unitary: max ||d|-1| = {float(err):.2e} > atol={atol}")
        self._psi = apply_diagonal(self._psi, n, d, qubits)
        return self

    def apply_phase(self, angles: Any, qubits: Sequence[int] | None = None) -> Statevector:
        """Diagonal phase gate ``psi(x) <- exp(i angles[x]) psi(x)`` (angles in radians)."""
        a = torch.as_tensor(angles, device=self.device)
        real = torch.float64 if self.dtype == torch.complex128 else torch.float32
        return self.apply_diagonal(torch.polar(torch.ones_like(a, dtype=real), a.to(real)), qubits)

    # ------------------------------------------------------------------ read-out
    def norm(self) -> torch.Tensor:
        """``||psi||`` per state."""
        n = self._psi.abs().pow(2).sum(-1).sqrt()
        return n if self.batched else n[0]

    def probabilities(self, qubits: Sequence[int] | None = None) -> torch.Tensor:
        """Outcome probabilities ``|psi(x)|^2`` (float), or the marginal over ``qubits``.

        The marginal's index is ``sum_j x_{q_j} 2^j`` (``qubits[0]`` least significant).
        """
        n = self.num_qubits
        p = self._psi.real.pow(2) + self._psi.imag.pow(2)
        if qubits is not None:
            qubits = _check_qubits(qubits, n, "qubits")
            k, B = len(qubits), p.shape[0]
            view = p.reshape([B] + [2] * n)
            keep = [_axis(q, n) for q in qubits]
            drop = [a for a in range(1, n + 1) if a not in keep]
            m = view.sum(dim=drop) if drop else view
            # m axes are in increasing psi-axis order; reorder to (q_{k-1}, ..., q_0).
            want = [_axis(qubits[k - 1 - j], n) for j in range(k)]
            have = sorted(keep)
            p = m.permute([0] + [1 + have.index(a) for a in want]).reshape(B, 2**k)
        return p if self.batched else p[0]

    def sample(self, shots: int, seed: int | None = None, qubits: Sequence[int] | None = None
               ) -> torch.Tensor:
        """``shots`` seeded measurement outcomes (basis indices, int64) in the computational basis.

        Returns ``[shots]`` (or ``[B, shots]`` for a batch), drawn from :meth:`probabilities`.
        """
        if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
            raise ValueError(f"shots must be a positive integer, got {shots!r}")
        p = self.probabilities(qubits)
        p2 = (p if self.batched else p[None]).to(torch.float64)
        g = torch.Generator(device=p2.device)
        g.manual_seed(int(torch.randint(0, 2**62, ()).item()) if seed is None else int(seed))
        cdf = p2.cumsum(-1)
        u = torch.rand(p2.shape[0], shots, generator=g, dtype=torch.float64, device=p2.device)
        out = torch.searchsorted(cdf, u * cdf[:, -1:]).clamp_max(p2.shape[-1] - 1)
        return out if self.batched else out[0]
