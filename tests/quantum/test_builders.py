"""Builders as dense unitaries: Grover diffusion and the inverse QFT (the gate-vs-semantic checks of
every builder are in test_gate_vs_semantic.py)."""

import math

import torch

from qtrain.quantum import builders
from tests.quantum.test_arithmetic import matrix


def test_diffusion_and_inverse_qft_are_the_stated_unitaries():
    d = builders.diffusion(3)
    assert list(d.registers) == ["x"]
    s = torch.full((8, 1), 8**-0.5, dtype=torch.complex128)
    assert torch.allclose(matrix(d), -(2 * s @ s.T - torch.eye(8, dtype=torch.complex128)), atol=1e-12)
    q = builders.inverse_qft(3)
    j = torch.arange(8, dtype=torch.float64)
    F = torch.polar(torch.ones(8, 8, dtype=torch.float64), -2 * math.pi * torch.outer(j, j) / 8) / 8**0.5
    assert torch.allclose(matrix(q), F, atol=1e-12)
