"""Offline data sets: shapes, values, seeding, splits, and the Rosenbrock derivatives."""

import pytest
import torch

from qtrain.data import (
    Split,
    breast_cancer,
    digits,
    digits_pair,
    karate,
    rosenbrock,
    rosenbrock_grad,
    rosenbrock_hessian,
    rosenbrock_start,
    sbm_graph,
    validation_split,
)


def test_digits_pair_is_binary_seeded_and_stratified():
    s = digits_pair(1, 7, seed=0)
    assert s.classes == (1, 7) and s.num_classes == 2 and s.num_features == 64
    assert set(s.X_train.unique().tolist()) == {-1.0, 1.0}
    # 182 ones and 179 sevens in sklearn's digits, a quarter held out
    assert len(s.y_train) + len(s.y_test) == 182 + 179
    assert abs(float(s.y_test.float().mean()) - 179 / 361) < 0.02
    again, other = digits_pair(1, 7, seed=0), digits_pair(1, 7, seed=1)
    assert torch.equal(s.X_train, again.X_train) and not torch.equal(s.X_train, other.X_train)
    for bad, match in [((1, 1), "differ"), ((1, 10), "0..9"), ((-1, 2), "0..9")]:
        with pytest.raises(ValueError, match=match):
            digits_pair(*bad)
    with pytest.raises(ValueError, match="test_size"):
        digits_pair(0, 2, test_size=1.5)


def test_validation_split_holds_out_training_rows_only():
    s = digits_pair(1, 2, seed=3)
    v = validation_split(s, 0.2, seed=3)
    assert len(v.y_train) + len(v.y_test) == len(s.y_train)
    assert abs(len(v.y_test) - 0.2 * len(s.y_train)) <= 1
    # every validation and remaining row is a training row of s, and none is a test row
    train_rows = {tuple(r) for r in s.X_train.int().tolist()}
    test_only = {tuple(r) for r in s.X_test.int().tolist()} - train_rows
    for X in (v.X_train, v.X_test):
        rows = {tuple(r) for r in X.int().tolist()}
        assert rows <= train_rows and not rows & test_only
    # stratified: class shares match within one row
    assert abs(float(v.y_test.float().mean()) - float(s.y_train.float().mean())) < 1.5 / len(v.y_test)
    assert torch.equal(v.X_test, validation_split(s, 0.2, seed=3).X_test)
    assert not torch.equal(v.X_test, validation_split(s, 0.2, seed=4).X_test)
    for bad in (0, 1.0, -0.1):
        with pytest.raises(ValueError, match="fraction"):
            validation_split(s, bad)
    tiny = Split(s.X_train[:3], torch.tensor([0, 0, 1]), s.X_test, s.y_test, 2, (1, 2))
    with pytest.raises(ValueError, match="too few"):
        validation_split(tiny, 0.5)


def test_digits_ten_classes():
    s = digits(seed=3, test_size=0.2)
    assert s.num_classes == 10 and len(s.y_train) + len(s.y_test) == 1797
    assert set(s.y_test.tolist()) == set(range(10))
    raw = digits(seed=3, binary=False)
    assert 0.0 <= float(raw.X_train.min()) and float(raw.X_train.max()) <= 1.0


def test_karate_factions():
    g = karate(seed=0)
    assert g.num_nodes == 34 and int(g.adjacency.sum()) == 2 * 78
    assert torch.equal(g.adjacency, g.adjacency.T) and float(g.adjacency.diagonal().abs().sum()) == 0
    assert int(g.labels.sum()) == 17  # 17 members follow the officer
    assert g.labels[0] == 0 and g.labels[33] == 1  # Mr. Hi and the officer themselves
    assert not bool((g.train_mask & g.test_mask).any()) and bool((g.train_mask | g.test_mask).all())
    assert set(g.features.unique().tolist()) == {-1.0, 1.0}


def test_sbm_graph_matches_its_parameters():
    g = sbm_graph(num_nodes=700, num_classes=7, num_features=32, avg_degree=4.0, homophily=0.8,
                  feature_noise=0.2, seed=1)
    A, y = g.adjacency, g.labels
    assert torch.equal(A, A.T) and float(A.diagonal().sum()) == 0
    deg = float(A.sum()) / g.num_nodes
    assert 3.5 < deg < 4.5
    same = float((A * (y[:, None] == y[None, :])).sum() / A.sum())
    assert 0.74 < same < 0.86  # edge homophily
    # features agree with their class prototype in about 1 - noise of the entries
    proto = torch.stack([torch.sign(g.features[y == c].sum(0) + 0.5) for c in range(7)])
    agree = float((g.features == proto[y]).float().mean())
    assert 0.75 < agree < 0.85
    assert torch.equal(sbm_graph(num_nodes=100, seed=2).adjacency, sbm_graph(num_nodes=100, seed=2).adjacency)
    default = sbm_graph()
    assert default.num_nodes == 2708 and default.num_classes == 7
    with pytest.raises(ValueError, match="homophily"):
        sbm_graph(homophily=1.5)


def test_breast_cancer_binarised_at_training_medians():
    s = breast_cancer(seed=0)
    assert s.num_features == 30 and len(s.y_train) + len(s.y_test) == 569
    assert set(s.X_train.unique().tolist()) == {-1.0, 1.0}
    # median split: about half of every training column is +1
    frac = (s.X_train == 1).float().mean(0)
    assert bool(((frac > 0.45) & (frac <= 0.5)).all())


@pytest.mark.parametrize("dim", [2, 3, 8])
def test_rosenbrock_derivatives_match_autograd(dim):
    x = torch.randn(4, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(dim))
    xr = x.clone().requires_grad_(True)
    g = torch.autograd.grad(rosenbrock(xr).sum(), xr)[0]
    torch.testing.assert_close(rosenbrock_grad(x), g)
    H = torch.autograd.functional.hessian(lambda v: rosenbrock(v), x[0])
    torch.testing.assert_close(rosenbrock_hessian(x)[0], H)
    assert float(rosenbrock(torch.ones(dim))) == 0.0
    assert float(rosenbrock_grad(torch.ones(dim)).abs().max()) == 0.0
    start = rosenbrock_start(dim)
    assert start[0] == -1.2 and (dim < 2 or start[1] == 1.0)
    with pytest.raises(ValueError, match="d >= 2"):
        rosenbrock(torch.ones(1))


def test_random_instance_targets_are_the_teacher_network_plus_bounded_noise():
    from qtrain.data import random_instance
    from qtrain.nn import binary_dsinnn

    for seed, inputs in ((0, 1), (3, 2)):
        inst = random_instance(seed, hidden=5, noise=0.0, in_features=inputs)
        model = binary_dsinnn(5, inputs)
        clean = model.forward_with([inst.teacher], inst.x, quantized=True)
        assert torch.equal(clean, inst.y)
        noisy = random_instance(seed, hidden=5, noise=0.5, in_features=inputs)
        assert torch.equal(noisy.x, inst.x) and torch.equal(noisy.teacher, inst.teacher)
        diff = noisy.y - clean
        assert set(diff.unique().tolist()) <= {-1.0, 0.0, 1.0} and bool((diff != 0).any())
    with pytest.raises(ValueError, match="noise"):
        random_instance(0, hidden=2, noise=1.5)
