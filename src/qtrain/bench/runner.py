"""Run a benchmark: tasks on an executor (serial or dask), each stored by this process as it
finishes, with progress and resume."""

from __future__ import annotations

import os
import platform
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from qtrain.bench.base import BenchConfig, Benchmark, Task, task_key
from qtrain.bench.executors import Executor, get_executor
from qtrain.bench.registry import get_benchmark
from qtrain.bench.store import ResultsStore, RunRecord

__all__ = ["BenchReport", "check_output_dir", "environment", "run_benchmark", "summarize"]

_PACKAGES = ("qtrain", "torch", "numpy", "scipy", "dimod", "dwave-samplers", "numba", "qiskit",
             "qiskit-aer", "dwave-system")


def environment(device: str) -> dict[str, Any]:
    """Python, platform, package versions, device and git revision (when in a git checkout)."""
    versions = {}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "machine": platform.machine(), "cpu_count": os.cpu_count(), "device": device,
           "packages": versions}
    if device.startswith("cuda"):
        import torch

        env["gpu"] = torch.cuda.get_device_name(0)
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(__file__).parent)
        if rev.returncode == 0:
            env["git_revision"] = rev.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return env


def summarize(runs: list[RunRecord]) -> dict[str, dict[str, float]]:
    """``method -> metric -> mean`` over the runs (numeric metrics only)."""
    acc: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        for k, v in r.metrics.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                acc.setdefault(r.method, {}).setdefault(k, []).append(float(v))
    return {m: {k: sum(v) / len(v) for k, v in ms.items()} for m, ms in acc.items()}


@dataclass
class BenchReport:
    """The result of :func:`run_benchmark`."""

    benchmark: str
    runs: list[RunRecord]
    summary: dict[str, dict[str, float]]
    files: list[Path] = field(default_factory=list)
    skipped: int = 0
    failed: list[RunRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark, "runs": [r.to_json() for r in self.runs],
                "summary": self.summary, "files": [str(f) for f in self.files],
                "failed": [r.to_json() for r in self.failed]}


def _matches(method: str, names: Sequence[str]) -> bool:
    """Whether ``method`` is one of ``names`` or below one of them (``name/...``)."""
    return any(method == m or method.startswith(m + "/") for m in names)


def check_output_dir(out: Path) -> Path:
    """Create ``out`` and prove it writable (a probe file, removed), before any task runs: an
    unwritable folder would lose the report after every task ran.

    Raises:
        ValueError: ``out`` is a file, cannot be created or cannot be written; the message names it.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".qtrain-write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        what = "is a file, not a folder" if out.is_file() else f"cannot be written ({exc.strerror or exc})"
        raise ValueError(f"output folder {out} {what}; choose another with --out") from exc
    return out


def run_benchmark(name: str | Benchmark, *, quick: bool = False, seeds: int | None = None,
                  device: str = "cpu", out_dir: str | Path | None = None,
                  store: ResultsStore | None = None, resume: bool = False,
                  rerun: Sequence[str] = (),
                  progress: Callable[[int, int, Task], None] | None = None,
                  executor: str | Executor = "serial") -> BenchReport:
    """Run every task of a benchmark, storing each finished run in its own transaction.

    Tasks run on ``executor``; their outcomes come back in completion order and only this process
    writes them to the store. A task that raises is stored with ``status="failed"`` and its
    error, the others carry on, and the report lists it in ``failed`` (``--resume`` runs it again).

    Args:
        name: a registered benchmark name or a :class:`Benchmark` instance.
        quick: the short form.
        seeds: number of seeds ``0..seeds-1`` (default: the benchmark's ``default_seeds``).
        device: "cpu" or "cuda".
        out_dir: folder for tables and plots (default ``results/<name>``).
        store: results store (default: :class:`ResultsStore` at its default path).
        resume: skip tasks already stored (same benchmark, method, seed, params, quick flag and
            device). Concurrent resumed runs do not claim tasks from each other (see
            :class:`ResultsStore`).
        rerun: with ``resume``, run these methods again anyway (a method ``m`` also matches
            ``m/...``, e.g. ``"speed"`` matches ``"speed/anneal/4x100"``): after a change that
            affects only some methods, the others are taken from the store.
        progress: called as ``progress(done, total, task)`` as each task is taken from the store
            or finishes.
        executor: ``"serial"`` (this process, in order), ``"dask"`` (a local dask cluster) or an
            :class:`~qtrain.bench.executors.Executor` (e.g. ``DaskExecutor(scheduler=...)``).

    The output folder and the store are checked writable before the first task; the stored
    ``config["seeds"]`` are the seeds the tasks ran (a quick form runs fewer than asked for; the
    request is then kept in ``config["seeds_requested"]``).

    Raises:
        ValueError: ``seeds < 1``, an unwritable output folder, an unusable store
            (:class:`~qtrain.bench.store.StoreError`), an unknown executor, an unreachable scheduler.
    """
    bench = get_benchmark(name) if isinstance(name, str) else name
    nseeds = bench.default_seeds if seeds is None else seeds
    if nseeds < 1:
        raise ValueError(f"seeds must be at least 1, got {nseeds}")
    out = check_output_dir(Path(out_dir) if out_dir is not None else Path("results") / bench.name)
    cfg = BenchConfig(quick=quick, seeds=list(range(nseeds)), device=device, out_dir=out)
    store = store if store is not None else ResultsStore()
    store.check_writable()  # before the first task: a read-only store would lose its result
    exe = get_executor(executor)
    env = environment(device)
    tasks = bench.tasks(cfg)
    config = {"quick": quick, "seeds": sorted({t.seed for t in tasks}), "device": device,
              "executor": exe.describe(), "invocation": uuid.uuid4().hex[:12]}
    if config["seeds"] != cfg.seeds:  # the quick forms run fewer seeds than asked for
        config["seeds_requested"] = cfg.seeds
    keys = [task_key(bench.name, task, quick, device) for task in tasks]
    done: dict[int, RunRecord] = {}
    for i, task in enumerate(tasks):
        if resume and not _matches(task.method, rerun):
            old = store.find(bench.name, keys[i])
            if old is not None:
                done[i] = old
                if progress is not None:
                    progress(len(done), len(tasks), task)
    skipped = len(done)
    todo = [i for i in range(len(tasks)) if i not in done]
    failed = []
    for res in exe.run(bench, [tasks[i] for i in todo], cfg):
        i = todo[res.index]
        task = tasks[i]
        record = RunRecord(None, bench.name, task.method, task.seed, keys[i], dict(task.params), config, env,
                           res.metrics, res.started, res.finished, res.status, res.error, res.worker,
                           res.wall_s)
        store.add(record)
        if record.status == "ok":
            done[i] = record
        else:
            failed.append(record)
        if progress is not None:
            progress(len(done) + len(failed), len(tasks), task)
    runs = [done[i] for i in sorted(done)]
    store.add_invocation(config["invocation"], bench.name, [r.id for r in runs + failed])
    files = bench.report(runs, cfg)
    summary = summarize(runs)
    summary.update(bench.summary_extra(summary))
    return BenchReport(bench.name, runs, summary, files, skipped, failed)
