"""Benchmarks by name, imported lazily (``qtrain bench list`` stays fast)."""

from __future__ import annotations

from qtrain._registry import LazyRegistry
from qtrain.bench.base import Benchmark

__all__ = ["available_benchmarks", "get_benchmark"]

# name -> "module:Class". Each method's issue adds its benchmarks here.
_BENCHMARKS = LazyRegistry("benchmark", {
    "qubo-speed": "qtrain.bench.qubo_speed:QuboSpeed",
    "quantum-speed": "qtrain.bench.quantum_speed:QuantumSpeed",
    "sinnn-toy": "qtrain.bench.sinnn_toy:SinnnToy",
    "sinnn-sweep": "qtrain.bench.sinnn_sweep:SinnnSweep",
    "sinnn-quantum": "qtrain.bench.sinnn_quantum:SinnnQuantum",
    "qpsbgd-digits": "qtrain.bench.qpsbgd_digits:QPSBGDDigits",
    "qpsbgd-digits-tune": "qtrain.bench.qpsbgd_digits_tune:QPSBGDDigitsTune",
    "qpsbgd-rosenbrock": "qtrain.bench.qpsbgd_rosenbrock:QPSBGDRosenbrock",
    "qpsbgd-gcn": "qtrain.bench.qpsbgd_gcn:QPSBGDGCN",
    "qnewton-mlp": "qtrain.bench.qnewton_mlp:QNewtonMLP",
    "qnewton-cost": "qtrain.bench.qnewton_cost:QNewtonCost",
    "qnewton-lm": "qtrain.bench.qnewton_lm:QNewtonLM",
})


def available_benchmarks() -> list[str]:
    return _BENCHMARKS.names()


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered as ``name``; ``ValueError`` listing the known ones otherwise."""
    return _BENCHMARKS.load(name)()
