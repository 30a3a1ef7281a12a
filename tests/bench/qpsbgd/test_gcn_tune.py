"""qpsbgd-gcn-tune: validation nodes, a tiny run through the runner, and qpsbgd-gcn's settings."""

from types import SimpleNamespace

import pytest
import torch

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.qpsbgd.gcn import LR, TUNED, setting
from qtrain.bench.qpsbgd.gcn_tune import GRIDS, QPSBGDGCNTune, select, validation_nodes
from qtrain.bench.registry import available_benchmarks
from qtrain.data import karate, sbm_graph


class TinyTune(QPSBGDGCNTune):
    def tasks(self, cfg):
        s = {"graph": "karate", "val": 0.2, "hidden": 4, "steps": 3}
        return [Task(f"{m}/lr={lr:g}", 0, {**s, "lr": lr})
                for m, lr in (("qpsbgd", 0.1), ("qpsbgd", 0.2), ("bc", 0.3))]


def test_registered():
    assert {"qpsbgd-gcn-tune", "qpsbgd-gcn"} <= set(available_benchmarks())


@pytest.mark.parametrize("make, seed", [(karate, 0), (karate, 3), (sbm_graph, 1)])
def test_validation_nodes_split_the_training_nodes_by_class_and_never_touch_test_nodes(make, seed):
    g = make(seed=seed)
    v = validation_nodes(g, 0.2, seed=seed)
    assert not bool((v.train_mask & v.test_mask).any())
    assert torch.equal(v.train_mask | v.test_mask, g.train_mask)  # test nodes are in neither
    for c in range(g.num_classes):
        k = int((g.train_mask & (g.labels == c)).sum())
        held = int((v.test_mask & (g.labels == c)).sum())
        assert held == min(k - 1, max(1, round(0.2 * k)))
    again = validation_nodes(g, 0.2, seed=seed)
    assert torch.equal(again.test_mask, v.test_mask)  # seeded


def test_validation_nodes_refuses_bad_input():
    with pytest.raises(ValueError, match="fraction"):
        validation_nodes(karate(seed=0), 1.0)
    with pytest.raises(ValueError, match="seed"):
        validation_nodes(karate(seed=0), 0.2, seed=-1)


def test_tiny_run_scores_validation_nodes(tmp_path):
    report = run_benchmark(TinyTune(), quick=True, out_dir=tmp_path,
                           store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == ["qpsbgd-gcn-tune.md", "qpsbgd-gcn-tune.png"]
    n_val = int(validation_nodes(karate(seed=0), 0.2, seed=0).test_mask.sum())
    for run in report.runs:
        m = run.metrics
        assert m["val_nodes"] == n_val
        assert round(m["val_acc"] * n_val) == pytest.approx(m["val_acc"] * n_val)  # whole nodes
    assert "| karate | qpsbgd |" in (tmp_path / "qpsbgd-gcn-tune.md").read_text()


def test_select_and_what_qpsbgd_gcn_runs():
    def run(lr, acc):
        return SimpleNamespace(method=f"bc/lr={lr:g}", seed=0, params={"graph": "sbm", "lr": lr},
                               metrics={"val_acc": acc, "val_loss": 0.5})
    assert select([run(0.3, 0.5), run(3.0, 0.7)]) == {"sbm": {"bc": {"lr": 3.0}}}
    for graph in ("karate", "sbm"):
        for method in LR:
            chosen = setting(graph, method)
            if method in TUNED.get(graph, {}):
                assert chosen in GRIDS[method]  # a tuned setting is a point of the tuning grid
            else:
                assert chosen == {"lr": LR[method]}


@pytest.mark.parametrize("method", ["qpsbgd", "proxquant"])
def test_tuning_without_a_curve_trains_the_same_model(method):
    from qtrain.bench.qpsbgd.gcn import fit_gcn

    g = karate(seed=0)
    scores = []
    for curve in (True, False):
        out, score = fit_gcn(method, g, 0, {"hidden": 4, "steps": 6, "lr": 0.2}, "cpu", curve=curve)
        scores.append((score(g.test_mask), out["train_loss"]))
        assert len(out["curve"]) == (7 if curve else 2)
    assert scores[0] == scores[1]
