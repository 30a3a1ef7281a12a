"""Benchmark ``qiskit-backends``: Grover and QAOA circuits on Qiskit back-ends, the measured success
probability against qtrain's statevector.

Per seed: a random cost vector over ``n`` qubits with one marked minimum, searched by Grover with
``floor(pi/4 sqrt N)`` iterations, and a random ``n``-variable QUBO sampled by QAOA (``p = 2``,
angles optimised on the statevector); both measured in ``shots`` shots on the noiseless
``AerSimulator`` and on the fake IBM back-end ``FakeManilaV2`` (5 qubits, its calibrated noise
model). Metrics: ``ideal_success`` (statevector probability of a minimiser), ``sampled_success``
(fraction of shots on one), ``drop`` (their difference), the transpiled ``depth`` and
``two_qubit_gates``, ``shots`` and ``seconds``. ``--quick``: n = 3, 2000 shots; full: n = 4, 8000.
Needs the ``qiskit`` extra.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task

__all__ = ["QiskitBackends"]

_BACKENDS = ("aer", "fake:FakeManilaV2")


class QiskitBackends(Benchmark):
    name = "qiskit-backends"
    description = "Grover and QAOA on AerSimulator and a noisy fake IBM back-end: success probability drop"
    default_seeds = 3

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        n, shots = (3, 2000) if cfg.quick else (4, 8000)
        return [Task(f"{c}/{b.split(':')[-1]}", s, {"circuit": c, "backend": b, "qubits": n, "shots": shots})
                for c in ("grover", "qaoa") for b in _BACKENDS for s in cfg.seeds]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        from qtrain.quantum.backends import get_backend, run_circuits
        from qtrain.quantum.builders import grover_circuit, phase_oracle
        from qtrain.quantum.samplers import QAOASampler
        from qtrain.qubo import QUBO

        p = task.params
        n, shots = p["qubits"], p["shots"]
        backend = get_backend(p["backend"])
        gen = torch.Generator().manual_seed(task.seed)
        t0 = time.perf_counter()
        if p["circuit"] == "grover":
            costs = torch.randn(2**n, generator=gen, dtype=torch.float64)
            best = int(costs.argmin())
            iterations = math.floor(math.pi / 4 * 2 ** (n / 2))
            circ = grover_circuit(phase_oracle(costs, float(costs[best]) + 1e-9), iterations)
            ideal = float(circ.run(device="cpu").probabilities()[best])
            run = run_circuits([circ], backend, shots, seed=task.seed)[0]
            sampled, info = run.counts.get(best, 0) / shots, run.info
        else:
            qubo = QUBO(torch.randn(n, n, generator=gen, dtype=torch.float64))
            res = QAOASampler(p=2, steps=60, restarts=2).sample_qubo_batch(qubo, num_reads=1, seed=task.seed,
                                                                          backend=backend, shots=shots)
            ideal, sampled = res.info["success_probability"][0], res.info["sampled_success_probability"][0]
            info = res.info["backend"]
        return {"ideal_success": ideal, "sampled_success": sampled, "drop": ideal - sampled,
                "depth": info["depth"], "two_qubit_gates": info["two_qubit_gates"], "shots": shots,
                "seconds": time.perf_counter() - t0}
