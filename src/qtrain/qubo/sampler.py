"""One sampler interface for batches of QUBOs, with dimod's ``Sampler`` API on top."""

from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np
import torch

from qtrain import _device
from qtrain._info import SolveContext, resolve_seed
from qtrain.qubo.model import QUBO

__all__ = ["QUBOResult", "QUBOSampler", "TIMING_KEYS", "as_qubo", "check_positive_int", "resolve_seed"]

#: Keys of ``info["timing"]`` (nanoseconds), identical for every sampler: the shared solver keys of
#: :data:`qtrain._info.TIMING_KEYS` plus dimod's and dwave-samplers' ``sampling_ns`` (= ``solve_ns``).
TIMING_KEYS = ("preprocessing_ns", "sampling_ns", "solve_ns", "postprocessing_ns", "total_ns")


@dataclass
class QUBOResult:
    """What a sampler returns for a batch of QUBOs.

    Attributes:
        sample: best sample per problem, 0/1 ``int8`` tensor of shape ``[..., n]``.
        energy: its energy ``x^T Q x + c`` (float64, recomputed from the model), shape ``[...]``.
        samples: every read, ``[..., num_reads, n]``, when asked for with ``return_all=True``.
        energies: energies of every read, ``[..., num_reads]``, with ``samples``.
        info: ``timing`` (ns, keys :data:`TIMING_KEYS`), ``seed``, ``sampler``, ``num_reads`` and
            sampler-specific entries. JSON-serialisable.
    """

    sample: torch.Tensor
    energy: torch.Tensor
    samples: torch.Tensor | None = None
    energies: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)


