"""Quantum QUBO samplers: Durr-Hoyer minimum search (``grover``) and QAOA (``qaoa``).

Both enumerate the ``2^n`` energies of each problem (the diagonal oracle) and simulate the
algorithm at the semantic level; ``info`` reports the quantum resources, the projected hardware
time on a named profile and the time to solution at 99% (TTS99), beside the measured wall time.
"""

from __future__ import annotations

from typing import Any

import torch

from qtrain.quantum.qaoa import qaoa
from qtrain.quantum.resources import tts99
from qtrain.quantum.search import minimum_search
from qtrain.qubo.exact import enumerate_energies
from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["GroverSampler", "QAOASampler"]


def _bits(index: torch.Tensor, n: int) -> torch.Tensor:
    """State index ``k`` -> ``x_i = (k >> i) & 1`` (the convention of ``enumerate_energies``)."""
    return ((index[..., None] >> torch.arange(n, device=index.device)) & 1).to(torch.int8)


class GroverSampler(QUBOSampler):
    """Each read is one Durr-Hoyer minimum search over the problem's ``2^n`` energies.

    Parameters (constructor defaults or per call): ``max_oracle_calls`` (Grover iterations per read,
    default Durr-Hoyer's ``22.5 sqrt(N) + 1.4 log2(N)^2``), ``lam`` (BBHT growth, 6/5), ``profile``
    (hardware profile for the projected time, default ``superconducting-today``).

    ``info``: ``oracle_calls`` (mean per read), ``success_probability`` (per problem, mean over
    reads, see :class:`~qtrain.quantum.search.MinimumSearchResult`), ``resources`` (one read,
    with ``projected_time_s``), ``tts99_s`` (per problem).

    Args:
        max_variables: largest ``n`` accepted (default 20: ``2^20`` energies per problem).
    """

    name = "grover"
    parameter_names = ("max_oracle_calls", "lam", "profile")
    default_num_reads = 4

    def __init__(self, max_variables: int = 20, **defaults: Any):
        if not isinstance(max_variables, int) or not 1 <= max_variables <= 26:
            raise ValueError(f"max_variables must be an integer in [1, 26], got {max_variables!r}")
        self.max_variables = max_variables
        super().__init__(**defaults)

    def working_bytes(self, qubo: QUBO, num_reads: int, **params: Any) -> int:
        """The shared read buffers plus every problem's ``2^n`` energies, their sorted copy,
        the sort order and a float64 copy (``32 B 2^n`` bytes)."""
        return super().working_bytes(qubo, num_reads) + 32 * qubo.num_problems * 2**qubo.num_variables

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, max_oracle_calls: int | None = None,
                lam: float = 6 / 5, profile: str = "superconducting-today"
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        costs = enumerate_energies(qubo.to(torch.float64))
        res = minimum_search(costs, seed=seed, max_oracle_calls=max_oracle_calls, lam=lam, runs=num_reads)
        per_read = res.resources.scaled(1)
        per_read.oracle_calls = int(res.oracle_calls.max())
        t_read = per_read.projected_time(profile)
        p = res.success_probability.mean(-1)
        info = {"oracle_calls": float(res.oracle_calls.double().mean()),
                "success_probability": p.tolist(),
                "resources": per_read.to_dict(profile),
                "tts99_s": [tts99(float(pi), t_read) for pi in p]}
        return _bits(res.index, qubo.num_variables), info


