"""The quantum-speed benchmark runs end to end in its quick form."""

from __future__ import annotations

from qtrain.bench import ResultsStore, run_benchmark


def test_quantum_speed_quick(tmp_path):
    report = run_benchmark("quantum-speed", quick=True, out_dir=tmp_path, store=ResultsStore(tmp_path / "db"))
    s = report.summary
    # gate level on aer reproduces the semantic probabilities of every replayed round
    assert s["ratios"]["a_full_max_abs_probability_diff"] < 1e-6
    assert s["ratios"]["a_large_max_abs_probability_diff"] < 1e-6
    assert abs(s["a_full/aer"]["success_probability"] - s["a_full/qtrain"]["success_probability"]) < 1e-6
    assert s["b/qtrain"]["max_abs_amplitude_error"] < 1e-4
    for n in (10, 16):  # the local methods' sizes, against aer in the same run
        assert s[f"b{n}/qtrain"]["num_qubits"] == n and s[f"b{n}/qtrain"]["max_abs_amplitude_error"] < 1e-4
        assert s["ratios"][f"b{n}_speedup_vs_aer_single"] > 0
    assert s["a_large/aer"]["extrapolated"] == 1 and s["a_full/aer"]["extrapolated"] == 0
    assert (tmp_path / "quantum-speed.md").exists() and (tmp_path / "quantum-speed.png").exists()
    assert any(r.method == "c/skipped" or r.method.endswith("grover-iteration") for r in report.runs)
