"""Named experiments, the runner (seeds, progress, resume, executors), the SQLite results store,
export for analysis and static reports."""

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.export import export_runs, load_runs
from qtrain.bench.registry import available_benchmarks, get_benchmark
from qtrain.bench.runner import BenchReport, run_benchmark, summarize
from qtrain.bench.store import ResultsStore, RunRecord, default_db_path

__all__ = [
    "BenchConfig",
    "BenchReport",
    "Benchmark",
    "ResultsStore",
    "RunRecord",
    "Task",
    "available_benchmarks",
    "default_db_path",
    "export_runs",
    "get_benchmark",
    "load_runs",
    "run_benchmark",
    "summarize",
]
