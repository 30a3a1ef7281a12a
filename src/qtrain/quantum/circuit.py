"""Circuits: a gate list over named registers, run by the statevector engine.

Gates (:class:`~qtrain.quantum.gates.Gate`) and their action on amplitudes live in
:mod:`qtrain.quantum.gates`; a circuit adds registers, building methods (``h``, ``cx``, ``compose``,
...), accounting (counts, depth, resources) and export. Qubit and matrix conventions are those of
:mod:`qtrain.quantum.statevector` (Qiskit's little-endian order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch

from qtrain.quantum import fusion
from qtrain.quantum.gates import Gate, check_gate, run_gates
from qtrain.quantum.resources import Resources
from qtrain.quantum.statevector import Statevector

__all__ = ["Circuit", "Register"]


class Register(NamedTuple):
    """A named run of qubits; ``qubits[0]`` is the register's least significant bit."""

    name: str
    qubits: tuple[int, ...]

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.qubits)

    def __getitem__(self, i: Any) -> Any:  # type: ignore[override]
        return self.qubits[i]

    def __iter__(self):  # type: ignore[override]
        return iter(self.qubits)


def _qubit_list(q: Any) -> list[int]:
    if isinstance(q, Register):
        return list(q.qubits)
    if isinstance(q, Iterable) and not isinstance(q, str | bytes):
        return [int(x) for x in q]
    return [int(q)]


