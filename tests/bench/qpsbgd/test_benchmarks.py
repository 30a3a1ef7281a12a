"""The QP-SBGD benchmarks through the runner: tiny task lists here, the real --quick runs marked slow."""

import pytest

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.qpsbgd.digits import QPSBGDDigits
from qtrain.bench.qpsbgd.gcn import QPSBGDGCN
from qtrain.bench.qpsbgd.rosenbrock import QPSBGDRosenbrock
from qtrain.bench.registry import available_benchmarks


class TinyDigits(QPSBGDDigits):
    def tasks(self, cfg):
        s = {"pair": "1/7", "epochs": 1, "batch_size": 32, "hidden": 4}
        return [Task("qpsbgd", 0, {**s, "lr": 0.1}), Task("qpsbgd-milp", 0, {**s, "lr": 0.1}),
                Task("signsgd", 0, {**s, "lr": 0.01}),
                Task("full-precision", 0, {**s, "lr": 0.01}),
                Task("speed/anneal/4x100", 0, {"part": "speed", "pair": "0/2", "hidden": 4, "num_reads": 4,
                                                  "num_sweeps": 100}),
                Task("speed/dwave-sa/4x100", 0, {"part": "speed", "pair": "0/2", "hidden": 4, "num_reads": 4,
                                                    "num_sweeps": 100})]


class TinyGCN(QPSBGDGCN):
    def tasks(self, cfg):
        return [Task(m, 0, {"graph": "karate", "hidden": 4, "steps": 3, "lr": 0.1})
                for m in ("qpsbgd", "bc", "proxquant")]


class TinyRosenbrock(QPSBGDRosenbrock):
    def tasks(self, cfg):
        return [Task(m, 0, {"dim": 4, "steps": 20}) for m in ("qpsbgd-exact", "signsgd", "bc-gd")]


def test_registered():
    assert {"qpsbgd-digits", "qpsbgd-digits-tune", "qpsbgd-rosenbrock", "qpsbgd-gcn"} <= set(available_benchmarks())


@pytest.mark.parametrize("bench, stem", [(TinyDigits(), "qpsbgd-digits"), (TinyGCN(), "qpsbgd-gcn"),
                                         (TinyRosenbrock(), "qpsbgd-rosenbrock")])
