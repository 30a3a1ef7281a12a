"""Durr-Hoyer and Grover-threshold search replayed as gate-level circuits with a comparator oracle.

The semantic solvers (:mod:`qtrain.quantum.search_solvers`) compute Grover's dynamics on the
amplitudes. Their gate-level twins here run the same search, then rebuild every round that ran as a
circuit: ``H^n``, then ``j`` times the comparator oracle over the cost table
(:func:`~qtrain.quantum.builders.comparator_oracle`: a QROM lookup of the cost ranks, a
less-than phase, the lookup uncomputed) and the diffusion, on the statevector engine in
complex128. ``info["gate_level"]`` reports the largest difference between the circuit's and the
semantic level's probability of a marked outcome over all rounds (the tests hold it below 1e-6),
the circuits run and the oracle's gate counts; ``resources`` price one oracle call as that
circuit. For small registers only: the circuit has ``n + ceil(log2 #distinct costs)`` qubits.

References:
    Durr & Hoyer, quant-ph/9607014; Boyer, Brassard, Hoyer & Tapp, quant-ph/9605034.
"""

from __future__ import annotations

from typing import Any

import torch

from qtrain.quantum.builders import comparator_oracle, grover_circuit
from qtrain.quantum.resources import Resources
from qtrain.quantum.search_solvers import DurrHoyerSolver, GroverThresholdSolver

__all__ = ["DurrHoyerGateSolver", "GroverThresholdGateSolver", "marked_probability"]


def marked_probability(costs: torch.Tensor, threshold: float, iterations: int) -> float:
    """Probability that the gate-level Grover circuit (comparator oracle for ``c < threshold``,
    ``iterations`` rounds) measures a marked state of register ``x``."""
    circ = grover_circuit(comparator_oracle(costs, threshold), int(iterations))
    p = circ.run(device="cpu", dtype=torch.complex128).probabilities(circ["x"]).to(torch.float64)
    return float(p[costs < threshold].sum())


def _oracle_resources(costs: torch.Tensor, max_qubits: int) -> tuple[Resources, int]:
    n = costs.shape[-1].bit_length() - 1
    if costs.shape[-1] != 2**n or n < 1:
        raise ValueError(f"gate-level search needs 2^n >= 2 costs, got N={costs.shape[-1]}")
    flat = costs.reshape(-1, costs.shape[-1])
    row = flat[0] if flat.shape[0] else torch.zeros(costs.shape[-1], dtype=torch.float64)
    oracle = comparator_oracle(row, float(row.median()))
    if oracle.num_qubits > max_qubits:
        raise ValueError(f"the comparator oracle needs {oracle.num_qubits} qubits (n={n} search + value "
                         f"register); max_qubits={max_qubits}: use the semantic solver for this size")
    return oracle.resources(oracle_calls=1, measurements=0), oracle.num_qubits


def _replay(costs: torch.Tensor, rounds: list[tuple[int, float, int, float]]) -> tuple[float, int]:
    """Max |p_gate - p_semantic| over ``(problem, threshold, iterations, p_semantic)`` rounds."""
    flat = costs.reshape(-1, costs.shape[-1]).cpu()
    cache: dict[tuple[int, float, int], float] = {}
    err = 0.0
    for b, thr, j, p_sem in rounds:
        key = (b, thr, j)
        if key not in cache:
            cache[key] = marked_probability(flat[b], thr, j)
        err = max(err, abs(cache[key] - p_sem))
    return err, len(cache)


def _info(extra: dict[str, Any], err: float, circuits: int, oracle: Resources, qubits: int) -> dict[str, Any]:
    return {**extra, "gate_level": {"max_abs_error": err, "circuits": circuits, "qubits": qubits,
                                    "oracle_gate_counts": oracle.gate_counts}}


class DurrHoyerGateSolver(DurrHoyerSolver):
    """``durr-hoyer`` with every round replayed as a comparator-oracle circuit.

    Parameters: those of ``durr-hoyer`` (its ``oracle`` defaults to the comparator circuit's
    resources) and ``max_qubits`` (the largest circuit allowed, default 14).
    """

    name = "durr-hoyer-gate"
    parameter_names = (*DurrHoyerSolver.parameter_names, "max_qubits")

    def _search(self, costs: torch.Tensor, seed: int, context: Any = None, max_qubits: int = 14,
                oracle: Resources | None = None, **params: Any) -> tuple[torch.Tensor, dict[str, Any], Any]:
        res_oracle, qubits = _oracle_resources(costs, max_qubits)
        index, extra, raw = super()._search(costs, seed, oracle=oracle or res_oracle, **params)
        flat_shape = costs.reshape(-1, costs.shape[-1]).shape[0]
        rounds = []
        for r in raw.trace:
            act = r["active"].reshape(flat_shape)
            thr, j, p = (r[k].reshape(flat_shape) for k in ("threshold", "iterations", "p_improve"))
            rounds += [(b, float(thr[b]), int(j[b]), float(p[b])) for b in range(flat_shape) if bool(act[b])]
        err, circuits = _replay(costs, rounds)
        return index, _info(extra, err, circuits, res_oracle, qubits), raw


class GroverThresholdGateSolver(GroverThresholdSolver):
    """``grover-threshold`` (BBHT) with every round replayed as a comparator-oracle circuit.

    Parameters: those of ``grover-threshold`` and ``max_qubits`` (default 14).
    """

    name = "grover-threshold-gate"
    parameter_names = (*GroverThresholdSolver.parameter_names, "max_qubits")

    def _search(self, costs: torch.Tensor, seed: int, context: Any = None, max_qubits: int = 14,
                oracle: Resources | None = None, threshold: Any = None, **params: Any
                ) -> tuple[torch.Tensor, dict[str, Any], Any]:
        res_oracle, qubits = _oracle_resources(costs, max_qubits)
        index, extra, raw = super()._search(costs, seed, oracle=oracle or res_oracle, threshold=threshold, **params)
        flat = costs.reshape(-1, costs.shape[-1])
        thr = torch.as_tensor(threshold, dtype=torch.float64).expand(costs.shape[:-1]).reshape(-1)
        rounds = []
        for r in raw.trace:
            act, j, p = (r[k].reshape(-1) for k in ("active", "iterations", "p_marked"))
            rounds += [(b, float(thr[b]), int(j[b]), float(p[b])) for b in range(flat.shape[0]) if bool(act[b])]
        err, circuits = _replay(costs, rounds)
        return index, _info(extra, err, circuits, res_oracle, qubits), raw
