"""Shared benchmark helpers of qtrain.bench.base."""

import pytest
import torch

from qtrain.bench.base import single_thread


def test_single_thread_sets_one_thread_and_keeps_batched_solves_working():
    """In a fresh process with torch's default (several) threads: inside and after the block torch
    runs one thread, and a batched ``linalg.solve`` still works (restoring ``n > 1`` threads broke
    it for the rest of the process in this torch build)."""
    import os
    import subprocess
    import sys

    code = (
        "import torch\n"
        "from qtrain.bench.base import single_thread\n"
        "with single_thread():\n"
        "    assert torch.get_num_threads() == 1\n"
        "assert torch.get_num_threads() == 1\n"
        "g = torch.Generator().manual_seed(0)\n"
        "for dt in (torch.float32, torch.float64):\n"
        "    A = (torch.randn(8, 200, 200, generator=g) + 200 * torch.eye(200)).to(dt)\n"
        "    b = torch.randn(8, 200, 1, generator=g).to(dt)\n"
        "    x = torch.linalg.solve(A, b)\n"
        "    assert float((A @ x - b).abs().max()) < 1e-3\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
    with pytest.raises(RuntimeError, match="inside"), single_thread():
        assert torch.get_num_threads() == 1
        raise RuntimeError("inside")


def test_benchmark_packages_share_the_one_helper():
    from qtrain.bench.qpsbgd import common as qpsbgd_common
    from qtrain.bench.subnetwork import common as subnet_common

    assert qpsbgd_common.single_thread is single_thread
    assert not hasattr(subnet_common, "one_thread")
