"""QP-SBGD's direction solvers: candidate binary directions for a list of layer problems.

One small interface, :class:`DirectionSolver`: ``solve(problems, seed=...)`` takes the step's
:class:`~qtrain.train.qpsbgd.problem.LayerProblem` s and returns, per problem, candidate
directions ``[m, k, n]`` (``k`` per neuron, +-1) and the solver calls' ``info``. Two solvers:

* :class:`QUBODirections`: any QUBO sampler on the problems' QUBOs, one batched
  ``sample_qubo_batch`` call per QUBO size over every layer of that size
  (:func:`qtrain._batching.solve_by_size`), every read decoded;
* :class:`SignMILPDirections` (``"sign-milp"``): each neuron's exact maximiser of the sign objective
  from the big-M program of :func:`~qtrain.train.qpsbgd.milp.sign_directions_milp`.

:func:`get_direction_solver` resolves a name as a sampler is resolved: ``"sign-milp"`` is the MILP
solver, any other name a QUBO sampler (:func:`~qtrain.qubo.get_sampler`).

Reference: Krahn et al., "Projected Stochastic Gradient Descent with Quantum Annealed Binary
Gradients", arXiv:2310.15128.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._batching import solve_by_size
from qtrain._info import SolveContext
from qtrain.qubo import QUBO, QUBOSampler, get_sampler
from qtrain.qubo.milp import highs_options
from qtrain.train.qpsbgd.milp import TIE_BREAKS, sign_directions_milp
from qtrain.train.qpsbgd.problem import KINDS, LayerProblem

__all__ = ["DirectionSolver", "DirectionsResult", "QUBODirections", "SignMILPDirections",
           "get_direction_solver"]


@dataclass
class DirectionsResult:
    """What a direction solver returns for a list of problems: ``candidates``, ``sizes`` and
    ``energies`` have one entry per problem, in the problems' order.

    Attributes:
        candidates: per problem, ``[m, k, n]`` +-1 float64 candidate directions (for a
            ``projected`` problem: candidate new weights).
        sizes: per problem, ``[problems, variables]`` of the program solved.
        energies: per problem, the mean best QUBO energy over its neurons (None without a QUBO).
        info: the ``info`` of every solver call, each with ``timing`` (ns, ``total_ns`` included).
        sampler_calls: batched QUBO sampler calls made.
    """

    candidates: list[torch.Tensor] = field(default_factory=list)
    sizes: list[list[int]] = field(default_factory=list)
    energies: list[float | None] = field(default_factory=list)
    info: list[dict[str, Any]] = field(default_factory=list)
    sampler_calls: int = 0


class DirectionSolver(ABC):
    """Turns a step's layer problems into candidate directions.

    Subclasses set ``name``, ``kinds`` (the problem kinds they solve), ``uses_qubo`` (whether
    :func:`~qtrain.train.qpsbgd.problem.formulate_layer` must build each problem's QUBO for them),
    ``sizes_key`` (the ``last_info`` key of their problem sizes) and implement :meth:`solve`.
    """

    name: str = "base"
    kinds: tuple[str, ...] = KINDS
    uses_qubo: bool = True
    sizes_key: str = "qubo_sizes"
    #: The QUBO sampler behind the solver, if there is one.
    sampler: QUBOSampler | None = None

    @abstractmethod
    def solve(self, problems: Sequence[LayerProblem], *, seed: int,
              context: SolveContext | None = None) -> DirectionsResult:
        """Candidates for every problem, with ``seed`` (the optimiser's ``seed + step``) and an
        optional context (the step; solvers that need none ignore it).

        Raises:
            ValueError: a problem the solver cannot take, naming its layer; a solver's own
                ``ValueError``.
            RuntimeError: any other solver failure, naming the layers.
        """


class QUBODirections(DirectionSolver):
    """Candidates from a QUBO sampler: every read of every neuron's QUBO, decoded.

    Problems are grouped by QUBO size; each group's QUBOs are concatenated into one batch and
    sampled in one ``sample_qubo_batch(..., return_all=True)`` call, so a model whose layers share
    a fan-in costs one call per step. Every call gets the same ``seed``.

    Args:
        sampler: a :func:`~qtrain.qubo.get_sampler` name or a ``QUBOSampler``.
        num_reads: reads per problem (>= 1).
        params: extra keywords for ``sample_qubo_batch`` (e.g. ``{"num_sweeps": 200}``).

    Raises:
        ValueError: an unknown sampler name or a bad ``num_reads``; at :meth:`solve`, a QUBO
            larger than the sampler's ``max_variables`` (before any call) or a problem without
            a QUBO.

    Example:
        >>> from qtrain.train.qpsbgd.problem import formulate_layer
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> res = QUBODirections("exact", num_reads=1).solve(
        ...     [formulate_layer("0", X, G, torch.zeros(1, 2))], seed=0)
        >>> res.candidates[0].tolist(), res.sizes, res.sampler_calls
        ([[[-1.0, -1.0]]], [[1, 6]], 1)
    """

    def __init__(self, sampler: str | QUBOSampler = "anneal", num_reads: int = 10,
                 params: dict[str, Any] | None = None):
        if isinstance(num_reads, bool) or not isinstance(num_reads, int) or num_reads < 1:
            raise ValueError(f"num_reads must be a positive integer, got {num_reads!r}")
        self.sampler = get_sampler(sampler)
        self.name = self.sampler.name
        self.num_reads = num_reads
        self.params = dict(params or {})

    def solve(self, problems: Sequence[LayerProblem], *, seed: int,
              context: SolveContext | None = None) -> DirectionsResult:
        limit = self.sampler.max_variables
        for p in problems:
            if p.qubo is None or p.decode is None:
                raise ValueError(f"layer {p.name!r} has no QUBO: formulate it with with_qubo=True")
            N = p.qubo.num_variables
            if limit is not None and N > limit:
                raise ValueError(
                    f"layer {p.name!r}: its QUBO has {N} variables per neuron ({p.num_rows} rows) "
                    f"but sampler {self.sampler.name!r} takes at most {limit}; lower max_rows or "
                    "use 'anneal'")
        infos: list[dict[str, Any]] = []

        def solve_size(N: int, group: list[LayerProblem]) -> list[tuple[torch.Tensor, float]]:
            res = self._sample(N, group, seed, context)
            infos.append(res.info)
            out, start = [], 0
            for p in group:
                m = p.qubo.num_problems
                out.append((p.decode(res.samples[start:start + m]),
                            float(res.energy[start:start + m].mean())))
                start += m
            return out

        solved = solve_by_size(problems, lambda p: p.qubo.num_variables, solve_size)
        return DirectionsResult(candidates=[c for c, _ in solved],
                                sizes=[[int(p.qubo.num_problems), int(p.qubo.num_variables)]
                                       for p in problems],
                                energies=[e for _, e in solved], info=infos,
                                sampler_calls=len(infos))

    def _sample(self, N: int, group: list[LayerProblem], seed: int,
                context: SolveContext | None) -> Any:
        batch = group[0].qubo if len(group) == 1 else \
            QUBO(torch.cat([p.qubo.Q for p in group]), torch.cat([p.qubo.offset for p in group]))
        if context is not None:  # one id per neuron (problem) of the batch: (layer, index)
            context = SolveContext(step=context.step, block_ids=tuple(
                (p.name, j) for p in group for j in range(p.qubo.num_problems)))
        try:
            return self.sampler.sample_qubo_batch(batch, num_reads=self.num_reads, seed=seed,
                                                  return_all=True, context=context, **self.params)
        except Exception as exc:
            msg = (f"sampler {self.sampler.name!r} failed on layer(s) {[p.name for p in group]} "
                   f"(QUBO size {N}): {exc}")
            raise (ValueError(msg) if isinstance(exc, ValueError) else RuntimeError(msg)) from exc

    def __repr__(self) -> str:
        return f"QUBODirections({self.sampler!r}, num_reads={self.num_reads}, params={self.params})"


class SignMILPDirections(DirectionSolver):
    """Each neuron's exact sign-objective maximiser, one small big-M MILP per neuron (HiGHS).

    :func:`~qtrain.train.qpsbgd.milp.sign_directions_milp` on every problem's rows: ``n + B``
    binaries per neuron, far fewer than the linearised QUBO the ``milp`` sampler would solve (on
    a 64-input layer with 32 rows HiGHS proves a neuron optimal in about 0.03 s, where ``milp`` on
    the 120-variable QUBO of 8 rows had not closed a 95% gap after 30 s). One candidate per
    neuron; the sign objective without projection only. Registered as ``"sign-milp"``.

    Args:
        time_limit: HiGHS seconds per neuron (None: no limit).
        mip_rel_gap: HiGHS' relative gap tolerance (0: prove optimality).
        tie_break: ``"first"`` (HiGHS' maximiser) or ``"random"`` (a random maximiser per neuron,
            from a second solve over the optimal face; seeded by the step's seed).

    Raises:
        ValueError: a non-positive ``time_limit``, a negative ``mip_rel_gap`` or an unknown
            ``tie_break`` (at construction); at :meth:`solve`, a problem of another kind or a
            failing program, naming the layer.

    Example:
        >>> from qtrain.train.qpsbgd.problem import formulate_layer
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> p = formulate_layer("0", X, G, torch.zeros(1, 2), with_qubo=False)
        >>> res = SignMILPDirections().solve([p], seed=0)
        >>> res.candidates[0].tolist(), res.sizes, res.info[0]["proven_optimal"]
        ([[[-1.0, -1.0]]], [[1, 4]], True)

    References:
        Krahn et al., arXiv:2310.15128 (the objective).
    """

    name = "sign-milp"
    kinds = ("sign",)
    uses_qubo = False
    sizes_key = "milp_sizes"

    def __init__(self, time_limit: float | None = None, mip_rel_gap: float = 0.0,
                 tie_break: str = "first"):
        highs_options(time_limit, mip_rel_gap)  # checks both, before any step
        if tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
        self.time_limit, self.mip_rel_gap, self.tie_break = time_limit, mip_rel_gap, tie_break

    def solve(self, problems: Sequence[LayerProblem], *, seed: int,
              context: SolveContext | None = None) -> DirectionsResult:
        out = DirectionsResult()
        for p in problems:
            if p.kind not in self.kinds:
                raise ValueError(f"layer {p.name!r}: {self.name!r} solves the sign objective "
                                 f"without projection, not a {p.kind!r} problem")
            try:
                d, info = sign_directions_milp(p.X, p.G, p.eps, time_limit=self.time_limit,
                                               mip_rel_gap=self.mip_rel_gap,
                                               tie_break=self.tie_break, seed=seed)
            except ValueError as exc:
                raise ValueError(f"layer {p.name!r}: the sign MILP failed: {exc}") from exc
            out.candidates.append(d[:, None, :])
            out.sizes.append([p.num_problems, p.fan_in + p.num_rows])
            out.energies.append(None)
            out.info.append({"sampler": self.name, "layer": p.name, "seed": seed,
                             "tie_break": self.tie_break, "proven_optimal": info["proven_optimal"],
                             "timing": info["timing"]})
        return out

    def __repr__(self) -> str:
        return (f"SignMILPDirections(time_limit={self.time_limit!r}, "
                f"mip_rel_gap={self.mip_rel_gap!r}, tie_break={self.tie_break!r})")


#: Direction solvers by name; every other name is a QUBO sampler's.
DIRECTION_SOLVERS: dict[str, type[DirectionSolver]] = {"sign-milp": SignMILPDirections}


def get_direction_solver(sampler: str | QUBOSampler | DirectionSolver, num_reads: int = 10,
                         params: dict[str, Any] | None = None) -> DirectionSolver:
    """The direction solver ``sampler`` names, resolved as a sampler is.

    ``"sign-milp"`` (:data:`DIRECTION_SOLVERS`) is :class:`SignMILPDirections` with its defaults; a
    :class:`DirectionSolver` passes through; any other name or a ``QUBOSampler`` instance becomes
    ``QUBODirections(sampler, num_reads, params)``.

    Raises:
        ValueError: an unknown name (as :func:`~qtrain.qubo.get_sampler`), a value of another
            type, or ``params`` given to a solver that is no QUBO sampler (set its options with its
            constructor, e.g. ``SignMILPDirections(tie_break="random")``).

    Example:
        >>> get_direction_solver("sign-milp")
        SignMILPDirections(time_limit=None, mip_rel_gap=0.0, tie_break='first')
    """
    if isinstance(sampler, str) and sampler in DIRECTION_SOLVERS:
        sampler = DIRECTION_SOLVERS[sampler]()
    if isinstance(sampler, DirectionSolver):
        if params:
            raise ValueError(f"sampler_params {sorted(params)} are QUBO sampler parameters; "
                             f"{sampler.name!r} takes its options in its constructor, e.g. "
                             "SignMILPDirections(time_limit=..., tie_break='random')")
        return sampler
    if not isinstance(sampler, str | QUBOSampler):
        raise ValueError(f"sampler must be a sampler name, a QUBOSampler or a DirectionSolver, "
                         f"got {sampler!r}")
    return QUBODirections(sampler, num_reads, params)
