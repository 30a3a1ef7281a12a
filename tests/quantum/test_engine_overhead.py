"""The engine's per-call shortcuts against exact references: the Pauli frame of run_gates, the
permutation X and the NumPy-built fused blocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtrain.quantum import Circuit
from qtrain.quantum.fusion import _block_matrix, fuse
from qtrain.quantum.gates import Gate, apply_gate, run_gates
from qtrain.quantum.statevector import apply_x, apply_x_mask


def _x_heavy_circuit(n: int, num_gates: int, seed: int):
    """Random circuit where every other gate is an uncontrolled X, so the frame is non-trivial
    when each other kind (controlled or not, diagonal or not) runs; with its Qiskit twin."""
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    c, qc = Circuit.with_registers(q=n), QuantumCircuit(n)
    for _ in range(num_gates):
        qs = [int(q) for q in rng.choice(n, 4, replace=False)]
        th = float(rng.uniform(-3, 3))
        for q in qs[: int(rng.integers(0, 3))]:
            c.x(q), qc.x(q)
        kind = int(rng.integers(0, 9))
        if kind == 0:
            c.h(qs[0]).rx(th, qs[1]), qc.h(qs[0]), qc.rx(th, qs[1])
        elif kind == 1:
            c.cp(th, qs[0], qs[1]), qc.cp(th, qs[0], qs[1])
        elif kind == 2:
            c.mcx(qs[:3], qs[3]), qc.mcx(qs[:3], qs[3])
        elif kind == 3:
            c.cx(qs[0], qs[1]).rz(th, qs[2]), qc.cx(qs[0], qs[1]), qc.rz(th, qs[2])
        elif kind == 4:
            c.swap(qs[0], qs[1]).t(qs[2]), qc.swap(qs[0], qs[1]), qc.t(qs[2])
        elif kind == 5:
            c.add("u", [qs[0]], [qs[1], qs[2]], (th, 0.3, -0.7))
            from qiskit.circuit.library import UGate

            qc.append(UGate(th, 0.3, -0.7).control(2, annotated=False), [qs[1], qs[2], qs[0]])
        elif kind == 6:
            d = np.exp(1j * rng.uniform(-3, 3, 4))
            c.diagonal(torch.tensor(d), [qs[0], qs[1]])
            from qiskit.circuit.library import DiagonalGate

            qc.append(DiagonalGate(d.tolist()), [qs[0], qs[1]])
        elif kind == 7:
            c.mcz(qs[:2], qs[2]).y(qs[3]), qc.ccz(qs[0], qs[1], qs[2]), qc.y(qs[3])
        else:
            c.mcp(th, qs[:3], qs[3]), qc.mcp(th, qs[:3], qs[3])
    return c, qc


@pytest.mark.parametrize("seed", range(3))
def test_pauli_frame_run_equals_gate_by_gate_and_qiskit(seed):
    from qiskit.quantum_info import Statevector as QiskitStatevector

    n = 6
    c, qc = _x_heavy_circuit(n, 30, seed)
    assert any(g.name == "x" and not g.controls for g in c.gates)
    psi = torch.zeros(1, 2**n, dtype=torch.complex128)
    psi[0, 0] = 1
    plain = psi
    for g in c.gates:
        plain = apply_gate(plain, n, g)
    framed = run_gates(psi, n, c.gates)
    assert float((framed - plain).abs().max()) < 1e-13
    ref = QiskitStatevector(qc).data
    np.testing.assert_allclose(c.run(device="cpu", dtype=torch.complex128).amplitudes.numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(c.run(device="cpu", dtype=torch.complex128, fuse=True).amplitudes.numpy(), ref,
                               atol=1e-12)
    assert psi[0, 0] == 1 and float(psi[0, 1:].abs().max()) == 0  # input left alone


def test_x_kernels_are_the_dense_permutations():
    n = 4
    rng = np.random.default_rng(1)
    psi = torch.tensor(rng.normal(size=(2, 2**n)) + 1j * rng.normal(size=(2, 2**n)))
    idx = np.arange(2**n)
    for t, controls, values in ((2, (), None), (0, (1, 3), None), (3, (0, 2), (0, 1)), (1, (2,), (0,))):
        vals = values or (1,) * len(controls)
        fire = np.all([(idx >> c & 1) == v for c, v in zip(controls, vals, strict=True)], axis=0) \
            if controls else np.ones(2**n, bool)
        src = np.where(fire, idx ^ (1 << t), idx)
        np.testing.assert_array_equal(apply_x(psi, n, t, controls, values).numpy(), psi.numpy()[:, src])
    np.testing.assert_array_equal(apply_x_mask(psi, n, 0b1010).numpy(), psi.numpy()[:, idx ^ 0b1010])


def test_fused_block_is_the_dense_product_of_its_gates():
    k = 3
    gates = [Gate("h", (1,)), Gate("x", (2,), (1,)), Gate("rz", (2,), (), (0.7,)), Gate("swap", (1, 3)),
             Gate("p", (3,), (1, 2), (-1.1,)), Gate("u", (2,), (3,), (0.4, 0.2, -0.9))]
    lo = 1
    dense = np.eye(2**k, dtype=complex)
    for g in gates:  # the gate's full 2^k matrix from its action on each basis column
        cols = torch.eye(2**k, dtype=torch.complex128)
        local = apply_gate(cols, k, g.remap([0, 0, 1, 2]))
        dense = local.numpy().T @ dense
    got = _block_matrix(gates, lo, k, torch.complex128, "cpu").numpy()
    np.testing.assert_allclose(got, dense, atol=1e-14)
    ops = fuse(gates, 4, max_qubits=3, dtype=torch.complex128)
    assert len(ops) == 1 and ops[0].num_gates == len(gates) and ops[0].lo == 1
