"""Hardware profiles: the one definition of gate, measurement and annealer times in qtrain.

Projected hardware time is always ``resource counts x profile``, reported beside (never mixed
with) a simulation's wall time. Every number below is a stated assumption with its source.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "HardwareProfile",
    "Resources",
    "anneal_time",
    "available_profiles",
    "get_profile",
    "grover_iteration_resources",
    "phase_estimation_resources",
    "projected_time",
    "register_profile",
    "rotation_t_count",
    "tts99",
]


@dataclass(frozen=True)
class HardwareProfile:
    """Times (seconds) that turn resource counts into a projected wall time.

    Attributes:
        name: registry name.
        description: what the numbers stand for and where they come from.
        t_1q: one single-qubit gate layer.
        t_2q: one two-qubit gate (CNOT/CZ) layer.
        t_toffoli: one Toffoli (fault-tolerant: a T-state-distillation-limited cycle).
        t_measure: one qubit measurement.
        t_reset: one qubit reset.
        qec_overhead: multiplicative slowdown of logical over physical gate times from error
            correction (1 = no error correction, as in the hypothetical profiles).
        t_anneal: one anneal (annealers), per read.
        t_programming: programming a problem into an annealer, per call.
        t_readout: read-out of one sample from an annealer.
    """

    name: str
    description: str
    t_1q: float
    t_2q: float
    t_toffoli: float
    t_measure: float
    t_reset: float
    qec_overhead: float = 1.0
    t_anneal: float = 0.0
    t_programming: float = 0.0
    t_readout: float = 0.0

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


_PROFILES: dict[str, HardwareProfile] = {}


def register_profile(profile: HardwareProfile) -> None:
    """Add (or replace) a profile under ``profile.name``."""
    _PROFILES[profile.name] = profile


def available_profiles() -> list[str]:
    return sorted(_PROFILES)


def get_profile(name: str | HardwareProfile) -> HardwareProfile:
    """The profile registered as ``name`` (a :class:`HardwareProfile` passes through)."""
    if isinstance(name, HardwareProfile):
        return name
    if name not in _PROFILES:
        raise ValueError(f"unknown hardware profile {name!r}; choose one of {available_profiles()}")
    return _PROFILES[name]


for _p in (
    HardwareProfile(
        "superconducting-today",
        "Superconducting transmons today (Google Sycamore / IBM Heron class): ~25 ns single-qubit "
        "and ~50 ns two-qubit gates, ~1 us measurement and reset; a surface-code logical layer "
        "is ~1 us of d=25 code cycles, so logical gates run qec_overhead=1000x slower than "
        "physical ones (Gidney & Ekera, arXiv:1905.09749, 1 us cycle, Toffoli ~ 10 us).",
        t_1q=25e-9, t_2q=50e-9, t_toffoli=10e-6, t_measure=1e-6, t_reset=1e-6, qec_overhead=1000.0,
    ),
    HardwareProfile(
        "today",
        "Alias of the physical-gate part of superconducting-today without error correction: "
        "10 ns-scale two-qubit gates (the Q-Newton spec's `today`).",
        t_1q=10e-9, t_2q=10e-9, t_toffoli=60e-9, t_measure=1e-6, t_reset=1e-6,
    ),
    HardwareProfile(
        "optimistic",
        "An optimistic future machine: 1 ns gates, error-corrected at no time overhead, "
        "100 ns measurement (the Q-Newton spec's `optimistic`).",
        t_1q=1e-9, t_2q=1e-9, t_toffoli=6e-9, t_measure=100e-9, t_reset=100e-9,
    ),
    HardwareProfile(
        "attosecond",
        "The Q-Newton paper's hypothesis: gates of 1 attosecond (1e-18 s), no error-correction "
        "overhead, measurement as fast as a gate. Not physical today; kept to reproduce the claim.",
        t_1q=1e-18, t_2q=1e-18, t_toffoli=6e-18, t_measure=1e-18, t_reset=1e-18,
    ),
    HardwareProfile(
        "annealer-today",
        "D-Wave Advantage-class annealer: 20 us anneal, ~15 ms programming per problem, ~100 us "
        "read-out per sample (D-Wave QPU timing documentation, typical values).",
        t_1q=0.0, t_2q=0.0, t_toffoli=0.0, t_measure=0.0, t_reset=0.0,
        t_anneal=20e-6, t_programming=15e-3, t_readout=100e-6,
    ),
):
    register_profile(_p)


# ---------------------------------------------------------------------------- resource counts
_ONE_QUBIT = {"h", "x", "y", "z", "s", "sdg", "t", "tdg", "rx", "ry", "rz", "p", "u", "sx"}
_ROTATION = {"rx", "ry", "rz", "p", "u"}


def rotation_t_count(epsilon: float = 1e-10) -> int:
    """T gates for one arbitrary-angle rotation to precision ``epsilon``: ``ceil(3 log2(1/eps))``
    (Ross & Selinger, arXiv:1403.2975)."""
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must lie in (0, 1), got {epsilon}")
    return math.ceil(3 * math.log2(1 / epsilon))


def _toffolis_mc(c: int) -> int:
    """Toffolis of a ``c``-controlled X/Z: ``2c - 3`` with ``c - 2`` clean ancillas (Barenco et
    al., quant-ph/9503016, Lemma 7.2); a CCX is one Toffoli."""
    return max(1, 2 * c - 3)


@dataclass
class Resources:
    """What a quantum computation uses, and what it would cost on hardware.

    Attributes:
        qubits: logical qubits (search register plus ancillas).
        oracle_calls: oracle applications (Grover iterations, QAOA cost layers, controlled-U).
        gate_counts: gates by kind (``h``, ``cx``, ``ccx``, ``mcx``, ``diagonal``, ...).
        depth: circuit depth when known (gate level), else ``None``.
        one_qubit: single-qubit gates (Clifford and rotations).
        two_qubit: two-qubit gates (CNOT/CZ/CP; a SWAP counts 3, a diagonal on ``k`` qubits
            ``2^k - 2`` CNOTs, Welch et al. arXiv:1306.3991).
        toffoli: Toffoli gates (multi-controlled gates decomposed with clean ancillas).
        rotations: arbitrary-angle rotations (each ``rotation_t_count()`` T gates).
        t_count: T gates: ``7 toffoli + rotations x rotation_t_count + t/tdg``.
        measurements: qubit measurements.
        resets: qubit resets.
    """

    qubits: int
    oracle_calls: int = 0
    gate_counts: dict[str, int] = field(default_factory=dict)
    depth: int | None = None
    one_qubit: int = 0
    two_qubit: int = 0
    toffoli: int = 0
    rotations: int = 0
    t_count: int = 0
    measurements: int = 0
    resets: int = 0

    @classmethod
    def from_counts(cls, counts: dict[str, int], qubits: int, depth: int | None = None,
                    oracle_calls: int = 0, measurements: int = 0,
                    diagonal_sizes: Sequence[int] = (), epsilon: float = 1e-10) -> Resources:
        """Derive the one-/two-qubit, Toffoli, rotation and T counts from gate counts by kind.

        ``diagonal_sizes`` lists the width of each ``diagonal`` gate (``2^k - 1`` rotations and
        ``2^k - 2`` CNOTs each); ``mc*`` kinds are counted as 3 controls unless listed in
        ``counts`` as ``mcx:c`` entries (the circuit's own counts give exact control numbers).
        """
        one = two = tof = rot = t = 0
        for kind, num in counts.items():
            base, controls = kind, 0
            if ":" in kind:  # "mcx:5" = x with 5 controls
                base, c = kind.split(":")
                controls = int(c)
                base = base[2:]
            elif kind.startswith("mc"):
                base, controls = kind[2:], 3
            else:
                while base.startswith("c") and base[1:] and base not in _ONE_QUBIT:
                    base, controls = base[1:], controls + 1
            if base in ("diagonal", "unitary"):
                continue  # counted from their sizes
            if controls == 0:
                if base == "swap":
                    two += 3 * num
                else:
                    one += num
                    rot += num if base in _ROTATION else 0
                    t += num if base in ("t", "tdg") else 0
            elif controls == 1:
                two += num
                rot += num if base in _ROTATION or base in ("s", "sdg", "t", "tdg") else 0
            else:
                tof += num * _toffolis_mc(controls) * (2 if base in _ROTATION else 1)
                rot += num if base in _ROTATION else 0
        for k in diagonal_sizes:
            rot += 2**k - 1
            two += max(0, 2**k - 2)
        t += 7 * tof + rot * rotation_t_count(epsilon)
        return cls(qubits=qubits, oracle_calls=oracle_calls, gate_counts=dict(counts), depth=depth,
                   one_qubit=one, two_qubit=two, toffoli=tof, rotations=rot, t_count=t,
                   measurements=measurements)

    def __add__(self, other: Resources) -> Resources:
        counts = dict(self.gate_counts)
        for k, v in other.gate_counts.items():
            counts[k] = counts.get(k, 0) + v
        depth = None if self.depth is None or other.depth is None else self.depth + other.depth
        return Resources(max(self.qubits, other.qubits), self.oracle_calls + other.oracle_calls,
                         counts, depth, self.one_qubit + other.one_qubit,
                         self.two_qubit + other.two_qubit, self.toffoli + other.toffoli,
                         self.rotations + other.rotations, self.t_count + other.t_count,
                         self.measurements + other.measurements, self.resets + other.resets)

    def scaled(self, times: int) -> Resources:
        """The resources of ``times`` repetitions (qubits unchanged)."""
        return Resources(self.qubits, self.oracle_calls * times,
                         {k: v * times for k, v in self.gate_counts.items()},
                         None if self.depth is None else self.depth * times, self.one_qubit * times,
                         self.two_qubit * times, self.toffoli * times, self.rotations * times,
                         self.t_count * times, self.measurements * times, self.resets * times)

    def projected_time(self, profile: str | HardwareProfile = "superconducting-today") -> float:
        """Projected hardware time in seconds on ``profile``; see :func:`projected_time`."""
        return projected_time(self, profile)

    def to_dict(self, profile: str | HardwareProfile | None = "superconducting-today") -> dict[str, Any]:
        """JSON-serialisable counts, plus ``projected_time_s`` and ``profile`` when one is given."""
        out: dict[str, Any] = asdict(self)
        if profile is not None:
            prof = get_profile(profile)
            out["profile"] = prof.name
            out["projected_time_s"] = projected_time(self, prof)
        return out


def projected_time(resources: Resources, profile: str | HardwareProfile = "superconducting-today"
                   ) -> float:
    """Serial hardware time of ``resources`` on ``profile`` (seconds)::

        T = qec_overhead (n_1q t_1q + n_2q t_2q) + n_toffoli t_toffoli
            + n_rotations t_toffoli + n_measure t_measure + n_reset t_reset

    Gates are counted one after another (no parallelism across qubits): an upper bound that does
    not depend on a scheduler. An arbitrary rotation is priced as one Toffoli-class (magic-state)
    operation, as in fault-tolerant cost models (Gidney & Ekera, arXiv:1905.09749).
    """
    p = get_profile(profile)
    return (p.qec_overhead * (resources.one_qubit * p.t_1q + resources.two_qubit * p.t_2q)
            + (resources.toffoli + resources.rotations) * p.t_toffoli
            + resources.measurements * p.t_measure + resources.resets * p.t_reset)


def tts99(success_probability: float, time_per_read: float, target: float = 0.99) -> float:
    """Time to solution at ``target`` confidence: ``t_read * ln(1 - target) / ln(1 - p)``.

    The time to repeat an independent read of success probability ``p`` until at least one
    succeeds with probability ``target`` (Ronnow et al., arXiv:1401.2910); ``t_read`` when
    ``p >= target``, ``inf`` when ``p = 0``.

    Raises:
        ValueError: ``success_probability`` outside [0, 1], ``time_per_read < 0`` or ``target``
            outside (0, 1).
    """
    if not 0 <= success_probability <= 1:
        raise ValueError(f"success_probability must lie in [0, 1], got {success_probability}")
    if not time_per_read >= 0:
        raise ValueError(f"time_per_read must be >= 0, got {time_per_read}")
    if not 0 < target < 1:
        raise ValueError(f"target must lie in (0, 1), got {target}")
    if success_probability >= target:
        return float(time_per_read)
    if success_probability == 0:
        return math.inf
    return float(time_per_read * math.log(1 - target) / math.log1p(-success_probability))


def anneal_time(num_reads: int, profile: str | HardwareProfile = "annealer-today") -> float:
    """Projected annealer time: ``t_programming + num_reads (t_anneal + t_readout)`` seconds."""
    p = get_profile(profile)
    if num_reads < 1:
        raise ValueError(f"num_reads must be >= 1, got {num_reads}")
    return p.t_programming + num_reads * (p.t_anneal + p.t_readout)


def grover_iteration_resources(num_qubits: int, oracle: Resources | None = None) -> Resources:
    """One Grover iteration on ``n`` qubits: the oracle plus the diffusion ``H^n X^n C^{n-1}Z X^n
    H^n`` (``4n`` one-qubit gates and one ``(n-1)``-controlled Z).

    ``oracle`` defaults to a diagonal phase oracle on the ``n`` qubits (``2^n - 1`` rotations,
    ``2^n - 2`` CNOTs); pass the resources of a concrete oracle circuit to price it instead.
    """
    n = num_qubits
    counts = {"h": 2 * n, "x": 2 * n}
    c = n - 1
    if c == 1:
        counts["cz"] = 1
    elif c == 2:
        counts["ccz"] = 1
    elif c > 2:
        counts[f"mcz:{c}"] = 1
    elif c == 0:
        counts["z"] = counts.get("z", 0) + 1
    diffusion = Resources.from_counts(counts, qubits=n)
    if oracle is None:
        oracle = Resources.from_counts({"diagonal": 1}, qubits=n, diagonal_sizes=[n])
    out = diffusion + oracle
    out.oracle_calls = 1
    return out


def phase_estimation_resources(t: int, num_qubits: int, oracle: Resources | None = None) -> Resources:
    """Textbook phase estimation with ``t`` counting qubits on an ``n``-qubit target: ``H^t``,
    controlled ``U^{2^j}`` as ``2^t - 1`` controlled-U calls (``oracle_calls``), and the inverse QFT
    (``t`` H, ``t(t-1)/2`` controlled phases, ``floor(t/2)`` swaps); the ``t`` counting qubits are
    measured. ``oracle`` prices one controlled-U (default: a controlled diagonal on ``n`` qubits).

    Raises:
        ValueError: ``t < 1`` or ``num_qubits < 1``.
    """
    if t < 1 or num_qubits < 1:
        raise ValueError(f"t and num_qubits must be >= 1, got t={t}, num_qubits={num_qubits}")
    calls = 2**t - 1
    qft = Resources.from_counts({"h": 2 * t, "cp": t * (t - 1) // 2, "swap": t // 2},
                                qubits=t + num_qubits, measurements=t)
    if oracle is None:
        oracle = Resources.from_counts({"diagonal": 1}, qubits=num_qubits + 1,
                                       diagonal_sizes=[num_qubits + 1])
    out = qft + oracle.scaled(calls)
    out.qubits = max(out.qubits, t + num_qubits)
    out.oracle_calls = calls
    return out
