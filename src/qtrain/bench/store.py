"""The results store: every benchmark run in a local SQLite database, one transaction per run."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ResultsStore", "RunRecord", "StoreError", "default_db_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    benchmark TEXT NOT NULL,
    method TEXT NOT NULL,
    seed INTEGER NOT NULL,
    task_key TEXT NOT NULL,
    params TEXT NOT NULL,
    config TEXT NOT NULL,
    environment TEXT NOT NULL,
    metrics TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'ok',
    error TEXT,
    worker TEXT,
    wall_s REAL
);
CREATE INDEX IF NOT EXISTS runs_task ON runs (benchmark, task_key);
CREATE TABLE IF NOT EXISTS invocations (
    id TEXT PRIMARY KEY,
    benchmark TEXT NOT NULL,
    run_ids TEXT NOT NULL,
    finished REAL NOT NULL
);
"""
# Columns added after the first schema: an older database gains them on open.
_ADDED = (("status", "TEXT NOT NULL DEFAULT 'ok'"), ("error", "TEXT"), ("worker", "TEXT"), ("wall_s", "REAL"))
_COLUMNS = ("id", "benchmark", "method", "seed", "task_key", "params", "config", "environment", "metrics",
            "started", "finished", "status", "error", "worker", "wall_s")


def default_db_path() -> Path:
    """``$QTRAIN_DB``, else ``$XDG_DATA_HOME/qtrain/results.sqlite`` (``~/.local/share`` default)."""
    if os.environ.get("QTRAIN_DB"):
        return Path(os.environ["QTRAIN_DB"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "qtrain" / "results.sqlite"


class StoreError(ValueError):
    """The results database cannot be used: a folder, a corrupt or truncated file, read-only, or
    a folder that cannot be created. The message names the path and what to do."""


_HINT = "point --db or QTRAIN_DB at a writable SQLite file"


@contextmanager
def _usable(path: Path) -> Iterator[None]:
    """Turn SQLite's and the file system's errors about ``path`` into one :class:`StoreError`."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if path.is_dir():
            why = "is a folder, not a database file"
        elif "readonly" in text or "read-only" in text:
            why = "is read-only"
        elif "not a database" in text or "malformed" in text:
            why = f"is corrupt or not a SQLite database ({text})"
        else:
            why = f"cannot be used ({text})"
        raise StoreError(f"results database {path} {why}; {_HINT}") from exc
    except OSError as exc:
        raise StoreError(f"results database {path} cannot be created ({exc.strerror or exc}); {_HINT}") from exc


@dataclass
class RunRecord:
    """One finished run: a (benchmark, method, seed, params) task and its metrics."""

    id: int | None
    benchmark: str
    method: str
    seed: int
    task_key: str
    params: dict[str, Any]
    config: dict[str, Any]
    environment: dict[str, Any]
    metrics: dict[str, Any]
    started: float
    finished: float
    status: str = "ok"
    error: str | None = None
    worker: str | None = None
    wall_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "method": self.method, "seed": self.seed, "params": self.params,
               "metrics": self.metrics}
        if self.status != "ok":
            out.update(status=self.status, error=self.error)
        return out


class ResultsStore:
    """SQLite store of benchmark runs.

    Each run is written in its own transaction as soon as it finishes, so an interrupted sweep
    keeps every finished run, and ``--resume`` skips tasks whose ``task_key`` is already stored.

    Two concurrent ``--resume`` runs of one benchmark do not claim tasks from each other: each
    runs every task missing when it reaches it, so both may run (and store) the same task; run
    them on different benchmarks or one after the other.

    Args:
        path: database file (created with its folder); default :func:`default_db_path`.
        readonly: only read: create nothing (a missing file reads as an empty store) and never
            write (``qtrain runs list``/``show``).

    Raises:
        StoreError: a ``path`` that is a folder, a corrupt or truncated file, or (when writing) a
            folder that cannot be created.
    """

    def __init__(self, path: str | Path | None = None, *, readonly: bool = False):
        self.path = Path(path) if path is not None else default_db_path()
        self.readonly = readonly
        self._select = _SELECT
        self._empty = False  # a read-only store without a runs table yet (a missing or new file)
        if readonly:
            self._empty = True
            if self.path.is_dir() or self.path.exists():
                with self._connect() as con:  # a folder or a corrupt file fails here
                    self._empty = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                              "AND name = 'runs'").fetchone() is None
                    have = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
                # an older database read without migrating: its missing columns read as defaults
                defaults = {col: decl.split("DEFAULT ")[-1] if "DEFAULT" in decl else "NULL" for col, decl in _ADDED}
                self._select = ", ".join(c if c in have or c not in defaults else f"{defaults[c]} AS {c}"
                                         for c in _COLUMNS)
            return
        with _usable(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)
            have = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
            for col, decl in _ADDED:
                if col not in have:
                    con.execute(f"ALTER TABLE runs ADD COLUMN {col} {decl}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with _usable(self.path):
            if self.readonly:
                con = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
            else:
                con = sqlite3.connect(self.path, timeout=30)
            try:
                with con:  # commits on success, rolls back on error
                    yield con
            finally:
                con.close()

    def check_writable(self) -> None:
        """Pre-flight before a benchmark's first task: a write inside a transaction that is
        rolled back, so a read-only store fails before any run is lost.

        Raises:
            StoreError: the store cannot be written (read-only file or folder, opened readonly).
        """
        if self.readonly:
            raise StoreError(f"results database {self.path} was opened read-only")
        with self._connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS _write_probe (x INTEGER)")
            con.execute("DROP TABLE _write_probe")
            con.rollback()

    def _missing(self) -> bool:
        """A read-only store whose file or runs table does not exist yet: it reads as empty."""
        return self._empty

    def add(self, record: RunRecord) -> int:
        """Insert one run in one transaction; returns its id."""
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO runs (benchmark, method, seed, task_key, params, config, environment,"
                " metrics, started, finished, status, error, worker, wall_s)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.benchmark, record.method, record.seed, record.task_key,
                 json.dumps(record.params), json.dumps(record.config),
                 json.dumps(record.environment), json.dumps(record.metrics),
                 record.started, record.finished, record.status, record.error, record.worker,
                 record.wall_s),
            )
            record.id = int(cur.lastrowid)
        return record.id

    def add_invocation(self, invocation: str, benchmark: str, run_ids: Sequence[int]) -> None:
        """Record which stored runs one ``bench run`` reported (new ones and, with ``--resume``,
        those taken from the store), so that a report summarises the whole invocation."""
        with self._connect() as con:
            con.execute("INSERT OR REPLACE INTO invocations (id, benchmark, run_ids, finished) VALUES (?, ?, ?, ?)",
                        (invocation, benchmark, json.dumps([int(i) for i in run_ids]), time.time()))

    def invocations(self, benchmark: str) -> dict[str, list[int]]:
        """Run ids of every recorded invocation of ``benchmark``, oldest first (none for a
        database written before invocations were recorded)."""
        if self._missing():
            return {}
        with self._connect() as con:
            try:
                rows = con.execute("SELECT id, run_ids FROM invocations WHERE benchmark = ? ORDER BY finished",
                                   (benchmark,)).fetchall()
            except sqlite3.OperationalError:  # an older database opened read-only: no such table
                return {}
        return {inv: json.loads(ids) for inv, ids in rows}

    def done_keys(self, benchmark: str) -> set[str]:
        """Task keys of every successful stored run of ``benchmark``."""
        if self._missing():
            return set()
        with self._connect() as con:
            rows = con.execute("SELECT task_key FROM runs WHERE benchmark = ? AND status = 'ok'", (benchmark,))
            return {r[0] for r in rows}

    def find(self, benchmark: str, task_key: str) -> RunRecord | None:
        """The latest successful stored run of a task, if any (a failed run is run again)."""
        if self._missing():
            return None
        with self._connect() as con:
            row = con.execute(f"SELECT {self._select} FROM runs WHERE benchmark = ? AND task_key = ? "
                              "AND status = 'ok' ORDER BY id DESC LIMIT 1", (benchmark, task_key)).fetchone()
        return None if row is None else _record(row)

    def list(self, benchmark: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Most recent runs first, optionally of one benchmark."""
        if self._missing():
            return []
        query, args = f"SELECT {self._select} FROM runs", ()
        if benchmark:
            query, args = query + " WHERE benchmark = ?", (benchmark,)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_record(r) for r in rows]

    def get(self, run_id: int) -> RunRecord:
        """One run by id; ``KeyError`` if absent."""
        row = None
        if not self._missing():
            with self._connect() as con:
                row = con.execute(f"SELECT {self._select} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id} in {self.path}")
        return _record(row)


_SELECT = ", ".join(_COLUMNS)


def _record(row: tuple) -> RunRecord:
    r = dict(zip(_COLUMNS, row, strict=True))
    for k in ("params", "config", "environment", "metrics"):
        r[k] = json.loads(r[k])
    return RunRecord(**r)


def now() -> float:
    return time.time()
