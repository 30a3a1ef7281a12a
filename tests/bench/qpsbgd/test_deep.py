"""qpsbgd-deep through the runner on a tiny task list, and its choice on validation rows."""

from types import SimpleNamespace

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.qpsbgd.deep import QPSBGDDeep, select
from qtrain.bench.registry import available_benchmarks


class TinyDeep(QPSBGDDeep):
    def tasks(self, cfg):
        s = {"epochs": 1, "batch_size": 32, "width": 3, "val": 0.2}
        return [Task(f"{m}/lr={lr:g}", 0, {"data": data, "depth": depth, **s, "lr": lr})
                for data in ("breast-cancer",) for depth in (1, 3)
                for m, lr in (("qpsbgd", 0.2), ("signsgd", 0.01))]


def test_registered():
    assert "qpsbgd-deep" in available_benchmarks()


def test_tiny_run_reports_accuracy_and_the_largest_qubo_independent_of_depth(tmp_path):
    report = run_benchmark(TinyDeep(), quick=True, out_dir=tmp_path,
                           store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == ["qpsbgd-deep.md", "qpsbgd-deep.png"]
    qp = {r.params["depth"]: r.metrics for r in report.runs if r.method.startswith("qpsbgd")}
    for depth, m in qp.items():
        assert 0 <= m["test_acc"] <= 1 and 0 <= m["val_acc"] <= 1
        # one QUBO problem per neuron of every layer: width x depth hidden neurons + 2 outputs
        assert m["qubo_problems"] == 3 * depth + 2
        # the largest QUBO is the first layer's (fan-in 30): n + B (R + 1), at most 30 + 32 x 6
        assert m["max_qubo_variables"] <= 30 + 32 * 6 and m["qubo_sizes"].startswith("0: 3x")
    # deeper nets have more problems, not larger ones: the first layer bounds them all
    first = {d: int(m["qubo_sizes"].split(", ")[0].split("x")[1]) for d, m in qp.items()}
    assert all(qp[d]["max_qubo_variables"] == first[d] for d in qp)
    table = (tmp_path / "qpsbgd-deep.md").read_text()
    assert "| breast-cancer | 3 | qpsbgd |" in table and "largest QUBO" in table


def test_select_uses_validation_rows_only():
    def run(lr, acc, test):
        return SimpleNamespace(method=f"bc/lr={lr:g}", seed=0,
                               params={"data": "digits10", "depth": 2, "lr": lr},
                               metrics={"val_acc": acc, "val_loss": 0.1, "test_acc": test})
    chosen = select([run(0.3, 0.9, 0.1), run(3.0, 0.8, 0.99)])
    assert chosen["digits10", 2, "bc"][0] == {"lr": 0.3}  # not the better test accuracy
