"""Named experiments, the runner (seeds, progress, resume) and the SQLite results store."""

from qtrain.bench.base import BenchConfig, Benchmark, Task
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
    "get_benchmark",
    "run_benchmark",
    "summarize",
]
