"""Thin adapters over dwave-samplers (simulated annealing, tabu), for comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from qtrain._info import SEED_BOUND, peer_seed
from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler, check_positive_int

__all__ = ["DWaveSASampler", "DWaveTabuSampler"]


class _PerProblemAdapter(QUBOSampler):
    """Calls a dwave-samplers sampler once per problem, each with the same seed.

    Seeds: the peer gets ``seed mod peer_seed_bound`` (:func:`qtrain._info.peer_seed`), the range
    it accepts, recorded in ``info["peer_seed"]``.

    That loop over problems is the point: it is the baseline qtrain's batched samplers are
    measured against. Returned reads keep dwave-samplers' order (``SampleSet.record``).
    """

    #: the peer accepts seeds in [0, peer_seed_bound)
    peer_seed_bound: int = SEED_BOUND

    def _child(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, **params: Any
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        child = self._child()
        seed = peer_seed(seed, self.peer_seed_bound)
        out = np.empty((qubo.num_problems, num_reads, qubo.num_variables), dtype=np.int8)
        for b, bqm in enumerate(qubo.to_bqm()):
            ss = child.sample(bqm, num_reads=num_reads, seed=seed, **params)
            cols = [ss.variables.index(v) for v in range(qubo.num_variables)]
            out[b] = ss.record.sample[:, cols]
        return torch.from_numpy(out), {"calls": qubo.num_problems, "peer_seed": seed}


class DWaveSASampler(_PerProblemAdapter):
    """``dwave.samplers.SimulatedAnnealingSampler`` behind qtrain's batch interface.

    Parameters: num_sweeps, beta_range, beta_schedule_type (dwave-samplers' own meaning).
    Seeds: dwave-samplers' SA accepts ``[0, 2**31)``; qtrain's seed is reduced mod ``2**31``.
    """

    name = "dwave-sa"
    parameter_names = ("num_sweeps", "beta_range", "beta_schedule_type")
    peer_seed_bound = 2**31
    memory_knobs = ("fewer num_sweeps",)

    def working_bytes(self, qubo: QUBO, num_reads: int, num_sweeps: int = 1000, **params: Any) -> int:
        """The shared read buffers plus one problem's schedule (``num_sweeps`` float64 betas) and
        its ``SampleSet`` (``num_reads x n`` int8 and float64 energies)."""
        check_positive_int(num_sweeps, "num_sweeps")
        return super().working_bytes(qubo, num_reads) + 8 * num_sweeps + num_reads * (qubo.num_variables + 16)


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
