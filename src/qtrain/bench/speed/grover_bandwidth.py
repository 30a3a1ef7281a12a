"""Bandwidth harness of the fused Grover iteration: time one iteration on a CUDA device against the
ideal time at the device's copy bandwidth measured in the same run.

The iteration itself (:func:`qtrain.quantum.grover_kernel.grover_iteration`, its eager reference
and its minimal traffic ``14 N`` bytes) lives in the quantum layer; this module only measures it,
for part (c) of ``quantum-speed`` and ``benchmarks/grover_gpu.py``. CUDA only: times come from CUDA
events after a warm-up, medians over repetitions.
"""

from __future__ import annotations

from typing import Any

import torch

from qtrain.quantum.grover_kernel import (
    grover_iteration,
    grover_iteration_bytes,
    grover_iteration_eager,
    triton_available,
)

__all__ = ["copy_bandwidth", "measure_grover_iteration"]


def _cuda_time(fn: Any, reps: int) -> float:
    """Median seconds of ``fn()`` over ``reps`` runs, timed with CUDA events after a warm-up."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop) / 1e3)
    return sorted(times)[len(times) // 2]


def copy_bandwidth(device: Any = "cuda", num_bytes: int = 2**31, reps: int = 10) -> float:
    """Device copy bandwidth in bytes/s: a ``num_bytes`` device-to-device copy, counting bytes
    read plus bytes written (``2 num_bytes`` per copy), median over ``reps``."""
    src = torch.empty(num_bytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    t = _cuda_time(lambda: dst.copy_(src), reps)
    return 2 * num_bytes / t


def measure_grover_iteration(num_qubits: int, device: Any = "cuda", reps: int = 10,
                             bandwidth: float | None = None) -> dict[str, Any]:
    """Time one diagonal Grover iteration at ``num_qubits`` on a CUDA device against the ideal
    ``grover_iteration_bytes(N) / bandwidth`` (bandwidth measured by :func:`copy_bandwidth` in the
    same run unless given). Times the fused path (Triton when available) and the eager one.

    Args:
        num_qubits: ``n``; the state holds ``N = 2^n`` float32 amplitudes and a byte of marking
            each (about ``5 N`` bytes of device memory, plus the eager path's temporaries).
        device: a CUDA device.
        reps: timed repetitions per path (median).
        bandwidth: copy bandwidth in bytes/s (default: measured now by :func:`copy_bandwidth`).

    Returns:
        dict with ``fused_s``, ``eager_s``, ``ideal_s``, ``fused_fraction_of_ideal``,
        ``eager_fraction_of_ideal`` (eager counted against its own ideal traffic too),
        ``bandwidth_GBps``, ``path`` ("triton" or "torch") and ``max_abs_error`` of the fused
        iteration against the eager one (on the first ``2^20`` amplitudes' iteration).

    Raises:
        ValueError: ``device`` is not CUDA or CUDA is not available.
    """
    if torch.device(device).type != "cuda" or not torch.cuda.is_available():
        raise ValueError("measure_grover_iteration needs a CUDA device")
    N = 2**num_qubits
    bw = copy_bandwidth(device) if bandwidth is None else bandwidth
    gen = torch.Generator(device=device).manual_seed(0)
    mark = (torch.rand(N, generator=gen, device=device) < 1e-6).to(torch.uint8)
    psi = torch.full((N,), N**-0.5, dtype=torch.float32, device=device)
    path = "triton" if triton_available(device) else "torch"
    small = psi[: 2**20].clone(), mark[: 2**20].clone()
    err = float((grover_iteration(small[0].clone(), small[1]) - grover_iteration_eager(*small)).abs().max())
    fused = _cuda_time(lambda: grover_iteration(psi, mark), reps)
    del psi
    torch.cuda.empty_cache()
    psi = torch.full((N,), N**-0.5, dtype=torch.float32, device=device)
    eager = _cuda_time(lambda: grover_iteration_eager(psi, mark), reps)
    ideal = grover_iteration_bytes(N) / bw
    return {"num_qubits": num_qubits, "fused_s": fused, "eager_s": eager, "ideal_s": ideal,
            "fused_fraction_of_ideal": ideal / fused, "eager_fraction_of_ideal": ideal / eager,
            "bandwidth_GBps": bw / 1e9, "path": path, "max_abs_error": err}
