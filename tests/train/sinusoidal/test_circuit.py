"""Gate-level blocks of the quantum sine circuit (the DSinNN wiring; the generic arithmetic is tested in
tests/quantum/test_arithmetic.py): each is a permutation, a diagonal or a unitary with the stated
action, checked on every basis state of small registers."""

import math

import pytest
import torch

from qtrain.nn import DSinNN, toy_dsinnn
from qtrain.quantum.arithmetic import from_twos, twos
from qtrain.quantum.gates import apply_gate
from qtrain.train.sinusoidal import QuantumWeightSearch, toy_data
from qtrain.train.sinusoidal import circuit as sc
from tests.quantum.test_arithmetic import matrix


def basis_images(circ, probes=2):
    """Image of every basis state under an X/CX/CCX/MCX circuit, tracked on bit strings; the engine is
    checked to agree on ``probes`` random basis states. Asserts the map is a bijection."""
    n = circ.num_qubits
    s = torch.arange(2**n)
    for g in circ.gates:
        assert g.name == "x", f"{g.kind} is not a classical reversible gate"
        cmask = sum(1 << q for q in g.controls)
        s = torch.where((s & cmask) == cmask, s ^ (1 << g.targets[0]), s)
    assert torch.unique(s).numel() == 2**n  # a permutation of the basis
    for b in torch.randint(0, 2**n, (probes,), generator=torch.Generator().manual_seed(0)).tolist():
        amp = torch.zeros(1, 2**n, dtype=torch.complex128)
        amp[0, b] = 1
        for g in circ.gates:
            amp = apply_gate(amp, n, g)
        assert int(amp[0].abs().argmax()) == int(s[b]) and float(amp[0].abs().max()) == pytest.approx(1.0)
    return s


def field(v, reg):
    return sum(((v >> q) & 1) << i for i, q in enumerate(reg))


def _spec(hidden, codes, targets, *, cost="count", t=2, scale=1.0, output=None, activation="ternary", k=2):
    model = DSinNN(1, [hidden], 1, weights="binary", activation=activation, output=output, scales=[1.0])
    x = torch.tensor(codes, dtype=torch.float64).mul(math.pi / 2 ** (k - 1)).unsqueeze(-1)
    y = torch.tensor(targets, dtype=torch.float64).unsqueeze(-1)
    return model, x, y, sc.spec_from_model(model, x, y, angle_bits=k, cost=cost, cap=1 if cost == "mse" else None,
                                            t=t, scale=scale)


def run_basis(circ, states):
    """Output amplitudes ``[len(states), 2^n]`` of the given basis-state inputs."""
    amp = torch.zeros(len(states), 2**circ.num_qubits, dtype=torch.complex128)
    amp[torch.arange(len(states)), torch.tensor(states)] = 1
    for g in circ.gates:
        amp = apply_gate(amp, circ.num_qubits, g)
    return amp


@pytest.mark.parametrize("output,activation,k", [("ternary", "ternary", 2), (None, "ternary", 2), (None, 3, 3)])
def test_network_block_is_a_permutation_computing_the_model(output, activation, k):
    model, x, y, spec = _spec(2, [-3, 1, 2], [1, -1, 0], output=output, activation=activation, k=k)
    circ = spec.new_circuit()
    pred_reg = circ["out"] if spec.ternary_out else circ["acc"]
    for p in range(3):
        images = basis_images(sc.network_block(spec, p))
        for wi in range(4):  # w register = qubits 0, 1; every other register starts at 0
            out = int(images[wi])
            assert out & 3 == wi
            wts = torch.tensor([[1.0 if (wi >> j) & 1 else -1.0] for j in range(2)], dtype=torch.float64)
            expect = int(model.forward_with([wts], x[p:p + 1], quantized=True).item())
            assert from_twos(field(out, pred_reg), len(pred_reg)) == expect


