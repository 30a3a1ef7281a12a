"""Export to Qiskit and OpenQASM 3: the exported circuit has the same statevector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtrain.quantum.builders import comparator_oracle, grover_circuit, phase_estimation_circuit, qaoa_circuit
from qtrain.quantum.circuit import Circuit
from qtrain.testing import random_qubo


def _circuits():
    costs = torch.tensor([3.0, 1.0, 2.0, 0.0, 5.0, 1.0, 4.0, 2.0])
    c = Circuit.with_registers(x=2, anc=1)
    c.h([0, 1]).ccx(0, 1, 2).add("u", [2], [0], (0.3, -0.2, 1.1)).ry(0.7, 1).s(0).t(2).swap(0, 2)
    c.mcp(0.4, [0, 1], 2).y(1).diagonal(torch.exp(1j * torch.tensor([0.1, 0.2, -0.3, 0.9])), [2, 0])
    return [c, grover_circuit(comparator_oracle(costs, 2.0), 1),
            phase_estimation_circuit(torch.tensor([0.1, 0.35, -0.2, 0.6]), 3),
            qaoa_circuit(random_qubo(1, 4, seed=0)[0], [0.4, 0.2], [0.3, 0.1])]


@pytest.mark.parametrize("i", range(4))
def test_qiskit_export_has_the_same_state(i):
    from qiskit.quantum_info import Statevector as QiskitStatevector

    c = _circuits()[i]
    qc = c.to_qiskit()
    assert [r.name for r in qc.qregs] == list(c.registers)
    ref = QiskitStatevector(qc).data
    ours = c.run(device="cpu", dtype=torch.complex128).amplitudes.numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-10)


@pytest.mark.parametrize("i", range(4))
def test_qasm3_round_trip_through_qiskit(i):
    from qiskit import qasm3
    from qiskit.quantum_info import Statevector as QiskitStatevector

    c = _circuits()[i]
    text = c.to_qasm3()
    assert text.startswith("OPENQASM 3.0;")
    qc = qasm3.loads(text)
    ours = c.run(device="cpu", dtype=torch.complex128).amplitudes.numpy()
    ref = QiskitStatevector(qc).data
    # equal up to a global phase (diagonals are exported as relative phases)
    k = int(np.argmax(np.abs(ours)))
    np.testing.assert_allclose(ours * (ref[k] / ours[k]), ref, atol=1e-10)


def test_qasm3_refuses_dense_unitaries_and_renames_reserved_registers():
    c = Circuit.with_registers(x=1)
    c.h(0)
    assert "qubit[1] x_;" in c.to_qasm3() and "h x_[0];" in c.to_qasm3()
    c.unitary(torch.eye(2), [0])
    with pytest.raises(ValueError, match="no OpenQASM 3 form"):
        c.to_qasm3()
