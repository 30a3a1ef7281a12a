"""Condition-number estimators against eigvalsh, the bound, and the Fisher identity."""

import math

import pytest
import torch

from qtrain.linalg import condition_number, regularize
from qtrain.testing import random_spd


def test_bound_is_exact_for_the_published_2x2_example():
    A = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    est = condition_number(A, "bound", return_estimate=True)
    assert round(float(est.kappa), 3) == 14.933
    assert float(est.kappa) == pytest.approx(float(torch.linalg.cond(A)), rel=1e-10)
    assert est.cost["flops"] > 0 and est.cost["time_ns"] >= 0 and est.lambda_max is None


def test_bound_is_an_upper_bound_and_stays_finite_where_det_underflows():
    A = random_spd(5, 30, kappa=100.0, seed=3)
    assert bool((condition_number(A, "bound") >= condition_number(A, "exact") * (1 - 1e-9)).all())
    big = random_spd(1, 400, kappa=10.0, seed=0) * 1e-3  # det = 1e-1200 underflows float64
    assert torch.linalg.det(big).item() == 0.0
    kb = condition_number(big, "bound")
    assert bool(torch.isfinite(kb).all()) and float(kb) >= 10.0


def test_exact_on_symmetric_and_nonsymmetric():
    A = random_spd(3, 10, kappa=123.0, seed=1)
    assert torch.allclose(condition_number(A), torch.full((3,), 123.0, dtype=torch.float64))
    M = torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64)
    assert float(condition_number(M)) == pytest.approx(float(torch.linalg.cond(M)))
    assert math.isinf(float(condition_number(torch.zeros(2, 2, dtype=torch.float64) +
                                             torch.tensor([[1.0, 0], [0, 0]]).double())))


def test_lanczos_matches_exact_on_spd_blocks_with_fewer_products():
    A = random_spd(2, 150, kappa=300.0, seed=4)
    est = condition_number(A, "lanczos", return_estimate=True, tol=1e-3)
    exact = condition_number(A, "exact")
    assert torch.allclose(est.kappa, exact, rtol=0.05)
    assert est.cost["matvecs"] < 150


def test_lanczos_matrix_free_on_hessian_vector_products():
    torch.manual_seed(0)
    X = torch.randn(200, 20, dtype=torch.float64)
    w = torch.randn(20, dtype=torch.float64, requires_grad=True)

    def loss(w):
        return torch.nn.functional.softplus(X @ w).mean() + 0.01 * (w * w).sum()

    H = torch.autograd.functional.hessian(loss, w.detach())

    def hvp(v):
        return torch.autograd.functional.hvp(loss, w.detach(), v)[1]

    k = condition_number(hvp, "lanczos", n=20, tol=1e-6, max_iter=20)
    assert float(k) == pytest.approx(float(condition_number(H)), rel=1e-6)
    with pytest.raises(ValueError, match="n .* is required"):
        condition_number(hvp, "lanczos")
    with pytest.raises(ValueError, match="needs method='lanczos'"):
        condition_number(hvp, "exact")


@pytest.mark.parametrize("eps_n", [1e-4, 1e-2, 0.3])
def test_fisher_identity_on_rank_deficient_fishers(eps_n):
    g = torch.Generator().manual_seed(int(eps_n * 1e4))
    G = torch.randn(6, 5, 40, generator=g, dtype=torch.float64)  # 5 per-sample grads, N = 40
    F = G.mT @ G / 5
    mu = eps_n * torch.diagonal(F, dim1=-2, dim2=-1).amax(-1)
    reg = regularize(F, "fixed", lam=0.0).matrix + mu[:, None, None] * torch.eye(40).double()
    expected = 1 + torch.linalg.eigvalsh(F)[..., -1] / mu
    assert torch.allclose(condition_number(reg), expected, rtol=1e-6)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="method must be one of"):
        condition_number(torch.eye(2), "power")
    with pytest.raises(ValueError, match="non-finite"):
        condition_number(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        condition_number(torch.tensor([[1.0, 2.0], [0.0, 1.0]]), "lanczos")
    with pytest.raises(ValueError, match="square"):
        condition_number(torch.ones(2, 3), "bound")
