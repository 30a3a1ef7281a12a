"""Executors: the dask executor on a 2-process LocalCluster gives the serial executor's metrics,
records failures and survives a worker killed mid-task; only the client writes the store."""

import os
import sys
from pathlib import Path

import pytest
import torch

from qtrain.bench import Benchmark, ResultsStore, Task, run_benchmark
from qtrain.bench.executors import DaskExecutor, SerialExecutor, get_executor

pytest.importorskip("distributed", reason="the dask executor needs the dist extra: pip install 'qtrain[dist]'")
import cloudpickle  # noqa: E402  (comes with distributed)

# The workers cannot import this test module: its benchmarks travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class SeededFit(Benchmark):
    """A small seeded least-squares fit by gradient descent: metrics depend on the seed only."""

    name = "seeded-fit"

    def tasks(self, cfg):
        return [Task(m, s, {"lr": lr}) for m, lr in (("gd", 0.1), ("gd-slow", 0.02)) for s in cfg.seeds]

    def run_task(self, task, cfg):
        gen = torch.Generator().manual_seed(task.seed)
        X = torch.randn(64, 8, generator=gen, dtype=torch.float64)
        y = X @ torch.randn(8, generator=gen, dtype=torch.float64)
        w = torch.zeros(8, dtype=torch.float64)
        for _ in range(50):
            w -= task.params["lr"] * 2 * X.T @ (X @ w - y) / len(y)
        return {"loss": float(((X @ w - y) ** 2).mean()), "threads": torch.get_num_threads()}


class Faulty(Benchmark):
    """Seed 1 raises; with ``marker`` set, seed 2 kills its worker once and seed 3 every time."""

    name = "faulty"

    def __init__(self, marker=None):
        self.marker = marker

    def tasks(self, cfg):
        return [Task("m", s, {}) for s in cfg.seeds]

    def run_task(self, task, cfg):
        if task.seed == 1:
            raise ValueError("bad learning rate in task 1")
        if self.marker is not None and task.seed == 2 and not Path(self.marker).exists():
            Path(self.marker).touch()
            os._exit(1)  # the worker process dies mid-task, the first time only
        if self.marker is not None and task.seed == 3:
            os._exit(1)
        return {"value": float(task.seed)}


@pytest.fixture(scope="module")
def dask_runs(tmp_path_factory):
    """One 2-worker run of SeededFit on dask and on serial (a cluster start costs seconds)."""
    tmp = tmp_path_factory.mktemp("dask")
    store = ResultsStore(tmp / "r.sqlite")
    serial = run_benchmark(SeededFit(), seeds=3, store=store, out_dir=tmp)
    dask = run_benchmark(SeededFit(), seeds=3, store=store, out_dir=tmp, executor=DaskExecutor(workers=2))
    return serial, dask, store


def test_dask_gives_the_serial_metrics_for_the_same_seeds(dask_runs):
    serial, dask, _ = dask_runs
    assert [(r.method, r.seed) for r in dask.runs] == [(r.method, r.seed) for r in serial.runs]
    for a, b in zip(serial.runs, dask.runs, strict=True):
        assert a.metrics["loss"] == b.metrics["loss"]  # bit for bit: the tasks are seeded
    assert dask.summary["gd"]["loss"] == serial.summary["gd"]["loss"]


def test_dask_records_worker_wall_time_and_pins_one_thread_per_core(dask_runs):
    _, dask, store = dask_runs
    stored = [r for r in store.list("seeded-fit") if r.config["executor"]["name"] == "dask"]
    assert len(stored) == 6
    workers = {r.worker for r in stored}
    assert all(w.startswith("tcp://") and " pid " in w for w in workers)
    assert all(str(os.getpid()) not in w.split(" pid ")[1] for w in workers), "tasks ran in worker processes"
    assert all(r.wall_s is not None and 0 <= r.wall_s <= r.finished - r.started + 1e-3 for r in stored)
    expected = max(1, (os.cpu_count() or 1) // 2)
    assert {r.metrics["threads"] for r in stored} == {expected}
    assert stored[0].config["executor"] == {"name": "dask", "scheduler": "local", "workers": 2}


@pytest.mark.parametrize("executor", ["serial", "dask"])
def test_a_failing_task_is_recorded_and_the_others_carry_on(tmp_path, executor):
    store = ResultsStore(tmp_path / "r.sqlite")
    exe = SerialExecutor() if executor == "serial" else DaskExecutor(workers=2)
    report = run_benchmark(Faulty(), seeds=3, store=store, out_dir=tmp_path, executor=exe)
    assert [r.seed for r in report.runs] == [0, 2]
    (bad,) = report.failed
    assert bad.seed == 1 and bad.status == "failed" and bad.metrics == {}
    assert bad.error.startswith("ValueError: bad learning rate in task 1")
    stored = {r.seed: r for r in store.list("faulty")}
    assert stored[1].status == "failed" and stored[1].error == bad.error
    assert stored[0].status == "ok" and stored[2].metrics == {"value": 2.0}
    # --resume takes the finished runs from the store and runs the failed one again
    again = run_benchmark(Faulty(), seeds=3, store=store, out_dir=tmp_path, resume=True, executor=exe)
    assert again.skipped == 2 and [r.seed for r in again.failed] == [1]


def test_a_worker_killed_mid_task_loses_nothing_and_the_task_is_retried_or_reported(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    marker = tmp_path / "killed-once"
    report = run_benchmark(Faulty(str(marker)), seeds=5, store=store, out_dir=tmp_path,
                           executor=DaskExecutor(workers=2, allowed_failures=1))
    assert marker.exists(), "seed 2 killed its worker once"
    assert [r.seed for r in report.runs] == [0, 2, 4]  # seed 2 was retried on a fresh worker
    assert sorted(r.seed for r in report.failed) == [1, 3]
    killed = next(r for r in report.failed if r.seed == 3)
    assert "KilledWorker" in killed.error
    assert sorted(r.seed for r in store.list("faulty") if r.status == "ok") == [0, 2, 4]


def test_bad_executor_arguments_are_clear():
    with pytest.raises(ValueError, match=r"unknown executor 'ray'.*\['serial', 'dask'\]"):
        get_executor("ray")
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        get_executor("dask", workers=0)
    with pytest.raises(ValueError, match="need --executor dask"):
        get_executor("serial", workers=2)
    with pytest.raises(ValueError, match="remote scheduler"):
        DaskExecutor(scheduler="tcp://127.0.0.1:1", workers=2)


def test_an_unreachable_scheduler_fails_within_seconds(tmp_path):
    import time

    exe = DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=2)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"cannot reach the dask scheduler at 'tcp://127.0.0.1:9' within 2 s"):
        run_benchmark(SeededFit(), seeds=1, store=ResultsStore(tmp_path / "r.sqlite"), out_dir=tmp_path,
                      executor=exe)
    assert time.perf_counter() - t0 < 15
