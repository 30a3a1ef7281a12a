"""Brute-force ground states of batches of small QUBOs, vectorised in torch."""

from __future__ import annotations

from typing import Any

import torch

from qtrain.qubo.anneal import resolve_device
from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["ExactSampler", "enumerate_energies"]


def _states(start: int, stop: int, n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Rows ``start..stop-1`` of the truth table: bit ``i`` of the row index is ``x_i``."""
    idx = torch.arange(start, stop, device=device, dtype=torch.int64)
    return ((idx[:, None] >> torch.arange(n, device=device)) & 1).to(dtype)


def enumerate_energies(qubo: QUBO, start: int = 0, stop: int | None = None) -> torch.Tensor:
    """Energies of states ``start..stop-1`` (state index ``k`` has ``x_i = (k >> i) & 1``).

    Returns a ``[B, stop - start]`` tensor for the flattened batch, computed as
    ``rowsum((X Q) * X) + c`` in one batched matrix product.
    """
    flat = qubo.flatten()
    n = flat.num_variables
    stop = 2**n if stop is None else stop
    X = _states(start, stop, n, flat.device, flat.dtype)
    return ((X @ flat.Q) * X).sum(-1) + flat.offset[:, None]


class ExactSampler(QUBOSampler):
    r"""Exhaustive search over all ``2^n`` states: the ``num_reads`` lowest-energy states per problem.

    States are enumerated in chunks of at most ``chunk_elements / (B n)`` rows; each chunk's energies
    ``E = rowsum((X Q) * X) + c`` come from one batched matrix product in float64, CPU or CUDA, and a
    running top-k keeps the best. Deterministic: ``seed`` is recorded but not used. When
    ``num_reads`` exceeds ``2^n`` the ground state fills the remaining reads.

    Args:
        max_variables: refuse problems larger than this (default 26: ``2^26`` states times ``n^2``
            flops is about a minute on two CPU cores). Raise it knowingly.
        device: "auto" | "cpu" | "cuda".
        chunk_elements: memory budget of one chunk in tensor elements (default ``2^24``).
    """

    name = "exact"
    parameter_names = ("device", "chunk_elements")

    def __init__(self, max_variables: int = 26, **defaults: Any):
        if not isinstance(max_variables, int) or not 1 <= max_variables <= 40:
            raise ValueError(f"max_variables must be an integer in [1, 40], got {max_variables!r}")
        self.max_variables = max_variables
        super().__init__(**defaults)

    @property
    def properties(self) -> dict[str, Any]:
        return {**super().properties, "deterministic": True}

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, device: Any = "auto",
                chunk_elements: int = 2**24) -> tuple[torch.Tensor, dict[str, Any]]:
        flat = qubo.to(resolve_device(device), torch.float64)
        B, n = flat.num_problems, flat.num_variables
        total = 2**n
        k = min(num_reads, total)
        chunk = max(k, min(total, max(1, chunk_elements // max(1, B * n))))
        best_e = torch.empty(B, 0, dtype=torch.float64, device=flat.device)
        best_i = torch.empty(B, 0, dtype=torch.int64, device=flat.device)
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            e = enumerate_energies(flat, start, stop)
            idx = torch.arange(start, stop, device=flat.device).expand(B, -1)
            cat_e, cat_i = torch.cat([best_e, e], 1), torch.cat([best_i, idx], 1)
            best_e, pos = torch.topk(cat_e, k, dim=1, largest=False, sorted=True)
            best_i = cat_i.gather(1, pos)
        if k < num_reads:
            best_i = torch.cat([best_i, best_i[:, :1].expand(B, num_reads - k)], 1)
        samples = (best_i[..., None] >> torch.arange(n, device=flat.device)) & 1
        return samples.to(torch.int8), {"states_enumerated": total, "device": str(flat.device)}
