"""The QUBO batch type: energies, equivalent forms and conversions, validation."""

import dimod
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qtrain.qubo import QUBO
from qtrain.qubo.exact import enumerate_energies

matrices = st.integers(1, 6).flatmap(
    lambda n: st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=n * n, max_size=n * n)
    .map(lambda v: np.array(v, dtype=np.float64).reshape(n, n)))


def all_states(n):
    return torch.tensor([[(k >> i) & 1 for i in range(n)] for k in range(2**n)], dtype=torch.float64)


@given(matrices, st.floats(-3, 3))
@settings(max_examples=60, deadline=None)
def test_energy_is_full_matrix_quadratic_form(Q, c):
    q = QUBO(Q, c)
    X = all_states(Q.shape[0])
    expected = torch.tensor([x @ Q @ x + c for x in X.numpy()])
    assert torch.allclose(q.energy(X), expected, atol=1e-9)
    assert torch.allclose(enumerate_energies(q)[0], expected, atol=1e-9)


@given(matrices, st.floats(-3, 3))
@settings(max_examples=60, deadline=None)
def test_equivalent_forms_have_equal_energies(Q, c):
    q = QUBO(Q, c)
    X = all_states(Q.shape[0])
    e = q.energy(X)
    assert torch.allclose(q.symmetrized().energy(X), e, atol=1e-9)
    assert torch.allclose(q.upper().energy(X), e, atol=1e-9)
    bqm = q.to_bqm()
    assert np.allclose(bqm.energies((X.numpy(), list(range(Q.shape[0])))), e.numpy(), atol=1e-9)
    back = QUBO.from_bqm(bqm)
    assert torch.allclose(back.energy(X), e, atol=1e-9)
    h, J, off = q.to_ising()
    S = 2 * X - 1
    ising = S @ h + torch.einsum("ki,ij,kj->k", S, J, S) + off
    assert torch.allclose(ising, e, atol=1e-9)
    assert torch.allclose(QUBO.from_ising(h, J, off).energy(X), e, atol=1e-9)
    assert torch.allclose(QUBO.from_numpy(Q, c).energy(X), e, atol=1e-9)


def test_from_ising_reads_full_J_including_diagonal():
    h = torch.tensor([0.5, -1.0])
    J = torch.tensor([[2.0, 1.0], [-3.0, 0.0]])  # diagonal adds a constant trace(J) = 2
    q = QUBO.from_ising(h, J, 1.0)
    for x in ([0, 0], [0, 1], [1, 0], [1, 1]):
        s = 2 * torch.tensor(x, dtype=torch.float32) - 1
        assert float(q.energy(torch.tensor(x))) == pytest.approx(float(h @ s + s @ J @ s + 1.0))


def test_spin_bqm_converts_to_binary():
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -2.0}, {("a", "b"): 0.5}, 0.25, "SPIN")
    q = QUBO.from_bqm(bqm, variable_order=["b", "a"])
    for x in ([0, 0], [0, 1], [1, 0], [1, 1]):
        spins = {"b": 2 * x[0] - 1, "a": 2 * x[1] - 1}
        assert float(q.energy(torch.tensor(x))) == pytest.approx(bqm.energy(spins))


def test_batch_energy_and_indexing():
    Q = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    q = QUBO(Q, torch.arange(6.0).reshape(2, 3))
    x = torch.randint(0, 2, (2, 3, 5, 4))
    e = q.energy(x)
    assert e.shape == (2, 3, 5)
    assert torch.allclose(e[1, 2], q[1][2].energy(x[1, 2]))
    assert q.flatten().num_problems == 6 and q.num_problems == 6
    assert torch.allclose(QUBO.stack([q[0], q[1]]).Q, Q)
    assert len(q) == 2


@pytest.mark.parametrize(
    "Q, offset, match",
    [
        (np.ones((2, 3)), 0.0, "Q must have shape"),
        (np.ones(3), 0.0, "Q must have shape"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), 0.0, "Q must be finite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), 0.0, "Q must be finite"),
        (np.eye(2) * 1j, 0.0, "Q must be real"),
        (np.eye(2), np.inf, "offset must be finite"),
        (np.ones((3, 2, 2)), np.ones(2), "offset of shape"),
        ("not a matrix", 0.0, "Q must be a real numeric array"),
        (np.eye(2, dtype=bool), 0.0, "Q must be a real numeric array"),
    ],
)
def test_validation_names_the_argument(Q, offset, match):
    with pytest.raises(ValueError, match=match):
        QUBO(Q, offset)


def test_energy_rejects_wrong_sizes():
    q = QUBO(torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="last dimension n=3"):
        q.energy(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="batch shape"):
        q.energy(torch.zeros(5, 3))
