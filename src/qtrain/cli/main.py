"""The ``qtrain`` command: solve QUBO files, run benchmarks, browse stored runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

# show_locals=False: a traceback (a bug) must never print local variables such as API tokens
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Train neural networks with quantum and quantum-inspired optimisers.")
bench_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
                        help="Named experiments: list and run them.")
runs_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
                       help="Runs kept in the results store (SQLite).")
app.add_typer(bench_app, name="bench")
app.add_typer(runs_app, name="runs")

console = Console()


class InputError(Exception):
    """Bad user input: reported on one line with exit code 2."""


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by ``None``: JSON has no such numbers."""
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _dumps(obj: Any) -> str:
    """Standard JSON only (``allow_nan=False``): non-finite numbers are printed as ``null``."""
    return json.dumps(_finite(obj), allow_nan=False)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_params(items: list[str]) -> dict[str, Any]:
    params = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = _parse_value(value)
    return params


def load_problems(path: Path) -> list[tuple[Any, list[Any]]]:
    """Read a QUBO file: ``{"Q": [[...]], "offset": c}``, a list of those, or a dimod BQM
    serialised with ``to_serializable``. Returns ``(QUBO, variable labels)`` per problem."""
    import dimod

    from qtrain.qubo import QUBO

    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError(f"{path}: the list of problems is empty")
    problems = []
    for k, item in enumerate(items):
        where = f"{path}" + (f" [problem {k}]" if isinstance(data, list) else "")
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object with key 'Q' or a serialised dimod BQM")
        try:
            if item.get("type") == "BinaryQuadraticModel":
                try:
                    bqm = dimod.BinaryQuadraticModel.from_serializable(item)
                except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                    detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                    raise InputError(f"{where}: not a valid serialised dimod BQM ({detail}); write one "
                                     "with dimod's bqm.to_serializable()") from exc
                labels = list(bqm.variables)
                problems.append((QUBO.from_bqm(bqm, labels), labels))
            elif "Q" in item:
                q = QUBO(item["Q"], item.get("offset", 0.0))
                if q.batch_shape:
                    raise InputError(f"{where}: 'Q' must be one square matrix [n, n]")
                problems.append((q, list(range(q.num_variables))))
            else:
                raise InputError(f"{where}: missing key 'Q' (or a dimod BQM with 'type')")
        except InputError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise InputError(f"{where}: {exc}") from exc
    return problems


