"""Gates: the matrices of the base gates, the :class:`Gate` record and its action on amplitudes.

A :class:`Gate` is a base operation (``h``, ``rx``, ``diagonal``, ...) on ``targets`` with optional
``controls``; ``cx`` is ``x`` with one control, ``ccx`` with two, ``mcx`` with more. Qubit and
matrix conventions are those of :mod:`qtrain.quantum.statevector` (Qiskit's little-endian order),
whose amplitude kernels :func:`apply_gate` calls. Imports run one way:
``statevector <- gates <- fusion <- circuit``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from qtrain.quantum.statevector import apply_diagonal, apply_matrix, apply_x, apply_x_mask

__all__ = ["Gate", "apply_gate", "check_gate", "gate_matrix", "run_gates"]

_FIXED = {"h", "x", "y", "z", "s", "sdg", "t", "tdg", "swap"}
_ROTATIONS = {"rx": 1, "ry": 1, "rz": 1, "p": 1, "u": 3}
_INVERSE_NAME = {"s": "sdg", "sdg": "s", "t": "tdg", "tdg": "t"}


def gate_matrix(name: str, params: Sequence[float] = (), dtype: torch.dtype = torch.complex128,
                device: Any = "cpu") -> torch.Tensor:
    """The matrix of a base gate (``u`` is Qiskit's ``U(theta, phi, lambda)``).

    ``rx(t) = exp(-i t X / 2)``, ``ry(t) = exp(-i t Y / 2)``, ``rz(t) = exp(-i t Z / 2)``,
    ``p(l) = diag(1, e^{i l})``; ``swap`` is the 4x4 exchange of its two targets.
    """
    return torch.tensor(_entries(name, params), dtype=dtype, device=device)


def _entries(name: str, params: Sequence[float]) -> list[list[complex]]:
    """The entries of base gate ``name`` as nested Python lists (see :func:`gate_matrix`)."""
    c, s_ = math.cos, math.sin
    i = 1j
    if name == "h":
        r = 1 / math.sqrt(2)
        m = [[r, r], [r, -r]]
    elif name == "x":
        m = [[0, 1], [1, 0]]
    elif name == "y":
        m = [[0, -i], [i, 0]]
    elif name == "z":
        m = [[1, 0], [0, -1]]
    elif name in ("s", "sdg", "t", "tdg"):
        ph = {"s": i, "sdg": -i, "t": complex(math.cos(math.pi / 4), math.sin(math.pi / 4)),
              "tdg": complex(math.cos(math.pi / 4), -math.sin(math.pi / 4))}[name]
        m = [[1, 0], [0, ph]]
    elif name == "rx":
        t = params[0] / 2
        m = [[c(t), -i * s_(t)], [-i * s_(t), c(t)]]
    elif name == "ry":
        t = params[0] / 2
        m = [[c(t), -s_(t)], [s_(t), c(t)]]
    elif name == "rz":
        t = params[0] / 2
        m = [[complex(c(t), -s_(t)), 0], [0, complex(c(t), s_(t))]]
    elif name == "p":
        m = [[1, 0], [0, complex(c(params[0]), s_(params[0]))]]
    elif name == "u":
        th, ph, la = params
        e = lambda a: complex(c(a), s_(a))  # noqa: E731
        m = [[c(th / 2), -e(la) * s_(th / 2)], [e(ph) * s_(th / 2), e(ph + la) * c(th / 2)]]
    elif name == "swap":
        m = [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    else:
        raise ValueError(f"unknown gate name {name!r}")
    return m


@dataclass(eq=False)
class Gate:
    """One operation: base gate ``name`` on ``targets``, applied when all ``controls`` are 1.

    ``data`` holds the entries of a ``diagonal`` gate (``[2^k]``) or the matrix of a ``unitary``
    gate (``[2^k, 2^k]``); ``label`` names composite blocks (an oracle, a diffusion) for export.
    """

    name: str
    targets: tuple[int, ...]
    controls: tuple[int, ...] = ()
    params: tuple[float, ...] = ()
    data: torch.Tensor | None = None
    label: str | None = None

    @property
    def qubits(self) -> tuple[int, ...]:
        return self.controls + self.targets

    @property
    def kind(self) -> str:
        """Name with its controls: ``x``, ``cx``, ``ccx``, ``mcx`` (3+ controls), ``cp``, ..."""
        c = len(self.controls)
        return self.name if c == 0 else ("c" * c + self.name if c <= 2 else "mc" + self.name)

    def matrix(self, dtype: torch.dtype = torch.complex128, device: Any = "cpu") -> torch.Tensor:
        """The (uncontrolled) target matrix; a ``diagonal`` gate gives ``diag(data)``."""
        if self.name == "unitary":
            return self.data.to(device=device, dtype=dtype)
        if self.name == "diagonal":
            return torch.diag(self.data.to(device=device, dtype=dtype))
        return gate_matrix(self.name, self.params, dtype, device)

    def array(self) -> np.ndarray:
        """The (uncontrolled) target matrix as a complex128 NumPy array: :meth:`matrix` without
        torch's per-call dispatch, for building small fused blocks on the host."""
        if self.name == "unitary":
            return self.data.detach().cpu().numpy().astype(np.complex128, copy=False)
        if self.name == "diagonal":
            return np.diag(self.data.detach().cpu().numpy().astype(np.complex128, copy=False))
        return np.array(_entries(self.name, self.params), dtype=np.complex128)

    def inverse(self) -> Gate:
        if self.name in _INVERSE_NAME:
            return Gate(_INVERSE_NAME[self.name], self.targets, self.controls, (), None, self.label)
        if self.name in ("rx", "ry", "rz", "p"):
            return Gate(self.name, self.targets, self.controls, (-self.params[0],), None, self.label)
        if self.name == "u":
            th, ph, la = self.params
            return Gate("u", self.targets, self.controls, (-th, -la, -ph), None, self.label)
        if self.name == "diagonal":
            return Gate("diagonal", self.targets, self.controls, (), self.data.conj(), self.label)
        if self.name == "unitary":
            return Gate("unitary", self.targets, self.controls, (), self.data.conj().T, self.label)
        return self  # h, x, y, z, swap are self-inverse

    def remap(self, mapping: Sequence[int]) -> Gate:
        """The same gate on qubits ``mapping[q]``."""
        at = mapping.__getitem__
        return Gate(self.name, tuple(map(at, self.targets)), tuple(map(at, self.controls)), self.params,
                    self.data, self.label)


def check_gate(gate: Gate) -> None:
    """Refuse a malformed gate: a wrong number of targets or parameters for its base gate,
    non-finite parameters, ``data`` of the wrong shape for a ``diagonal``/``unitary`` gate, or an
    unknown name. (Which qubits exist is the circuit's check.)

    Raises:
        ValueError: naming the gate and what is wrong.
    """
    k = len(gate.targets)
    if gate.name in _FIXED or gate.name in _ROTATIONS:
        want_k = 2 if gate.name == "swap" else 1
        if k != want_k:
            raise ValueError(f"gate {gate.name} takes {want_k} target(s), got {k}")
        if len(gate.params) != _ROTATIONS.get(gate.name, 0):
            raise ValueError(f"gate {gate.name} takes {_ROTATIONS.get(gate.name, 0)} "
                             f"parameter(s), got {len(gate.params)}")
        if not all(math.isfinite(p) for p in gate.params):
            raise ValueError(f"gate {gate.name} parameters must be finite, got {gate.params}")
    elif gate.name == "diagonal":
        if gate.data is None or tuple(gate.data.shape) != (2**k,):
            raise ValueError(f"diagonal gate on {k} qubit(s) needs {2**k} entries")
    elif gate.name == "unitary":
        if gate.data is None or tuple(gate.data.shape) != (2**k, 2**k):
            raise ValueError(f"unitary gate on {k} qubit(s) needs a ({2**k}, {2**k}) matrix")
    else:
        raise ValueError(f"unknown gate name {gate.name!r}")


_DIAGONAL_BASE = ("z", "s", "sdg", "t", "tdg", "p", "rz")


def _diagonal_on(psi: torch.Tensor, n: int, d: torch.Tensor, g: Gate, cval: int | None = None
                 ) -> torch.Tensor:
    """``diag(d)`` on ``g.targets``, controlled on ``g.controls``: a controlled diagonal is the
    diagonal over (targets, controls) with ones wherever the controls differ from their values
    (bit ``j`` of ``cval`` for control ``j``; default all 1)."""
    if not g.controls:
        return apply_diagonal(psi, n, d, g.targets)
    k, c = len(g.targets), len(g.controls)
    at = (2**c - 1 if cval is None else cval) << k
    full = torch.ones(2 ** (k + c), dtype=psi.dtype, device=psi.device)
    full[at:at + 2**k] = d
    return apply_diagonal(psi, n, full, g.targets + g.controls)


def apply_gate(psi: torch.Tensor, n: int, g: Gate, frame: int = 0) -> torch.Tensor:
    """One gate on amplitudes ``psi [B, 2^n]``; a new tensor.

    Diagonal gates (``diagonal``, ``z``, ``s``, ``t``, ``p``, ``rz`` and their adjoints, controlled
    or not) multiply by a broadcast phase vector (:func:`~qtrain.quantum.statevector.apply_diagonal`);
    ``x`` (any number of controls) is a permutation (:func:`~qtrain.quantum.statevector.apply_x`);
    the others are matrix products (:func:`~qtrain.quantum.statevector.apply_matrix`).

    ``frame`` (a bit mask ``f``) applies ``X_f g X_f`` instead: the gate conjugated by X on the
    qubits of ``f`` (controls in ``f`` fire on 0; the target matrix's rows and columns, or the
    diagonal's entries, are permuted by the XOR of ``f``'s target bits). :func:`run_gates`
    carries uncontrolled X gates in such a frame instead of applying them.

    Example:
        >>> psi = torch.tensor([[1, 0, 0, 0]], dtype=torch.complex128)
        >>> apply_gate(apply_gate(psi, 2, Gate("h", (0,))), 2, Gate("x", (1,), (0,))).abs().pow(2)
        tensor([[0.5000, 0.0000, 0.0000, 0.5000]], dtype=torch.float64)
    """
    values, cval, flip = None, None, 0
    if frame:
        values = [0 if frame >> c & 1 else 1 for c in g.controls]
        cval = sum(v << j for j, v in enumerate(values))
        flip = sum(1 << j for j, t in enumerate(g.targets) if frame >> t & 1)
    if g.name == "x":  # X_t X X_t = X
        return apply_x(psi, n, g.targets[0], g.controls, values)
    if g.name == "diagonal" or g.name in _DIAGONAL_BASE:
        if g.name == "diagonal":
            d = g.data.to(device=psi.device, dtype=psi.dtype)
        else:
            d = torch.diagonal(g.matrix(psi.dtype, psi.device)).contiguous()
        if flip:
            d = d[torch.arange(d.shape[0], device=psi.device) ^ flip]
        return _diagonal_on(psi, n, d, g, cval)
    U = g.matrix(psi.dtype, psi.device)
    if flip:
        perm = torch.arange(U.shape[0], device=psi.device) ^ flip
        U = U[perm][:, perm]
    return apply_matrix(psi, n, U, g.targets, g.controls, values)


def run_gates(psi: torch.Tensor, n: int, gates: Sequence[Gate]) -> torch.Tensor:
    """``gates`` in order on ``psi [B, 2^n]``; a new tensor equal to applying each with
    :func:`apply_gate`.

    Uncontrolled X gates are not applied when met: they accumulate in a Pauli frame ``f`` (a
    bit mask), every later gate ``g`` runs as ``X_f g X_f`` (``g X_f = X_f (X_f g X_f)``), and
    the frame is applied once at the end (one ``flip``). The X ladders around the controls of
    oracles and diffusions then cost no pass over the state; results are the same numbers
    (X only moves amplitudes).
    """
    frame, owned = 0, False  # owned: psi is a tensor made here, so it may be updated in place
    for g in gates:
        if g.name == "x" and not g.controls:
            frame ^= 1 << g.targets[0]
        elif g.name == "x" and owned:  # a controlled X: one slice flip, no clone
            psi = apply_x(psi, n, g.targets[0], g.controls,
                          [0 if frame >> c & 1 else 1 for c in g.controls] if frame else None, inplace=True)
        else:
            psi, owned = apply_gate(psi, n, g, frame), True
    if frame:
        return apply_x_mask(psi, n, frame)
    return psi if owned else psi.clone()
