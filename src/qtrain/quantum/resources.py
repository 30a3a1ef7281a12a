"""Hardware profiles: the one definition of gate, measurement and annealer times in qtrain.

Projected hardware time is always ``resource counts x profile``, reported beside (never mixed
with) a simulation's wall time. Every number below is a stated assumption with its source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["HardwareProfile", "available_profiles", "get_profile", "register_profile"]


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