def test_tiny_runs_write_a_table_and_a_plot(tmp_path, bench, stem):
    report = run_benchmark(bench, quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    names = sorted(p.name for p in report.files)
    assert names == [f"{stem}.md", f"{stem}.png"]
    assert all(p.stat().st_size > 0 for p in report.files)
    table = (tmp_path / f"{stem}.md").read_text()
    for run in report.runs:
        assert run.method in table or run.method.startswith("speed/")
    if stem == "qpsbgd-digits":
        for m in ("qpsbgd", "signsgd", "full-precision"):
            assert 0.0 <= report.summary[m]["test_acc"] <= 1.0
        # one sampler call per distinct QUBO size (two layers, two sizes); a step where a layer has
        # no neuron with a non-zero gradient builds no QUBO for it, so the mean can fall below 2
        assert 1 <= report.summary["qpsbgd"]["sampler_calls_per_step"] <= 2
        assert report.summary["ratios"]["step_speedup_4x100"] > 0
        assert "speed-up" in table
        milp = next(r for r in report.runs if r.method == "qpsbgd-milp").metrics
        assert milp["solver_s_per_step"] > 0 and "0: 4x" in milp["qubo_sizes"]  # 4 neurons, n + B
    if stem == "qpsbgd-rosenbrock":
        # exact QUBO steps never do worse than the start on this short run
        first = report.runs[0].metrics["curve_values"]
        assert first[-1] < first[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["qpsbgd-digits", "qpsbgd-digits-tune", "qpsbgd-rosenbrock", "qpsbgd-gcn"])
def test_quick_form(tmp_path, name):
    report = run_benchmark(name, quick=True, seeds=1, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert len(report.files) == 2


def _run(method, pair, setting, seed, acc, loss):
    from types import SimpleNamespace

    params = {"pair": pair, "val": 0.2, "epochs": 10, "batch_size": 32, "hidden": 32, **setting}
    return SimpleNamespace(method=method + "/" + ",".join(f"{k}={v:g}" for k, v in sorted(setting.items())),
                           seed=seed, params=params, metrics={"val_acc": acc, "val_loss": loss})


def test_tune_select_prefers_accuracy_then_loss_then_the_smaller_step():
    from qtrain.bench.qpsbgd.digits_tune import select

    runs = [
        # signsgd on 1/2: 0.03 has the best mean accuracy (0.95) although seed 0 of 0.01 is higher
        _run("signsgd", "1/2", {"lr": 0.01}, 0, 0.98, 0.1), _run("signsgd", "1/2", {"lr": 0.01}, 1, 0.90, 0.1),
        _run("signsgd", "1/2", {"lr": 0.03}, 0, 0.95, 0.3), _run("signsgd", "1/2", {"lr": 0.03}, 1, 0.95, 0.3),
        # qpsbgd on 0/2: equal accuracy, 0.5 has the lower loss
        _run("qpsbgd", "0/2", {"lr": 0.2}, 0, 1.0, 0.05), _run("qpsbgd", "0/2", {"lr": 0.5}, 0, 1.0, 0.01),
        # bc on 0/2: equal accuracy and loss, the smaller step wins
        _run("bc", "0/2", {"lr": 1.0}, 0, 1.0, 0.2), _run("bc", "0/2", {"lr": 0.3}, 0, 1.0, 0.2),
        # proxquant: the strength is part of the setting; an infinite loss loses the tie
        _run("proxquant", "0/2", {"lr": 1.0, "reg": 0.01}, 0, 0.9, float("inf")),
        _run("proxquant", "0/2", {"lr": 1.0, "reg": 0.001}, 0, 0.9, 0.7),
    ]
    chosen = select(runs)
    assert chosen == {"0/2": {"bc": {"lr": 0.3}, "proxquant": {"lr": 1.0, "reg": 0.001},
                              "qpsbgd": {"lr": 0.5}},
                      "1/2": {"signsgd": {"lr": 0.03}}}


def test_tune_grids_are_fixed_and_tuned_values_come_from_them():
    from qtrain.bench.qpsbgd.digits import TUNED, hyperparameters
    from qtrain.bench.qpsbgd.digits_tune import GRIDS

    for pair, methods in TUNED.items():
        assert set(methods) == set(GRIDS)
        for method, setting in methods.items():
            assert setting in GRIDS[method], (pair, method, setting)
        assert hyperparameters(pair, "qpsbgd-milp") == methods["qpsbgd"]


def test_tiny_tune_run_scores_validation_rows(tmp_path):
    from qtrain.bench.qpsbgd.digits_tune import QPSBGDDigitsTune

    class TinyTune(QPSBGDDigitsTune):
        def tasks(self, cfg):
            s = {"pair": "1/7", "val": 0.2, "epochs": 1, "batch_size": 32, "hidden": 4}
            return [Task("qpsbgd/lr=0.1", 0, {**s, "lr": 0.1}), Task("signsgd/lr=0.01", 0, {**s, "lr": 0.01}),
                    Task("proxquant/lr=1,reg=0.001", 0, {**s, "lr": 1.0, "reg": 0.001})]

    report = run_benchmark(TinyTune(), quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == ["qpsbgd-digits-tune.md", "qpsbgd-digits-tune.png"]
    for run in report.runs:
        acc = run.metrics["val_acc"]
        # 1/7 has 270 training rows of which 54 are held out: accuracy is a multiple of 1/54
        assert 0.0 <= acc <= 1.0 and abs(acc * 54 - round(acc * 54)) < 1e-6
        assert run.metrics["val_loss"] >= 0
    table = (tmp_path / "qpsbgd-digits-tune.md").read_text()
    assert "| 1/7 | qpsbgd | **lr=0.1** |" in table and "in TUNED" in table


def test_tune_flags_choices_on_the_grid_edge():
    from qtrain.bench.qpsbgd.digits_tune import GRIDS, on_edge

    lrs = sorted(g["lr"] for g in GRIDS["signsgd"])
    assert on_edge("signsgd", {"lr": lrs[0]}) == ["lr"] and on_edge("signsgd", {"lr": lrs[-1]}) == ["lr"]
    assert on_edge("signsgd", {"lr": lrs[1]}) == []
    regs = sorted({g["reg"] for g in GRIDS["proxquant"]})
    plrs = sorted({g["lr"] for g in GRIDS["proxquant"]})
    assert on_edge("proxquant", {"lr": plrs[1], "reg": regs[-1]}) == ["reg"]
    assert on_edge("proxquant", {"lr": plrs[-1], "reg": regs[-1]}) == ["lr", "reg"]
    assert regs[0] == 0 and on_edge("proxquant", {"lr": plrs[1], "reg": 0.0}) == []  # a natural bound


def test_digits_tasks_use_the_tuned_settings_and_a_random_exact_tie_break(tmp_path):
    from qtrain.bench.base import BenchConfig
    from qtrain.bench.qpsbgd.digits import TUNED

    cfg = BenchConfig(quick=False, seeds=[0, 1], device="cpu", out_dir=tmp_path)
    tasks = [t for t in QPSBGDDigits().tasks(cfg) if t.params.get("part") != "speed"]
    assert len(tasks) == 2 * 3 * 6
    for t in tasks:
        base = "qpsbgd" if t.method == "qpsbgd-milp" else t.method
        assert {k: t.params[k] for k in TUNED[t.params["pair"]][base]} == TUNED[t.params["pair"]][base]
        assert (t.params.get("tie_break") == "random") == (t.method == "qpsbgd-milp")
