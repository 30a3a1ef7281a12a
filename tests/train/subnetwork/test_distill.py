"""Layer-wise distillation: block losses against the exhaustive optimum, pooling, pairing errors."""

import pytest
import torch

from qtrain.data import load_digits_split
from qtrain.train.subnetwork.distill import layerwise_distill, pool_rows
from qtrain.train.subnetwork.formulate import MaskRegister, register_qubo
from qtrain.train.subnetwork.rivals import accuracy, train_dense


@pytest.fixture(scope="module")
def setup():
    d = load_digits_split(0)
    teacher = train_dense([64, 16, 10], d["train_inputs"].float(), d["train_targets"], epochs=20, seed=0).double()
    return teacher, d


def test_exhaustive_blocks_hit_their_optimum_and_the_student_learns(setup):
    teacher, d = setup
    Xv = d["train_inputs"][:300]
    res = layerwise_distill(teacher, Xv, hidden=12, ratio=2, solver="exhaustive")
    assert len(res.blocks) == 2 and len(res.student.blocks) == 2
    for b in res.blocks:
        assert b["loss"] == pytest.approx(b["optimum"], rel=1e-12) and b["loss"] <= b["target_energy"]
    assert 0.0 <= accuracy(res.student, d["test_inputs"], d["test_targets"]) <= 1.0
    # the block's loss is exactly its QUBO
    blk = res.student.blocks[0]
    q = register_qubo(blk, MaskRegister.of(blk, 0), Xv, torch.nn.functional.linear(Xv, teacher[0].weight.detach()))
    assert float(q.energy(blk.layers[0].mask)) == pytest.approx(res.blocks[0]["loss"], rel=1e-9)


def test_annealer_route_per_block_and_a_wide_student_beats_chance(setup):
    teacher, d = setup
    res = layerwise_distill(teacher, d["train_inputs"][:200], hidden=10, solver="anneal",
                            params={"num_reads": 10})
    for b in res.blocks:
        assert b["loss"] <= b["optimum"] * (1 + 1e-9) + 1e-9
    wide = layerwise_distill(teacher, d["train_inputs"][:400], hidden=512, solver="tabu", params={"num_reads": 2})
    assert all(b["loss"] < 0.7 * b["target_energy"] for b in wide.blocks)
    assert accuracy(wide.student, d["test_inputs"], d["test_targets"]) > 0.3  # chance is 0.1


def test_pairing_and_bad_input(setup):
    teacher, d = setup
    assert torch.equal(pool_rows(torch.arange(8.0).reshape(4, 2), 2), torch.tensor([[1.0, 2.0], [5.0, 6.0]]))
    with pytest.raises(ValueError, match="cannot be paired"):
        pool_rows(torch.zeros(5, 2), 2)
    with pytest.raises(ValueError, match="ratio"):
        layerwise_distill(teacher, d["train_inputs"][:10], ratio=0)
    with pytest.raises(ValueError, match="finite"):
        layerwise_distill(teacher, torch.full((3, 64), float("nan")))
