"""D-Wave quantum annealers through dwave-system (extra ``dwave``), with a cached embedding."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["DWaveQPUSampler"]

_TOKEN_HELP = (
    "no D-Wave API token found. Provide one with the DWAVE_API_TOKEN environment variable, "
    "get_sampler('dwave', token=...), or a configuration file written by `dwave config create`; "
    "install the extra with `pip install 'qtrain[dwave]'`. Without an account, use 'anneal' or "
    "pass child=dwave.system.testing.MockDWaveSampler() to try the pipeline offline."
)


@contextmanager
def _cloud_errors() -> Iterator[None]:
    """dwave-cloud-client's network and API errors (``OSError`` subclasses: timeouts, refused
    connections, a bad token) as one ``RuntimeError`` that says what to do."""
    try:
        yield
    except OSError as exc:
        raise RuntimeError(f"cannot reach the D-Wave solver ({type(exc).__name__}: {exc}); check the "
                           "network and the API token, or use a local sampler such as 'anneal'") from exc


def _require_dwave_system() -> Any:
    try:
        import dwave.system  # noqa: F401
        import minorminer
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "the 'dwave' sampler needs dwave-system: pip install 'qtrain[dwave]'"
        ) from exc
    return minorminer


class DWaveQPUSampler(QUBOSampler):
    r"""Sample QUBOs on a D-Wave QPU (or any structured dimod sampler standing in for one).

    Per problem: find a minor embedding of the coupling graph (``W_ij != 0``) into the QPU graph with
    minorminer, **once per problem structure** (cached on the sampler: later problems with the same
    graph, or a subgraph of a cached one, reuse it, as consecutive training steps do); set the chain
    strength by uniform torque compensation unless given; sample the embedded Ising model; resolve
    broken chains by majority vote. ``info`` reports ``chain_break_fraction`` (mean over reads and problems),
    ``physical_qubits`` (largest over the batch), ``embedding_cache_hits``/``misses``, the QPU's
    own ``qpu_timing``, and ``resources`` (``qubits``: physical qubits, ``reads``: all reads of the
    batch, ``qpu_access_time_us``: the QPU's reported access time, ``None`` when it reports none).

    A composite over one structured sampler: ``children == [child]``.

    A QPU is not seed-reproducible: ``seed`` seeds the embedding search only.

    Args:
        child: a structured dimod sampler (``DWaveSampler``, ``MockDWaveSampler``). Default: a
            ``DWaveSampler`` opened on first use with ``token``/``solver``.
        token: D-Wave API token (else ``DWAVE_API_TOKEN`` or the dwave config file).
        solver: solver selection passed to ``DWaveSampler``.

    Parameters: chain_strength (float or None), annealing_time (µs), embedding_tries (int, 10).

    References:
        Cai, Macready, Roy, arXiv:1406.2741 (minorminer); Boothby et al., arXiv:1905.08491 (chain
        strength).
    """

    name = "dwave"
    parameter_names = ("chain_strength", "annealing_time", "embedding_tries")
    default_num_reads = 100

    def __init__(self, child: Any = None, token: str | None = None, solver: Any = None,
                 **defaults: Any):
        _require_dwave_system()
        super().__init__(**defaults)
        self._child = child
        self._opened = False  # whether _child was opened here from the token
        self._token = token
        self._solver = solver
        self.embedding_cache: dict[tuple, dict[int, list[int]]] = {}

    @property
    def properties(self) -> dict[str, Any]:
        return {**super().properties, "seeded": False}

    @property
    def children(self) -> list[Any]:
        """``[child]``: this sampler is a composite (an embedding cache) over one structured
        sampler, like dwave-system's ``EmbeddingComposite``."""
        return [self.child]

    @property
    def child(self) -> Any:
        """The structured sampler; opens a ``DWaveSampler`` on first use, with a clear token error."""
        if self._child is None:
            from dwave.cloud.config import load_config
            from dwave.system import DWaveSampler

            token = self._token or os.environ.get("DWAVE_API_TOKEN")
            if not token:
                try:
                    token = load_config().get("token")
                except Exception:  # an unreadable config file is the same as none
                    token = None
            if not token:
                raise RuntimeError(_TOKEN_HELP)
            with _cloud_errors():
                self._child = DWaveSampler(token=token, solver=self._solver)
            self._opened = True
        return self._child

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without the API token and without a ``DWaveSampler`` opened from it (it holds
        the token too); the unpickled sampler opens a new one from ``DWAVE_API_TOKEN`` or the
        config file. A ``child`` given by the caller is kept."""
        state = dict(self.__dict__)
        state["_token"] = None
        if state.get("_opened"):
            state["_child"], state["_opened"] = None, False
        return state

    def _embedding(self, key: tuple, n: int, edges: list[tuple[int, int]], seed: int,
                   tries: int) -> tuple[dict[int, list[int]], bool]:
        if key in self.embedding_cache:
            return self.embedding_cache[key], True
        # An embedding of a supergraph serves any of its subgraphs (every needed coupling has a
        # coupler between the two chains): training steps whose couplings cancel to exactly zero
        # somewhere keep their embedding.
        needed = set(edges)
        for (m, cached_edges), emb in self.embedding_cache.items():
            if m == n and len(cached_edges) >= len(needed) and needed.issubset(cached_edges):
                self.embedding_cache[key] = emb
                return emb, True
        import minorminer
        import networkx as nx

        source = nx.Graph()
        source.add_nodes_from(range(n))
        source.add_edges_from(edges)
        target = self.child.edgelist
        emb = minorminer.find_embedding(source, target, random_seed=seed, tries=tries)
        if len(emb) < n:
            raise ValueError(
                f"could not embed a problem with n={n} variables and {len(edges)} couplings into the "
                f"QPU graph ({len(self.child.nodelist)} qubits); use a smaller problem or 'anneal'"
            )
        emb = {v: list(chain) for v, chain in emb.items()}
        self.embedding_cache[key] = emb
        return emb, False

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, chain_strength: float | None = None,
                annealing_time: float | None = None, embedding_tries: int = 10,
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        import dimod
        from dwave.embedding import embed_bqm, unembed_sampleset
        from dwave.embedding.chain_breaks import majority_vote
        from dwave.embedding.chain_strength import uniform_torque_compensation

        child = self.child
        adjacency = child.adjacency
        n = qubo.num_variables
        out = np.empty((qubo.num_problems, num_reads, n), dtype=np.int8)
        hits = misses = physical = 0
        breaks, strengths, qpu_timing = [], [], []
        couplings = qubo.couplings().detach().cpu().numpy()
        qpu_params = {} if annealing_time is None else {"annealing_time": annealing_time}
        for b, bqm in enumerate(qubo.to_bqm()):
            iu, ju = np.nonzero(np.triu(couplings[b], 1))
            edges = list(zip(iu.tolist(), ju.tolist(), strict=True))
            key = (n, tuple(edges))
            emb, hit = self._embedding(key, n, edges, seed, embedding_tries)
            hits, misses = hits + hit, misses + (not hit)
            physical = max(physical, sum(len(c) for c in emb.values()))
            spin = bqm.change_vartype(dimod.SPIN, inplace=False)
            strength = (uniform_torque_compensation(spin, emb) if chain_strength is None
                        else float(chain_strength))
            strengths.append(float(strength))
            embedded = embed_bqm(spin, emb, adjacency, chain_strength=strength)
            with _cloud_errors():
                ss = child.sample(embedded, num_reads=num_reads, **qpu_params)
                ss.resolve()
            qpu_timing.append(dict(ss.info.get("timing", {})))
            un = unembed_sampleset(ss, emb, spin, chain_break_method=majority_vote,
                                   chain_break_fraction=True)
            rows = np.repeat(np.arange(len(un.record)), un.record.num_occurrences)[:num_reads]
            rows = np.resize(rows, num_reads)
            cols = [un.variables.index(v) for v in range(n)]
            out[b] = (un.record.sample[rows][:, cols] + 1) // 2  # spins -> bits
            breaks.append(float(np.mean(un.record.chain_break_fraction[rows])))
        access_us = [t.get("qpu_access_time") for t in qpu_timing]
        info = {
            "resources": {"qubits": int(physical), "reads": int(num_reads * qubo.num_problems),
                          "qpu_access_time_us": (float(sum(access_us)) if access_us and None not in access_us
                                                 else None)},
            "chain_break_fraction": float(np.mean(breaks)),
            "physical_qubits": int(physical),
            "chain_strength": strengths,
            "embedding_cache_hits": int(hits),
            "embedding_cache_misses": int(misses),
            "qpu_timing": qpu_timing,
        }
        return torch.from_numpy(out), info
