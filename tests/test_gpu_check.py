"""`make gpu-check` (benchmarks/gpu_check.py): without a GPU it says so and exits 0."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU path")
def test_gpu_check_without_a_gpu_says_so_and_exits_0(tmp_path):
    res = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "g")], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "no CUDA device here" in res.stdout and not (tmp_path / "g").exists()


def test_gpu_check_selects_only_the_gpu_tasks(monkeypatch):
    import qtrain.qubo.anneal

    # qubo-speed asks torch whether CUDA exists; here a task list is all the test needs
    monkeypatch.setattr(qtrain.qubo.anneal, "resolve_device", lambda device: torch.device(device))
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from gpu_check import PARTS
    finally:
        sys.path.remove(str(SCRIPT.parent))
    from qtrain.bench import BenchConfig, get_benchmark

    cfg = BenchConfig(quick=False, seeds=[0], device="cuda", out_dir=Path("."))
    kept = {name: [t.method for t in get_benchmark(name).tasks(cfg) if keep(t)]
            for name, (keep, _, _) in PARTS.items()}
    assert kept["qubo-speed"] == ["a-gpu/anneal", "b-gpu/anneal"]
    assert kept["quantum-speed"] and all(m.startswith("c") and m.endswith("/grover-iteration")
                                         for m in kept["quantum-speed"])
    assert kept["sinnn-quantum"] == ["quantum", "quantum"]
    assert sum(limit for _, limit, _ in PARTS.values()) <= 480  # the eight minutes
