"""qpsbgd-ablation through the runner on a tiny task list, and its step-size choice."""

from types import SimpleNamespace

from qtrain.bench import ResultsStore, Task, run_benchmark
from qtrain.bench.qpsbgd.ablation import VARIANTS, QPSBGDAblation, select
from qtrain.bench.registry import available_benchmarks

TINY = {"pair": "1/2", "val": 0.2, "epochs": 1, "batch_size": 32, "hidden": 4}


class TinyAblation(QPSBGDAblation):
    def tasks(self, cfg):
        out = [Task(f"qpsbgd[{v}]/lr={lr:g}", 0, {**TINY, "lr": lr, "variant": v,
                                                   "overrides": VARIANTS[v]})
               for v in ("default", "gradient=output", "projected,K=1") for lr in (0.1, 0.2)]
        return out + [Task("signsgd/lr=0.01", 0, {**TINY, "lr": 0.01})]


def test_registered():
    assert "qpsbgd-ablation" in available_benchmarks()


def test_tiny_run_reports_missed_images_and_cosines(tmp_path):
    report = run_benchmark(TinyAblation(), quick=True, out_dir=tmp_path,
                           store=ResultsStore(tmp_path / "db"))
    assert sorted(p.name for p in report.files) == ["qpsbgd-ablation.md", "qpsbgd-ablation.png"]
    for run in report.runs:
        m = run.metrics
        assert m["missed"] == round((1 - m["val_acc"]) * m["n_val"]) and 0 <= m["missed"] <= m["n_val"]
        if run.method.startswith("qpsbgd"):
            cos = [v for k, v in m.items() if "cos_" in k]
            assert cos and all(-1 <= c <= 1 for c in cos)
            assert "sign_cos_0" in m  # signSGD's cosine at the same points, the reference
    table = (tmp_path / "qpsbgd-ablation.md").read_text()
    for name in ("default", "gradient=output", "projected,K=1", "signsgd"):
        assert f"| {name} |" in table


def _run(name, lr, seed, acc, loss):
    params = {**TINY, "lr": lr}
    if name != "signsgd":
        params["variant"] = name
    return SimpleNamespace(method=f"{name}/lr={lr:g}", seed=seed, params=params,
                           metrics={"val_acc": acc, "val_loss": loss})


def test_select_prefers_accuracy_then_loss_then_the_smaller_step():
    runs = [_run("default", 0.1, 0, 0.9, 0.3), _run("default", 0.1, 1, 1.0, 0.3),
            _run("default", 0.2, 0, 0.95, 0.2), _run("default", 0.2, 1, 0.95, 0.1),
            _run("default", 0.5, 0, 0.95, 0.2), _run("default", 0.5, 1, 0.95, 0.2),
            _run("signsgd", 0.01, 0, 0.9, 0.5), _run("signsgd", 0.03, 0, 0.9, 0.5)]
    chosen = select(runs)
    assert chosen["default"][0] == 0.2 and len(chosen["default"][1]) == 2  # tie on acc: lower loss
    assert chosen["signsgd"][0] == 0.01  # full tie: the smaller step
