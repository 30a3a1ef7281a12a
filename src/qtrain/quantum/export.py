"""Export circuits to Qiskit (``QuantumCircuit``, extra ``qiskit``) and to OpenQASM 3 text."""

from __future__ import annotations

import cmath
from typing import Any

import torch

__all__ = ["to_qasm3", "to_qiskit"]

# Names a register may not take in OpenQASM 3 (stdgates.inc gates and keywords).
_RESERVED = {
    "h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "u1", "u2", "u3", "cx",
    "cy", "cz", "cp", "crx", "cry", "crz", "ch", "swap", "ccx", "cswap", "cu", "CX", "U", "phase",
    "cphase", "id", "gate", "qubit", "bit", "measure", "reset", "barrier", "ctrl", "negctrl", "inv",
    "pow", "if", "else", "for", "while", "in", "let", "const", "def", "return", "input", "output",
    "include", "OPENQASM", "pi", "euler", "tau", "int", "uint", "float", "angle", "bool",
}


def _full_diagonal(gate: Any) -> tuple[torch.Tensor, tuple[int, ...]]:
    """A (controlled) diagonal gate as one diagonal over ``targets + controls``."""
    d = gate.data.to(torch.complex128)
    if not gate.controls:
        return d, gate.targets
    k, c = len(gate.targets), len(gate.controls)
    full = torch.ones(2 ** (k + c), dtype=torch.complex128)
    full[(2**c - 1) << k:] = d
    return full, gate.targets + gate.controls


def to_qiskit(circuit: Any) -> Any:
    """The circuit as a ``qiskit.QuantumCircuit`` with one ``QuantumRegister`` per named register.

    Diagonal gates become ``DiagonalGate``, matrices ``UnitaryGate``, controlled gates the
    ``.control(c)`` of their base gate. Qiskit's qubit order is the same as qtrain's.

    Raises:
        ImportError: qiskit is not installed (``pip install 'qtrain[qiskit]'``).
    """
    try:
        from qiskit import QuantumCircuit, QuantumRegister
        from qiskit.circuit import library as lib
    except ImportError as e:  # pragma: no cover - qiskit is in the dev extra
        raise ImportError("to_qiskit needs qiskit: pip install 'qtrain[qiskit]'") from e
    regs = [QuantumRegister(len(r), r.name) for r in circuit.registers.values()]
    qc = QuantumCircuit(*regs)
    qubits = [q for r in regs for q in r]
    base = {"h": lib.HGate, "x": lib.XGate, "y": lib.YGate, "z": lib.ZGate, "s": lib.SGate,
            "sdg": lib.SdgGate, "t": lib.TGate, "tdg": lib.TdgGate, "rx": lib.RXGate, "ry": lib.RYGate,
            "rz": lib.RZGate, "p": lib.PhaseGate, "u": lib.UGate, "swap": lib.SwapGate}
    for g in circuit.gates:
        if g.name == "diagonal":
            d, qs = _full_diagonal(g)
            qc.append(lib.DiagonalGate([complex(v) for v in d]), [qubits[q] for q in qs])
            continue
        if g.name == "unitary":
            op = lib.UnitaryGate(g.data.to(torch.complex128).numpy(), label=g.label)
        else:
            op = base[g.name](*g.params)
        if g.controls:
            op = op.control(len(g.controls))
        qc.append(op, [qubits[q] for q in g.controls + g.targets])
    return qc


def _fmt(x: float) -> str:
    return repr(float(x))


def to_qasm3(circuit: Any) -> str:
    """OpenQASM 3 text: ``qubit[k] name;`` per register and one statement per gate.

    Multi-controlled gates use the ``ctrl(c) @`` modifier; a diagonal gate on ``k`` qubits becomes
    one ``ctrl(k-1) @ p(arg d(x))`` per entry ``d(x) != 1``, with X on the zero bits of ``x``
    (exact, ``O(2^k)`` statements). Register names that clash with OpenQASM words get a ``_``.

    Raises:
        ValueError: a ``unitary`` gate (no OpenQASM 3 form; decompose it first).
    """
    names: dict[str, str] = {}
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    where: dict[int, str] = {}
    for r in circuit.registers.values():
        name = r.name + "_" if r.name in _RESERVED else r.name
        names[r.name] = name
        lines.append(f"qubit[{len(r)}] {name};")
        for i, q in enumerate(r.qubits):
            where[q] = f"{name}[{i}]"

    def stmt(op: str, controls: tuple[int, ...], targets: tuple[int, ...]) -> str:
        c = len(controls)
        std = {("x", 1): "cx", ("x", 2): "ccx", ("z", 1): "cz", ("p", 1): "cp", ("y", 1): "cy"}
        head = op.split("(")[0]
        if c and (head, c) in std:
            op, c = std[(head, c)] + op[len(head):], 0
        prefix = f"ctrl({c}) @ " if c else ""
        return prefix + op + " " + ", ".join(where[q] for q in controls + targets) + ";"

    for g in circuit.gates:
        if g.name == "unitary":
            raise ValueError(f"gate {g.label or 'unitary'} is a dense matrix with no OpenQASM 3 form; "
                             "decompose it into named gates first")
        if g.name == "diagonal":
            d, qs = _full_diagonal(g)
            for x, v in enumerate(d.tolist()):
                phi = cmath.phase(v)
                if abs(v - 1) < 1e-15:
                    continue
                zeros = [qs[i] for i in range(len(qs)) if not (x >> i) & 1]
                lines.extend(f"x {where[q]};" for q in zeros)
                lines.append(stmt(f"p({_fmt(phi)})", qs[:-1], qs[-1:]))
                lines.extend(f"x {where[q]};" for q in zeros)
            continue
        if g.name == "u":
            op = "u3(" + ", ".join(_fmt(p) for p in g.params) + ")"
        elif g.params:
            op = f"{g.name}(" + ", ".join(_fmt(p) for p in g.params) + ")"
        else:
            op = g.name
        lines.append(stmt(op, g.controls, g.targets))
    return "\n".join(lines) + "\n"
