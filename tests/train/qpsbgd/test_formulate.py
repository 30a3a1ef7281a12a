"""The QP-SBGD formulations against brute force: every ground state, every fan-in 1..10, B <= 4."""

import itertools

import pytest
import torch

from qtrain.qubo import get_sampler
from qtrain.train.qpsbgd import binary_gradient_qubo
from qtrain.train.qpsbgd.formulate import (
    projected_flip_qubo,
    quadratic_direction_qubo,
    sign_objective,
    sign_threshold,
)


def all_directions(n: int) -> torch.Tensor:
    """Every d in {-1, +1}^n, [2^n, n], float64 (row r is the binary expansion of r)."""
    bits = torch.tensor(list(itertools.product([0, 1], repeat=n)), dtype=torch.float64)
    return 2 * bits - 1


def brute_force_sign(X, G, eps):
    """F_j(d) = sum_i G_ij sign(x_i . d + eps) for every d: [m, 2^n]."""
    D = all_directions(X.shape[1])
    z = X.double() @ D.T + eps  # [B, 2^n]
    assert bool((z != 0).all())
    return G.double().T @ torch.sign(z)  # [m, 2^n]


def min_over_aux(qubo, n, B, R):
    """min over every auxiliary bit of the QUBO energy, for every weight assignment: [m, 2^n].

    Exact because the auxiliary blocks of different samples are uncoupled (asserted here): with
    ``S`` the symmetrised ``Q``, ``E(w, a) = E(w, 0) + sum_i (a_i^T S_ii a_i + 2 w^T S_wi a_i)``, so
    the minimum splits into independent minima over each sample's 2^(R+1) slack/output bits.
    ``E(w, 0)`` is the QUBO's own ``energy``; the split is checked against it on random points.
    """
    S = (qubo.Q + qubo.Q.transpose(-1, -2)) / 2
    k = R + 1
    blocks = [slice(n + i * k, n + (i + 1) * k) for i in range(B)]
    for bi, bj in itertools.combinations(blocks, 2):
        assert bool((S[:, bi, bj] == 0).all()), "auxiliary blocks of two samples are coupled"
    m, N = qubo.num_problems, qubo.num_variables
    W = (all_directions(n) + 1) / 2  # [2^n, n] 0/1
    A = torch.tensor(list(itertools.product([0, 1], repeat=k)), dtype=torch.float64)  # [2^k, k]
    base = torch.zeros(W.shape[0], N, dtype=torch.float64)
    base[:, :n] = W
    E0 = qubo.energy(base[None].expand(m, -1, -1))  # [m, 2^n]
    total = E0.clone()
    deltas = []
    for b in blocks:
        quad = torch.einsum("ak,mkl,al->ma", A, S[:, b, b], A)  # [m, 2^k]
        cross = 2 * torch.einsum("wn,mnk,ak->mwa", W, S[:, :n, b], A)  # [m, 2^n, 2^k]
        deltas.append(quad[:, None, :] + cross)
        total += deltas[-1].min(-1).values
    # the split reproduces the QUBO's energy on random full assignments
    gen = torch.Generator().manual_seed(0)
    wi = torch.randint(0, W.shape[0], (16,), generator=gen)
    ai = torch.randint(0, A.shape[0], (16, B), generator=gen)
    x = base[wi].clone()
    for i, b in enumerate(blocks):
        x[:, b] = A[ai[:, i]]
    split = E0[:, wi] + sum(deltas[i][:, wi, ai[:, i]] for i in range(B))
    torch.testing.assert_close(qubo.energy(x[None].expand(m, -1, -1)), split)
    return total


