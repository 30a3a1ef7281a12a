"""Circuits: gate list, registers, counts, depth, fusion; checked against Qiskit's simulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtrain.quantum import Circuit


def _random_circuit(n: int, num_gates: int, seed: int):
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    c, qc = Circuit.with_registers(a=n // 2, b=n - n // 2), QuantumCircuit(n)
    for _ in range(num_gates):
        kind = int(rng.integers(0, 9))
        qs = [int(q) for q in rng.choice(n, 4, replace=False)]
        th = float(rng.uniform(-3, 3))
        if kind == 0:
            c.rx(th, qs[0]), qc.rx(th, qs[0])
        elif kind == 1:
            c.h(qs[0]), qc.h(qs[0])
        elif kind == 2:
            c.cx(qs[0], qs[1]), qc.cx(qs[0], qs[1])
        elif kind == 3:
            c.cp(th, qs[0], qs[1]), qc.cp(th, qs[0], qs[1])
        elif kind == 4:
            c.mcx(qs[:3], qs[3]), qc.mcx(qs[:3], qs[3])
        elif kind == 5:
            c.ry(th, qs[0]).rz(-th, qs[1]), qc.ry(th, qs[0]), qc.rz(-th, qs[1])
        elif kind == 6:
            c.swap(qs[0], qs[1]).t(qs[2]).s(qs[3]), qc.swap(qs[0], qs[1]), qc.t(qs[2]), qc.s(qs[3])
        elif kind == 7:
            c.ccx(qs[0], qs[1], qs[2]).y(qs[3]), qc.ccx(qs[0], qs[1], qs[2]), qc.y(qs[3])
        else:
            c.add("u", [qs[0]], [qs[1]], (th, 0.3, -0.7))
            qc.cu(th, 0.3, -0.7, 0, qs[1], qs[0])
    return c, qc


@pytest.mark.parametrize("seed", range(4))
def test_random_circuits_match_qiskit(seed):
    from qiskit.quantum_info import Statevector as QiskitStatevector

    c, qc = _random_circuit(7, 40, seed)
    ref = QiskitStatevector(qc).data
    ours = c.run(device="cpu", dtype=torch.complex128).amplitudes.numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    fused = c.run(device="cpu", dtype=torch.complex128, fuse=True, max_fused_qubits=4).amplitudes
    np.testing.assert_allclose(fused.numpy(), ref, atol=1e-12)
    back = c.copy().compose(c.inverse()).run(device="cpu", dtype=torch.complex128).amplitudes
    assert abs(complex(back[0]) - 1) < 1e-12


def test_fused_layered_circuit_matches_unfused_in_complex64():
    n = 10
    c = Circuit.with_registers(q=n)
    rng = np.random.default_rng(0)
    for layer in range(4):
        for q in range(n):
            c.rx(float(rng.uniform(0, 3)), q).rz(float(rng.uniform(0, 3)), q)
        for q in range(layer % 2, n - 1, 2):
            c.cx(q, q + 1)
    plain = c.run(device="cpu").amplitudes
    for k in (1, 3, 5):
        fused = c.run(device="cpu", fuse=True, max_fused_qubits=k).amplitudes
        assert float((fused - plain).abs().max()) < 1e-5


def test_registers_counts_and_depth():
    c = Circuit()
    x = c.add_register("x", 3)
    anc = c.add_register("anc", 1)
    assert x.qubits == (0, 1, 2) and anc.qubits == (3,) and c.num_qubits == 4
    c.h(x).mcx(x, anc[0]).ccx(x[0], x[1], anc[0]).cx(x[2], anc[0]).t(x[0]).rz(0.3, x[1])
    c.diagonal(torch.tensor([1, -1, 1, 1]), [x[0], x[2]])
    assert c.count_ops() == {"ccx": 1, "cx": 1, "diagonal": 1, "h": 3, "mcx": 1, "rz": 1, "t": 1}
    assert c.depth() == 5  # h | mcx | ccx | cx, t, rz | diagonal
    res = c.resources()
    assert res.toffoli == 1 + 3  # a CCX, and a 3-controlled X as 2*3-3 Toffolis
    assert res.two_qubit == 1 + 2  # the CX and the 2-qubit diagonal's 2^2-2 CNOTs
    assert res.rotations == 1 + 3
    assert res.t_count == 7 * 4 + 1 + 4 * 100
    assert res.qubits == 4 and res.measurements == 4
    assert "x[3]" in repr(c)


def test_bad_gates_are_refused():
    c = Circuit.with_registers(q=2)
    with pytest.raises(ValueError, match="outside the circuit"):
        c.h(2)
    with pytest.raises(ValueError, match="repeats a qubit"):
        c.cx(0, 0)
    with pytest.raises(ValueError, match="needs 4 entries"):
        c.diagonal(torch.ones(3), [0, 1])
    with pytest.raises(ValueError, match="unknown gate"):
        c.add("foo", [0])
    with pytest.raises(ValueError, match="parameter"):
        c.add("rx", [0])
    with pytest.raises(ValueError, match="already exists"):
        c.add_register("q", 1)


def test_compose_places_a_block_on_distinct_qubits_of_the_circuit():
    block = Circuit.with_registers(a=2)
    block.h(0).cx(0, 1)
    c = Circuit.with_registers(q=4)
    c.compose(block, [3, 1]).compose(block, [0, 1])
    assert [(g.name, g.targets, g.controls) for g in c.gates] == [
        ("h", (3,), ()), ("x", (1,), (3,)), ("h", (0,), ()), ("x", (1,), (0,))]
    same = Circuit.with_registers(a=2).compose(block)
    assert same.gates[1] is block.gates[1]  # the identity mapping shares the (immutable) gates
    with pytest.raises(ValueError, match="repeats a qubit"):
        c.compose(block, [2, 2])
    with pytest.raises(ValueError, match="outside the circuit's 4 qubits"):
        c.compose(block, [0, 4])
    with pytest.raises(ValueError, match="must map all 2 qubits"):
        c.compose(block, [0])
    with pytest.raises(ValueError, match="outside the circuit's 2 qubits"):
        Circuit.with_registers(a=2).compose(Circuit.with_registers(b=3))
