"""Executors: where a benchmark's tasks run. ``serial`` (in this process, in order) and ``dask``
(a ``dask.distributed`` cluster: a local cluster of worker processes, or a remote scheduler).

An executor runs tasks and yields :class:`TaskOutcome` objects as they finish; it never touches
the results store. The runner, in the client process, writes each outcome in its own transaction,
so ``--resume`` and ``--rerun`` mean the same on every executor, and a task that raises becomes a
``failed`` outcome with its error while the others carry on.

Example:
    >>> exe = get_executor("serial")
    >>> exe.name
    'serial'
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qtrain.bench.base import BenchConfig, Benchmark, Task

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "SerialExecutor",
    "TaskOutcome",
    "execute_task",
    "get_executor",
    "pin_threads",
]

#: Names :func:`get_executor` accepts.
EXECUTORS = ("serial", "dask")


@dataclass
class TaskOutcome:
    """What running one task gave: metrics on success, the error on failure.

    Attributes:
        index: position of the task in the list the executor was given.
        status: ``"ok"`` or ``"failed"``.
        metrics: the task's metrics (``{}`` when failed).
        error: ``"ExceptionType: message"`` (plus the innermost frame) when failed, else ``None``.
        worker: where it ran (``serial:<host>:<pid>`` or the dask worker's address and pid).
        started, finished: wall-clock times (``time.time()``) around the task.
        wall_s: the task's own wall time in seconds (``time.perf_counter``).
    """

    index: int
    status: str
    metrics: dict[str, Any]
    error: str | None
    worker: str
    started: float
    finished: float
    wall_s: float


def pin_threads(threads: int | None) -> None:
    """Set torch's and numba's intra-op thread counts to ``threads`` (``None``: leave them);
    torch's only to one thread (counts above one are set by ``OMP_NUM_THREADS`` when the worker
    starts: see the comment).

    N workers on N cores each pinned to one thread do not oversubscribe the machine.
    """
    if threads is None:
        return
    import torch

    # torch 2.13's CPU build breaks batched linalg.solve for the whole process after any
    # set_num_threads(n > 1); counts above one come from OMP_NUM_THREADS at the worker's start
    # (the local cluster sets it), so only a switch to one thread is made here
    if threads == 1 and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a core dependency
        return
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _error_text(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def execute_task(bench: Benchmark, task: Task, cfg: BenchConfig, index: int = 0,
                 threads: int | None = None, worker: str | None = None) -> TaskOutcome:
    """Run one task and catch what it raises (``Exception``; ``KeyboardInterrupt`` passes).

    The metrics are checked to be JSON-serialisable here, where the task ran, so a metric the
    store cannot hold fails that task and no other.
    """
    pin_threads(threads)
    where = worker or f"serial:{socket.gethostname()}:{os.getpid()}"
    started, t0 = time.time(), time.perf_counter()
    try:
        metrics = bench.run_task(task, cfg)
        json.dumps(metrics)
        status, error = "ok", None
    except Exception as exc:
        metrics, status, error = {}, "failed", _error_text(exc)
    return TaskOutcome(index, status, metrics, error, where, started, time.time(), time.perf_counter() - t0)


class Executor:
    """Runs tasks of one benchmark; :meth:`run` yields outcomes in completion order."""

    name = "base"

    def run(self, bench: Benchmark, tasks: Sequence[Task], cfg: BenchConfig) -> Iterator[TaskOutcome]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What goes into each run's ``config["executor"]``."""
        return {"name": self.name}


class SerialExecutor(Executor):
    """Every task in this process, in order (what ``qtrain bench run`` always did)."""

    name = "serial"

    def run(self, bench: Benchmark, tasks: Sequence[Task], cfg: BenchConfig) -> Iterator[TaskOutcome]:
        for i, task in enumerate(tasks):
            yield execute_task(bench, task, cfg, i)


def _dask_task(bench: Benchmark, task: Task, cfg: BenchConfig, index: int, threads: int | None) -> TaskOutcome:
    from distributed import get_worker

    w = get_worker()
    return execute_task(bench, task, cfg, index, threads, f"{w.address} pid {os.getpid()}")


