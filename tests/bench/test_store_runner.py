"""Results store and runner: one transaction per run, interrupted sweeps keep finished runs."""

import pytest

from qtrain.bench import Benchmark, ResultsStore, Task, default_db_path, run_benchmark


class Flaky(Benchmark):
    name = "flaky"
    fail_at = 2

    def __init__(self):
        self.calls = []

    def tasks(self, cfg):
        return [Task("m", s, {"k": s}) for s in cfg.seeds]

    def run_task(self, task, cfg):
        self.calls.append(task.seed)
        if task.seed == self.fail_at:
            raise KeyboardInterrupt  # the user pressed ^C during the third run
        return {"value": float(task.seed)}


def test_interrupted_sweep_keeps_finished_runs_and_resume_skips_them(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    bench = Flaky()
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(bench, seeds=4, store=store, out_dir=tmp_path)
    assert sorted(r.seed for r in store.list("flaky")) == [0, 1]
    bench.fail_at = -1
    bench.calls.clear()
    report = run_benchmark(bench, seeds=4, store=store, out_dir=tmp_path, resume=True)
    assert bench.calls == [2, 3] and report.skipped == 2
    assert report.summary == {"m": {"value": 1.5}}
    assert len(store.list("flaky")) == 4
    run_benchmark(bench, seeds=4, store=store, out_dir=tmp_path, quick=True, resume=True)
    assert bench.calls == [2, 3, 0, 1, 2, 3], "quick runs are different tasks"


class TwoMethods(Benchmark):
    name = "two"

    def __init__(self):
        self.calls = []

    def tasks(self, cfg):
        return [Task(m, s, {}) for m in ("a", "speed/x", "speedy") for s in cfg.seeds]

    def run_task(self, task, cfg):
        self.calls.append(task.method)
        return {"value": 1.0}


def test_rerun_runs_the_named_methods_again_and_takes_the_rest_from_the_store(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    bench = TwoMethods()
    run_benchmark(bench, seeds=2, store=store, out_dir=tmp_path)
    bench.calls.clear()
    report = run_benchmark(bench, seeds=2, store=store, out_dir=tmp_path, resume=True,
                           rerun=["speed"])
    # "speed" matches "speed/x" but not "speedy"
    assert bench.calls == ["speed/x", "speed/x"] and report.skipped == 4
    assert len(report.runs) == 6 and len(store.list("two")) == 8


def test_records_round_trip_with_environment(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    report = run_benchmark(Flaky(), seeds=2, store=store, out_dir=tmp_path)
    rec = store.get(report.runs[0].id)
    assert rec.metrics == {"value": 0.0} and rec.params == {"k": 0}
    env = rec.environment
    assert env["packages"]["torch"] and env["device"] == "cpu" and env["python"]
    assert rec.config["seeds"] == [0, 1]
    with pytest.raises(KeyError):
        store.get(12345)


def test_default_db_path_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QTRAIN_DB", str(tmp_path / "x.sqlite"))
    assert default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("QTRAIN_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "qtrain" / "results.sqlite"


def test_bad_seeds():
    with pytest.raises(ValueError, match="seeds"):
        run_benchmark(Flaky(), seeds=0)


def test_qubo_speed_tasks_and_ratios(tmp_path):
    from qtrain.bench import BenchConfig, get_benchmark
    from qtrain.bench.speed.qubo import ratios

    bench = get_benchmark("qubo-speed")
    cfg = BenchConfig(quick=True, seeds=[0], device="cpu", out_dir=tmp_path)
    tasks = bench.tasks(cfg)
    expected = {f"{p}/{m}" for p in "abc" for m in ("anneal", "dwave-sa")}
    from qtrain.bench.speed.qubo import _has_sb_package
    if _has_sb_package():  # part (d): the sb sampler beside the simulated-bifurcation package
        expected |= {"d/sb", "d/sb-package"}
        for method in ("d/sb", "d/sb-package"):
            d = bench.run_task(Task(method, 0, {"part": "d", "n": 16, "batch": 1, "agents": 8, "num_steps": 50}), cfg)
            assert d["seconds"] > 0 and d["mean_best_energy"] < 0
    assert {t.method for t in tasks} == expected
    small = Task("c/anneal", 0, {"part": "c", "n": 8, "batch": 3, "num_reads": 20, "num_sweeps": 100})
    m = bench.run_task(small, cfg)
    assert m["solved"] == 3 and m["instances"] == 3
    r = ratios({"a/anneal": {"seconds": 1.0, "mean_best_energy": -99.0},
                "a/dwave-sa": {"seconds": 6.0, "mean_best_energy": -100.0}})
    assert r["a_speedup"] == 6.0 and r["a_energy_gap_pct"] == pytest.approx(1.0)
