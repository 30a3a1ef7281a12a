"""Quantum training of discrete sinusoidal networks: phase estimation inside Durr-Hoyer minimum search.

The weight register holds every configuration of a :class:`~qtrain.nn.DSinNN` in superposition. Per
training point the network is computed reversibly (:mod:`qtrain.train.sinusoidal.circuit`), its
cost ``c_p(w)`` kicked back as a phase and the network uncomputed, so the data pass ``U`` is diagonal
in the weight basis with eigenphase ``phi(w) = scale * C(w) / 2^t`` turns, ``C = sum_p c_p``. Phase
estimation with ``t`` qubits writes ``scale * C(w)`` into a register, a threshold oracle marks the
configurations that beat the best seen so far, phase estimation is undone, and Grover diffusion acts
on the weight register; Durr-Hoyer lowers the threshold with BBHT's random iteration counts.

Costs ``c_p``: ``"count"`` -- 1 when the prediction equals the target (the paper's counting cost;
the search maximises it), ``"mse"`` -- the squared error, capped at ``cap`` (qtrain's
squared-error bucket; the search minimises it).

:class:`QuantumWeightSearch` runs this at two levels: ``"semantic"`` (costs by vectorised
enumeration, the exact phase-estimation outcome distribution per configuration, Durr-Hoyer on the
weight register's amplitudes by the ``durr-hoyer`` search solver, :func:`qtrain.quantum.minimum_search`)
and ``"gate"`` (the same schedule replayed on the full gate-level circuit on the statevector engine,
for instances that fit).

References:
    Wen, Huang, Dahlsten, arXiv:2410.22016; Durr & Hoyer, arXiv:quant-ph/9607014;
    Boyer, Brassard, Hoyer, Tapp, arXiv:quant-ph/9605034; Liao et al., arXiv:1810.12948.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._device import resolve_device
from qtrain.nn.sinusoidal import DSinNN
from qtrain.quantum import (
    Circuit,
    Statevector,
    builders,
    dh_budget,
    get_search_solver,
    phase_estimation_distribution,
)
from qtrain.quantum.resources import Resources, get_profile
from qtrain.quantum.statevector import free_memory_bytes
from qtrain.train.sinusoidal import circuit as sc
from qtrain.train.sinusoidal.classical import config_weights, enumerate_losses

__all__ = ["BYTES_PER_CONFIG", "QuantumSearchResult", "QuantumWeightSearch"]

# bytes per configuration of the semantic search: costs (float64), sorted costs, sort order (int64),
# enumeration and sort workspace.
BYTES_PER_CONFIG = 48
_GATE_LEVEL_MAX_QUBITS = 22


@dataclass
class QuantumSearchResult:
    """Outcome of :meth:`QuantumWeightSearch.run`.

    Attributes:
        weights: per-layer discrete weights of the returned configuration.
        index: its configuration index (bit ``j*b .. j*b+b-1`` of the weight register = weight ``j``).
        loss: its training MSE.
        cost: its integer search cost (``scale * C``; for ``"count"`` the negated count).
        success_probability: probability that the realised Durr-Hoyer schedule returns a global
            minimiser (``1 - prod_r (1 - p_min,r)``, :func:`qtrain.quantum.minimum_search`).
        oracle_calls: Grover iterations (each one phase estimation, threshold, uncomputation).
        found: whether the returned configuration is a global minimiser of the search cost.
        rounds: measurements made.
        sine_evaluations: network evaluations on one point inside the oracle calls,
            ``oracle_calls * 2 (PE, inverse) * (2^t - 1) * n * 2 (compute, uncompute)``.
        brute_force_evaluations: ``n * N_w``, what exhaustive search needs on the same instance.
        weight_qubits: ``log2 N_w``.
        sim_seconds: wall time of the simulation (enumeration included).
        resources: the full gate-level circuit's counts and projected time (``None`` when the
            architecture is outside the gate-level circuit's scope, see ``resources_note``).
        level: "semantic" or "gate".
        semantic_success_probability: the semantic level's figure (equal to
            ``success_probability`` to 1e-6 on gate-level runs).
        pe_marginal: the phase-estimation outcome distribution on the uniform weight superposition.
    """

    weights: list[torch.Tensor]
    index: int
    loss: float
    cost: float
    success_probability: float
    oracle_calls: int
    found: bool
    rounds: int
    sine_evaluations: int
    brute_force_evaluations: int
    weight_qubits: int
    sim_seconds: float
    resources: dict[str, Any] | None
    level: str
    semantic_success_probability: float
    pe_marginal: torch.Tensor
    resources_note: str = ""
    trace: list[dict[str, Any]] = field(default_factory=list, repr=False)


class QuantumWeightSearch:
    """Quantum minimum search over the discrete weights of a :class:`~qtrain.nn.DSinNN`.

    Args:
        model: the network (its architecture and quantisers; its own weights are not used).
        x, y: training data ``[n, in]``, ``[n, out]``; the inputs must lie on the angle grid
            ``a * pi / 2^(angle_bits - 1)`` with integer ``a``.
        cost: ``"mse"`` (squared error per point, capped at ``cap``) or ``"count"`` (correct points).
        t: phase-estimation qubits (default: the fewest that hold the largest ``scale * C``).
        cost_scale: ``scale`` in ``phi = scale * C / 2^t``; ``scale * C(w)`` must be an integer
            for every ``w`` (exact phase estimation).
        cap: per-point cap of the squared error (``"mse"``), or ``None``.
        levels: the values each weight register enumerates, ``2^b`` of them (default the model's
            levels when their number is a power of two: binary, k-bit).
        angle_bits: ``k`` of the input grid.
        level: ``"semantic"`` or ``"gate"`` (replays the same schedule on the gate-level circuit).
        profile: hardware profile for the projected time.
        max_oracle_calls: Durr-Hoyer budget of Grover iterations (default
            ``qtrain.quantum.dh_budget(N_w, total=True)``: the total stays within the Durr-Hoyer
            bound ``22.5 sqrt(N_w)``).
        chunk_size: configurations per enumeration pass.
        device: "auto", "cpu" or "cuda" (semantic level).

    Raises:
        ValueError: inputs off the grid, levels not a power of two, a weight register larger than
            the device's memory, a total phase of one turn or more, inexact phase estimation, a
            gate-level instance past the statevector limit -- each message says what to change.

    Example:
        >>> from qtrain.nn import toy_dsinnn
        >>> x, y = toy_data(discrete=True)
        >>> res = QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, cost_scale=0.5,
        ...                           levels=[-1, 1]).run(seed=0)
        >>> [w.flatten().tolist() for w in res.weights], res.loss
        ([[1.0, 1.0]], 0.0)
    """

    def __init__(self, model: DSinNN, x: torch.Tensor, y: torch.Tensor, *, cost: str = "mse", t: int | None = None,
                 cost_scale: float = 1.0, cap: int | None = None, levels: Sequence[float] | None = None,
                 angle_bits: int = 2, level: str = "semantic", profile: str = "superconducting-today",
                 max_oracle_calls: int | None = None, chunk_size: int = 2**18, device: str = "auto"):
        if not isinstance(model, DSinNN):
            raise TypeError(f"model must be a DSinNN, got {type(model).__name__}")
        if cost not in ("mse", "count"):
            raise ValueError(f"cost must be 'mse' or 'count', got {cost!r}")
        if level not in ("semantic", "gate"):
            raise ValueError(f"level must be 'semantic' or 'gate', got {level!r}")
        if not 1 <= angle_bits <= 8:
            raise ValueError(f"angle_bits must be in 1..8, got {angle_bits}")
        if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != model.in_features:
            raise ValueError(f"x must be [n, {model.in_features}] and y [n, out] with the same n; "
                             f"got {tuple(x.shape)} and {tuple(y.shape)}")
        if cap is not None and cap < 1:
            raise ValueError(f"cap must be >= 1 or None, got {cap}")
        if not cost_scale > 0:
            raise ValueError(f"cost_scale must be > 0, got {cost_scale}")
        unit = math.pi / 2 ** (angle_bits - 1)
        a = x.double() / unit
        off = (a - torch.round(a)).abs()
        if off.max() > 1e-9:
            i = int(off.flatten().argmax())
            raise ValueError(f"x.flatten()[{i}] = {float(x.flatten()[i]):.6g} is off the circuit's angle grid "
                             f"(multiples of pi/2^{angle_bits - 1}); round the inputs to the grid or raise "
                             f"angle_bits")
        lv = model.weight_levels if levels is None else torch.as_tensor(levels, dtype=model.dtype)
        L = len(lv)
        if L < 2 or L & (L - 1):
            raise ValueError(f"each weight needs 2^b levels to fill a b-qubit register; got {L} levels "
                             f"{lv.tolist()} (pass levels=[-1, 1] for ternary weights, or use k-bit weights)")
        self.bits_per_weight = L.bit_length() - 1
        self.weight_qubits = self.bits_per_weight * model.num_weights
        self.device = resolve_device(device)
        need = BYTES_PER_CONFIG * 2**self.weight_qubits
        free = free_memory_bytes(self.device)
        if need > free:
            fit = int(math.log2(max(free, 1) / BYTES_PER_CONFIG))
            raise ValueError(f"{self.weight_qubits} weight qubits ({model.num_weights} weights x "
                             f"{self.bits_per_weight} bits) need {need / 2**30:.1f} GiB on {self.device}, "
                             f"{free / 2**30:.1f} GiB free: at most {fit} weight qubits fit; use fewer weights "
                             f"or fewer bits per weight, or a device with more memory")
        self.model, self.x, self.y, self.levels = model, x, y, lv
        self.cost, self.cap, self.cost_scale, self.t_arg = cost, cap, float(cost_scale), t
        self.angle_bits, self.level, self.profile = angle_bits, level, get_profile(profile)
        self.max_oracle_calls, self.chunk_size = max_oracle_calls, chunk_size
        self.search_device = str(self.device)

    # ------------------------------------------------------------------ semantic level
    def _point_cost(self, e: torch.Tensor) -> torch.Tensor:
        if self.cost == "count":
            return (e < 1e-9).sum(-1).to(torch.int64)
        c = torch.floor(e + 1e-9)
        if self.cap is not None:
            c = c.clamp(max=self.cap)
        return c.sum(-1).to(torch.int64)

    def values(self) -> torch.Tensor:
        """``C(w)``: the integer cost sum over the data of every configuration ``[N_w]`` (int64)."""
        return enumerate_losses(self.model, self.x, self.y, levels=self.levels, chunk_size=self.chunk_size,
                                device=self.device, reduce=self._point_cost, out_dtype=torch.int64)

    def phase_setup(self, values: torch.Tensor | None = None) -> tuple[int, torch.Tensor]:
        """``(t, outcomes)``: phase-estimation qubits and ``m(w) = scale * C(w)`` per configuration,
        checked for exactness (integer ``m``) and wrap-around (``m < 2^t``)."""
        v = self.values() if values is None else values
        if self.cost_scale == 1.0:
            m = v
        else:
            sv = v.double() * self.cost_scale
            if (sv - torch.round(sv)).abs().max() > 1e-9:
                raise ValueError(f"cost_scale={self.cost_scale} makes scale * C(w) non-integer, so phase "
                                 f"estimation would not be exact; use a cost_scale that keeps it integer (e.g. 1)")
            m = torch.round(sv).to(torch.int64)
            del sv
        top = int(m.max())
        t = max(1, top.bit_length()) if self.t_arg is None else int(self.t_arg)
        if t < 1:
            raise ValueError(f"t must be >= 1, got {t}")
        if top >= 2**t:
            raise ValueError(f"the total phase reaches {top}/2^{t} = {top / 2**t:.3f} turn >= 1 (wrap-around); "
                             f"raise t to at least {top.bit_length()}, or lower the cost scaling (cost_scale, "
                             f"cap)")
        return t, m

    def pe_outcomes(self, values: torch.Tensor | None = None) -> tuple[int, torch.Tensor, torch.Tensor]:
        """``(t, outcome per configuration, PE marginal on the uniform superposition)`` from the exact
        phase-estimation distribution ``P(m | phi)`` of each phase ``phi = k / 2^t`` that occurs."""
        t, m = self.phase_setup(values)
        counts = torch.bincount(m, minlength=2**t).double().cpu()
        occurring = torch.nonzero(counts).squeeze(-1)
        dist = phase_estimation_distribution(occurring.double() / 2**t, t)  # [K, 2^t], K phases that occur
        if (dist.max(-1).values < 1 - 1e-9).any():
            raise ValueError("phase estimation is not exact for these phases; use integer scale * C")
        table = torch.zeros(2**t, dtype=torch.int64)
        table[occurring] = dist.argmax(-1)
        outcome = table.to(m.device)[m]
        return t, outcome, (counts[occurring] / counts.sum()) @ dist

    def _objective(self, outcome: torch.Tensor) -> torch.Tensor:
        return (-outcome if self.cost == "count" else outcome).double()

    def run(self, seed: int = 0) -> QuantumSearchResult:
        """Durr-Hoyer minimum search on the weight register (the ``durr-hoyer`` search solver of
        :func:`qtrain.quantum.get_search_solver`); returns a :class:`QuantumSearchResult`."""
        t0 = time.perf_counter()
        t, outcome, marginal = self.pe_outcomes()
        obj = self._objective(outcome)
        del outcome
        budget = dh_budget(obj.numel(), total=True) if self.max_oracle_calls is None else int(self.max_oracle_calls)
        solver = get_search_solver("durr-hoyer")
        try:
            found = solver.search(obj, seed=seed, max_oracle_calls=budget)
        except RuntimeError as err:  # a search kernel without this device's support: same search on CPU
            if obj.device.type == "cpu" or "device" not in str(err):
                raise
            obj = obj.cpu()
            found = solver.search(obj, seed=seed, max_oracle_calls=budget)
        res = found.raw  # the MinimumSearchResult: its trace is what the gate level replays
        self.search_device = str(obj.device)
        index, calls = int(found.index), int(res.oracle_calls)
        sem_p = float(res.success_probability)
        p = sem_p
        if self.level == "gate":
            p = self.gate_success_probability(res.trace, obj.cpu(), t)
        seconds = time.perf_counter() - t0
        lv = self.levels.to(self.device)
        flat = config_weights(torch.tensor([index], device=self.device), lv, self.model.num_weights)
        weights = [w[0].cpu() for w in self.model.unflatten(flat)]
        with torch.no_grad():
            pred = self.model.forward_with(weights, self.x.to(self.model.dtype), quantized=True)
            loss = float((pred - self.y.to(self.model.dtype)).pow(2).sum(-1).mean())
        n = self.x.shape[0]
        resources, note = self._resources(t, calls, int(res.rounds))
        return QuantumSearchResult(weights, index, loss, float(obj[index]), p, calls, bool(res.found),
                                   int(res.rounds), calls * 2 * (2**t - 1) * n * 2, n * 2**self.weight_qubits,
                                   self.weight_qubits, seconds, resources, self.level, sem_p, marginal, note,
                                   res.trace)

    # ------------------------------------------------------------------ gate level
    def circuit_spec(self, t: int | None = None) -> sc.SineCircuitSpec:
        """The gate-level circuit's spec (``ValueError`` for architectures outside its scope)."""
        if self.bits_per_weight != 1 or sorted(self.levels.tolist()) != [-1.0, 1.0]:
            raise ValueError(f"the gate-level circuit needs one qubit per weight with levels [-1, 1], got "
                             f"{self.levels.tolist()} (use level='semantic')")
        t = self.phase_setup()[0] if t is None else t
        return sc.spec_from_model(self.model, self.x, self.y, angle_bits=self.angle_bits, cost=self.cost,
                                  cap=self.cap, t=t, scale=self.cost_scale)

    def _resources(self, t: int, calls: int, rounds: int) -> tuple[dict[str, Any] | None, str]:
        try:
            spec = self.circuit_spec(t)
        except ValueError as err:
            return None, str(err)
        pe, w = spec.new_circuit()["pe"], spec.new_circuit()["w"]

        def on_spec(block: Circuit, qubits: Any) -> Resources:  # a block's resources inside the full circuit
            return spec.new_circuit().compose(block, qubits).resources()

        one_pass = sc.data_pass(spec, control=pe[0]).resources()
        qft = on_spec(builders.inverse_qft(spec.t), pe)
        thr = on_spec(sc.threshold_oracle(spec.t, lambda m: m == 0), pe)
        hs = spec.new_circuit().h(pe).resources()
        diff = on_spec(builders.diffusion(spec.hidden), w)
        oracle = one_pass.scaled(2 * (2**t - 1)) + qft.scaled(2) + hs.scaled(2) + thr
        total: Resources = (oracle + diff).scaled(max(calls, 1))
        total.qubits, total.oracle_calls = spec.num_qubits, calls
        total.measurements = rounds * (spec.hidden + spec.t)
        out = total.to_dict(self.profile)
        out.pop("gate_counts", None)
        out["toffoli_per_oracle_call"] = oracle.toffoli
        return out, ""

    def gate_success_probability(self, trace: list[dict[str, Any]], obj: torch.Tensor, t: int) -> float:
        """Gate-level success probability of a semantic schedule (see :meth:`gate_round_probabilities`)."""
        p0, rounds = self.gate_round_probabilities(trace, obj, t)
        log_miss = sum(-math.inf if p >= 1 else math.log1p(-p) for p in [p0, *rounds])
        return 1 - math.exp(log_miss)

    def gate_round_probabilities(self, trace: list[dict[str, Any]], obj: torch.Tensor, t: int
                                 ) -> tuple[float, list[float]]:
        """Replay a Durr-Hoyer schedule (thresholds, iteration counts) on the gate-level circuit and
        return ``(p_0, [p_min,r for every active round])``, the probabilities of measuring a global
        minimiser, read off the simulated statevector's weight-register marginal (complex128). The
        simulation uses the compressed phase estimation (``repeat=False``, the same unitary as the
        repetition form the resources count)."""
        spec = self.circuit_spec(t)
        if spec.num_qubits > _GATE_LEVEL_MAX_QUBITS:
            raise ValueError(f"the gate-level circuit needs {spec.num_qubits} qubits, above the gate-level "
                             f"limit {_GATE_LEVEL_MAX_QUBITS}; use level='semantic' or a smaller instance")
        minimal = obj == obj.min()
        w = list(spec.new_circuit()["w"])
        start = spec.new_circuit().h(w).run(device="cpu", dtype=torch.complex128)
        marg0 = start.probabilities(w).double()
        sign = -1 if self.cost == "count" else 1
        runs: dict[float, tuple[Statevector, list[torch.Tensor], Any]] = {}
        rounds: list[float] = []
        for r in trace:
            if not bool(r["active"]):
                continue
            thr, j = float(r["threshold"]), int(r["iterations"])
            if thr not in runs:
                step = sc.grover_step(spec, lambda m, thr=thr: sign * m < thr, repeat=False)
                runs[thr] = (start.copy(), [marg0], step)
            state, margs, step = runs[thr]
            while len(margs) <= j:
                step.run(state)
                margs.append(state.probabilities(w).double())
            rounds.append(float(margs[j][minimal].sum()))
        return float(marg0[minimal].sum()), rounds
