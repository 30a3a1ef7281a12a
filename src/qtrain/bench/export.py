"""Stored runs as flat rows for analysis: ``load_runs() -> pandas.DataFrame`` and
``export_runs(path, format)`` to CSV, JSON or Parquet.

One row per run: its id, benchmark, method, seed, status, error, worker, wall time, the
configuration (``quick``, ``device``, ``executor``, ``invocation``), the git revision, then
``param.<name>`` and ``metric.<name>`` columns (nested dicts flattened with dots, lists as JSON).

Example:
    >>> df = load_runs(benchmark="qpsbgd-digits")            # doctest: +SKIP
    >>> df.groupby("method")["metric.test_accuracy"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from qtrain.bench.store import ResultsStore, RunRecord

__all__ = ["FORMATS", "export_runs", "load_runs", "run_row", "run_rows"]

#: Formats :func:`export_runs` writes.
FORMATS = ("csv", "json", "parquet")


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}", v, out)
    elif isinstance(value, list | tuple):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def run_row(r: RunRecord) -> dict[str, Any]:
    """One run as a flat ``dict`` (the columns of :func:`load_runs`)."""
    executor = r.config.get("executor", {"name": "serial"})
    row: dict[str, Any] = {
        "id": r.id, "benchmark": r.benchmark, "method": r.method, "seed": r.seed, "status": r.status,
        "error": r.error, "worker": r.worker, "wall_s": r.wall_s, "started": r.started, "finished": r.finished,
        "quick": r.config.get("quick"), "device": r.config.get("device"),
        "executor": executor.get("name") if isinstance(executor, dict) else executor,
        "invocation": r.config.get("invocation"), "git_revision": r.environment.get("git_revision"),
        "task_key": r.task_key,
    }
    _flat("param", r.params, row)
    _flat("metric", r.metrics, row)
    return row


def run_rows(benchmark: str | None = None, store: ResultsStore | None = None) -> list[dict[str, Any]]:
    """Every stored run (of ``benchmark``, when given) as a flat row, oldest first."""
    store = store if store is not None else ResultsStore()
    records = store.list(benchmark, limit=-1)
    return [run_row(r) for r in reversed(records)]


def _frame(rows: list[dict[str, Any]]) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("load_runs needs pandas: pip install 'qtrain[analysis]'") from exc
    return pd.DataFrame(rows)


def load_runs(benchmark: str | None = None, *, db: str | Path | None = None,
              store: ResultsStore | None = None) -> Any:
    """The stored runs as a ``pandas.DataFrame``, one row per run (see the module docstring).

    Args:
        benchmark: only this benchmark's runs (default all).
        db: database file (default :func:`~qtrain.bench.store.default_db_path`); ignored with ``store``.
        store: an open :class:`~qtrain.bench.store.ResultsStore`.

    Raises:
        ImportError: pandas is not installed (``pip install 'qtrain[analysis]'``).
    """
    return _frame(run_rows(benchmark, store if store is not None else ResultsStore(db)))


def export_runs(path: str | Path, format: str = "csv", *, benchmark: str | None = None,
                store: ResultsStore | None = None) -> int:
    """Write the stored runs to ``path`` as CSV, JSON (a list of row objects) or Parquet.

    Returns:
        the number of rows written.

    Raises:
        ValueError: an unknown ``format``, a benchmark with no stored runs, a ``path`` whose folder
            does not exist or cannot be written.
        ImportError: Parquet without pandas and pyarrow (``pip install 'qtrain[analysis]'``).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; choose one of {list(FORMATS)}")
    rows = run_rows(benchmark, store)
    if not rows:
        which = f"benchmark {benchmark!r}" if benchmark else "the store"
        raise ValueError(f"no stored runs of {which} to export")
    path = Path(path)
    try:
        if format == "parquet":
            _frame(rows).to_parquet(path, index=False)
        elif format == "json":
            path.write_text(json.dumps(rows, indent=1, default=str))
        else:
            columns = list(dict.fromkeys(k for row in rows for k in row))
            with path.open("w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(rows)
