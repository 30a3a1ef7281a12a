"""Run qtrain circuits on Qiskit back-ends (any ``BackendV2``) through Qiskit's sampler primitive.

A circuit is exported (:func:`~qtrain.quantum.export.to_qiskit`), its register ``x`` measured,
transpiled for the back-end (``qiskit.transpile``, seeded) and run in ``shots`` shots by a
``SamplerV2``: ``qiskit.primitives.BackendSamplerV2`` for simulators and fake back-ends,
``qiskit_ibm_runtime.SamplerV2`` for IBM Quantum hardware. Outcome ``k`` has ``x_i = (k >> i) & 1``
(Qiskit's bit order is qtrain's). ``info`` reports the back-end's name, the shots, the transpiled
depth, two-qubit gate count and qubits used.

IBM Quantum: ``get_backend("ibm:<name>")`` opens ``QiskitRuntimeService()``, which reads the account
that ``QiskitRuntimeService.save_account`` stored in qiskit-ibm-runtime's own configuration;
qtrain never takes, stores or prints the token, and removes it from any error it passes on.

Qiskit (``pip install 'qtrain[qiskit]'``) is imported inside these functions only.

Example:
    >>> from qtrain.quantum.builders import qaoa_circuit
    >>> backend = get_backend("aer")                                        # doctest: +SKIP
    >>> out = run_circuits([qaoa_circuit(qubo, [0.4], [0.3])], backend, shots=1000, seed=0)  # doctest: +SKIP
    >>> out[0].counts, out[0].info["two_qubit_gates"]                       # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._info import resolve_seed
from qtrain.quantum.circuit import Circuit

__all__ = [
    "BackendRun",
    "backend_minimum_search",
    "backend_name",
    "backend_threshold_search",
    "check_backend",
    "check_shots",
    "get_backend",
    "run_circuits",
    "summarize_runs",
]


def _qiskit() -> Any:
    try:
        import qiskit
    except ImportError as exc:  # pragma: no cover - qiskit is in the dev extra
        raise ImportError("running on a Qiskit back-end needs qiskit: pip install 'qtrain[qiskit]'") from exc
    return qiskit


def backend_name(backend: Any) -> str:
    """The back-end's ``name`` (a ``BackendV2`` attribute)."""
    name = getattr(backend, "name", None)
    return str(name() if callable(name) else name)


def check_backend(backend: Any, num_qubits: int) -> None:
    """Check ``backend`` is a Qiskit ``BackendV2`` with at least ``num_qubits`` qubits.

    Raises:
        TypeError: not a ``BackendV2``.
        ValueError: fewer qubits than the circuit needs (named, before any transpiling).
    """
    from qiskit.providers import BackendV2

    if not isinstance(backend, BackendV2):
        raise TypeError(f"backend must be a qiskit BackendV2 (e.g. AerSimulator()), got {type(backend).__name__}")
    have = backend.num_qubits
    if have is not None and have < num_qubits:
        raise ValueError(f"back-end {backend_name(backend)!r} has {have} qubits; the circuit needs {num_qubits}")


def check_shots(shots: Any) -> int:
    """``shots`` as a positive int; ``ValueError`` otherwise."""
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    return shots


@dataclass
class BackendRun:
    """One circuit's measured outcomes on a back-end.

    Attributes:
        outcomes: ``[shots]`` int64 outcome per shot (state index of register ``x``), in shot order.
        counts: ``{outcome: count}``.
        info: ``backend``, ``shots``, ``depth`` and ``two_qubit_gates`` of the transpiled circuit,
            ``qubits`` (of the circuit), ``seed``.
    """

    outcomes: torch.Tensor
    counts: dict[int, int]
    info: dict[str, Any] = field(default_factory=dict)


def _measured(circuit: Circuit) -> Any:
    from qiskit import ClassicalRegister

    from qtrain.quantum.export import to_qiskit

    qc = to_qiskit(circuit)
    x = circuit.registers["x"] if "x" in circuit.registers else None
    qubits = list(x.qubits) if x is not None else list(range(circuit.num_qubits))
    meas = ClassicalRegister(len(qubits), "meas")
    qc.add_register(meas)
    qc.measure([qc.qubits[q] for q in qubits], meas)
    return qc


def _sampler(backend: Any, shots: int, seed: int) -> Any:
    if type(backend).__name__ == "IBMBackend":  # IBM hardware runs through qiskit-ibm-runtime
        from qiskit_ibm_runtime import SamplerV2

        return SamplerV2(mode=backend)
    from qiskit.primitives import BackendSamplerV2

    return BackendSamplerV2(backend=backend, options={"default_shots": shots, "seed_simulator": seed})


