"""Regression tests of issue 13 for the CLI and the results store: unusable stores and output
folders refused before the first task, one line and exit code 2, Ctrl-C, the run key's device,
read-only `runs list`, standard JSON only, the dwave sampler's token."""

import json
import pickle
import sqlite3

import dimod
import pytest
from typer.testing import CliRunner

from qtrain.bench import base, registry
from qtrain.bench.store import ResultsStore, StoreError
from qtrain.cli.main import app

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def one_line_exit_2(res, *needles):
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2, res.output
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    for needle in needles:
        assert needle in lines[0], lines[0]


class Counted(base.Benchmark):
    name = "counted"
    description = "test benchmark"
    calls = 0
    interrupt_at = None

    def tasks(self, cfg):
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        return [base.Task("m", s, {}) for s in seeds]

    def run_task(self, task, cfg):
        Counted.calls += 1
        if Counted.calls == Counted.interrupt_at:
            raise KeyboardInterrupt
        return {"score": float(task.seed), "nan": float("nan")}


@pytest.fixture
def counted(monkeypatch, tmp_path):
    monkeypatch.setitem(registry._BENCHMARKS, "counted", "tests.cli.test_hardening:Counted")
    monkeypatch.chdir(tmp_path)
    Counted.calls, Counted.interrupt_at = 0, None
    return Counted


def _corrupt(tmp_path):
    f = tmp_path / "corrupt.sqlite"
    f.write_bytes(b"not a database" * 100)
    return f


def _truncated(tmp_path):
    good = tmp_path / "good.sqlite"
    ResultsStore(good)
    f = tmp_path / "trunc.sqlite"
    f.write_bytes(good.read_bytes()[:1000])
    return f


@pytest.mark.parametrize("make, why", [(_corrupt, "corrupt"), (_truncated, "corrupt"),
                                       (lambda p: p, "is a folder")])
@pytest.mark.parametrize("command", [("runs", "list"), ("runs", "show", "1"),
                                     ("bench", "run", "counted", "--quick")])
def test_unusable_store_is_one_line_exit_2_before_any_task(tmp_path, counted, make, why, command):
    db = make(tmp_path)
    res = run(*command, env={"QTRAIN_DB": str(db)})
    one_line_exit_2(res, str(db), why, "QTRAIN_DB")
    assert counted.calls == 0


def test_read_only_store_fails_before_the_first_task(tmp_path, counted, monkeypatch):
    def readonly(self):
        raise StoreError(f"results database {self.path} is read-only; point --db or QTRAIN_DB at a writable "
                         "SQLite file")
    monkeypatch.setattr(ResultsStore, "check_writable", readonly)
    res = run("bench", "run", "counted", "--db", tmp_path / "r.sqlite")
    one_line_exit_2(res, "read-only")
    assert counted.calls == 0