@app.command()
def solve(
    file: Path = typer.Argument(..., help="JSON file: {'Q': [[...]], 'offset': c}, a list, or a dimod BQM."),
    sampler: str = typer.Option("anneal", "--sampler", "-s", help="Sampler name (see qtrain.qubo)."),
    num_reads: int = typer.Option(10, "--num-reads", "-r", help="Reads per problem."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (recorded in info)."),
    param: list[str] = typer.Option([], "--param", "-p", help="Sampler parameter KEY=VALUE (JSON value)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Solve the QUBO(s) in FILE and print the best sample and energy of each."""
    from qtrain._batching import solve_by_size
    from qtrain.qubo import QUBO, get_sampler

    try:
        problems = load_problems(file)
        params = _parse_params(param)
        smp = get_sampler(sampler)
    except InputError as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))
    infos: list[dict[str, Any]] = []

    def solve_size(n: int, group: list[Any]) -> list[tuple[float, list[int]]]:
        batch = QUBO.stack([q.to(group[0][0].dtype) for q, _ in group])
        res = smp.sample_qubo_batch(batch, num_reads=num_reads, seed=seed, **params)
        infos.append(res.info)
        return [(float(res.energy[j]), [int(v) for v in res.sample[j].tolist()]) for j in range(len(group))]

    try:  # problems of equal size go to the sampler as one batch
        results = solve_by_size(problems, lambda item: item[0].num_variables, solve_size)
    except (ValueError, TypeError, RuntimeError, ImportError) as exc:
        _fail(str(exc))
    except MemoryError:
        _fail("out of memory while sampling; use fewer --num-reads or smaller problems")
    energies = [e for e, _ in results]
    samples = [x for _, x in results]
    info = infos[0] if len(infos) == 1 else {"groups": infos}
    if as_json:
        out = {"energy": energies, "sample": samples, "info": info}
        if any(labels != list(range(len(labels))) for _, labels in problems):
            out["variables"] = [[str(v) for v in labels] for _, labels in problems]
        typer.echo(_dumps(out))
        return
    table = Table(title=f"{sampler}: {len(problems)} problem(s), {num_reads} reads")
    table.add_column("problem", justify="right")
    table.add_column("n", justify="right")
    table.add_column("energy", justify="right")
    table.add_column("sample")
    for k, (q, _) in enumerate(problems):
        table.add_row(str(k), str(q.num_variables), f"{energies[k]:.6g}",
                      "".join(map(str, samples[k])))
    console.print(table)
    t = info.get("timing", {}) if "groups" not in info else {}
    if t:
        console.print(f"total {t['total_ns'] / 1e6:.1f} ms, seed {info['seed']}")


# ------------------------------------------------------------------ bench
def _store(db: Path | None, readonly: bool = False) -> Any:
    """The results store at ``db`` (default ``$QTRAIN_DB``); an unusable one is one line, exit 2.
    ``readonly``: open it to read only (creates nothing)."""
    from qtrain.bench import ResultsStore
    from qtrain.bench.store import StoreError

    try:
        store = ResultsStore(db, readonly=readonly)
        if not readonly:
            store.check_writable()
    except StoreError as exc:
        _fail(str(exc))
    return store


def _check_out(out: Path) -> None:
    """The output folder exists and is writable before the first task runs, else exit 2."""
    from qtrain.bench.runner import check_output_dir

    try:
        check_output_dir(out)
    except ValueError as exc:
        _fail(str(exc))


def _note_seeds(seeds: int | None, report: Any) -> None:
    """Say when a benchmark ran fewer seeds than ``--seeds`` asked for (its quick form)."""
    ran = sorted({r.seed for r in report.runs + report.failed})  # a failed task still ran its seed
    if seeds is not None and len(ran) < seeds:
        typer.echo(f"note: this form of {report.benchmark} runs seed(s) {ran} only; --seeds {seeds} "
                   "is honoured by the full run (without --quick)", err=True)


@bench_app.command("list")
def bench_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the registered benchmarks."""
    from qtrain.bench import available_benchmarks, get_benchmark

    rows = [(name, get_benchmark(name).description) for name in available_benchmarks()]
    if as_json:
        typer.echo(_dumps([{"name": n, "description": d} for n, d in rows]))
        return
    table = Table(title="benchmarks")
    table.add_column("name")
    table.add_column("description")
    for name, desc in rows:
        table.add_row(name, desc)
    console.print(table)


def summary_table(title: str, summary: dict[str, dict[str, float]]) -> Table:
    """A rich table of ``method -> metric -> mean``: wide (a column per metric) when it fits,
    else long (a row per method and metric)."""
    metrics = sorted({k for ms in summary.values() for k in ms})
    table = Table(title=title)
    table.add_column("method")
    if len(metrics) <= 6:
        for m in metrics:
            table.add_column(m, justify="right")
        for method, ms in summary.items():
            table.add_row(method, *(f"{ms[m]:.4g}" if m in ms else "" for m in metrics))
        return table
    table.add_column("metric")
    table.add_column("mean", justify="right")
    for method, ms in summary.items():
        for i, (m, v) in enumerate(sorted(ms.items())):
            table.add_row(method if i == 0 else "", m, f"{v:.4g}", end_section=i == len(ms) - 1)
    return table


@bench_app.command("run")
def bench_run(
    name: str = typer.Argument(..., help="Benchmark name (qtrain bench list)."),
    quick: bool = typer.Option(False, "--quick", help="The short form (about two minutes)."),
    seeds: int | None = typer.Option(None, "--seeds", help="Number of seeds (0..K-1)."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    out: Path | None = typer.Option(None, "--out", help="Folder for tables and plots."),
    db: Path | None = typer.Option(None, "--db", help="Results database (default $QTRAIN_DB or the user data dir)."),
    resume: bool = typer.Option(False, "--resume", help="Skip runs already in the store."),
    rerun: list[str] | None = typer.Option(None, "--rerun", help="With --resume: run this method "
                                           "again anyway (repeatable; 'm' also matches 'm/...')."),
    executor: str = typer.Option("serial", "--executor", help="serial | dask (tasks on a dask cluster)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="With --executor dask: address of a "
                                         "running scheduler (tcp://host:8786); default a local cluster."),
    workers: int | None = typer.Option(None, "--workers", help="With --executor dask: worker processes "
                                       "of the local cluster (default: one per core)."),
) -> None:
    """Run a benchmark; every run is stored, then the summary table is printed.

    Exits 1 naming the failed tasks when a task raised (the others are stored)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from qtrain.bench import available_benchmarks, run_benchmark
    from qtrain.qubo.anneal import resolve_device

    if name not in available_benchmarks():
        _fail(f"unknown benchmark {name!r}; choose one of {available_benchmarks()}")
    if device not in ("auto", "cpu", "cuda"):
        _fail(f"--device must be auto, cpu or cuda, got {device!r}")
    if seeds is not None and seeds < 1:
        _fail(f"--seeds must be at least 1, got {seeds}")
    try:
        dev = resolve_device(device).type
    except ValueError as exc:
        _fail(str(exc))
    if rerun and not resume:
        _fail("--rerun needs --resume (without it every run is run anyway)")
    from qtrain.bench.executors import get_executor

    try:
        exe = get_executor(executor, scheduler=scheduler, workers=workers)
    except (ValueError, ImportError) as exc:
        _fail(str(exc))
    store = _store(db)
    out = out if out is not None else Path("results") / name
    _check_out(out)
    try:
        if as_json:
            report = run_benchmark(name, quick=quick, seeds=seeds, device=dev, out_dir=out,
                                   store=store, resume=resume, rerun=rerun or (), executor=exe)
            _note_seeds(seeds, report)
            typer.echo(_dumps(report.to_json()))
            _exit_on_failed(report)
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            job = bar.add_task(name, total=None)

            def progress(done: int, total: int, task: Any) -> None:
                bar.update(job, total=total, completed=done,
                           description=f"{name}: {task.method} seed {task.seed}")

            report = run_benchmark(name, quick=quick, seeds=seeds, device=dev, out_dir=out, store=store,
                                   resume=resume, rerun=rerun or (), progress=progress, executor=exe)
    except ValueError as exc:  # e.g. the scheduler is unreachable
        _fail(str(exc))
    except KeyboardInterrupt:  # typer would turn it into a silent exit: say what is kept
        typer.echo(f"interrupted: finished runs are kept in {store.path}; rerun with --resume to "
                   "skip them", err=True)
        raise typer.Exit(code=130) from None
    _note_seeds(seeds, report)
    console.print(summary_table(f"{name}{' (quick)' if quick else ''}", report.summary))
    if report.skipped:
        console.print(f"{report.skipped} run(s) taken from the store (--resume)")
    for f in report.files:
        console.print(f"wrote {f}")
    console.print(f"runs stored in {store.path}")
    _exit_on_failed(report)


def _exit_on_failed(report: Any) -> None:
    """Name every failed task on stderr and exit 1 (the finished runs are already stored)."""
    if not report.failed:
        return
    for r in report.failed:
        typer.echo(f"failed: {r.method} seed {r.seed} (run {r.id}): {r.error}", err=True)
    typer.echo(f"error: {len(report.failed)} task(s) failed; the others are stored (rerun them with --resume)",
               err=True)
    raise typer.Exit(code=1)


# ------------------------------------------------------------------ report
@app.command()
def report(
    names: list[str] | None = typer.Argument(None, help="Benchmarks to report (default: all stored)."),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for the HTML pages and plots."),
    compare: tuple[str, str] | None = typer.Option(None, "--compare", help="Two invocation ids (or run "
                                                   "ids) of NAME: the metric deltas B - A."),
    db: Path | None = typer.Option(None, "--db", help="Results database."),
) -> None:
    """Write a static HTML report (index, a page per benchmark) from the results store."""
    from qtrain.bench.report import write_comparison, write_report

    try:
        if compare:
            if not names or len(names) != 1:
                raise ValueError("--compare needs exactly one benchmark NAME")
            files = [write_comparison(out, names[0], *compare, store=_store(db))]
        else:
            files = write_report(out, names or (), store=_store(db))
    except ValueError as exc:
        _fail(str(exc))
    for f in files:
        typer.echo(f"wrote {f}")


# ------------------------------------------------------------------ runs
@runs_app.command("list")
def runs_list(
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="Only this benchmark."),
    limit: int = typer.Option(50, "--limit", help="Most recent N runs."),
    db: Path | None = typer.Option(None, "--db", help="Results database."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored runs, most recent first."""
    import datetime as dt

    records = _store(db, readonly=True).list(benchmark, limit)
    if as_json:
        typer.echo(_dumps([{"id": r.id, "benchmark": r.benchmark, **r.to_json()} for r in records]))
        return
    table = Table(title=f"runs ({len(records)})")
    for col in ("id", "benchmark", "method", "seed", "status", "finished", "seconds"):
        table.add_column(col)
    for r in records:
        when = dt.datetime.fromtimestamp(r.finished).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(r.id), r.benchmark, r.method, str(r.seed), r.status, when,
                      f"{r.finished - r.started:.2f}")
    console.print(table)


@runs_app.command("show")
def runs_show(
    run_id: int = typer.Argument(..., help="Run id (qtrain runs list)."),
    db: Path | None = typer.Option(None, "--db", help="Results database."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one run: parameters, configuration, environment and metrics."""
    try:
        r = _store(db, readonly=True).get(run_id)
    except KeyError as exc:
        _fail(str(exc.args[0]))
    full = {"id": r.id, "benchmark": r.benchmark, "method": r.method, "seed": r.seed,
            "params": r.params, "config": r.config, "environment": r.environment,
            "metrics": r.metrics, "started": r.started, "finished": r.finished}
    if as_json:
        typer.echo(_dumps(full))
        return
    console.print_json(_dumps(full))


@runs_app.command("export")
def runs_export(
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    fmt: str = typer.Option("csv", "--format", help="csv | json | parquet."),
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="Only this benchmark."),
    db: Path | None = typer.Option(None, "--db", help="Results database."),
) -> None:
    """Write stored runs, one row per run (method, seed, params and metrics flattened)."""
    from qtrain.bench.export import export_runs

    try:
        n = export_runs(out, fmt, benchmark=benchmark, store=_store(db))
    except (ValueError, ImportError) as exc:
        _fail(str(exc))
    typer.echo(f"wrote {n} run(s) to {out}")


def main() -> None:
    """Entry point of the ``qtrain`` script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        typer.echo("interrupted: finished runs are kept in the store (use --resume)", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
