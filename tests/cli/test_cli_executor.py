"""`qtrain bench run --executor/--scheduler/--workers`: bad input is one line with exit 2, failed
tasks end the command with exit 1 naming them, a dask run stores what a serial run stores."""

import json
import sys
import time

import pytest
from typer.testing import CliRunner

from qtrain.bench import ResultsStore, base, registry
from qtrain.cli.main import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


class HalfBroken(base.Benchmark):
    name = "half-broken"
    description = "seed 1 raises"

    def tasks(self, cfg):
        return [base.Task("m", s, {}) for s in cfg.seeds]

    def run_task(self, task, cfg):
        if task.seed == 1:
            raise RuntimeError("diverged at step 3")
        return {"score": float(task.seed)}


@pytest.fixture
def half_broken(monkeypatch, tmp_path):
    monkeypatch.setitem(registry._BENCHMARKS, "half-broken", "tests.cli.test_cli_executor:HalfBroken")
    monkeypatch.setenv("QTRAIN_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("args, message", [
    (("--executor", "ray"), "unknown executor 'ray'"),
    (("--executor", "dask", "--workers", 0), "workers must be an integer >= 1, got 0"),
    (("--workers", 2), "need --executor dask"),
])
def test_bad_executor_options_one_line_exit_2(half_broken, args, message):
    res = run("bench", "run", "half-broken", *args)
    assert res.exit_code == 2 and message in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_unreachable_scheduler_one_line_exit_2_within_seconds(half_broken):
    t0 = time.perf_counter()
    res = run("bench", "run", "half-broken", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert res.exit_code == 2 and "cannot reach the dask scheduler at 'tcp://127.0.0.1:9'" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 20


def test_failed_tasks_exit_1_and_are_named(half_broken, tmp_path):
    res = run("bench", "run", "half-broken", "--seeds", 3, "--out", tmp_path / "o")
    assert res.exit_code == 1
    assert "failed: m seed 1" in res.output and "RuntimeError: diverged at step 3" in res.output
    assert "1 task(s) failed" in res.output
    stored = ResultsStore(tmp_path / "runs.sqlite").list("half-broken")
    assert sorted((r.seed, r.status) for r in stored) == [(0, "ok"), (1, "failed"), (2, "ok")]


def test_dask_cli_run_stores_the_serial_metrics(half_broken, tmp_path):
    pytest.importorskip("distributed", reason="needs the dist extra: pip install 'qtrain[dist]'")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    res = run("bench", "run", "half-broken", "--seeds", 3, "--json", "--executor", "dask", "--workers", 2)
    assert res.exit_code == 1, res.output
    out = json.loads(res.output.splitlines()[0])
    assert [r["metrics"] for r in out["runs"]] == [{"score": 0.0}, {"score": 2.0}]
    assert [r["seed"] for r in out["failed"]] == [1]
    stored = ResultsStore(tmp_path / "runs.sqlite").list("half-broken")
    assert {r.worker.split(" pid ")[0].split(":")[0] for r in stored} == {"tcp"}