@pytest.mark.parametrize("n", range(1, 11))
@pytest.mark.parametrize("B", range(1, 5))
def test_sign_encoding_ground_states_are_the_brute_force_maximisers(n, B):
    gen = torch.Generator().manual_seed(100 * n + B)
    m = 3
    # 1.2: the authors' offset eps B at B = 120 rows (tie='authors')
    for eps in (0.01, -0.01, 0.5, 1.2):
        if ((n - eps) / 2) % 1 == 0:
            continue
        X = 2 * torch.randint(0, 2, (B, n), generator=gen).double() - 1
        # integer gradients make ties between directions (several maximisers) and zero rows likely
        G = torch.randint(-3, 4, (B, m), generator=gen).double() * 1e-3
        qubo, decode = binary_gradient_qubo(X, G, eps=eps)
        T, R = sign_threshold(n, eps)
        assert qubo.batch_shape == (m,) and qubo.num_variables == n + B * (R + 1)
        F = brute_force_sign(X, G, eps)
        scale = G.abs().amax(0).clamp_min(1e-300)
        Fn = F / scale[:, None] * (G.abs().amax(0) > 0)[:, None]
        E = min_over_aux(qubo, n, B, R)
        # the ground energy is exactly -max F (normalised), and the ground states are the maximisers
        torch.testing.assert_close(E.min(-1).values, -Fn.max(-1).values, atol=1e-9, rtol=0)
        ground = E <= E.min(-1, keepdim=True).values + 1e-9
        argmax = Fn >= Fn.max(-1, keepdim=True).values - 1e-9
        assert torch.equal(ground, argmax), (n, B, eps)
        # the decoder maps weight bits to directions
        W = (all_directions(n) + 1) / 2
        samples = torch.cat([W, torch.zeros(W.shape[0], qubo.num_variables - n, dtype=W.dtype)], 1)
        assert torch.equal(decode(samples), all_directions(n))


def test_exact_sampler_on_full_qubo_agrees_with_brute_force():
    gen = torch.Generator().manual_seed(7)
    sampler = get_sampler("exact")
    for n, B in [(1, 4), (3, 3), (4, 2), (5, 2), (8, 1)]:
        X = 2 * torch.randint(0, 2, (B, n), generator=gen).double() - 1
        G = torch.randn(B, 4, generator=gen, dtype=torch.float64)
        qubo, decode = binary_gradient_qubo(X, G)
        assert qubo.num_variables <= 20
        res = sampler.sample_qubo_batch(qubo)
        d = decode(res.sample)
        F = brute_force_sign(X, G, 0.01)
        Fd = sign_objective(X, G, d)
        torch.testing.assert_close(Fd, F.max(-1).values)
        torch.testing.assert_close(res.energy, -F.max(-1).values / G.abs().amax(0))


def test_threshold_is_exact_for_every_fan_in():
    # sign(x . d + eps) = +1  <=>  agreements >= T, checked over every agreement count
    for n in range(1, 40):
        for eps in (0.01, -0.01, 0.3, 2.5):
            if ((n - eps) / 2) % 1 == 0:
                with pytest.raises(ValueError, match="eps"):
                    sign_threshold(n, eps)
                continue
            T, R = sign_threshold(n, eps)
            for a in range(n + 1):
                assert (2 * a - n + eps > 0) == (a >= T)
                assert 0 <= a + 2**R - T < 2 ** (R + 1)
    assert sign_threshold(8) == (4, 3)  # fan-in 8: ties go to +1, not a strict majority
    assert sign_threshold(9) == (5, 3)
    with pytest.raises(ValueError, match="eps"):
        sign_threshold(4, 0.0)
    with pytest.raises(ValueError, match="fan-in"):
        sign_threshold(0)


