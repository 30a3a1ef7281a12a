"""One ``info`` shape for every solver and optimiser: shared timing keys, one seed rule, the context.

Every solver (QUBO sampler, linear solver, search solver) returns an ``info`` dict with

* ``timing``: integer nanoseconds under :data:`TIMING_KEYS` (samplers add dimod's
  ``sampling_ns``, equal to ``solve_ns``);
* ``seed``: the seed actually used, from :func:`resolve_seed` (fresh entropy when ``None``);
* ``resources`` (quantum solvers only): qubits, oracle calls or reads, gate counts, depth and the
  projected hardware time, never mixed with the measured ``timing``.

Every optimiser's ``last_info`` has ``timing`` under :data:`OPTIMIZER_TIMING_KEYS` (the three
stages of a step: formulate, solve, apply) and ``solver_info``, the list of its solvers' ``info``.

Composite solvers (a scheduler, an embedding cache) receive an optional :class:`SolveContext` that
says which training step and which blocks a call belongs to; plain solvers ignore it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OPTIMIZER_TIMING_KEYS",
    "SEED_BOUND",
    "TIMING_KEYS",
    "SolveContext",
    "peer_seed",
    "Stopwatch",
    "resolve_seed",
    "stage_timing",
]

#: Keys of a solver's ``info["timing"]`` (integer nanoseconds).
TIMING_KEYS = ("preprocessing_ns", "solve_ns", "postprocessing_ns", "total_ns")
#: Keys of an optimiser's ``last_info["timing"]`` (integer nanoseconds).
OPTIMIZER_TIMING_KEYS = ("formulate_ns", "solve_ns", "apply_ns", "total_ns")
#: Seeds are integers in ``[0, SEED_BOUND)``.
SEED_BOUND = 2**32


def resolve_seed(seed: Any) -> int:
    """The seed rule of every solver: ``seed`` itself, or fresh entropy when ``None``.

    ``None`` draws one 32-bit integer from the operating system's entropy
    (``numpy.random.SeedSequence``); the solver records it in ``info["seed"]`` so that the run can
    be repeated. An explicit seed must be an integer in ``[0, 2**32)``.

    Raises:
        ValueError: a non-integer (``bool`` included) or an out-of-range seed.

    Example:
        >>> resolve_seed(7)
        7
        >>> 0 <= resolve_seed(None) < 2**32
        True
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an integer in [0, 2**32) or None, got {seed!r}")
    if not 0 <= int(seed) < SEED_BOUND:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}")
    return int(seed)


def peer_seed(seed: int, bound: int) -> int:
    """The seed an adapter hands to a peer library that accepts seeds in ``[0, bound)``:
    ``seed mod bound``.

    qtrain's seeds lie in ``[0, 2**32)`` (:func:`resolve_seed`); some peers take fewer
    (dwave-samplers' simulated annealing: ``[0, 2**31)``). The reduction is deterministic, so the
    same qtrain seed always gives the same peer seed; seeds that differ by a multiple of ``bound``
    give the same samples. Adapters record the peer's seed in ``info["peer_seed"]``.

    Raises:
        ValueError: a ``bound`` that is not a positive integer.

    Example:
        >>> peer_seed(2**31 + 5, 2**31)
        5
    """
    if isinstance(bound, bool) or not isinstance(bound, int) or bound < 1:
        raise ValueError(f"bound must be a positive integer, got {bound!r}")
    return int(seed) % bound


@dataclass(frozen=True)
class SolveContext:
    """Where a solver call sits in training: the optimiser's ``step`` and the ids of the problems in
    the batch (``block_ids[i]`` names problem ``i``). Composites use it (a scheduler numbers its log
    by step and keeps per-block memory); plain solvers ignore it.

    Raises:
        ValueError: a negative ``step``.
    """

    step: int | None = None
    block_ids: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if self.step is not None and (isinstance(self.step, bool) or not isinstance(self.step, int)
                                      or self.step < 0):
            raise ValueError(f"step must be a non-negative integer or None, got {self.step!r}")
        if self.block_ids is not None and not isinstance(self.block_ids, tuple):
            object.__setattr__(self, "block_ids", tuple(self.block_ids))

    def ids_for(self, count: int) -> list[Any]:
        """The ids of ``count`` problems: ``block_ids`` (which must have ``count`` entries) or
        ``0..count-1``."""
        if self.block_ids is None:
            return list(range(count))
        if len(self.block_ids) != count:
            raise ValueError(f"block_ids must have one id per problem ({count}), got {len(self.block_ids)}")
        return list(self.block_ids)


def stage_timing(t0: int, t1: int, t2: int, t3: int) -> dict[str, int]:
    """``info["timing"]`` from ``perf_counter_ns`` marks at the start, after preprocessing, after
    the solve and at the end."""
    return {"preprocessing_ns": t1 - t0, "solve_ns": t2 - t1, "postprocessing_ns": t3 - t2,
            "total_ns": t3 - t0}


class Stopwatch:
    """Stage timer of an optimiser step: ``lap(stage)`` adds the nanoseconds since the last lap to
    ``stage``; :meth:`timing` returns :data:`OPTIMIZER_TIMING_KEYS`, ``total_ns`` since creation.

    Example:
        >>> sw = Stopwatch()
        >>> sw.lap("formulate"); sw.lap("solve"); sw.lap("apply")
        >>> sorted(sw.timing())
        ['apply_ns', 'formulate_ns', 'solve_ns', 'total_ns']
    """

    _STAGES: Sequence[str] = ("formulate", "solve", "apply")

    def __init__(self) -> None:
        self.start = self._last = time.perf_counter_ns()
        self.ns = dict.fromkeys(self._STAGES, 0)

    def lap(self, stage: str) -> None:
        if stage not in self.ns:
            raise ValueError(f"stage must be one of {tuple(self.ns)}, got {stage!r}")
        now = time.perf_counter_ns()
        self.ns[stage] += now - self._last
        self._last = now

    def timing(self) -> dict[str, int]:
        out = {f"{k}_ns": int(v) for k, v in self.ns.items()}
        out["total_ns"] = int(self._last - self.start)
        return out
