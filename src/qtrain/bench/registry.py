"""Benchmarks by name, imported lazily (``qtrain bench list`` stays fast)."""

from __future__ import annotations

import importlib

from qtrain.bench.base import Benchmark

__all__ = ["available_benchmarks", "get_benchmark"]

# name -> "module:Class". Each method's issue adds its benchmarks here.
_BENCHMARKS: dict[str, str] = {
    "qubo-speed": "qtrain.bench.qubo_speed:QuboSpeed",
    "quantum-speed": "qtrain.bench.quantum_speed:QuantumSpeed",
    "sinnn-toy": "qtrain.bench.sinnn_toy:SinnnToy",
    "sinnn-sweep": "qtrain.bench.sinnn_sweep:SinnnSweep",
    "sinnn-quantum": "qtrain.bench.sinnn_quantum:SinnnQuantum",
    "qpsbgd-digits": "qtrain.bench.qpsbgd_digits:QPSBGDDigits",
    "qpsbgd-rosenbrock": "qtrain.bench.qpsbgd_rosenbrock:QPSBGDRosenbrock",
    "qpsbgd-gcn": "qtrain.bench.qpsbgd_gcn:QPSBGDGCN",
    "qnewton-mlp": "qtrain.bench.qnewton_mlp:QNewtonMLP",
    "qnewton-cost": "qtrain.bench.qnewton_cost:QNewtonCost",
    "qnewton-lm": "qtrain.bench.qnewton_lm:QNewtonLM",
}


def available_benchmarks() -> list[str]:
    return sorted(_BENCHMARKS)


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered as ``name``; ``ValueError`` listing the known ones otherwise."""
    if name not in _BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {available_benchmarks()}")
    module, cls = _BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module), cls)()