def run_circuits(circuits: Sequence[Circuit], backend: Any, shots: int, seed: int | None = None,
                 optimization_level: int = 1) -> list[BackendRun]:
    """Measure register ``x`` of each circuit ``shots`` times on ``backend`` (one sampler job).

    Args:
        circuits: qtrain circuits (measured on register ``x``, or on every qubit without one).
        backend: a Qiskit ``BackendV2``.
        shots: measurements per circuit, ``>= 1``.
        seed: seeds the transpiler and the simulator (``None``: fresh entropy, recorded in ``info``).
        optimization_level: ``qiskit.transpile``'s level (0-3).

    Raises:
        ValueError: ``shots <= 0``; a back-end with fewer qubits than a circuit (before transpiling).
        TypeError: ``backend`` is not a ``BackendV2``.
    """
    shots = check_shots(shots)
    if not circuits:
        return []
    for c in circuits:
        check_backend(backend, c.num_qubits)
    qiskit = _qiskit()
    seed = resolve_seed(seed)
    compiled = qiskit.transpile([_measured(c) for c in circuits], backend=backend, seed_transpiler=seed,
                                optimization_level=optimization_level)
    result = _sampler(backend, shots, seed).run(compiled, shots=shots).result()
    runs = []
    for c, tqc, pub in zip(circuits, compiled, result, strict=True):
        bits = pub.data.meas.get_bitstrings()
        outcomes = torch.tensor([int(b, 2) for b in bits], dtype=torch.int64)
        counts = {int(k, 2): int(v) for k, v in pub.data.meas.get_counts().items()}
        two = sum(1 for inst in tqc.data if inst.operation.num_qubits == 2)
        runs.append(BackendRun(outcomes, counts, {"backend": backend_name(backend), "shots": shots,
                                                  "depth": int(tqc.depth()), "two_qubit_gates": int(two),
                                                  "qubits": c.num_qubits, "seed": seed}))
    return runs


def summarize_runs(runs: Sequence[BackendRun]) -> dict[str, Any]:
    """The ``info["backend"]`` entry of a batch: name, shots and the largest depth and gate count."""
    return {"name": runs[0].info["backend"], "shots": runs[0].info["shots"],
            "depth": max(r.info["depth"] for r in runs),
            "two_qubit_gates": max(r.info["two_qubit_gates"] for r in runs), "qubits": runs[0].info["qubits"]}


def _scrub(text: str) -> str:
    """``text`` with any IBM Quantum token qtrain can see replaced by ``***``."""
    secrets = [os.environ.get("QISKIT_IBM_TOKEN", "")]
    try:
        from qiskit_ibm_runtime import QiskitRuntimeService

        secrets += [a.get("token", "") for a in QiskitRuntimeService.saved_accounts().values()]
    except Exception:  # noqa: BLE001 - no saved accounts, an unreadable file: nothing to scrub
        pass
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def get_backend(name: str) -> Any:
    """A back-end by name: ``aer`` (noiseless ``AerSimulator``), ``fake:<Name>`` (a fake IBM
    back-end from ``qiskit_ibm_runtime.fake_provider`` with its noise model, e.g. ``fake:FakeManilaV2``),
    ``ibm:<name>`` (IBM Quantum hardware through the account qiskit-ibm-runtime has saved).

    Raises:
        ValueError: an unknown form or fake back-end; an IBM back-end that cannot be opened (the
            message never holds the token).
    """
    if name == "aer":
        from qiskit_aer import AerSimulator

        return AerSimulator()
    if name.startswith("fake:"):
        from qiskit_ibm_runtime import fake_provider

        cls = getattr(fake_provider, name[5:], None)
        if cls is None:
            raise ValueError(f"no fake back-end {name[5:]!r} in qiskit_ibm_runtime.fake_provider "
                             "(e.g. FakeManilaV2, FakeLimaV2)")
        return cls()
    if name.startswith("ibm:"):
        try:
            from qiskit_ibm_runtime import QiskitRuntimeService

            return QiskitRuntimeService().backend(name[4:])
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the service, reported without secrets
            raise ValueError(_scrub(f"cannot open IBM back-end {name[4:]!r}: {type(exc).__name__}: {exc}")) from None
    raise ValueError(f"unknown back-end {name!r}; use 'aer', 'fake:<FakeBackend>' or 'ibm:<name>'")


def _bbht_batch(flat: torch.Tensor, backend: Any, shots: int, gen: torch.Generator, budget: int, lam: float,
                seed: int, minimum: bool, thresholds: list[float]) -> list[dict[str, Any]]:
    """BBHT rounds on the back-end for every problem of ``flat [B, N]`` in lockstep (one sampler job
    per round for the problems still searching); each round measures ``shots`` times and keeps the
    lowest-cost outcome. ``minimum``: Durr-Hoyer (the threshold drops to each better outcome)."""
    from qtrain.quantum.builders import grover_circuit, phase_oracle

    B, N = flat.shape
    state = []
    for b in range(B):
        first = int(torch.randint(N, (1,), generator=gen)) if minimum else -1
        state.append({"best": first, "thr": float(flat[b, first]) if minimum else thresholds[b], "m": 1.0,
                      "oracle_calls": 0, "rounds": 0, "runs": [], "done": False})
    rnd = 0
    while active := [b for b in range(B) if not state[b]["done"] and state[b]["oracle_calls"] < budget]:
        js = [int(torch.randint(max(1, math.ceil(state[b]["m"])), (1,), generator=gen)) for b in active]
        circuits = [grover_circuit(phase_oracle(flat[b], state[b]["thr"]), j) for b, j in zip(active, js, strict=True)]
        for b, j, run in zip(active, js, run_circuits(circuits, backend, shots, seed + rnd), strict=True):
            st, c = state[b], flat[b]
            st["runs"].append(run)
            st["oracle_calls"], st["rounds"] = st["oracle_calls"] + max(j, 1), st["rounds"] + 1
            z = min(run.counts, key=lambda k: float(c[k]))
            if float(c[z]) < st["thr"]:
                st["best"] = z
                st["done"] = not minimum
                st["thr"], st["m"] = (float(c[z]) if minimum else st["thr"]), 1.0
            else:
                st["m"] = min(lam * st["m"], math.sqrt(N))
        rnd += 1
    for b, st in enumerate(state):
        if st["best"] < 0:  # no outcome passed the threshold: return the best measured
            st["best"] = min(st["runs"][-1].counts, key=lambda k: float(flat[b, k]))
        st["backend"] = summarize_runs(st.pop("runs"))
    return state