class DaskExecutor(Executor):
    """Tasks submitted to a ``dask.distributed`` cluster; outcomes come back as they complete.

    Without ``scheduler`` a ``LocalCluster`` of ``workers`` processes (one thread each) is started
    and closed around the run, and each task pins torch and numba to
    ``cpu_count // workers`` threads. With ``scheduler`` (``tcp://host:8786``) the client connects
    to that cluster and tasks pin to ``threads`` (default 1 per worker thread).

    A worker that dies mid-task: the scheduler runs the task again on another worker, up to
    ``allowed_failures`` times, then the task is reported failed (``KilledWorker``); outcomes
    that had come back are kept.

    Args:
        scheduler: address of a running scheduler, or ``None`` for a local cluster.
        workers: worker processes of the local cluster (default ``os.cpu_count()``), ``>= 1``.
        threads: torch/numba threads per task (default as above).
        timeout: seconds to reach the scheduler before giving up (default 5).
        allowed_failures: worker deaths a task may cause before it is reported failed (default 1).

    Raises:
        ValueError: ``workers < 1``, ``threads < 1``, ``timeout <= 0``, ``allowed_failures < 0``,
            ``workers`` given with ``scheduler`` (a remote cluster has its own workers).
        ImportError: dask is not installed (``pip install 'qtrain[dist]'``).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None, threads: int | None = None,
                 timeout: float = 5.0, allowed_failures: int = 1):
        for arg, value in (("workers", workers), ("threads", threads)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{arg} must be an integer >= 1, got {value!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        if not isinstance(allowed_failures, int) or allowed_failures < 0:
            raise ValueError(f"allowed_failures must be an integer >= 0, got {allowed_failures!r}")
        if scheduler is not None and workers is not None:
            raise ValueError("workers applies to the local cluster only; a remote scheduler "
                             f"({scheduler}) has its own workers")
        self.scheduler = scheduler
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.threads = threads
        self.timeout = timeout
        self.allowed_failures = allowed_failures

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "scheduler": self.scheduler or "local"}
        if self.scheduler is None:
            out["workers"] = self.workers
        return out

    def _client(self) -> tuple[Any, Any, int | None]:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError("the dask executor needs dask.distributed: pip install 'qtrain[dist]'") from exc
        # A worker holds only the task it runs (saturation 1), so a worker's death makes only that
        # task suspicious; the local scheduler lives in this process and reads both settings.
        with dask.config.set({"distributed.scheduler.allowed-failures": self.allowed_failures,
                              "distributed.scheduler.worker-saturation": 1.0}):
            if self.scheduler is None:
                threads = self.threads or max(1, (os.cpu_count() or 1) // self.workers)
                env = {k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", env=env)
                return Client(cluster), cluster, threads
            try:
                client = Client(self.scheduler, timeout=f"{self.timeout}s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ValueError(f"cannot reach the dask scheduler at {self.scheduler!r} within "
                                 f"{self.timeout:g} s ({type(exc).__name__}); start one with "
                                 "`dask scheduler` or check --scheduler") from None
            return client, None, self.threads or 1

    def run(self, bench: Benchmark, tasks: Sequence[Task], cfg: BenchConfig) -> Iterator[TaskOutcome]:
        if not tasks:
            return
        from distributed import as_completed

        client, cluster, threads = self._client()
        try:
            futures = {client.submit(_dask_task, bench, task, cfg, i, threads, pure=False,
                                     key=f"{bench.name}-{i}-{os.getpid()}-{time.time_ns()}"): i
                       for i, task in enumerate(tasks)}
            started = time.time()
            for fut in as_completed(futures):
                try:
                    yield fut.result()
                except Exception as exc:  # the task never returned: KilledWorker, a lost connection
                    i = futures[fut]
                    yield TaskOutcome(i, "failed", {}, f"{type(exc).__name__}: {exc}", "dask",
                                      started, time.time(), 0.0)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def get_executor(name: str | Executor = "serial", *, scheduler: str | None = None,
                 workers: int | None = None) -> Executor:
    """The executor named ``name`` (``serial`` or ``dask``); an :class:`Executor` passes through.

    Raises:
        ValueError: an unknown name (the message lists :data:`EXECUTORS`), ``scheduler`` or
            ``workers`` given for the serial executor, bad ``workers``.
    """
    if isinstance(name, Executor):
        return name
    if name == "serial":
        if scheduler is not None or workers is not None:
            raise ValueError("--scheduler and --workers need --executor dask")
        return SerialExecutor()
    if name == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers)
    raise ValueError(f"unknown executor {name!r}; choose one of {list(EXECUTORS)}")
