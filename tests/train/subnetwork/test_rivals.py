"""Rivals: exact counts at a density, edge-popup learns, annealing on the black box reaches the optimum."""

import pytest
import torch

from qtrain.data import load_digits_split
from qtrain.nn import masked_mlp
from qtrain.train.subnetwork import MaskRegister, mask_costs
from qtrain.train.subnetwork.rivals import (
    accuracy,
    anneal_black_box,
    best_random_register,
    edge_popup,
    magnitude_masks,
    random_network_masks,
    top_density,
    train_dense,
)
from qtrain.train.subnetwork.selector import select_layerwise


@pytest.fixture(scope="module")
def data():
    d = load_digits_split(0, dtype=torch.float32)
    return d["train_inputs"][:600], d["train_targets"][:600], d["test_inputs"], d["test_targets"]


def test_counts_at_density():
    net = masked_mlp([10, 8, 3], init="kaiming-uniform", seed=0)
    for masks in (random_network_masks(net, 0.25, seed=1), magnitude_masks(net, 0.25)):
        assert [int(m.sum()) for m in masks] == [20, 6]
    mag = magnitude_masks(net, 0.25)[0]
    w = net.layers[0].weight.abs()
    assert float(w[mag == 1].min()) >= float(w[mag == 0].max())
    assert top_density(torch.tensor([3.0, 1.0, 2.0]), 0.5).tolist() == [1.0, 0.0, 1.0]


def test_edge_popup_beats_random_masks(data):
    Xtr, ytr, Xte, yte = data
    net = masked_mlp([64, 64, 10], seed=0)
    info = edge_popup(net, Xtr, ytr, 0.5, epochs=8)
    assert info["losses"][-1] < info["losses"][0] and abs(net.density - 0.5) < 0.01
    ep = accuracy(net, Xte, yte)
    rand = max(accuracy(_with(net, random_network_masks(net, 0.5, seed=s)), Xte, yte) for s in range(20))
    assert ep > rand + 0.2
    dense = train_dense([64, 64, 10], Xtr, ytr, epochs=10)
    assert accuracy(dense, Xte, yte) > 0.85


def _with(net, masks):
    for layer, m in zip(net.layers, masks, strict=True):
        layer.mask = m
    return net


def test_anneal_black_box_and_best_random_reach_the_exhaustive_optimum(data):
    Xtr, ytr, _, _ = data
    net = masked_mlp([64, 10, 10], granularity="neuron", seed=1)
    reg = MaskRegister.of(net, 0)
    costs = mask_costs(net, reg, Xtr, ytr, device="cpu").costs
    bits, val, evals = anneal_black_box(net, reg, Xtr, ytr, steps=150, chains=8, seed=0)
    assert val == pytest.approx(float(costs.min()), rel=1e-9) and evals == 8 * 151
    _, rv = best_random_register(net, reg, Xtr, ytr, draws=50, seed=0)
    assert rv >= float(costs.min())


def test_layerwise_surrogate_selection_keeps_exact_density(data):
    Xtr, ytr, Xte, yte = data
    net = masked_mlp([64, 32, 10], seed=0)
    info = select_layerwise(net, Xtr, ytr, 0.3, rounds=1, params={"num_reads": 2, "num_sweeps": 50})
    assert [int(m.sum(1).unique().item()) for m in (net.layers[0].mask, net.layers[1].mask)] == [19, 10]
    assert info["sampler_calls"] == 2 and info["variables"] == [[32, 64], [10, 32]]
    with pytest.raises(ValueError, match="density"):
        select_layerwise(net, Xtr, ytr, 1.2)
