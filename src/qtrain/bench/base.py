"""Benchmarks: named experiments made of independent tasks (method x seed x params)."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BenchConfig", "Benchmark", "Task", "single_thread", "task_key"]


@dataclass(frozen=True)
class Task:
    """One unit of a benchmark: a method run with one seed and its parameters."""

    method: str
    seed: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class BenchConfig:
    """What the runner passes to a benchmark.

    Attributes:
        quick: the short form (a couple of minutes on a laptop).
        seeds: the seeds to run.
        device: "cpu" or "cuda" (already resolved from "auto").
        out_dir: where tables and PNG plots go (created by the runner).
    """

    quick: bool
    seeds: list[int]
    device: str
    out_dir: Path


def task_key(benchmark: str, task: Task, quick: bool, device: str = "cpu") -> str:
    """Stable identity of a task, used by ``--resume`` to skip finished runs.

    The device is part of it (a CUDA run never stands in for a CPU run); CPU keys are those of
    earlier versions, which had no device, so stores written before keep resuming."""
    parts = [benchmark, task.method, task.seed, task.params, quick]
    if device != "cpu":
        parts.append(device)
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Benchmark(ABC):
    """A named experiment. Subclasses set ``name`` and ``description`` and implement the three
    methods; the runner handles seeds, progress, the results store and ``--resume``."""

    name: str = ""
    description: str = ""
    default_seeds: int = 1

    @abstractmethod
    def tasks(self, cfg: BenchConfig) -> list[Task]:
        """Every task of this run, in order."""

    @abstractmethod
    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        """Run one task; return its metrics (JSON-serialisable numbers or short strings)."""

    def summary_extra(self, summary: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        """Derived rows added to the summary (e.g. ratios between methods); default none."""
        return {}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        """Write tables and plots for the finished ``runs`` into ``cfg.out_dir``; return the files.

        The default writes nothing; the runner always prints the summary table.
        """
        return []


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch single-threaded inside the block, and leave it so.

    Why: benchmark tensors are small (a few hundred variables, or a small MLP on digits); on a
    2-core machine shared with other jobs, torch's intra-op threads made every small op up to 10x
    slower in our measurements, while the annealer's own numba threads are unaffected. torch is
    imported on first use (keeps ``import qtrain.bench`` fast).

    The previous count is not restored: in this torch build (2.13, MKL) any call of
    ``torch.set_num_threads(n)`` with ``n > 1``, even to the current count, makes every later
    batched ``torch.linalg.solve`` of the process fail ("Pivots given to lu_solve must all be
    >= 1"), so a benchmark process stays at one thread once it has asked for it.
    """
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    yield


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg back-end, imported on first use (keeps
    ``import qtrain.bench`` and ``qtrain bench list`` fast, works without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, dpi: int = 110, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` (after ``tight_layout`` unless ``tight=False``), close it, return ``path``."""
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def speed_bar_chart(path: Path, labels: list[str], ours: list[float], theirs: list[float],
                    our_label: str, their_label: str, title: str) -> Path:
    """Seconds of qtrain beside its peer per benchmark part, log scale, written to ``path``."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, ours, 0.4, label=our_label)
    ax.bar(x + 0.2, theirs, 0.4, label=their_label)
    ax.set_xticks(x, labels)
    ax.set_ylabel("seconds")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path, dpi=120)
