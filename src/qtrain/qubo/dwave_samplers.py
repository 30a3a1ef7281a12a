"""Thin adapters over dwave-samplers (simulated annealing, tabu), for comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["DWaveSASampler", "DWaveTabuSampler"]


class _PerProblemAdapter(QUBOSampler):
    """Calls a dwave-samplers sampler once per problem, each with the same ``seed``.

    That loop over problems is the point: it is the baseline qtrain's batched samplers are
    measured against. Returned reads keep dwave-samplers' order (``SampleSet.record``).
    """

    def _child(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, **params: Any
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        child = self._child()
        out = np.empty((qubo.num_problems, num_reads, qubo.num_variables), dtype=np.int8)
        for b, bqm in enumerate(qubo.to_bqm()):
            ss = child.sample(bqm, num_reads=num_reads, seed=seed, **params)
            cols = [ss.variables.index(v) for v in range(qubo.num_variables)]
            out[b] = ss.record.sample[:, cols]
        return torch.from_numpy(out), {"calls": qubo.num_problems}


class DWaveSASampler(_PerProblemAdapter):
    """``dwave.samplers.SimulatedAnnealingSampler`` behind qtrain's batch interface.

    Parameters: num_sweeps, beta_range, beta_schedule_type (dwave-samplers' own meaning).
    """

    name = "dwave-sa"
    parameter_names = ("num_sweeps", "beta_range", "beta_schedule_type")

    def _child(self) -> Any:
        from dwave.samplers import SimulatedAnnealingSampler

        return SimulatedAnnealingSampler()


class DWaveTabuSampler(_PerProblemAdapter):
    """``dwave.samplers.TabuSampler`` behind qtrain's batch interface.

    Parameters: timeout (ms per read), tenure, num_restarts.
    """

    name = "tabu"
    parameter_names = ("timeout", "tenure", "num_restarts")

    @property
    def properties(self) -> dict[str, Any]:
        # Tabu search stops on a wall-clock timeout, so equal seeds need not give equal samples.
        return {**super().properties, "seeded": False}

    def _child(self) -> Any:
        from dwave.samplers import TabuSampler

        return TabuSampler()
