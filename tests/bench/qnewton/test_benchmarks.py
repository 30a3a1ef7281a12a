"""Q-Newton benchmarks end to end on tiny settings (the --quick runs are marked slow), and the
generated text they train on."""

import math

import pytest
import torch

from qtrain.bench import ResultsStore, run_benchmark
from qtrain.bench.base import BenchConfig, Task
from qtrain.bench.qnewton import cost as qnewton_cost
from qtrain.bench.qnewton import lm as qnewton_lm
from qtrain.bench.qnewton import mlp as qnewton_mlp
from qtrain.bench.registry import available_benchmarks
from qtrain.data.text import char_corpus, generate_text
from qtrain.linalg import ClassicalCostModel, QLSACostModel


def test_registered():
    assert {"qnewton-mlp", "qnewton-cost", "qnewton-lm"} <= set(available_benchmarks())


def test_generated_text_is_seeded_and_grammatical():
    a, b = generate_text(20, seed=1), generate_text(20, seed=1)
    assert a == b and a != generate_text(20, seed=2)
    sentences = [s.strip() for s in a.split(".") if s.strip()]
    assert len(sentences) == 20
    assert all(s.split()[0] in ("the", "a") for s in sentences)
    c = char_corpus(8, 10, 5, seed=0)
    assert c.train_inputs.shape == (10, 8) and c.test_targets.shape == (5, 8)
    assert torch.equal(c.train_inputs[:, 1:], c.train_targets[:, :-1])  # shifted by one
    assert set(c.decode(c.train_inputs)) <= set(c.vocab)
    with pytest.raises(ValueError, match="seq_len"):
        char_corpus(1)


def _tiny_mlp(quick):
    return {"hidden": 8, "layers": 1, "steps": 3, "batch": 64, "eval_every": 1, "lr_sgd": 0.1,
            "lr_adam": 0.01, "lr_newton": 1.0, "curvature": "fisher", "blocking": "tensor",
            "eps_n": 1e-3, "max_step_norm": 2.0, "qlsa_eps": 0.01, "route_profile": "attosecond",
            "kappa_method": "lanczos"}


def test_mlp_benchmark_runs_and_reports(tmp_path, monkeypatch):
    monkeypatch.setattr(qnewton_mlp, "_params", _tiny_mlp)
    rep = run_benchmark("qnewton-mlp", quick=True, out_dir=tmp_path,
                        store=ResultsStore(tmp_path / "db"))
    s = rep.summary
    assert set(s) >= {"sgd", "adam", "newton", "qnewton"}
    q = s["qnewton"]
    assert 0 <= q["quantum_fraction"] <= 1 and 0 <= q["final_test_acc"] <= 100
    # classical = forward/backward + curvature + logged Cholesky costs: hybrid/classical > floor
    assert q["ratio:attosecond"] >= q["ratio:free-solves"] > 0
    assert q["ratio:today"] >= q["ratio:attosecond"] * (1 - 1e-9)
    run = next(r for r in rep.runs if r.method == "qnewton")
    assert len(run.metrics["kappa_median_curve"]) == 3 and len(run.metrics["loss_curve"]) == 3
    assert len(run.metrics["schedule"]) == 3 * 4  # 4 tensors per step
    names = {f.name for f in rep.files}
    assert {"qnewton-mlp.md", "qnewton-mlp-curves.png", "qnewton-mlp-kappa.png",
            "qnewton-mlp-projected.png"} <= names
    md = (tmp_path / "qnewton-mlp.md").read_text()
    assert "| qnewton |" in md and "attosecond + read-out" in md


def test_lm_benchmark_trains_the_tiny_transformer(tmp_path):
    p = {**qnewton_lm._params(True), "steps": 2, "eval_every": 1, "batch": 8,
         "num_train": 32, "num_test": 16}
    bench = qnewton_lm.QNewtonLM()
    cfg = BenchConfig(True, [0], "cpu", tmp_path)
    m = bench.run_task(Task("qnewton", 0, p), cfg)
    assert m["blocks"] == 16 and m["max_block"] == 768
    assert math.isfinite(m["final_test_loss"]) and len(m["schedule"]) == 2 * 16
    a = bench.run_task(Task("adam", 0, p), cfg)
    assert a["loss_curve"][0] == pytest.approx(m["loss_curve"][0])  # same init, same batch


def test_cost_benchmark_parts_match_the_models(tmp_path):
    bench = qnewton_cost.QNewtonCost()
    cfg = BenchConfig(True, [0], "cpu", tmp_path)
    kap = [4.0, 100.0, 1e4, 1e6]
    s = bench.run_task(Task("surface/attosecond", 0, {"profile": "attosecond", "N": [64, 4096],
                                                      "kappa": kap}), cfg)
    flops = s["flops"]
    tc = 4096**3 / 3 / flops
    tq = QLSACostModel(profile="attosecond").time(4096.0, torch.tensor(kap), 4096.0)
    expect = max((k for k, t in zip(kap, tq.tolist(), strict=True) if t < tc), default=0.0)
    assert s["crossover_kappa:dense"][1] == expect
    assert s["log10_ratio:dense"][1][0] == pytest.approx(math.log10(float(tq[0]) / tc))
    lz = bench.run_task(Task("lanczos", 0, {"N": 300}), cfg)
    assert lz["fisher/rel_error"] < 0.05 and lz["fisher/matvecs"] < 300
    c = bench.run_task(Task("classical", 0, {"sizes": [16, 64]}), cfg)
    assert len(c["measured_s"]) == 2 and c["analytic_s"][1] == pytest.approx(
        64**3 / 3 / c["flops"])
    assert isinstance(ClassicalCostModel().describe(), dict)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["qnewton-mlp", "qnewton-cost", "qnewton-lm"])
def test_quick_benchmarks_end_to_end(name, tmp_path):
    rep = run_benchmark(name, quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    assert rep.files and all(f.exists() for f in rep.files)
