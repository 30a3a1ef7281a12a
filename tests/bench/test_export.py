"""Export: one flat row per stored run, CSV/JSON/Parquet round trips, load_runs as a DataFrame."""

import csv
import json
import os

import pytest
from typer.testing import CliRunner

from qtrain.bench import Benchmark, ResultsStore, Task, export_runs, load_runs, run_benchmark
from qtrain.cli.main import app


class Grid(Benchmark):
    name = "grid"

    def tasks(self, cfg):
        return [Task(m, s, {"width": w, "opt": {"lr": 0.1}}) for m in ("a", "b") for w in (2, 4)
                for s in cfg.seeds]

    def run_task(self, task, cfg):
        w = task.params["width"]
        return {"loss": 1.0 / (w + task.seed), "curve": [w, w + 1], "label": task.method}


@pytest.fixture
def store(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    run_benchmark(Grid(), seeds=2, store=store, out_dir=tmp_path)
    return store


def test_load_runs_one_row_per_run_with_params_and_metrics_flattened(store):
    pd = pytest.importorskip("pandas", reason="needs the analysis extra: pip install 'qtrain[analysis]'")
    df = load_runs(store=store)
    assert isinstance(df, pd.DataFrame) and len(df) == 8
    assert {"method", "seed", "param.width", "param.opt.lr", "metric.loss", "metric.curve", "status",
            "worker", "wall_s", "executor", "invocation"} <= set(df.columns)
    row = df[(df.method == "b") & (df["param.width"] == 4) & (df.seed == 1)].iloc[0]
    assert row["metric.loss"] == pytest.approx(0.2) and json.loads(row["metric.curve"]) == [4, 5]
    assert row["param.opt.lr"] == 0.1 and row["status"] == "ok" and row["executor"] == "serial"
    means = df.groupby("method")["metric.loss"].mean()
    assert means["a"] == pytest.approx((1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 4)
    assert len(load_runs("nothing-here", store=store)) == 0


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_round_trips(store, tmp_path, fmt):
    if fmt == "parquet":
        pd = pytest.importorskip("pandas", reason="needs the analysis extra: pip install 'qtrain[analysis]'")
        pytest.importorskip("pyarrow", reason="needs the analysis extra: pip install 'qtrain[analysis]'")
    path = tmp_path / f"runs.{fmt}"
    assert export_runs(path, fmt, benchmark="grid", store=store) == 8
    if fmt == "csv":
        rows = list(csv.DictReader(path.open()))
        losses = sorted(float(r["metric.loss"]) for r in rows)
    elif fmt == "json":
        rows = json.loads(path.read_text())
        losses = sorted(r["metric.loss"] for r in rows)
    else:
        rows = pd.read_parquet(path).to_dict("records")
        losses = sorted(r["metric.loss"] for r in rows)
    expected = sorted(1.0 / (w + s) for _ in "ab" for w in (2, 4) for s in (0, 1))
    assert losses == pytest.approx(expected) and len(rows) == 8


def test_export_bad_input_is_one_line_exit_2(store, tmp_path):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, ["runs", "export", "--db", str(store.path), *map(str, args)])

    res = run("--out", tmp_path / "ok.csv", "--benchmark", "grid")
    assert res.exit_code == 0 and "wrote 8 run(s)" in res.output
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    cases = [(("--out", tmp_path / "no" / "such" / "dir.csv"), "cannot write"),
             (("--out", tmp_path / "x.xlsx", "--format", "xlsx"), "unknown export format 'xlsx'"),
             (("--out", tmp_path / "x.csv", "--benchmark", "nope"), "no stored runs of benchmark 'nope'")]
    if os.geteuid() != 0:  # root writes anywhere
        cases.append((("--out", locked / "x.csv"), "cannot write"))
    for args, message in cases:
        res = run(*args)
        assert res.exit_code == 2 and message in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
