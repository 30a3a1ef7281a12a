"""Reversible arithmetic: each block is a permutation (or a diagonal sign) with the stated action,
checked on every basis state of small registers; the integer encodings round-trip."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from qtrain.quantum import Circuit
from qtrain.quantum.arithmetic import (
    cuccaro_add,
    from_twos,
    less_than_phase,
    lookup,
    quarter_sine,
    sign_magnitude,
    twos,
)
from qtrain.quantum.gates import apply_gate

TOL = 1e-6
C128 = torch.complex128


def matrix(circ):
    """The circuit's unitary, column b = image of basis state b (little-endian qubit order)."""
    N = 2**circ.num_qubits
    psi = torch.eye(N, dtype=torch.complex128)
    for g in circ.gates:
        psi = apply_gate(psi, circ.num_qubits, g)
    return psi.T


def assert_permutation(U):
    assert torch.allclose(U.imag, torch.zeros_like(U.real), atol=1e-12)
    R = U.real
    assert torch.all((R.abs() < 1e-12) | ((R - 1).abs() < 1e-12))
    assert torch.all(R.sum(0).sub(1).abs() < 1e-12) and torch.all(R.sum(1).sub(1).abs() < 1e-12)


def image(U, b):
    return int(U[:, b].abs().argmax())


def test_quarter_sine_uses_only_cnot_toffoli_and_matches_the_sine():
    circ = quarter_sine(3, 2)
    assert list(circ.registers) == ["angle", "target"]
    assert set(circ.count_ops()) <= {"cx", "ccx"}
    U = matrix(circ)
    assert_permutation(U)
    for b in range(32):
        xa, z = b & 7, b >> 3
        a = (xa & 3) * (-1 if xa >> 2 else 1)
        out = image(U, b)
        assert out & 7 == xa
        assert from_twos((out >> 3) ^ z, 2) == round(math.sin(a * math.pi / 2))
    with pytest.raises(ValueError, match="two magnitude bits"):
        quarter_sine(2, 2)


def test_lookup_is_a_self_inverse_permutation_with_the_table():
    table = [5, 0, 3, 7, 1, 0, 2, 6]
    circ = lookup(lambda code: table[code], address_bits=3, target_bits=3)
    U = matrix(circ)
    assert_permutation(U)
    assert torch.allclose(U @ U, torch.eye(64, dtype=U.dtype))
    for b in range(64):
        assert image(U, b) == (b & 7) | (((b >> 3) ^ table[b & 7]) << 3)


def test_lookup_takes_a_table_or_a_callable_and_emits_the_same_gates():
    table = [5, 0, 3, 7, 1, 0, 2, 6]
    gates = [(g.name, g.targets, g.controls) for g in lookup(table).gates]
    for other in (lookup(torch.tensor(table)), lookup(lambda a: table[a], address_bits=3, target_bits=3)):
        assert [(g.name, g.targets, g.controls) for g in other.gates] == gates
    assert lookup(table).registers["target"].qubits == (3, 4, 5)  # default width: the widest value
    assert len(lookup(table, target_bits=5)["target"]) == 5
    assert lookup([0, 0]).count_ops() == {}  # zero entries emit nothing
    for bad, kwargs, msg in (([1, 2, 3], {}, "power-of-two"), ([1], {}, "power-of-two"),
                             ([1, 2], {"address_bits": 2}, "2\\^2 = 4 entries"),
                             ([1, 4], {"target_bits": 2}, "\\[0, 2\\^2\\)"), ([-1, 0], {}, "\\[0, 2\\^1\\)"),
                             (lambda a: a, {}, "address_bits")):
        with pytest.raises(ValueError, match=msg):
            lookup(bad, **kwargs)


def test_blocks_compose_onto_any_qubits():
    # the adder placed on scattered, permuted qubits of a larger circuit acts on them
    circ = Circuit.with_registers(q=6)
    a, b, carry = [5, 1], [0, 4], 2
    circ.compose(cuccaro_add(2), [*a, *b, carry])
    U = matrix(circ)

    def put(v, reg):  # basis index with the bits of v on the qubits of reg
        return sum(((v >> i) & 1) << q for i, q in enumerate(reg))

    for av in range(4):
        for bv in range(4):
            out = image(U, put(av, a) | put(bv, b))
            assert sum(((out >> q) & 1) << i for i, q in enumerate(b)) == (av + bv) % 4
            assert (out >> carry) & 1 == 0 and out & (1 << 3) == 0


@pytest.mark.parametrize("m", [1, 2, 3])
def test_cuccaro_adder_adds_mod_2m_and_restores_the_carry(m):
    circ = cuccaro_add(m)
    assert [len(r) for r in circ.registers.values()] == [m, m, 1]
    assert circ.count_ops()["ccx"] == 2 * m
    U = matrix(circ)
    assert_permutation(U)
    for b in range(2 ** (2 * m + 1)):
        a_, b_, c_ = b & (2**m - 1), (b >> m) & (2**m - 1), b >> (2 * m)
        out = image(U, b)
        if c_ == 0:  # the adder's contract: carry ancilla clean in, clean out
            assert out == a_ | (((a_ + b_) % 2**m) << m)
    with pytest.raises(ValueError, match="num_bits"):
        cuccaro_add(0)


@pytest.mark.parametrize("b", [1, 2, 3, 4])
def test_less_than_phase_is_exact_for_every_threshold(b):
    for T in range(2**b + 1):
        circ = Circuit.with_registers(v=b)
        circ.h(circ["v"])
        circ.compose(less_than_phase(b, T), circ["v"])
        amps = circ.run(device="cpu", dtype=C128).amplitudes * 2 ** (b / 2)
        want = torch.tensor([-1.0 if v < T else 1.0 for v in range(2**b)], dtype=C128)
        assert float((amps - want).abs().max()) < TOL


@given(st.integers(1, 16).flatmap(lambda w: st.tuples(st.just(w), st.integers(-(2 ** (w - 1)), 2 ** (w - 1) - 1))))
def test_twos_complement_round_trips(width_value):
    width, v = width_value
    code = twos(v, width)
    assert 0 <= code < 2**width and from_twos(code, width) == v


@given(st.integers(1, 12).flatmap(lambda m: st.tuples(st.just(m), st.integers(-(2**m) + 1, 2**m - 1))))
def test_sign_magnitude_holds_the_magnitude_then_the_sign(mag_value):
    m, a = mag_value
    code = sign_magnitude(a, m)
    assert code & (2**m - 1) == abs(a) and code >> m == int(a < 0)
    with pytest.raises(ValueError, match="magnitude bits"):
        sign_magnitude(2**m, m)
