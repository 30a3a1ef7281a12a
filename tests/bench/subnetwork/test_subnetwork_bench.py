"""The subnetwork benchmarks through the runner on tiny task lists; the real --quick runs marked slow."""

import pytest

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.registry import available_benchmarks
from qtrain.bench.subnetwork.digits import SubnetDigits
from qtrain.bench.subnetwork.exact import SubnetExact
from qtrain.bench.subnetwork.kd import SubnetKD
from qtrain.bench.subnetwork.nk import SubnetNK


class TinyExact(SubnetExact):
    def tasks(self, cfg):
        p = {"H": 8, "B": 60}
        return [Task(m, 0, p) for m in ("exhaustive", "durr-hoyer", "grover-threshold", "anneal", "adiabatic",
                                         "random-1000", "magnitude")] + \
            [Task("speed", 0, {"H": 10, "B": 60, "sample": 1024})]


class TinyNK(SubnetNK):
    def tasks(self, cfg):
        p = {"series": "narma10", "neighbourhoods": "adjacent", "K": 2, "N": 8, "length": 500}
        return [Task(m, 0, p) for m in ("dp", "per-output", "random", "all-probes")]


class TinyDigits(SubnetDigits):
    def tasks(self, cfg):
        p = {"width": 16, "epochs": 2, "draws": 5, "density": 0.5}
        return [Task(m, 0, p) for m in ("edge-popup", "magnitude", "random-best", "anneal-surrogate")]


class TinyKD(SubnetKD):
    def tasks(self, cfg):
        return [Task("exhaustive", 0, {"hidden": 6}), Task("teacher", 0, {"hidden": 6})]


def test_registered():
    names = {"subnet-exact", "subnet-digits", "subnet-digits-tune", "subnet-kd", "subnet-nk"}
    assert names <= set(available_benchmarks())


@pytest.mark.parametrize("bench, stem", [(TinyExact(), "subnet-exact"), (TinyNK(), "subnet-nk"),
                                         (TinyDigits(), "subnet-digits"), (TinyKD(), "subnet-kd")])
