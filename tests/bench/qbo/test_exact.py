"""qbo-exact on its smallest instance: every exact path agrees; the report writes a table and a PNG."""

from qtrain.bench import BenchConfig, get_benchmark
from qtrain.bench.store import RunRecord


def test_qbo_exact_agrees_and_reports(tmp_path):
    bench = get_benchmark("qbo-exact")
    cfg = BenchConfig(quick=True, seeds=[0], device="cpu", out_dir=tmp_path)
    tasks = bench.tasks(cfg)
    assert len(tasks) == 3
    m = bench.run_task(tasks[0], cfg)
    assert m["agree"] == 1 and "cqm" in m and m["qcgd_oracle"] == "exact"
    for k in ("exhaustive", "milp", "cqm", "qcgd", "penalty"):
        assert abs(m[k] - m["brute"]) <= 1e-6
    # progressive hedging's weights are scored on the same spline network: never below the optimum,
    # and the best copy never worse than the majority vote it includes
    for k in ("ph", "ph_majority"):
        assert m[k] >= m["brute"] - 1e-9 and m[f"{k}_gap"] == (m[k] - m["brute"]) / m["brute"]
    assert m["ph"] <= m["ph_majority"] + 1e-12 and m["ph_consensus"] in (0, 1) and 1 <= m["ph_iterations"] <= 30
    run = RunRecord(None, "qbo-exact", "all", 0, "k", tasks[0].params, {}, {}, m, 0.0, 0.0)
    files = bench.report([run], cfg)
    text = files[0].read_text()
    assert "agreement on 1 of 1" in text and "PH best copy" in text and files[1].stat().st_size > 0
    assert f"within 5% of the optimum on {int(m['ph_gap'] <= 0.05)} of 1" in text
