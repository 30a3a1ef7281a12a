"""formulate_layer: rows kept, chunks, the encodings per kind, errors naming the layer."""

import pytest
import torch

from qtrain.train.qpsbgd.formulate import (
    binary_gradient_qubo,
    projected_flip_qubo,
    quadratic_direction_qubo,
)
from qtrain.train.qpsbgd.problem import formulate_layer


def layer(B=6, n=5, m=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = 2 * torch.randint(0, 2, (B, n), generator=gen).float() - 1
    G = torch.randn(B, m, generator=gen)
    W = torch.randn(m, n, generator=gen)
    return X, G, W


def assert_same_qubo(a, b):
    assert torch.equal(a.Q, b.Q) and torch.equal(a.offset, b.offset)


def test_zero_gradient_rows_are_dropped_and_the_sign_qubo_is_built_on_the_rest():
    X, G, W = layer()
    G[[1, 4]] = 0
    p = formulate_layer("h", X, G, W)
    keep = torch.tensor([0, 2, 3, 5])
    assert (p.name, p.kind, p.num_rows, p.num_problems, p.fan_in) == ("h", "sign", 4, 3, 5)
    assert torch.equal(p.X, X[keep]) and torch.equal(p.G, G[keep].double())
    assert p.G.dtype == torch.float64 and p.chunks == 1 and p.solvable
    qubo, decode = binary_gradient_qubo(X[keep], G[keep].double())
    assert_same_qubo(p.qubo, qubo)
    samples = torch.randint(0, 2, (3, 2, qubo.num_variables))
    assert torch.equal(p.decode(samples), decode(samples))


def test_max_rows_draws_rows_with_the_callers_generator():
    X, G, W = layer(B=10)
    p = formulate_layer("h", X, G, W, max_rows=4, generator=torch.Generator().manual_seed(7))
    idx = torch.randperm(10, generator=torch.Generator().manual_seed(7))[:4]
    assert torch.equal(p.X, X[idx]) and torch.equal(p.G, G[idx].double())
    # two layers share one generator: the second draw continues where the first stopped
    gen = torch.Generator().manual_seed(7)
    formulate_layer("a", X, G, W, max_rows=4, generator=gen)
    second = formulate_layer("b", X, G, W, max_rows=4, generator=gen)
    ref = torch.Generator().manual_seed(7)
    torch.randperm(10, generator=ref)
    assert torch.equal(second.X, X[torch.randperm(10, generator=ref)[:4]])
    # no draw when the rows fit: the generator does not advance
    gen = torch.Generator().manual_seed(7)
    formulate_layer("c", X, G, W, max_rows=10, generator=gen)
    assert torch.equal(torch.randperm(10, generator=gen), torch.randperm(10, generator=ref.manual_seed(7)))


def test_active_marks_neurons_with_a_gradient_and_a_layer_without_one_is_not_solvable():
    X, G, W = layer()
    G[:, 1] = 0
    p = formulate_layer("h", X, G, W)
    assert p.active.tolist() == [True, False, True]
    silent = formulate_layer("h", X, torch.zeros_like(G), W)
    assert not silent.solvable and silent.qubo is None and silent.num_rows == 0
    assert silent.active.tolist() == [False, False, False]


def test_with_qubo_false_keeps_everything_but_the_qubo():
    X, G, W = layer()
    a, b = formulate_layer("h", X, G, W), formulate_layer("h", X, G, W, with_qubo=False)
    assert b.qubo is None and b.decode is None
    assert torch.equal(a.X, b.X) and torch.equal(a.G, b.G) and torch.equal(a.active, b.active)


def test_chunks_are_equal_and_padded_with_zero_gradient_rows():
    X, G, W = layer(B=7, m=2)
    p = formulate_layer("h", X, G, W, chunk_rows=3)  # 7 rows: 3 chunks of 3, 2 rows of padding
    assert p.chunks == 3 and tuple(p.X.shape) == (6, 3, 5) and tuple(p.G.shape) == (3, 6)
    Xp = torch.cat([X, X[:2]])
    Gp = torch.cat([G.double(), torch.zeros(2, 2, dtype=torch.float64)])
    for c in range(3):
        for j in range(2):  # column c m + j is neuron j on chunk c
            assert torch.equal(p.X[c * 2 + j], Xp[3 * c:3 * c + 3])
            assert torch.equal(p.G[:, c * 2 + j], Gp[3 * c:3 * c + 3, j])
    assert_same_qubo(p.qubo, binary_gradient_qubo(p.X, p.G)[0])
    # rows that fit one chunk are not split
    assert formulate_layer("h", X, G, W, chunk_rows=7).chunks == 1


def test_quadratic_problem_carries_the_fisher_model_and_its_qubo():
    X, G, W = layer(B=4, n=3, m=2)
    s, lr = 0.5, 0.2
    p = formulate_layer("h", X, G, W, kind="quadratic", lr=lr, scale=s)
    Xd, Gd = X.double(), G.double()
    g = s * Gd.T @ Xd
    H = torch.stack([s**2 * 4 * sum(Gd[b, j] ** 2 * torch.outer(Xd[b], Xd[b]) for b in range(4))
                     for j in range(2)])
    torch.testing.assert_close(p.g, g)
    torch.testing.assert_close(p.H, H)
    assert p.lr == lr
    assert_same_qubo(p.qubo, quadratic_direction_qubo(p.g, p.H, lr)[0])
    diag = formulate_layer("h", X, G, W, kind="quadratic", lr=lr, scale=s, curvature="diagonal")
    torch.testing.assert_close(diag.H, torch.diagonal(H, dim1=-2, dim2=-1))


def test_projected_problem_flips_the_signs_of_the_weights():
    X, G, W = layer()
    W[0, 0] = 0.0  # sign(0) = +1
    p = formulate_layer("h", X, G, W, kind="projected", flip_penalty=0.1, hamming_budget=2)
    expect = torch.where(W >= 0, 1.0, -1.0).double()
    assert torch.equal(p.W, expect) and p.flip_penalty == 0.1 and p.hamming_budget == 2
    assert_same_qubo(p.qubo, projected_flip_qubo(X, G.double(), expect, 0.01, 0.1, 2)[0])


@pytest.mark.parametrize("kw, match", [
    ({"kind": "cubic"}, "kind"), ({"curvature": "hessian"}, "curvature"),
    ({"kind": "quadratic"}, "lr"), ({"kind": "projected", "chunk_rows": 2}, "chunk_rows"),
])
def test_bad_settings(kw, match):
    X, G, W = layer()
    with pytest.raises(ValueError, match=match):
        formulate_layer("h", X, G, W, **kw)


def test_bad_tensors_name_the_layer():
    X, G, W = layer()
    with pytest.raises(ValueError, match=r"layer 'h' got non-binary inputs"):
        formulate_layer("h", X * 0.5, G, W)
    with pytest.raises(ValueError, match=r"layer 'h'.*do not match its weight \(3, 4\)"):
        formulate_layer("h", X, G, W[:, :4])
    with pytest.raises(ValueError, match=r"layer 'h'"):
        formulate_layer("h", X[:5], G, W)
