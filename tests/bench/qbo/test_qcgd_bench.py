"""qbo-qcgd on two instances: metrics per method, the report's table and log-log PNG."""

from qtrain.bench import BenchConfig, get_benchmark
from qtrain.bench.store import RunRecord


def test_qbo_qcgd_two_instances(tmp_path):
    bench = get_benchmark("qbo-qcgd")
    cfg = BenchConfig(quick=True, seeds=[0], device="cpu", out_dir=tmp_path)
    tasks = bench.tasks(cfg)[:2]
    runs = []
    for t in tasks:
        m = bench.run_task(t, cfg)
        assert m["qcgd-exact_success"] == 1 and m["qcgd-exact_gap"] == 0.0
        assert 0.0 <= m["penalty-0.25_gap"] <= 1.0 and len(m["residual"]) == 40
        runs.append(RunRecord(None, "qbo-qcgd", "all", 0, "k", t.params, {}, {}, m, 0.0, 0.0))
    md, png = bench.report(runs, cfg)
    text = md.read_text()
    assert "best single lambda" in text and "qcgd-exact | 1.00" in text and png.stat().st_size > 0
