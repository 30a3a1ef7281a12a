"""The three sinusoidal benchmarks run end to end (tiny grids) and report what the issue asks for."""

import pytest

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.registry import available_benchmarks
from qtrain.bench.sinusoidal import quantum as sinnn_quantum
from qtrain.bench.sinusoidal import sweep as sinnn_sweep


def test_registered():
    assert {"sinnn-toy", "sinnn-sweep", "sinnn-quantum"} <= set(available_benchmarks())


def test_sinnn_toy_reproduces_the_published_facts(tmp_path):
    rep = run_benchmark("sinnn-toy", quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    m = {r.method: r.metrics for r in rep.runs}
    d = m["dsinnn-gd"]
    assert d["max_abs_grad"] <= 1e-12 and d["max_weight_change"] <= 1e-12
    assert d["frac_mse0"] + d["frac_mse1"] + d["frac_mse4"] == pytest.approx(1.0)
    assert 0 < d["frac_mse1"] < 1
    q = m["quantum-gate"]
    assert q["pe_marginal"] == pytest.approx([0.75, 0, 0.25, 0], abs=1e-9)
    assert q["p_one_grover_step_11"] == pytest.approx(1.0, abs=1e-9)
    assert q["level_gap"] < 1e-6 and q["weights"] == [1.0, 1.0] and q["loss"] == 0.0
    assert m["brute-force"]["weights"] == [1.0, 1.0]
    assert m["sinnn-gd"]["num_local_minima"] >= 1 and m["sinnn-gd"]["frac_global"] < 1
    assert (tmp_path / "sinnn-toy.md").read_text().count("|") > 20
    assert (tmp_path / "sinnn-toy-landscape.png").stat().st_size > 10_000


def test_sinnn_sweep_small_grid(tmp_path, monkeypatch):
    monkeypatch.setattr(sinnn_sweep, "_grid", lambda quick: ([5], [1, 2], 4))
    rep = run_benchmark("sinnn-sweep", quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert len(rep.runs) == 4
    for r in rep.runs:
        assert 0 <= r.metrics["bad_train"] <= 1 and 0 <= r.metrics["bad_test"] <= 1
        assert r.metrics["best_train"] <= r.metrics["median_train"]
    assert (tmp_path / "sinnn-sweep-heatmap.png").exists() and (tmp_path / "sinnn-sweep.md").exists()


class _Small(sinnn_quantum.SinusoidalQuantum):
    def tasks(self, cfg):
        small = {"targets": {"instances": 3, "max_hidden": 6}, "gate-vs-semantic": {"instances": 1}}
        return [Task(t.method, t.seed, {**t.params, **small.get(t.method, {})}) for t in super().tasks(cfg)]


def test_sinnn_quantum_small_sizes(tmp_path, monkeypatch):
    monkeypatch.setattr(sinnn_quantum, "_sizes", lambda cfg: [3, 6])
    rep = run_benchmark(_Small(), quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    by = {(r.method, r.params.get("hidden")): r.metrics for r in rep.runs}
    for h in (3, 6):
        q, b = by[("quantum", h)], by[("brute-force", h)]
        assert q["loss"] == pytest.approx(b["loss"]) and q["found"] == 1
        assert q["calls_over_sqrtN"] <= 22.5 and b["evaluations"] == 8 * 2**h
        assert by[("gd", h)]["loss"] >= b["loss"]
    assert by[("targets", None)]["all_found"] == 1
    assert by[("gate-vs-semantic", None)]["max_gap"] < 1e-6
    assert (tmp_path / "sinnn-quantum.png").exists()
    assert "return the brute-force minimum" in (tmp_path / "sinnn-quantum.md").read_text()


def test_cuda_adds_the_28_and_30_qubit_sizes():
    from pathlib import Path

    from qtrain.bench.base import BenchConfig

    cfg = BenchConfig(quick=False, seeds=[0], device="cuda", out_dir=Path("."))
    sizes = sinnn_quantum._sizes(cfg)
    assert sizes[-2:] == [28, 30] and sorted(set(sizes)) == sizes
    assert max(sinnn_quantum._sizes(BenchConfig(False, [0], "cpu", Path(".")))) in (24, 26, 28)
    assert max(sinnn_quantum._sizes(BenchConfig(True, [0], "cpu", Path(".")))) == 16
