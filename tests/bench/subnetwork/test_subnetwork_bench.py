"""The subnetwork benchmarks through the runner on tiny task lists; the real --quick runs marked slow."""

import pytest

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.registry import available_benchmarks
from qtrain.bench.subnetwork.digits import SubnetDigits
from qtrain.bench.subnetwork.exact import SubnetExact
from qtrain.bench.subnetwork.kd import SubnetKD
from qtrain.bench.subnetwork.nk import SubnetNK


class TinyExact(SubnetExact):
    def tasks(self, cfg):
        p = {"H": 8, "B": 60}
        return [Task(m, 0, p) for m in ("exhaustive", "durr-hoyer", "grover-threshold", "anneal", "adiabatic",
                                         "random-1000", "magnitude")] + \
            [Task("speed", 0, {"H": 10, "B": 60, "sample": 1024})]


class TinyNK(SubnetNK):
    def tasks(self, cfg):
        p = {"series": "narma10", "neighbourhoods": "adjacent", "K": 2, "N": 8, "length": 500}
        return [Task(m, 0, p) for m in ("dp", "per-output", "random", "all-probes")]


class TinyDigits(SubnetDigits):
    def tasks(self, cfg):
        p = {"width": 16, "epochs": 2, "draws": 5, "density": 0.5}
        return [Task(m, 0, p) for m in ("edge-popup", "magnitude", "random-best", "anneal-surrogate")]


class TinyKD(SubnetKD):
    def tasks(self, cfg):
        return [Task("exhaustive", 0, {"hidden": 6}), Task("teacher", 0, {"hidden": 6})]


def test_registered():
    assert {"subnet-exact", "subnet-digits", "subnet-kd", "subnet-nk"} <= set(available_benchmarks())


@pytest.mark.parametrize("bench, stem", [(TinyExact(), "subnet-exact"), (TinyNK(), "subnet-nk"),
                                         (TinyDigits(), "subnet-digits"), (TinyKD(), "subnet-kd")])
def test_tiny_runs_write_a_table_and_a_plot(tmp_path, bench, stem):
    report = run_benchmark(bench, quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == [f"{stem}.md", f"{stem}.png"]
    table = (tmp_path / f"{stem}.md").read_text()
    for run in report.runs:
        assert run.method in table or run.method == "speed"
    s = report.summary
    if stem == "subnet-exact":
        assert s["exhaustive"]["gap"] == 0 and s["durr-hoyer"]["success"] >= 0.9
        assert s["grover-threshold"]["found"] == 1 and s["exhaustive"]["table_check_rel"] == 0
        assert s["speed"]["speedup"] > 1 and "speed-up" in table
    if stem == "subnet-nk":
        assert s["dp"]["dp_equals_exhaustive"] == 1 and s["per-output"]["nk_value"] <= s["dp"]["nk_value"] + 1e-9
        assert s["random"]["nk_value"] < s["dp"]["nk_value"]
    if stem == "subnet-kd":
        assert s["exhaustive"]["block_gap"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["subnet-exact", "subnet-digits", "subnet-kd", "subnet-nk"])
def test_quick_form(tmp_path, name):
    report = run_benchmark(name, quick=True, seeds=1, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert len(report.files) == 2