def test_tiny_runs_write_a_table_and_a_plot(tmp_path, bench, stem):
    report = run_benchmark(bench, quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == [f"{stem}.md", f"{stem}.png"]
    table = (tmp_path / f"{stem}.md").read_text()
    for run in report.runs:
        assert run.method in table or run.method == "speed"
    s = report.summary
    if stem == "subnet-exact":
        assert s["exhaustive"]["gap"] == 0 and s["durr-hoyer"]["success"] >= 0.9
        assert s["grover-threshold"]["found"] == 1 and s["exhaustive"]["table_check_rel"] == 0
        assert s["speed"]["speedup"] > 1 and "speed-up" in table
    if stem == "subnet-nk":
        assert s["dp"]["dp_equals_exhaustive"] == 1 and s["per-output"]["nk_value"] <= s["dp"]["nk_value"] + 1e-9
        assert s["random"]["nk_value"] < s["dp"]["nk_value"]
    if stem == "subnet-kd":
        assert s["exhaustive"]["block_gap"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["subnet-exact", "subnet-digits", "subnet-digits-tune", "subnet-kd", "subnet-nk"])
def test_quick_form(tmp_path, name):
    report = run_benchmark(name, quick=True, seeds=1, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert len(report.files) == 2



def _tune_run(penalty, samples, density, seed, acc):
    from types import SimpleNamespace

    return SimpleNamespace(method=f"samples={samples}", seed=seed, metrics={"val_acc": acc, "val_loss": 0.5},
                           params={"width": 16, "density": density, "val": 0.2, "penalty": penalty,
                                   "samples": samples})


def test_tune_select_takes_the_best_mean_validation_accuracy_then_the_smaller_penalty_change():
    from qtrain.bench.subnetwork.digits_tune import select

    # 0.03 is best at density 0.1 alone, 0.3 has the best mean over densities and seeds
    runs = [_tune_run(0.03, 256, 0.1, 0, 0.90), _tune_run(0.03, 256, 0.5, 0, 0.50),
            _tune_run(0.3, 256, 0.1, 0, 0.80), _tune_run(0.3, 256, 0.5, 0, 0.70),
            _tune_run(0.3, 256, 0.1, 1, 0.80), _tune_run(0.3, 256, 0.5, 1, 0.70),
            _tune_run(0.03, 256, 0.1, 1, 0.90), _tune_run(0.03, 256, 0.5, 1, 0.50)]
    assert select(runs) == {"penalty": 0.3, "samples": 256}
    # equal accuracy: 0.3 (|log10| 0.52) beats 0.1 (1.0) and 0.03; 1.0 (no change) beats 0.3
    tie = [_tune_run(p, 1000, 0.5, 0, 0.6) for p in (0.03, 0.1, 0.3)]
    assert select(tie) == {"penalty": 0.3, "samples": 1000}
    assert select(tie + [_tune_run(1.0, 1000, 0.5, 0, 0.6)]) == {"penalty": 1.0, "samples": 1000}
    # equal accuracy and penalty: the fewer Fisher rows
    assert select([_tune_run(0.1, 1000, 0.5, 0, 0.6), _tune_run(0.1, 256, 0.5, 0, 0.6)]) == \
        {"penalty": 0.1, "samples": 256}
    with pytest.raises(ValueError, match="at least one"):
        select([])


def test_tune_grid_holds_the_previous_and_the_current_defaults():
    import inspect

    from qtrain.bench.subnetwork.digits import PENALTY, SAMPLES
    from qtrain.bench.subnetwork.digits_tune import GRID
    from qtrain.train.subnetwork import select_layerwise

    assert {"penalty": 1.0, "samples": 256} in GRID and {"penalty": 0.1, "samples": 1000} in GRID
    assert {"penalty": PENALTY, "samples": SAMPLES} in GRID
    assert inspect.signature(select_layerwise).parameters["penalty"].default == PENALTY


def test_validation_rows_come_from_the_training_rows_only():
    import torch

    from qtrain.bench.subnetwork.common import digits_data
    from qtrain.bench.subnetwork.digits_tune import validation_rows

    d = digits_data(0, torch.float32)
    v = validation_rows(0)
    assert len(v.y_train) + len(v.y_test) == len(d["train_targets"])
    # stratified: ceil(20%) of the 1347 training rows held out, each class within one row of 20% of it
    counts = torch.bincount(d["train_targets"], minlength=10)
    assert len(v.y_test) == 270
    assert (torch.bincount(v.y_test, minlength=10) - 0.2 * counts).abs().max() < 1
    rows = {tuple(r.tolist()) for r in torch.cat([v.X_train, v.X_test])}
    assert rows == {tuple(r.tolist()) for r in d["train_inputs"]}
    assert not rows & {tuple(r.tolist()) for r in d["test_inputs"]}
    assert not torch.equal(validation_rows(1).y_test, v.y_test)


def test_tiny_tune_run_scores_validation_rows(tmp_path):
    from qtrain.bench.subnetwork.digits_tune import SubnetDigitsTune, validation_rows

    class TinyTune(SubnetDigitsTune):
        def tasks(self, cfg):
            base = {"width": 16, "density": 0.5, "val": 0.2}
            return [Task(f"samples={s}", 0, {**base, "penalty": p, "samples": s}) for p, s in ((1.0, 64), (0.1, 64))]

    report = run_benchmark(TinyTune(), quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == ["subnet-digits-tune.md", "subnet-digits-tune.png"]
    n = len(validation_rows(0).y_test)
    for run in report.runs:
        acc = run.metrics["val_acc"]
        assert 0.0 <= acc <= 1.0 and abs(acc * n - round(acc * n)) < 1e-6
        assert run.metrics["val_loss"] > 0 and 0 <= run.metrics["fit_acc"] <= 1
    table = (tmp_path / "subnet-digits-tune.md").read_text()
    chosen = max(report.runs, key=lambda r: (r.metrics["val_acc"], -abs(r.params["penalty"] - 1.0)))
    bold = [line for line in table.splitlines() if line.startswith("| **")]
    assert len(bold) == 1
    assert bold == [line for line in table.splitlines()
                    if line.startswith(f"| **penalty={chosen.params['penalty']:g},samples=64**")]
    assert "subnet-digits runs penalty=" in table
