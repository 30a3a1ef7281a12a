"""Generated series: NARMA-10 follows its recurrence; Mackey-Glass is seeded and bounded; NRMSE."""

import pytest
import torch

from qtrain.data import mackey_glass, narma10, nrmse


def test_narma10_recurrence_holds():
    u, y = narma10(300, seed=1, washout=50)
    assert u.shape == y.shape == (300,)
    for t in range(20, 299):
        want = 0.3 * y[t] + 0.05 * y[t] * y[t - 9:t + 1].sum() + 1.5 * u[t - 8] * u[t + 1] + 0.1
        assert float(y[t + 1]) == pytest.approx(float(want), rel=1e-12)


def test_mackey_glass_seeded_bounded_and_chaotic_range():
    a, b = mackey_glass(400, seed=0), mackey_glass(400, seed=0)
    assert torch.equal(a, b) and not torch.equal(a, mackey_glass(400, seed=1))
    assert 0.2 < float(a.min()) and float(a.max()) < 1.5 and float(a.std()) > 0.1


def test_nrmse():
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    assert nrmse(y, y) == 0.0
    assert nrmse(torch.full((4,), 1.5), y) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="constant"):
        nrmse(y, torch.ones(4))
    with pytest.raises(ValueError, match="length"):
        narma10(0)
    with pytest.raises(ValueError, match="tau"):
        mackey_glass(10, tau=0)
