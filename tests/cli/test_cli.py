"""The qtrain command: solve, bench, runs; malformed input gives one line and exit code 2."""

import json

import dimod
import pytest
from typer.testing import CliRunner

from qtrain.bench import base, registry
from qtrain.cli.main import app

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def test_solve_json_single_and_list(tmp_path):
    f = tmp_path / "q.json"
    f.write_text(json.dumps({"Q": [[-1, 2], [0, -1]], "offset": 0.5}))
    res = run("solve", f, "--sampler", "exact", "--json", "--seed", 3)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["energy"] == [-0.5] and out["sample"] in ([[1, 0]], [[0, 1]])
    assert out["info"]["seed"] == 3 and "total_ns" in out["info"]["timing"]
    f.write_text(json.dumps([{"Q": [[1.0]]}, {"Q": [[-2.0]], "offset": 1}, {"Q": [[0, -1], [0, 0]]}]))
    out = json.loads(run("solve", f, "-s", "anneal", "--json", "--seed", 0).output)
    assert out["energy"] == [0.0, -1.0, -1.0]
    assert out["sample"] == [[0], [1], [1, 1]]


def test_solve_dimod_bqm_and_table_output(tmp_path):
    bqm = dimod.BinaryQuadraticModel({"a": -1.0, "b": 1.0}, {("a", "b"): -3.0}, 0.0, "BINARY")
    f = tmp_path / "bqm.json"
    f.write_text(json.dumps(bqm.to_serializable()))
    out = json.loads(run("solve", f, "-s", "exact", "--json").output)
    assert out["energy"] == [pytest.approx(-3.0)]
    assert out["variables"] == [["a", "b"]] and out["sample"] == [[1, 1]]
    res = run("solve", f, "-s", "steepest", "--num-reads", 5, "--param", "backend=\"torch\"")
    assert res.exit_code == 0 and "energy" in res.output


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    ('{"Q": [[1, 2]]}', "square"),
    ('{"R": 1}', "missing key 'Q'"),
    ('{"Q": [[1, NaN], [0, 1]]}', "finite"),
    ("[]", "empty"),
    ('[{"Q": [[1]]}, 3]', "problem 1"),
])
def test_malformed_input_one_line_exit_2(tmp_path, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    res = run("solve", f)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in res.output


def test_solve_missing_file_and_unknown_sampler(tmp_path):
    assert run("solve", tmp_path / "none.json").exit_code == 2
    f = tmp_path / "q.json"
    f.write_text('{"Q": [[1]]}')
    res = run("solve", f, "-s", "nope")
    assert res.exit_code == 2 and "unknown sampler" in res.output
    res = run("solve", f, "-p", "num_sweeps=0")
    assert res.exit_code == 2 and "num_sweeps" in res.output


class Tiny(base.Benchmark):
    name = "tiny"
    description = "test benchmark"
    calls = 0

    def tasks(self, cfg):
        return [base.Task(m, s, {"x": 1}) for s in cfg.seeds for m in ("m1", "m2")]

    def run_task(self, task, cfg):
        Tiny.calls += 1
        return {"score": task.seed + (1 if task.method == "m2" else 0), "label": "ok"}


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(registry._BENCHMARKS, "tiny", "tests.cli.test_cli:Tiny")
    Tiny.calls = 0
    return Tiny


def test_bench_list_and_run_json_and_runs(tmp_path, tiny, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QTRAIN_DB", str(tmp_path / "runs.sqlite"))
    res = run("bench", "list", "--json")
    names = [b["name"] for b in json.loads(res.output)]
    assert "qubo-speed" in names and "tiny" in names
    res = run("bench", "run", "tiny", "--seeds", 3, "--json", "--out", tmp_path / "o", "--device", "cpu")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["benchmark"] == "tiny" and len(out["runs"]) == 6
    assert {"method", "seed", "metrics"} <= set(out["runs"][0])
    assert out["summary"] == {"m1": {"score": 1.0}, "m2": {"score": 2.0}}
    res = run("bench", "run", "tiny", "--seeds", 3, "--resume", "--json")
    assert tiny.calls == 6, "resume must skip stored runs"
    res = run("bench", "run", "tiny", "--seeds", 3, "--resume", "--rerun", "m2", "--json")
    assert res.exit_code == 0 and tiny.calls == 9, "--rerun m2 runs m2's three seeds again"
    assert len(json.loads(res.output)["runs"]) == 6
    assert run("bench", "run", "tiny", "--rerun", "m2").exit_code == 2  # needs --resume
    listed = json.loads(run("runs", "list", "--json").output)
    assert len(listed) == 9
    shown = json.loads(run("runs", "show", listed[0]["id"], "--json").output)
    assert shown["benchmark"] == "tiny" and "packages" in shown["environment"]
    assert run("runs", "show", 9999).exit_code == 2
    res = run("bench", "run", "tiny")  # table output with a progress bar
    assert res.exit_code == 0 and "m1" in res.output


def test_bench_run_bad_options(tmp_path):
    assert run("bench", "run", "nope").exit_code == 2
    assert run("bench", "run", "qubo-speed", "--device", "tpu").exit_code == 2
    assert run("bench", "run", "qubo-speed", "--seeds", 0).exit_code == 2