def test_data_pass_is_diagonal_with_the_cost_phase_and_clean_ancillas():
    model, x, y, spec = _spec(2, [-3, 1, 3], [1, -1, 1], cost="count", t=2, scale=1.0)
    out = run_basis(sc.data_pass(spec), [0, 1, 2, 3])
    for wi in range(4):
        wts = torch.tensor([[1.0 if (wi >> j) & 1 else -1.0] for j in range(2)], dtype=torch.float64)
        C = int((model.forward_with([wts], x, quantized=True) == y).sum())
        phase = torch.polar(torch.tensor(1.0, dtype=torch.float64), torch.tensor(2 * math.pi * C / 4,
                                                                                 dtype=torch.float64))
        assert abs(out[wi, wi] - phase) < 1e-9
        assert float(out[wi].abs().pow(2).sum() - out[wi, wi].abs() ** 2) < 1e-12


def test_loss_phase_and_threshold_are_the_stated_diagonals():
    _, _, _, spec = _spec(2, [1, 3], [1, -1], cost="mse", t=2)
    circ = sc.loss_phase(spec, 1)
    assert [g.name for g in circ.gates] == ["diagonal"]
    acc = list(circ["acc"])
    codes = [sum(((twos(v, len(acc)) >> i) & 1) << q for i, q in enumerate(acc)) for v in range(-4, 4)]
    out = run_basis(circ, codes)
    for r, (v, code) in enumerate(zip(range(-4, 4), codes, strict=True)):
        want = torch.polar(torch.tensor(1.0, dtype=torch.float64),
                           torch.tensor(2 * math.pi * min((v + 1) ** 2, 1) / 4, dtype=torch.float64))
        assert abs(out[r, code] - want) < 1e-12 and float(out[r].abs().sum()) == pytest.approx(1.0)
    c = sc.threshold_oracle(3, lambda m: m >= 5)
    assert list(c.registers) == ["pe"]
    assert torch.allclose(matrix(c), torch.diag(torch.tensor([1, 1, 1, 1, 1, -1, -1, -1], dtype=torch.complex128)))


def test_toy_reproduces_the_published_pe_marginal_and_one_grover_step():
    x, y = toy_data(discrete=True)
    search = QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, cost_scale=0.5, levels=[-1, 1])
    spec = search.circuit_spec()
    assert spec.num_qubits == 16
    circ = spec.new_circuit()
    circ.h(list(circ["w"]))
    circ.compose(sc.phase_estimation_circuit(spec, repeat=False))
    gate = circ.run(device="cpu", dtype=torch.complex128).probabilities(list(circ["pe"]))
    assert torch.allclose(gate.double(), torch.tensor([0.75, 0, 0.25, 0], dtype=torch.float64), atol=1e-9)
    assert torch.allclose(search.pe_outcomes()[2], gate.double(), atol=1e-9)
    g = sc.grover_circuit(spec, lambda m: m > 0, 1, repeat=False)
    st = g.run(device="cpu", dtype=torch.complex128)
    assert float(st.probabilities(list(g["w"]))[3]) == pytest.approx(1.0, abs=1e-9)  # weights (+1, +1)
    assert float(st.probabilities(list(range(2, g.num_qubits)))[0]) == pytest.approx(1.0, abs=1e-9)


def test_repeated_and_compressed_phase_estimation_are_the_same_unitary():
    _, _, _, spec = _spec(1, [1, 3, -1], [1, 1, 0], cost="count", t=2)
    states = list(range(2**spec.num_qubits))[:: 2 ** (spec.num_qubits - 6)]  # weight, input, ancilla patterns
    a = run_basis(sc.phase_estimation_circuit(spec, repeat=True), states)
    b = run_basis(sc.phase_estimation_circuit(spec, repeat=False), states)
    assert torch.allclose(a, b, atol=1e-12)
    full, short = (len(sc.phase_estimation_circuit(spec, repeat=r).gates) for r in (True, False))
    assert full > short


def test_oracle_exports_to_qiskit_with_the_same_gates():
    _, _, _, spec = _spec(1, [1, 3], [1, -1], cost="count", t=2)
    step = sc.grover_step(spec, lambda m: m > 0, repeat=False)
    qc = step.to_qiskit()
    ours = step.count_ops()
    assert qc.num_qubits == spec.num_qubits and qc.size() == len(step.gates)
    assert qc.count_ops()["ccx"] == ours["ccx"] and qc.count_ops()["cx"] == ours["cx"]
    assert "OPENQASM 3" in step.to_qasm3()
