"""Phase-estimation distribution against the direct sum over the counting register."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtrain.quantum import phase_estimation_distribution


def test_phase_estimation_distribution_matches_direct_sum():
    phases = torch.tensor([0.0, 0.25, 0.1, 0.7312, -0.3, 1.5])
    for t in (1, 3, 5):
        P = phase_estimation_distribution(phases, t)
        assert P.shape == (6, 2**t)
        T = 2**t
        k = np.arange(T)
        for i, phi in enumerate(phases.double().numpy()):
            for m in range(T):
                ref = abs(np.exp(2j * np.pi * k * (phi - m / T)).sum() / T) ** 2
                assert abs(float(P[i, m]) - ref) < 1e-12
        np.testing.assert_allclose(P.sum(-1).numpy(), 1, atol=1e-12)
    assert float(phase_estimation_distribution(torch.tensor([0.25]), 2)[0, 1]) == pytest.approx(1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="t must be"):
        phase_estimation_distribution(torch.tensor([0.1]), 0)
    with pytest.raises(ValueError, match="phases must be finite"):
        phase_estimation_distribution(torch.tensor([float("nan")]), 2)
