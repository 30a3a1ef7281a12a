"""Regularisers (kappa control) and the symmetric top-k sparsifier."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qtrain.linalg import condition_number, regularize, sparsify
from qtrain.testing import random_spd


def test_published_rule_and_lambda_max_rule():
    A = random_spd(3, 8, kappa=1e3, seed=0)
    r = regularize(A, "max-entry", eps_n=0.1)
    assert torch.allclose(r.lam, 0.1 * A.abs().amax((-2, -1)))
    assert torch.allclose(r.matrix - A, r.lam[:, None, None] * torch.eye(8).double())
    r2 = regularize(A, "lambda-max", eps_n=0.01)
    assert torch.allclose(r2.lam, torch.full((3,), 10.0, dtype=torch.float64))
    # kappa(A + eps lmax I) = (lmax + eps lmax) / (lmin + eps lmax)
    assert torch.allclose(condition_number(r2.matrix),
                          torch.full((3,), 1010.0 / 11.0, dtype=torch.float64))


@pytest.mark.parametrize("target", [2.0, 50.0, 999.0])
def test_kappa_target_rule_reaches_the_target(target):
    A = random_spd(4, 12, kappa=1e3, seed=1)
    r = regularize(A, "kappa-target", kappa_target=target)
    assert torch.allclose(condition_number(r.matrix), torch.full((4,), target).double(),
                          rtol=1e-8)


def test_kappa_target_leaves_well_conditioned_blocks_alone():
    A = random_spd(2, 5, kappa=3.0, seed=2)
    r = regularize(A, "kappa-target", kappa_target=10.0)
    assert torch.equal(r.lam, torch.zeros(2, dtype=torch.float64))


def test_regularize_refuses_bad_parameters():
    A = random_spd(1, 3, seed=0)
    with pytest.raises(ValueError, match="rule must be one of"):
        regularize(A, "ridge")
    with pytest.raises(ValueError, match="kappa_target must be given and > 1"):
        regularize(A, "kappa-target", kappa_target=1.0)
    with pytest.raises(ValueError, match="lam must be given"):
        regularize(A, "fixed")
    with pytest.raises(ValueError, match="eps_n must be positive"):
        regularize(A, eps_n=0.0)
    with pytest.raises(ValueError, match="symmetric"):
        regularize(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), k=st.integers(1, 14), seed=st.integers(0, 10**6))
def test_sparsify_is_symmetric_keeps_diagonal_and_reports_d(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(2, n, n, generator=g, dtype=torch.float64)
    A = X + X.mT
    S = sparsify(A, k)
    assert torch.equal(S.matrix, S.matrix.mT)
    assert torch.equal(torch.diagonal(S.matrix, dim1=-2, dim2=-1),
                       torch.diagonal(A, dim1=-2, dim2=-1))
    # brute force: row i keeps its own top-k, and j's top-k that contain i
    for b in range(2):
        keep = torch.zeros(n, n, dtype=torch.bool)
        for i in range(n):
            order = sorted(range(n), key=lambda j: -abs(float(A[b, i, j])))[: min(k, n)]
            keep[i, order] = True
        keep = keep | keep.T | torch.eye(n, dtype=torch.bool)
        assert torch.equal(S.mask[b], keep)
        assert int(S.d[b]) == int(keep.sum(1).max())
        assert torch.equal(S.matrix[b], A[b] * keep)
    assert bool((S.d >= min(k, n)).all())


def test_sparsify_full_k_keeps_everything_and_refuses_bad_k():
    A = random_spd(1, 6, seed=3)
    assert torch.equal(sparsify(A, 6).matrix, A) and int(sparsify(A, 100).d) == 6
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        sparsify(A, 0)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        sparsify(A, 2.5)