@dataclass
class Circuit:
    """A gate list over named registers.

    Example:
        >>> c = Circuit()
        >>> x = c.add_register("x", 2)
        >>> c.h(x[0]).cx(x[0], x[1])  # a Bell pair # doctest: +ELLIPSIS
        Circuit(...)
        >>> c.run().probabilities()
        tensor([0.5000, 0.0000, 0.0000, 0.5000])
    """

    registers: dict[str, Register] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)
    num_qubits: int = 0

    def __repr__(self) -> str:
        regs = ", ".join(f"{r.name}[{len(r)}]" for r in self.registers.values())
        return f"Circuit({regs}; {len(self.gates)} gates)"

    # ---------------------------------------------------------------- registers
    @classmethod
    def with_registers(cls, **sizes: int) -> Circuit:
        """A circuit with registers of the given sizes, in order: ``with_registers(x=3, anc=1)``."""
        c = cls()
        for name, size in sizes.items():
            c.add_register(name, size)
        return c

    def add_register(self, name: str, size: int) -> Register:
        """Append ``size`` fresh qubits named ``name``; returns the register."""
        if name in self.registers:
            raise ValueError(f"register {name!r} already exists")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size of register {name!r} must be a positive integer, got {size!r}")
        reg = Register(name, tuple(range(self.num_qubits, self.num_qubits + size)))
        self.registers[name] = reg
        self.num_qubits += size
        return reg

    def __getitem__(self, name: str) -> Register:
        return self.registers[name]

    # ---------------------------------------------------------------- building
    def append(self, gate: Gate) -> Circuit:
        """Add a gate after checking its qubits, parameter count and data shape."""
        qs = gate.qubits
        for q in qs:
            if not 0 <= q < self.num_qubits:
                raise ValueError(f"gate {gate.kind} on qubit {q}, outside the circuit's "
                                 f"{self.num_qubits} qubits")
        if len(set(qs)) != len(qs):
            raise ValueError(f"gate {gate.kind} repeats a qubit: {qs}")
        check_gate(gate)
        self.gates.append(gate)
        return self

    def add(self, name: str, targets: Any, controls: Any = (), params: Sequence[float] = (),
            data: Any = None, label: str | None = None) -> Circuit:
        """Append gate ``name`` on ``targets`` with ``controls``, ``params`` and ``data`` (checked)."""
        d = None if data is None else torch.as_tensor(data)
        if d is not None and not d.is_complex():
            d = d.to(torch.complex128)
        return self.append(Gate(name, tuple(_qubit_list(targets)), tuple(_qubit_list(controls)),
                                tuple(float(p) for p in params), d, label))

    def _each(self, name: str, qubits: Any, params: Sequence[float] = ()) -> Circuit:
        for q in _qubit_list(qubits):
            self.add(name, [q], (), params)
        return self

    def h(self, q: Any) -> Circuit:
        """Hadamard on each qubit of ``q`` (an int, a list or a register)."""
        return self._each("h", q)

    def x(self, q: Any) -> Circuit:
        """Pauli X on each qubit of ``q``."""
        return self._each("x", q)

    def y(self, q: Any) -> Circuit:
        """Pauli Y on each qubit of ``q``."""
        return self._each("y", q)

    def z(self, q: Any) -> Circuit:
        """Pauli Z on each qubit of ``q``."""
        return self._each("z", q)

    def s(self, q: Any) -> Circuit:
        """S = diag(1, i) on each qubit of ``q``."""
        return self._each("s", q)

    def t(self, q: Any) -> Circuit:
        """T = diag(1, e^{i pi/4}) on each qubit of ``q``."""
        return self._each("t", q)

    def rx(self, theta: float, q: Any) -> Circuit:
        """``RX(theta) = exp(-i theta X / 2)`` on each qubit of ``q``."""
        return self._each("rx", q, (theta,))

    def ry(self, theta: float, q: Any) -> Circuit:
        """``RY(theta) = exp(-i theta Y / 2)`` on each qubit of ``q``."""
        return self._each("ry", q, (theta,))

    def rz(self, theta: float, q: Any) -> Circuit:
        """``RZ(theta) = exp(-i theta Z / 2)`` on each qubit of ``q``."""
        return self._each("rz", q, (theta,))

    def p(self, lam: float, q: Any) -> Circuit:
        """Phase ``P(lam) = diag(1, e^{i lam})`` on each qubit of ``q``."""
        return self._each("p", q, (lam,))

    def cx(self, control: Any, target: int) -> Circuit:
        """CNOT (``control`` may list several qubits)."""
        return self.add("x", [target], control)

    def cz(self, control: Any, target: int) -> Circuit:
        """Controlled Z."""
        return self.add("z", [target], control)

    def cp(self, lam: float, control: Any, target: int) -> Circuit:
        """Controlled phase ``P(lam)``."""
        return self.add("p", [target], control, (lam,))

    def ccx(self, c0: int, c1: int, target: int) -> Circuit:
        """Toffoli."""
        return self.add("x", [target], [c0, c1])

    def mcx(self, controls: Any, target: int) -> Circuit:
        """X on ``target`` controlled by every qubit of ``controls``."""
        return self.add("x", [target], controls)

    def mcz(self, controls: Any, target: int) -> Circuit:
        """Z on ``target`` controlled by every qubit of ``controls``."""
        return self.add("z", [target], controls)

    def mcp(self, lam: float, controls: Any, target: int) -> Circuit:
        """``P(lam)`` on ``target`` controlled by every qubit of ``controls``."""
        return self.add("p", [target], controls, (lam,))

    def swap(self, a: int, b: int) -> Circuit:
        """Exchange qubits ``a`` and ``b``."""
        return self.add("swap", [a, b])

    def diagonal(self, entries: Any, qubits: Any, label: str | None = None) -> Circuit:
        """A diagonal gate ``diag(entries)`` on ``qubits`` (``qubits[0]`` least significant)."""
        return self.add("diagonal", qubits, (), (), entries, label)

    def phase(self, angles: Any, qubits: Any, label: str | None = None) -> Circuit:
        """The diagonal gate ``exp(i angles[x])`` (radians) on ``qubits``."""
        a = torch.as_tensor(angles, dtype=torch.float64)
        return self.diagonal(torch.polar(torch.ones_like(a), a), qubits, label)

    def unitary(self, matrix: Any, qubits: Any, label: str | None = None) -> Circuit:
        """A dense ``2^k x 2^k`` gate on ``qubits`` (``qubits[0]`` least significant)."""
        return self.add("unitary", qubits, (), (), matrix, label)

    def compose(self, other: Circuit, qubits: Any = None) -> Circuit:
        """Append ``other``'s gates, its qubit ``i`` mapped to ``qubits[i]`` (default: identity).

        Raises:
            ValueError: ``qubits`` does not list one distinct qubit of this circuit for every
                qubit of ``other``.
        """
        mapping = list(range(other.num_qubits)) if qubits is None else _qubit_list(qubits)
        if len(mapping) != other.num_qubits:
            raise ValueError(f"qubits must map all {other.num_qubits} qubits of the composed circuit")
        for q in mapping:
            if not 0 <= q < self.num_qubits:
                raise ValueError(f"qubits contains qubit {q}, outside the circuit's {self.num_qubits} qubits")
        if len(set(mapping)) != len(mapping):
            raise ValueError(f"qubits repeats a qubit: {mapping}")
        # other's gates passed append's checks, and a one-to-one mapping into this circuit keeps them
        # valid: no per-gate checks (blocks are composed per point and per neuron, so this is hot);
        # gates are never mutated, so the identity mapping shares them, as copy() does
        if mapping == list(range(other.num_qubits)):
            self.gates.extend(other.gates)
        else:
            self.gates.extend(g.remap(mapping) for g in other.gates)
        return self

    def inverse(self) -> Circuit:
        """The adjoint circuit (gates reversed and inverted), same registers."""
        c = Circuit(dict(self.registers), [], self.num_qubits)
        c.gates = [g.inverse() for g in reversed(self.gates)]
        return c

    def copy(self) -> Circuit:
        """A shallow copy (gates are shared, the list is not)."""
        return Circuit(dict(self.registers), list(self.gates), self.num_qubits)

    # ---------------------------------------------------------------- running
    def run(self, state: Statevector | None = None, device: Any = "auto",
            dtype: torch.dtype = torch.complex64, fuse: bool = False, max_fused_qubits: int = 5
            ) -> Statevector:
        """Run the gates on ``state`` (default ``|0...0>`` on ``device``) and return it.

        ``fuse=True`` merges gates into ``k``-qubit blocks (``k <= max_fused_qubits``) first (see
        :func:`qtrain.quantum.fusion.fuse`): the same state, fewer passes over it.
        """
        if state is None:
            state = Statevector(self.num_qubits, device=device, dtype=dtype)
        if state.num_qubits != self.num_qubits:
            raise ValueError(f"state has {state.num_qubits} qubits, the circuit {self.num_qubits}")
        n = self.num_qubits
        psi = state.data
        if fuse:
            for op in fusion.fuse(self.gates, n, max_fused_qubits, state.dtype, state.device):
                psi = op.apply(psi, n)
        else:
            psi = run_gates(psi, n, self.gates)
        state.data = psi
        return state

    # ---------------------------------------------------------------- accounting
    def count_ops(self) -> dict[str, int]:
        """Gate counts by kind (``h``, ``cx``, ``ccx``, ``mcx``, ``diagonal``, ...)."""
        out: dict[str, int] = {}
        for g in self.gates:
            out[g.kind] = out.get(g.kind, 0) + 1
        return dict(sorted(out.items()))

    def depth(self) -> int:
        """Circuit depth: the longest chain of gates sharing a qubit (every gate one layer)."""
        level = [0] * self.num_qubits
        for g in self.gates:
            d = 1 + max(level[q] for q in g.qubits)
            for q in g.qubits:
                level[q] = d
        return max(level, default=0)

    def resources(self, oracle_calls: int = 0, measurements: int | None = None) -> Resources:
        """:class:`~qtrain.quantum.resources.Resources` of this circuit (measuring every qubit
        once unless ``measurements`` says otherwise)."""
        counts: dict[str, int] = {}
        for g in self.gates:
            key = f"mc{g.name}:{len(g.controls)}" if len(g.controls) > 2 else g.kind
            counts[key] = counts.get(key, 0) + 1
        sizes = [len(g.targets) + len(g.controls) for g in self.gates if g.name == "diagonal"]
        res = Resources.from_counts(counts, qubits=self.num_qubits, depth=self.depth(),
                                    oracle_calls=oracle_calls, diagonal_sizes=sizes,
                                    measurements=self.num_qubits if measurements is None else measurements)
        res.gate_counts = self.count_ops()
        return res

    # ---------------------------------------------------------------- export
    def to_qiskit(self) -> Any:
        """A ``qiskit.QuantumCircuit`` with the same registers and gates (extra ``qiskit``)."""
        from qtrain.quantum.export import to_qiskit

        return to_qiskit(self)

    def to_qasm3(self) -> str:
        """OpenQASM 3 text of the circuit (diagonal gates as multi-controlled phases)."""
        from qtrain.quantum.export import to_qasm3

        return to_qasm3(self)
