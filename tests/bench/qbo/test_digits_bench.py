"""qbo-digits: the pooled data, one baseline task, the report."""

import torch

from qtrain.bench import BenchConfig, get_benchmark
from qtrain.bench.qbo.digits import _model, pooled_pair
from qtrain.bench.store import RunRecord


def test_pooled_pair_is_integral_and_balanced():
    Xtr, Ttr, Xte, Tte = pooled_pair(0)
    assert Xtr.shape[1] == 16 and set(torch.unique(Xtr).tolist()) <= {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert set(torch.unique(Ttr).tolist()) == {-1.0, 1.0} and len(Xte) == len(Tte)
    m = _model(2, 1)
    assert set(m[0].levels().tolist()) == {-1.0, 1.0}


def test_qbo_digits_tasks_and_report(tmp_path):
    bench = get_benchmark("qbo-digits")
    cfg = BenchConfig(quick=True, seeds=[0], device="cpu", out_dir=tmp_path)
    tasks = bench.tasks(cfg)
    assert {t.method for t in tasks} == {"qbo-anneal", "ste-qat", "full-precision"}
    fp = next(t for t in tasks if t.method == "full-precision")
    m = bench.run_task(fp, cfg)
    assert m["test_accuracy"] > 0.9  # the pair is easy in full precision
    fake = {"test_accuracy": 0.9, "train_accuracy": 0.9, "train_loss": 0.3, "seconds": 1.0, "spins_per_call": 104,
            "spins_monolithic": 18934, "oracle_calls": 10}
    runs = [RunRecord(None, "qbo-digits", "qbo-anneal", 0, "k", {"H": 2, "bits": 1}, {}, {}, fake, 0.0, 0.0)]
    md, png = bench.report(runs, cfg)
    assert "| 2 | 1 | qbo-anneal | 0.900 |" in md.read_text() and png.stat().st_size > 0