class QAOASampler(QUBOSampler):
    """QAOA of depth ``p`` with seeded angle optimisation; reads are draws from the optimised state.

    Parameters: ``p`` (depth, default 2), ``restarts`` (4), ``steps`` (Adam steps, 100), ``lr``
    (0.05), ``profile`` (for the projected time of one shot), ``backend`` (a Qiskit ``BackendV2``:
    the optimised circuit is transpiled for it and measured there, see
    :mod:`qtrain.quantum.backends`; default ``None``, qtrain's statevector), ``shots`` (with a
    back-end: measurements per problem, default ``num_reads``; the reads are the first
    ``num_reads`` shots).

    ``info``: ``expectation``, ``success_probability`` (probability of a ground state per shot),
    ``gammas``/``betas`` per problem, ``oracle_calls`` (cost layers spent by the optimisation),
    ``resources`` (one shot, with ``projected_time_s``) and ``tts99_s`` (shots until a ground state
    with 99% confidence, times one shot). With a back-end also ``backend`` (name, shots, transpiled
    depth, two-qubit gates, qubits), ``counts`` (per problem) and ``sampled_success_probability``
    (the fraction of shots that hit a ground state, beside the statevector's ``success_probability``).

    Args:
        max_variables: largest ``n`` accepted (default 16).
    """

    name = "qaoa"
    parameter_names = ("p", "restarts", "steps", "lr", "profile", "backend", "shots")
    default_num_reads = 16

    def __init__(self, max_variables: int = 16, **defaults: Any):
        if not isinstance(max_variables, int) or not 1 <= max_variables <= 24:
            raise ValueError(f"max_variables must be an integer in [1, 24], got {max_variables!r}")
        self.max_variables = max_variables
        super().__init__(**defaults)

    def working_bytes(self, qubo: QUBO, num_reads: int, p: Any = 2, restarts: Any = 4, **params: Any) -> int:
        """The shared read buffers plus the complex128 states of every problem and restart that
        autograd keeps through the ``p`` layers (about ``16 (4 p + 4) B restarts 2^n`` bytes)."""
        layers = p if isinstance(p, int) and p > 0 else 1
        starts = restarts if isinstance(restarts, int) and restarts > 0 else 1
        states = qubo.num_problems * starts * 2**qubo.num_variables
        return super().working_bytes(qubo, num_reads) + 16 * (4 * layers + 4) * states

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, p: int = 2, restarts: int = 4,
                steps: int = 100, lr: float = 0.05, profile: str = "superconducting-today", backend: Any = None,
                shots: int | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        if backend is not None:
            from qtrain.quantum.backends import check_backend, check_shots

            check_backend(backend, qubo.num_variables)  # before any work: the circuit must fit
            shots = check_shots(num_reads if shots is None else shots)
            if shots < num_reads:
                raise ValueError(f"shots ({shots}) must be at least num_reads ({num_reads}): each read is a shot")
        elif shots is not None:
            raise ValueError("shots applies to a back-end run; pass backend=... (a Qiskit BackendV2)")
        res = qaoa(qubo.to(torch.float64), p=p, seed=seed, restarts=restarts, steps=steps, lr=lr)
        if backend is not None:
            return _qaoa_on_backend(qubo, res, backend, shots, num_reads, seed)
        probs = res.probabilities
        cdf = probs.cumsum(-1)
        # one uniform per read, shared by the problems: a problem alone draws what it draws in a batch
        gen = torch.Generator().manual_seed(int(seed) + 1)
        u = torch.rand(num_reads, generator=gen, dtype=torch.float64).expand(probs.shape[0], num_reads)
        index = torch.searchsorted(cdf, (u * cdf[:, -1:]).contiguous()).clamp_max(probs.shape[-1] - 1)
        t_shot = res.resources.projected_time(profile)
        info = {"expectation": res.expectation.tolist(),
                "success_probability": res.success_probability.tolist(),
                "gammas": res.gammas.tolist(), "betas": res.betas.tolist(),
                "oracle_calls": res.oracle_calls, "resources": res.resources.to_dict(profile),
                "tts99_s": [tts99(min(1.0, max(0.0, float(s))), t_shot) for s in res.success_probability]}
        return _bits(index, qubo.num_variables), info


def _qaoa_on_backend(qubo: QUBO, res: Any, backend: Any, shots: int, num_reads: int, seed: int
                     ) -> tuple[torch.Tensor, dict[str, Any]]:
    """Measure each problem's optimised QAOA circuit on ``backend``; reads are its first shots."""
    from qtrain.quantum.backends import run_circuits, summarize_runs
    from qtrain.quantum.builders import qaoa_circuit

    B = qubo.num_problems
    circuits = [qaoa_circuit(qubo[b], res.gammas[b].tolist(), res.betas[b].tolist()) for b in range(B)]
    runs = run_circuits(circuits, backend, shots, seed)
    costs = enumerate_energies(qubo.to(torch.float64))
    ground = costs.min(-1, keepdim=True).values
    hit = torch.isclose(costs, ground, rtol=0, atol=1e-9)
    sampled = [float(hit[b, r.outcomes].double().mean()) for b, r in enumerate(runs)]
    index = torch.stack([r.outcomes[:num_reads] for r in runs])
    info = {"expectation": res.expectation.tolist(), "success_probability": res.success_probability.tolist(),
            "sampled_success_probability": sampled, "gammas": res.gammas.tolist(), "betas": res.betas.tolist(),
            "oracle_calls": res.oracle_calls, "backend": summarize_runs(runs),
            "counts": [{str(k): v for k, v in sorted(r.counts.items())} for r in runs]}
    return _bits(index, qubo.num_variables), info