def _search(costs: torch.Tensor, backend: Any, shots: int, seed: int, max_oracle_calls: int | None,
            lam: float, minimum: bool, threshold: torch.Tensor | None) -> tuple[torch.Tensor, dict[str, Any]]:
    from qtrain.quantum.search import dh_budget

    shots = check_shots(shots)
    N = costs.shape[-1]
    n = max(1, (N - 1).bit_length())
    if N != 2**n:
        raise ValueError(f"a back-end search needs a power-of-two number of states, got N={N}")
    check_backend(backend, n)
    flat = costs.reshape(-1, N)
    thr = [0.0] * flat.shape[0] if threshold is None else threshold.expand(costs.shape[:-1]).reshape(-1).tolist()
    budget = max_oracle_calls if max_oracle_calls is not None else (
        dh_budget(N) if minimum else math.ceil(9 * math.sqrt(N)))
    gen = torch.Generator().manual_seed(seed)
    out = _bbht_batch(flat, backend, shots, gen, budget, lam, seed, minimum, thr) if flat.shape[0] else []
    index = torch.tensor([o["best"] for o in out], dtype=torch.int64).reshape(costs.shape[:-1])
    cmin = flat.min(-1).values
    found = [bool(flat[b, o["best"]] == cmin[b]) if minimum else bool(flat[b, o["best"]] < thr[b])
             for b, o in enumerate(out)]
    backend_info = {"name": backend_name(backend), "shots": shots}
    if out:
        backend_info = {**out[0]["backend"], "depth": max(o["backend"]["depth"] for o in out),
                        "two_qubit_gates": max(o["backend"]["two_qubit_gates"] for o in out)}
    return index, {"oracle_calls": [o["oracle_calls"] for o in out], "rounds": [o["rounds"] for o in out],
                   "found": found, "backend": backend_info}


def backend_minimum_search(costs: torch.Tensor, backend: Any, shots: int, seed: int,
                           max_oracle_calls: int | None = None, lam: float = 6 / 5
                           ) -> tuple[torch.Tensor, dict[str, Any]]:
    """Durr-Hoyer minimum finding with every Grover round run on ``backend``.

    Per problem: a random first threshold ``y``; each round draws ``j`` uniformly in ``[0, m)``
    (BBHT, ``m`` grows by ``lam`` up to ``sqrt N`` and resets on an improvement), runs
    ``H^n (O_y D)^j`` in ``shots`` shots and moves ``y`` to the lowest-cost outcome when it is
    below ``c(y)``; it stops once the schedule's oracle calls reach ``max_oracle_calls`` (default
    :func:`~qtrain.quantum.search.dh_budget`). The problems of a batch step in lockstep: one sampler
    job per round.

    Returns:
        ``(index [...], info)`` with ``oracle_calls`` and ``rounds`` (per problem, of the schedule;
        each is run ``shots`` times), ``found`` and ``backend`` (name, shots, depth, two-qubit gates).

    Raises:
        ValueError: ``shots <= 0``; too few qubits on the back-end; ``N`` not a power of two.

    References:
        Durr & Hoyer, quant-ph/9607014; Boyer, Brassard, Hoyer & Tapp, quant-ph/9605034.
    """
    return _search(costs, backend, shots, seed, max_oracle_calls, lam, True, None)


def backend_threshold_search(costs: torch.Tensor, threshold: torch.Tensor, backend: Any, shots: int, seed: int,
                             max_oracle_calls: int | None = None, lam: float = 6 / 5
                             ) -> tuple[torch.Tensor, dict[str, Any]]:
    """BBHT search for a state with ``c(x) < threshold`` with every round run on ``backend``
    (rounds as in :func:`backend_minimum_search` with a fixed threshold; it stops at the first round
    whose shots include a passing state, or at ``max_oracle_calls``, default ``ceil(9 sqrt N)``).

    References:
        Boyer, Brassard, Hoyer & Tapp, quant-ph/9605034.
    """
    return _search(costs, backend, shots, seed, max_oracle_calls, lam, False, threshold)
