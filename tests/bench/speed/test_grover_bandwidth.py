"""The Grover bandwidth harness: refuses non-CUDA devices here, measures on CUDA (skipped without)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qtrain.bench.speed.grover_bandwidth import copy_bandwidth, measure_grover_iteration


def cuda(test):
    """Marked ``cuda`` (``make gpu-check`` selects them) and skipped without a CUDA device."""
    return pytest.mark.cuda(pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")(test))


def test_measure_needs_cuda():
    with pytest.raises(ValueError, match="needs a CUDA device"):
        measure_grover_iteration(10, "cpu")


def test_the_harness_imports_without_dimod():  # benchmarks/grover_gpu.py promises as much
    code = ("import sys; import qtrain.bench.speed.grover_bandwidth; "
            "assert 'dimod' not in sys.modules and 'qtrain.qubo' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA path")
def test_the_standalone_script_imports_the_harness_and_says_when_there_is_no_cuda():
    script = Path(__file__).resolve().parents[3] / "benchmarks" / "grover_gpu.py"
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "no CUDA device" in res.stdout, res.stderr


@cuda
def test_copy_bandwidth_is_positive():
    assert copy_bandwidth("cuda", num_bytes=2**26, reps=3) > 1e9


@cuda
def test_measured_iteration_is_exact_and_reports_every_key():
    r = measure_grover_iteration(20, "cuda", reps=3)
    assert r["max_abs_error"] < 1e-6 and r["path"] in ("triton", "torch")
    assert r["fused_s"] > 0 and r["eager_s"] > 0 and r["ideal_s"] > 0
    assert r["fused_fraction_of_ideal"] == pytest.approx(r["ideal_s"] / r["fused_s"])
    assert r["bandwidth_GBps"] > 1