def test_penalty_keeps_coefficients_within_the_data_scale():
    # the largest coefficient is O(n^2) times the data term, independent of |G|
    X = 2 * torch.randint(0, 2, (4, 64), generator=torch.Generator().manual_seed(0)).double() - 1
    for scale in (1e-6, 1.0, 1e6):
        G = torch.randn(4, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * scale
        qubo, _ = binary_gradient_qubo(X, G)
        assert float(qubo.Q.abs().max()) < 2.5 * 4**6 * 3  # lambda <= 2.5, (2^R)^2 = 4^6 at R = 6


def test_quadratic_qubo_energy_equals_the_local_model():
    gen = torch.Generator().manual_seed(3)
    m, n, lr = 3, 6, 0.3
    g = torch.randn(m, n, generator=gen, dtype=torch.float64)
    A = torch.randn(m, n, n, generator=gen, dtype=torch.float64)
    for H in (A @ A.transpose(-1, -2), torch.rand(m, n, generator=gen, dtype=torch.float64)):
        qubo, decode = quadratic_direction_qubo(g, H, lr)
        D = all_directions(n)
        Hf = H if H.dim() == 3 else torch.diag_embed(H)
        model = -lr * g @ D.T + lr**2 / 2 * torch.einsum("kn,mnv,kv->mk", D, Hf, D)
        E = qubo.energy(((D + 1) / 2)[None].expand(m, -1, -1))
        torch.testing.assert_close(E, model)
        if H.dim() == 2:  # diagonal curvature: the minimiser is signSGD's direction
            best = decode(get_sampler("exact").sample_qubo_batch(qubo).sample)
            assert torch.equal(best, torch.sign(g))
    with pytest.raises(ValueError, match="H must be"):
        quadratic_direction_qubo(g, torch.zeros(m, n + 1), lr)
    with pytest.raises(ValueError, match="lr"):
        quadratic_direction_qubo(g, torch.zeros(m, n), -1.0)


@pytest.mark.parametrize("budget", [None, 0, 1, 2, 5])
def test_projected_flip_qubo_ground_states_are_the_constrained_optima(budget):
    gen = torch.Generator().manual_seed(11 if budget is None else budget)
    B, n, m, mu = 3, 5, 4, 0.2
    X = 2 * torch.randint(0, 2, (B, n), generator=gen).double() - 1
    G = torch.randn(B, m, generator=gen, dtype=torch.float64)
    W = 2 * torch.randint(0, 2, (m, n), generator=gen).double() - 1
    qubo, decode = projected_flip_qubo(X, G, W, flip_penalty=mu, hamming_budget=budget)
    res = get_sampler("exact").sample_qubo_batch(qubo)
    new = decode(res.sample)
    # brute force over every flip pattern
    F = all_directions(n)  # +-1; flips where -1
    flips = (1 - F) / 2
    cand = W[:, None, :] * F[None]  # [m, 2^n, n]
    Gn = G / G.abs().amax(0)
    obj = -sign_objective(X, Gn, cand) - mu * flips.sum(-1)[None]
    if budget is not None:
        obj = torch.where(flips.sum(-1)[None] <= budget, obj, torch.tensor(-torch.inf))
    best = obj.max(-1).values
    got = -sign_objective(X, Gn, new[:, None, :])[:, 0] - mu * (new != W).sum(-1)
    torch.testing.assert_close(got, best)
    torch.testing.assert_close(res.energy, -best)
    if budget is not None:
        assert int((new != W).sum(-1).max()) <= budget


def test_bad_input_is_named():
    X = torch.ones(3, 4)
    with pytest.raises(ValueError, match="binary"):
        binary_gradient_qubo(X * 0.5, torch.ones(3, 2))
    with pytest.raises(ValueError, match="batch size"):
        binary_gradient_qubo(X, torch.ones(2, 2))
    with pytest.raises(ValueError, match="finite"):
        binary_gradient_qubo(X, torch.full((3, 2), float("nan")))
    with pytest.raises(ValueError, match="penalty_margin"):
        binary_gradient_qubo(X, torch.ones(3, 2), penalty_margin=0.0)
    with pytest.raises(ValueError, match="W must be"):
        projected_flip_qubo(X, torch.ones(3, 2), torch.ones(2, 5))
    _, decode = binary_gradient_qubo(X, torch.ones(3, 2))
    with pytest.raises(ValueError, match="at least n=4"):
        decode(torch.zeros(2, 3))


def test_refine_directions_reaches_a_local_maximum_no_worse_than_the_start():
    from qtrain.train.qpsbgd.formulate import refine_directions

    gen = torch.Generator().manual_seed(21)
    B, n, m, k = 6, 9, 4, 5
    X = 2 * torch.randint(0, 2, (B, n), generator=gen).double() - 1
    G = torch.randn(B, m, generator=gen, dtype=torch.float64)
    d0 = 2 * torch.randint(0, 2, (m, k, n), generator=gen).double() - 1
    d = refine_directions(X, G, d0)
    F0, F1 = sign_objective(X, G, d0), sign_objective(X, G, d)
    assert bool((F1 >= F0 - 1e-12).all()) and bool((F1 > F0 + 1e-12).any())
    for j in range(n):  # no single flip improves any refined candidate
        dj = d.clone()
        dj[..., j] *= -1
        assert bool((sign_objective(X, G, dj) <= F1 + 1e-12).all())
    # the global maximiser is a fixed point of the refinement
    Fall = brute_force_sign(X, G, 0.01)
    best = all_directions(n)[Fall.argmax(-1)][:, None, :]
    assert torch.equal(refine_directions(X, G, best), best)


def test_qpsbgd_refine_is_only_for_the_plain_sign_objective():
    from qtrain.nn import BinaryMLP
    from qtrain.train import QPSBGD

    with pytest.raises(ValueError, match="refine"):
        QPSBGD(BinaryMLP([4, 2]), refine=True, projected=True)
    with pytest.raises(ValueError, match="refine"):
        QPSBGD(BinaryMLP([4, 2]), refine=True, objective="quadratic")
