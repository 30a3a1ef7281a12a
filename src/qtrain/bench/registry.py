"""Benchmarks by name, imported lazily (``qtrain bench list`` stays fast)."""

from __future__ import annotations

from qtrain._registry import LazyRegistry
from qtrain.bench.base import Benchmark

__all__ = ["available_benchmarks", "get_benchmark"]

# name -> "module:Class". Each method's issue adds its benchmarks here.
_BENCHMARKS = LazyRegistry("benchmark", {
    "qubo-speed": "qtrain.bench.speed.qubo:QuboSpeed",
    "quantum-speed": "qtrain.bench.speed.quantum:QuantumSpeed",
    "sinnn-toy": "qtrain.bench.sinusoidal.toy:SinusoidalToy",
    "sinnn-sweep": "qtrain.bench.sinusoidal.sweep:SinusoidalSweep",
    "sinnn-quantum": "qtrain.bench.sinusoidal.quantum:SinusoidalQuantum",
    "qpsbgd-digits": "qtrain.bench.qpsbgd.digits:QPSBGDDigits",
    "qpsbgd-digits-tune": "qtrain.bench.qpsbgd.digits_tune:QPSBGDDigitsTune",
    "qpsbgd-rosenbrock": "qtrain.bench.qpsbgd.rosenbrock:QPSBGDRosenbrock",
    "qpsbgd-gcn": "qtrain.bench.qpsbgd.gcn:QPSBGDGCN",
    "qpsbgd-ablation": "qtrain.bench.qpsbgd.ablation:QPSBGDAblation",
    "qpsbgd-deep": "qtrain.bench.qpsbgd.deep:QPSBGDDeep",
    "qpsbgd-gcn-tune": "qtrain.bench.qpsbgd.gcn_tune:QPSBGDGCNTune",
    "qnewton-mlp": "qtrain.bench.qnewton.mlp:QNewtonMLP",
    "qnewton-cost": "qtrain.bench.qnewton.cost:QNewtonCost",
    "qnewton-lm": "qtrain.bench.qnewton.lm:QNewtonLM",
    "qiskit-backends": "qtrain.bench.backends:QiskitBackends",
    "qbo-exact": "qtrain.bench.qbo.exact:QBOExact",
    "subnet-exact": "qtrain.bench.subnetwork.exact:SubnetExact",
    "subnet-digits": "qtrain.bench.subnetwork.digits:SubnetDigits",
    "subnet-digits-tune": "qtrain.bench.subnetwork.digits_tune:SubnetDigitsTune",
    "subnet-kd": "qtrain.bench.subnetwork.kd:SubnetKD",
    "subnet-nk": "qtrain.bench.subnetwork.nk:SubnetNK",
    "qbo-qcgd": "qtrain.bench.qbo.qcgd:QBOQCGD",
    "qbo-digits": "qtrain.bench.qbo.digits:QBODigits",
})


def available_benchmarks() -> list[str]:
    return _BENCHMARKS.names()


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered as ``name``; ``ValueError`` listing the known ones otherwise."""
    return _BENCHMARKS.load(name)()