def test_check_writable_probes_with_a_rolled_back_write(tmp_path):
    store = ResultsStore(tmp_path / "w.sqlite")
    store.check_writable()
    with sqlite3.connect(store.path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "_write_probe" not in tables and "runs" in tables
    with pytest.raises(StoreError, match="read-only"):
        ResultsStore(store.path, readonly=True).check_writable()


@pytest.mark.parametrize("kind", ["file", "under-a-file"])
def test_unwritable_out_fails_before_the_first_task(tmp_path, counted, kind):
    f = tmp_path / "plain.txt"
    f.write_text("x")
    out = f if kind == "file" else f / "sub"
    res = run("bench", "run", "counted", "--db", tmp_path / "r.sqlite", "--out", out)
    one_line_exit_2(res, str(out), "--out")
    assert counted.calls == 0


def test_ctrl_c_prints_the_resume_message_and_exits_130(tmp_path, counted):
    counted.interrupt_at = 2
    res = run("bench", "run", "counted", "--seeds", 3, "--db", tmp_path / "r.sqlite")
    assert res.exit_code == 130
    assert "finished runs are kept" in res.output and "--resume" in res.output
    assert len(ResultsStore(tmp_path / "r.sqlite").list()) == 1


def test_runs_list_creates_nothing(tmp_path):
    db = tmp_path / "deep" / "folder" / "runs.sqlite"
    res = run("runs", "list", "--json", "--db", db)
    assert res.exit_code == 0 and json.loads(res.output) == []
    assert not (tmp_path / "deep").exists()
    assert run("runs", "show", "1", "--db", db).exit_code == 2
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")  # an empty file is an empty SQLite database: no runs, no error
    res = run("runs", "list", "--json", "--db", empty)
    assert res.exit_code == 0 and json.loads(res.output) == [] and empty.stat().st_size == 0


def test_quick_says_it_ignores_seeds_and_records_the_seeds_it_ran(tmp_path, counted):
    res = run("bench", "run", "counted", "--quick", "--seeds", 3, "--json", "--db", tmp_path / "r.sqlite")
    assert res.exit_code == 0
    assert "runs seed(s) [0] only; --seeds 3" in res.output
    [record] = ResultsStore(tmp_path / "r.sqlite").list()
    assert record.config["seeds"] == [0] and record.config["seeds_requested"] == [0, 1, 2]


def test_bench_json_is_standard_json(tmp_path, counted):
    res = run("bench", "run", "counted", "--json", "--db", tmp_path / "r.sqlite")
    payload = res.output.splitlines()[-1]
    json.loads(payload, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert json.loads(payload)["runs"][0]["metrics"]["nan"] is None


def test_run_key_includes_the_device_and_keeps_cpu_keys():
    task = base.Task("m", 0, {"a": 1})
    cpu = base.task_key("b", task, False)
    assert base.task_key("b", task, False, "cpu") == cpu
    assert base.task_key("b", task, False, "cuda") != cpu


def test_overflowing_qubo_file_is_refused_not_printed_as_infinity(tmp_path):
    f = tmp_path / "q.json"
    f.write_text(json.dumps({"Q": [[-1e308, -1e308], [-1e308, -1e308]]}))
    one_line_exit_2(run("solve", f, "--json"), "overflow float64")


def test_huge_bqm_file_is_one_line(tmp_path, monkeypatch):
    import qtrain._device

    monkeypatch.setattr(qtrain._device, "free_memory_bytes", lambda device="cpu": 2**30)
    bqm = dimod.BinaryQuadraticModel({i: 1.0 for i in range(20_000)}, {}, 0.0, "BINARY")
    f = tmp_path / "big.json"
    f.write_text(json.dumps(bqm.to_serializable()))
    one_line_exit_2(run("solve", f), "variables fit")


def test_dwave_without_network_is_one_line(tmp_path, monkeypatch):
    import dwave.system
    from dwave.cloud.exceptions import RequestTimeout

    def offline(*args, **kwargs):
        raise RequestTimeout("connect timeout")
    monkeypatch.setattr(dwave.system, "DWaveSampler", offline)
    monkeypatch.setenv("DWAVE_API_TOKEN", "fake-token")
    f = tmp_path / "q.json"
    f.write_text(json.dumps({"Q": [[-1.0, 2.0], [0.0, -1.0]]}))
    one_line_exit_2(run("solve", f, "--sampler", "dwave"), "cannot reach the D-Wave solver")


def test_pickled_dwave_sampler_carries_no_token(monkeypatch):
    from dwave.system.testing import MockDWaveSampler

    from qtrain.qubo import get_sampler

    opened = MockDWaveSampler()
    monkeypatch.setattr("dwave.system.DWaveSampler", lambda **kw: opened)
    sampler = get_sampler("dwave", token="secret-token-123")
    assert sampler.child is opened
    blob = pickle.dumps(sampler)
    assert b"secret-token-123" not in blob
    back = pickle.loads(blob)
    assert back._token is None and back._child is None
    given = get_sampler("dwave", child=MockDWaveSampler(), token="secret-token-123")
    assert b"secret-token-123" not in pickle.dumps(given)


def test_typer_never_shows_locals():
    from qtrain.cli.main import bench_app, runs_app

    assert all(a.pretty_exceptions_show_locals is False for a in (app, bench_app, runs_app))
