"""Standalone part (c) of `quantum-speed`: one diagonal Grover iteration on a CUDA GPU against the
ideal time at the device's measured copy bandwidth (the harness of
:mod:`qtrain.bench.speed.grover_bandwidth`). Needs torch and numpy (and triton for the fused path);
qtrain is imported from ../src, so dimod and the other qtrain dependencies need not be installed.

    python benchmarks/grover_gpu.py            # 28 and 30 qubits
    python benchmarks/grover_gpu.py 26 28 30   # chosen sizes
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

from qtrain.bench.speed.grover_bandwidth import copy_bandwidth, measure_grover_iteration  # noqa: E402


def main(argv: list[str]) -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 1
    sizes = [int(a) for a in argv] or [28, 30]
    bw = copy_bandwidth("cuda")
    print(f"device: {torch.cuda.get_device_name()}, copy bandwidth {bw / 1e9:.0f} GB/s (read + write)")
    print("| qubits | path | fused (ms) | eager (ms) | ideal (ms) | fused / ideal | eager / ideal | max err |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        r = measure_grover_iteration(n, "cuda", bandwidth=bw)
        print(f"| {n} | {r['path']} | {r['fused_s'] * 1e3:.2f} | {r['eager_s'] * 1e3:.2f} | "
              f"{r['ideal_s'] * 1e3:.2f} | {100 * r['fused_fraction_of_ideal']:.0f}% | "
              f"{100 * r['eager_fraction_of_ideal']:.0f}% | {r['max_abs_error']:.1e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
