"""The QP-SBGD benchmarks through the runner: tiny task lists here, the real --quick runs marked slow."""

import pytest

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.qpsbgd_digits import QPSBGDDigits
from qtrain.bench.qpsbgd_gcn import QPSBGDGCN
from qtrain.bench.qpsbgd_rosenbrock import QPSBGDRosenbrock
from qtrain.bench.registry import available_benchmarks


class TinyDigits(QPSBGDDigits):
    def tasks(self, cfg):
        s = {"pair": "1/7", "epochs": 1, "batch_size": 32, "hidden": 4}
        return [Task("qpsbgd", 0, {**s, "lr": 0.1}), Task("qpsbgd-milp", 0, {**s, "lr": 0.1}),
                Task("signsgd", 0, {**s, "lr": 0.01}),
                Task("full-precision", 0, {**s, "lr": 0.01}),
                Task("speed/anneal/4x100", 0, {"part": "speed", "pair": "0/2", "hidden": 4, "num_reads": 4,
                                                  "num_sweeps": 100}),
                Task("speed/dwave-sa/4x100", 0, {"part": "speed", "pair": "0/2", "hidden": 4, "num_reads": 4,
                                                    "num_sweeps": 100})]


class TinyGCN(QPSBGDGCN):
    def tasks(self, cfg):
        return [Task(m, 0, {"graph": "karate", "hidden": 4, "steps": 3, "lr": 0.1})
                for m in ("qpsbgd", "bc", "proxquant")]


class TinyRosenbrock(QPSBGDRosenbrock):
    def tasks(self, cfg):
        return [Task(m, 0, {"dim": 4, "steps": 20}) for m in ("qpsbgd-exact", "signsgd", "bc-gd")]


def test_registered():
    assert {"qpsbgd-digits", "qpsbgd-rosenbrock", "qpsbgd-gcn"} <= set(available_benchmarks())


@pytest.mark.parametrize("bench, stem", [(TinyDigits(), "qpsbgd-digits"), (TinyGCN(), "qpsbgd-gcn"),
                                         (TinyRosenbrock(), "qpsbgd-rosenbrock")])
def test_tiny_runs_write_a_table_and_a_plot(tmp_path, bench, stem):
    report = run_benchmark(bench, quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    names = sorted(p.name for p in report.files)
    assert names == [f"{stem}.md", f"{stem}.png"]
    assert all(p.stat().st_size > 0 for p in report.files)
    table = (tmp_path / f"{stem}.md").read_text()
    for run in report.runs:
        assert run.method in table or run.method.startswith("speed/")
    if stem == "qpsbgd-digits":
        for m in ("qpsbgd", "signsgd", "full-precision"):
            assert 0.0 <= report.summary[m]["test_acc"] <= 1.0
        # one sampler call per distinct QUBO size (two layers, two sizes); a step where a layer has
        # no neuron with a non-zero gradient builds no QUBO for it, so the mean can fall below 2
        assert 1 <= report.summary["qpsbgd"]["sampler_calls_per_step"] <= 2
        assert report.summary["ratios"]["step_speedup_4x100"] > 0
        assert "speed-up" in table
        milp = next(r for r in report.runs if r.method == "qpsbgd-milp").metrics
        assert milp["solver_s_per_step"] > 0 and "0: 4x" in milp["qubo_sizes"]  # 4 neurons, n + B
    if stem == "qpsbgd-rosenbrock":
        # exact QUBO steps never do worse than the start on this short run
        first = report.runs[0].metrics["curve_values"]
        assert first[-1] < first[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["qpsbgd-digits", "qpsbgd-rosenbrock", "qpsbgd-gcn"])
def test_quick_form(tmp_path, name):
    report = run_benchmark(name, quick=True, seeds=1, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert len(report.files) == 2
