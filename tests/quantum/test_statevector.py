"""Statevector engine against dense Kronecker-product references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtrain.quantum import Statevector, check_memory, max_qubits
from qtrain.quantum.gates import gate_matrix


def _random_unitary(k: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.normal(size=(2**k, 2**k)) + 1j * rng.normal(size=(2**k, 2**k))
    q, r = np.linalg.qr(a)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _dense(n: int, U: np.ndarray, targets: list[int], controls: list[int] = ()) -> np.ndarray:
    """The full 2^n operator, built entry by entry from the index convention."""
    N = 2**n
    out = np.zeros((N, N), dtype=complex)
    for col in range(N):
        if any(not (col >> c) & 1 for c in controls):
            out[col, col] = 1
            continue
        sub = sum(((col >> t) & 1) << j for j, t in enumerate(targets))
        base = col & ~sum(1 << t for t in targets)
        for row_sub in range(2 ** len(targets)):
            row = base | sum(((row_sub >> j) & 1) << t for j, t in enumerate(targets))
            out[row, col] += U[row_sub, sub]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_gates_match_dense_reference(seed):
    rng = np.random.default_rng(seed)
    n = 5
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    psi /= np.linalg.norm(psi)
    sv = Statevector.from_amplitudes(torch.from_numpy(psi))
    for _ in range(12):
        k = int(rng.integers(1, 4))
        qs = rng.permutation(n).tolist()
        targets, controls = qs[:k], qs[k:k + int(rng.integers(0, 3))]
        U = _random_unitary(k, rng)
        sv.apply(torch.from_numpy(U), targets, controls, check_unitary=True)
        psi = _dense(n, U, targets, controls) @ psi
    assert sv.dtype == torch.complex128
    np.testing.assert_allclose(sv.amplitudes.numpy(), psi, atol=1e-12)


def test_diagonal_on_subset_matches_dense():
    rng = np.random.default_rng(3)
    n = 4
    sv = Statevector(n, device="cpu", dtype=torch.complex128)
    sv.apply(gate_matrix("h"), [0]).apply(gate_matrix("h"), [2]).apply(gate_matrix("h"), [3])
    psi = sv.amplitudes.numpy().copy()
    d = np.exp(1j * rng.uniform(-3, 3, size=8))
    sv.apply_diagonal(torch.from_numpy(d), [3, 0, 2])
    np.testing.assert_allclose(sv.amplitudes.numpy(), _dense(n, np.diag(d), [3, 0, 2]) @ psi, atol=1e-12)
    angles = rng.uniform(-3, 3, size=16)
    sv.apply_phase(torch.from_numpy(angles))
    np.testing.assert_allclose(sv.amplitudes.numpy(),
                               np.exp(1j * angles) * (_dense(n, np.diag(d), [3, 0, 2]) @ psi), atol=1e-12)


def test_probabilities_marginals_and_sampling():
    rng = np.random.default_rng(0)
    psi = rng.normal(size=32) + 1j * rng.normal(size=32)
    sv = Statevector.from_amplitudes(torch.from_numpy(psi), normalize=True)
    p = sv.probabilities().numpy()
    assert abs(p.sum() - 1) < 1e-12
    # marginal over qubits (3, 1): index = x3 + 2 x1
    ref = np.zeros(4)
    for x in range(32):
        ref[((x >> 3) & 1) + 2 * ((x >> 1) & 1)] += p[x]
    np.testing.assert_allclose(sv.probabilities([3, 1]).numpy(), ref, atol=1e-12)
    a = sv.sample(20000, seed=5)
    assert torch.equal(a, sv.sample(20000, seed=5))
    assert not torch.equal(a, sv.sample(20000, seed=6))
    freq = np.bincount(a.numpy(), minlength=32) / 20000
    assert np.abs(freq - p).max() < 0.02
    m = sv.sample(5000, seed=1, qubits=[3, 1])
    assert int(m.max()) <= 3


def test_bell_state_complex64_default():
    sv = Statevector(2, device="cpu")
    sv.apply(gate_matrix("h"), [0]).apply(gate_matrix("x"), [1], controls=[0])
    assert sv.dtype == torch.complex64
    np.testing.assert_allclose(sv.probabilities().numpy(), [0.5, 0, 0, 0.5], atol=1e-6)


def test_batched_states_are_independent():
    sv = Statevector(3, device="cpu", batch=2, dtype=torch.complex128)
    sv.data = torch.stack([sv.data[0], torch.roll(sv.data[0], 5)])
    sv.apply(gate_matrix("x"), [1])
    assert sv.amplitudes.shape == (2, 8)
    assert sv.probabilities()[0, 2] == 1 and sv.probabilities()[1, 7] == 1


def test_memory_preflight_says_how_many_qubits_fit():
    fit = max_qubits("cpu")
    assert 10 < fit < 50
    with pytest.raises(ValueError, match=f"at most {fit} qubits fit"):
        Statevector(fit + 3, device="cpu")
    check_memory(10, "cpu")


def test_bad_input_is_refused():
    sv = Statevector(3, device="cpu")
    with pytest.raises(ValueError, match="matrix must have shape"):
        sv.apply(torch.eye(4), [0])
    with pytest.raises(ValueError, match="not unitary"):
        sv.apply(torch.tensor([[1.0, 1.0], [0.0, 1.0]]), [0], check_unitary=True)
    with pytest.raises(ValueError, match="outside the register"):
        sv.apply(torch.eye(2), [3])
    with pytest.raises(ValueError, match="overlap"):
        sv.apply(torch.eye(2), [1], controls=[1])
    with pytest.raises(ValueError, match="diagonal must have length"):
        sv.apply_diagonal(torch.ones(4))
    with pytest.raises(ValueError, match="num_qubits"):
        Statevector(-1)
    with pytest.raises(ValueError, match="dtype"):
        Statevector(2, dtype=torch.float32)
    with pytest.raises(ValueError, match="shots"):
        sv.sample(0)
