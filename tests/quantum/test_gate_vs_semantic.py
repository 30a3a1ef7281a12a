"""Gate level equals semantic level: every instance up to 12 qubits, probabilities to 1e-6."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qtrain.quantum import grover_probabilities, minimum_search, phase_estimation_distribution
from qtrain.quantum.builders import (
    comparator_oracle,
    grover_circuit,
    inverse_qft,
    phase_estimation_circuit,
    phase_oracle,
    qaoa_circuit,
    qft,
    rank_values,
)
from qtrain.quantum.qaoa import qaoa_state
from qtrain.quantum.statevector import Statevector
from qtrain.testing import random_qubo

TOL = 1e-6
C128 = torch.complex128


def _instance(n: int, seed: int, levels: int = 8) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.integers(0, levels, size=2**n), dtype=torch.float64)


@pytest.mark.parametrize("n", range(1, 13))
def test_grover_with_phase_oracle(n):
    costs = _instance(n, seed=n, levels=4 * n)
    thr = float(costs.quantile(0.1)) + 0.5
    marked = costs < thr
    for k in sorted({0, 1, 2, int(math.pi / 4 * math.sqrt(2**n / max(1, int(marked.sum()))))}):
        gate = grover_circuit(phase_oracle(costs, thr), k).run(device="cpu", dtype=C128).probabilities()
        assert float((gate - grover_probabilities(marked, k)).abs().max()) < TOL


@pytest.mark.parametrize("n,seed", [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (7, 6)])
def test_grover_with_comparator_oracle(n, seed):
    costs = _instance(n, seed, levels=min(2 ** (12 - n), 2**n))
    distinct = torch.unique(costs)
    thr = float(distinct[len(distinct) // 2])
    circ = grover_circuit(comparator_oracle(costs, thr), 2)
    assert circ.num_qubits <= 12
    sv = circ.run(device="cpu", dtype=C128)
    assert float((sv.probabilities(circ["x"]) - grover_probabilities(costs < thr, 2)).abs().max()) < TOL
    assert abs(float(sv.probabilities(circ["v"])[0]) - 1) < TOL  # the value register is uncomputed


def test_rank_values_preserve_order():
    c = torch.tensor([3.0, -1.0, 3.0, 0.5])
    assert rank_values(c).tolist() == [2, 0, 2, 1]


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10])
def test_durr_hoyer_rounds_replayed_at_gate_level(n):
    costs = _instance(n, seed=100 + n, levels=2**n)
    res = minimum_search(costs, seed=n)
    cmin = costs.min()
    for r in res.trace[:25]:
        thr, j = float(r["threshold"]), int(r["iterations"])
        p = grover_circuit(phase_oracle(costs, thr), j).run(device="cpu", dtype=C128).probabilities()
        assert abs(float(p[costs < thr].sum()) - float(r["p_improve"])) < TOL
        assert abs(float(p[costs == cmin].sum()) - float(r["p_min"])) < TOL


@pytest.mark.parametrize("n", range(1, 7))
def test_qft_is_the_dft(n):
    N = 2**n
    F = np.exp(2j * np.pi * np.outer(np.arange(N), np.arange(N)) / N) / np.sqrt(N)
    rng = np.random.default_rng(n)
    psi = rng.normal(size=N) + 1j * rng.normal(size=N)
    psi /= np.linalg.norm(psi)
    out = qft(n).run(Statevector.from_amplitudes(torch.from_numpy(psi))).amplitudes.numpy()
    np.testing.assert_allclose(out, F @ psi, atol=TOL)
    back = inverse_qft(n).run(Statevector.from_amplitudes(torch.from_numpy(out))).amplitudes.numpy()
    np.testing.assert_allclose(back, psi, atol=TOL)


@pytest.mark.parametrize("t,n", [(1, 1), (2, 3), (3, 2), (4, 4), (5, 5), (6, 6), (8, 4)])
def test_phase_estimation_joint_distribution(t, n):
    phases = torch.from_numpy(np.random.default_rng(t * 10 + n).uniform(-1, 1, size=2**n))
    ref = phase_estimation_distribution(phases, t) / 2**n  # [x, m]
    for repeat in (False, True) if t <= 4 else (False,):
        circ = phase_estimation_circuit(phases, t, repeat=repeat)
        p = circ.run(device="cpu", dtype=C128).probabilities(list(circ["count"]) + list(circ["target"]))
        assert float((p.reshape(2**n, 2**t) - ref).abs().max()) < TOL


def test_phase_estimation_paper_toy_marginal():
    # The sinusoidal spec's toy: 4 weight configurations, 2 counting qubits, three configurations
    # with phase 0 and one with phase 1/2 give the counting marginal [0.75, 0, 0.25, 0].
    phases = torch.tensor([0.0, 0.0, 0.0, 0.5])
    marginal = phase_estimation_distribution(phases, 2).mean(0)
    np.testing.assert_allclose(marginal.numpy(), [0.75, 0, 0.25, 0], atol=1e-12)
    circ = phase_estimation_circuit(phases, 2)
    gate = circ.run(device="cpu", dtype=C128).probabilities(circ["count"])
    np.testing.assert_allclose(gate.numpy(), [0.75, 0, 0.25, 0], atol=TOL)


@pytest.mark.parametrize("n,p", [(2, 1), (4, 2), (6, 1), (8, 3), (10, 2), (12, 1)])
def test_qaoa_gate_level_equals_semantic(n, p):
    rng = np.random.default_rng(n + p)
    gammas, betas = rng.uniform(-1, 1, size=p), rng.uniform(-1, 1, size=p)
    qubo = random_qubo(1, n, seed=n)[0]
    sem = qaoa_state(qubo, torch.from_numpy(gammas), torch.from_numpy(betas)).abs().pow(2)
    gate = qaoa_circuit(qubo, gammas, betas).run(device="cpu", dtype=C128).probabilities()
    assert float((sem - gate).abs().max()) < TOL
    costs = torch.from_numpy(rng.normal(size=2**n))
    sem = qaoa_state(costs, torch.from_numpy(gammas), torch.from_numpy(betas)).abs().pow(2)
    gate = qaoa_circuit(costs, gammas, betas).run(device="cpu", dtype=C128).probabilities()
    assert float((sem - gate).abs().max()) < TOL
