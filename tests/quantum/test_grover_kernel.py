"""The fused Grover iteration (torch path on CPU) against the eager one and the closed form."""

from __future__ import annotations

import math

import pytest
import torch

from qtrain.quantum import grover_probability
from qtrain.quantum.grover_kernel import (
    grover_iteration,
    grover_iteration_bytes,
    grover_iteration_eager,
    triton_available,
)


def test_fused_iteration_matches_eager_and_closed_form():
    N = 3 * 2**15 + 5
    mark = (torch.rand(N, generator=torch.Generator().manual_seed(0)) < 1e-3).to(torch.uint8)
    psi = torch.full((N,), 1 / math.sqrt(N))
    ref = psi.clone()
    for k in range(1, 6):
        out = grover_iteration(psi, mark)
        assert out.data_ptr() == psi.data_ptr()  # in place
        ref = grover_iteration_eager(ref, mark)
        assert float((psi - ref).abs().max()) < 1e-6
        p = float(psi[mark.bool()].double().pow(2).sum())
        assert abs(p - float(grover_probability(mark, k))) < 1e-5


def test_bytes_and_checks():
    assert grover_iteration_bytes(2**30) == 14 * 2**30
    assert not triton_available("cpu")
    with pytest.raises(ValueError, match="float32"):
        grover_iteration(torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.uint8))
    with pytest.raises(ValueError, match="marked"):
        grover_iteration(torch.zeros(4), torch.zeros(3, dtype=torch.uint8))