def check_positive_int(value: Any, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def as_qubo(qubo: Any) -> QUBO:
    """Accept a :class:`QUBO`, a dense matrix (tensor, array, nested list) or a dimod BQM."""
    if isinstance(qubo, QUBO):
        return qubo
    if isinstance(qubo, dimod.BinaryQuadraticModel):
        return QUBO.from_bqm(qubo)
    return QUBO(qubo)


class QUBOSampler(dimod.Sampler):
    """Base class: a sampler implements :meth:`_sample` on a flat batch; the rest is shared.

    Subclasses set ``name``, ``parameter_names`` (the keyword parameters :meth:`_sample` takes)
    and optionally ``max_variables``. Constructor keywords become default parameters.

    Every sampler is a ``dimod.Sampler``: ``sample(bqm)``, ``sample_qubo(Q)`` and
    ``sample_ising(h, J)`` return a ``dimod.SampleSet`` whose energies are dimod's own.
    """

    name: str = "base"
    parameter_names: tuple[str, ...] = ()
    max_variables: int | None = None
    default_num_reads: int = 10
    #: parameters besides ``num_reads`` that the working set grows with (named when it is refused)
    memory_knobs: tuple[str, ...] = ()

    def __init__(self, **defaults: Any):
        self._check_params(defaults)
        self.defaults = defaults

    # ------------------------------------------------------------ dimod.Sampler API
    @property
    def parameters(self) -> dict[str, list]:
        return {"num_reads": [], "seed": [], **{p: [] for p in self.parameter_names}}

    @property
    def properties(self) -> dict[str, Any]:
        return {"name": self.name, "max_variables": self.max_variables}

    def sample(self, bqm: dimod.BinaryQuadraticModel, **parameters: Any) -> dimod.SampleSet:
        """Sample a dimod BQM; returns every read as a ``SampleSet`` with dimod's energies."""
        order = list(bqm.variables)
        res = self.sample_qubo_batch(QUBO.from_bqm(bqm, order), return_all=True, **parameters)
        samples = res.samples.cpu().numpy().astype(np.int8)
        if bqm.vartype is dimod.SPIN:
            samples = 2 * samples - 1
        return dimod.SampleSet.from_samples_bqm((samples, order), bqm, info=res.info)

    # ------------------------------------------------------------ the batch API
    def sample_qubo_batch(self, qubo: Any, num_reads: int | None = None, seed: int | None = None,
                          return_all: bool = False, context: SolveContext | None = None,
                          **params: Any) -> QUBOResult:
        """Sample every problem of a batch ``num_reads`` times in one call.

        Args:
            qubo: a :class:`QUBO` of batch shape ``[...]`` (or a matrix or BQM for one problem).
            num_reads: reads per problem (default: the sampler's ``default_num_reads``).
            seed: integer seed in ``[0, 2**32)``; the same seed gives the same samples on the same
                device. ``None`` draws one (:func:`qtrain._info.resolve_seed`), recorded in
                ``info["seed"]``.
            return_all: also return every read and its energy.
            context: where the call sits in training (:class:`qtrain._info.SolveContext`); when
                given it is passed to :meth:`_sample` as the keyword ``context`` (every built-in
                sampler accepts it; composites read it, plain samplers ignore it).
            **params: sampler parameters (``parameter_names``), overriding constructor defaults.

        Returns:
            :class:`QUBOResult` with the lowest-energy read per problem.

        Raises:
            ValueError: bad ``num_reads``/``seed``/parameter values (an unknown ``device``
                included), a problem larger than ``max_variables``, or a call whose working set
                (:meth:`working_bytes`) exceeds the free memory (the message says how many reads
                fit). An empty batch (``B = 0``) or ``n = 0`` gives an empty result.
            TypeError: an unknown parameter name.
        """
        t0 = time.perf_counter_ns()
        qubo = as_qubo(qubo)
        num_reads = self.default_num_reads if num_reads is None else num_reads
        check_positive_int(num_reads, "num_reads")
        self._check_params(params)
        params = {**self.defaults, **params}
        seed = resolve_seed(seed)
        n = qubo.num_variables
        if self.max_variables is not None and n > self.max_variables:
            raise ValueError(
                f"sampler {self.name!r} takes at most {self.max_variables} variables per problem, "
                f"got n={n}; use a heuristic sampler such as 'anneal' for larger problems"
            )
        flat = qubo.flatten()
        need = self.working_bytes(flat, int(num_reads), **params)
        _device.check_bytes(need, flat.device, f"sampler {self.name!r} on {flat.num_problems} problem(s) x "
                    f"{int(num_reads)} reads x {n} variables", self._memory_hint(flat, int(num_reads), need))
        t1 = time.perf_counter_ns()
        if n == 0 or flat.num_problems == 0:  # nothing to sample: empty in, empty out
            samples, extra = torch.zeros(flat.num_problems, int(num_reads), n, dtype=torch.int8), {}
        else:
            # a context reaches _sample only when given: plain samplers need not declare it
            ctx = {} if context is None else {"context": context}
            samples, extra = self._sample(flat, int(num_reads), seed, **ctx, **params)
        t2 = time.perf_counter_ns()
        samples = samples.to(device=flat.device, dtype=torch.int8)
        energies = flat.to(torch.float64).energy(samples)
        best = torch.argmin(energies, dim=-1)
        rows = torch.arange(flat.num_problems, device=flat.device)
        batch = tuple(qubo.batch_shape)
        sample = samples[rows, best].reshape(*batch, n)
        energy = energies[rows, best].reshape(batch)
        t3 = time.perf_counter_ns()
        timing = dict(extra.pop("timing", {}))
        timing.setdefault("preprocessing_ns", t1 - t0)
        timing.setdefault("sampling_ns", t2 - t1)
        timing["solve_ns"] = timing["sampling_ns"]
        timing.setdefault("postprocessing_ns", t3 - t2)
        timing["total_ns"] = t3 - t0
        info = {"sampler": self.name, "seed": seed, "num_reads": int(num_reads),
                "timing": {k: int(timing[k]) for k in TIMING_KEYS}, **extra}
        result = QUBOResult(sample=sample, energy=energy, info=info)
        if return_all:
            result.samples = samples.reshape(*batch, int(num_reads), n)
            result.energies = energies.reshape(*batch, int(num_reads))
        return result

    @abstractmethod
    def _sample(self, qubo: QUBO, num_reads: int, seed: int, **params: Any
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Return 0/1 samples ``[B, num_reads, n]`` for a flat batch, and extra ``info`` entries.

        ``params`` holds the sampler's parameters and, when the caller gave one, ``context`` (a
        :class:`~qtrain._info.SolveContext`)."""

    def working_bytes(self, qubo: QUBO, num_reads: int, **params: Any) -> int:
        """Bytes a call holds at its peak, for the memory pre-flight: every read as ``int8``
        samples, their float64 copy for the energies and the energies themselves,
        ``B R (9 n + 16)`` for ``B`` problems of ``n`` variables and ``R`` reads. Samplers with
        larger working sets (a schedule, replicas) add theirs."""
        return qubo.num_problems * num_reads * (9 * qubo.num_variables + 16)

    def _memory_hint(self, qubo: QUBO, num_reads: int, need: int) -> str:
        """What fits: the largest ``num_reads`` at the current free memory (about: the
        working set is at most linear in ``num_reads``), and the other knobs to lower."""
        per_read = max(1, need // max(num_reads, 1))
        knobs = " or ".join(("fewer problems", *self.memory_knobs))
        return f"at most num_reads={_device.free_memory_bytes(qubo.device) // per_read} fit; use {knobs}"

    def _check_params(self, params: dict[str, Any]) -> None:
        unknown = sorted(set(params) - set(self.parameter_names))
        if unknown:
            raise TypeError(
                f"sampler {self.name!r} got unknown parameter(s) {unknown}; "
                f"it takes {sorted(self.parameter_names)}"
            )
        if "device" in params:  # a bad device fails here, before any work, as a ValueError
            _device.resolve_device(params["device"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({args})"
