"""Simulated bifurcation (SB): the classical dynamics a coherent Ising machine approximates.

For the Ising energy ``E(s) = -1/2 s^T J s - h^T s`` (``s = 2x - 1``, from the QUBO by
:meth:`~qtrain.qubo.QUBO.to_ising`: ``J = -(J_q + J_q^T)``, ``h = -h_q``), every spin has a position
``x_i`` and a momentum ``y_i``; with ``a(t)`` ramped linearly from 0 to ``a_0`` over ``num_steps``
steps of ``dt`` and ``c_0 = 0.5 / (sqrt(n) std(J))``,

* ballistic SB (bSB):  ``y += (-(a_0 - a(t)) x + c_0 (J x + h)) dt``,  ``x += a_0 y dt``;
* discrete SB (dSB):   the same with ``J sign(x)`` in the coupling term;

and where ``|x_i| > 1``: ``x_i = sign(x_i)``, ``y_i = 0`` (inelastic walls). The read-out is
``s = sign(x)`` (``sign(0) = +1``). Every (problem, agent) pair evolves in one batched tensor
``[B, agents, n]``, on the CPU or CUDA.

References:
    Goto, Tatsumura, Dixon, "Combinatorial optimization by simulating adiabatic bifurcations in
    nonlinear Hamiltonian systems", Sci. Adv. 5 (2019) eaav2372; Goto et al., "High-performance
    combinatorial optimization based on classical mechanics", Sci. Adv. 7 (2021) eabe7953.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from qtrain._device import resolve_device
from qtrain.qubo.model import QUBO
from qtrain.qubo.sampler import QUBOSampler

__all__ = ["SimulatedBifurcationSampler", "bifurcate", "ising_couplings"]


def ising_couplings(qubo: QUBO) -> tuple[torch.Tensor, torch.Tensor]:
    """``(J, h)`` of SB's convention ``E = -1/2 s^T J s - h^T s + const`` for a flat batch:
    ``J = -(J_q + J_q^T)`` (symmetric, zero diagonal) and ``h = -h_q`` from
    :meth:`~qtrain.qubo.QUBO.to_ising` (``E = h_q s + s^T J_q s + const``)."""
    hq, Jq, _ = qubo.to_ising()
    return -(Jq + Jq.transpose(-1, -2)), -hq


@torch.no_grad()
def bifurcate(J: torch.Tensor, h: torch.Tensor, x: torch.Tensor, y: torch.Tensor, num_steps: int,
              dt: float, a0: float, c0: torch.Tensor, discrete: bool) -> torch.Tensor:
    """Run SB on ``[B, R, n]`` positions and momenta (updated in place); return the spins ``sign(x)``.

    A pure kernel: ``J [B, n, n]``, ``h [B, n]``, ``c0 [B]``; the pump ``a(t) = a0 t / num_steps``.
    """
    c = c0[:, None, None]
    hb = h[:, None, :]
    for t in range(num_steps):
        a = a0 * t / num_steps
        field = torch.sign(x) if discrete else x
        y.add_((-(a0 - a) * x + c * (torch.matmul(field, J) + hb)) * dt)
        x.add_(a0 * y * dt)
        wall = x.abs() > 1
        x.copy_(torch.where(wall, torch.sign(x), x))
        y.masked_fill_(wall, 0.0)
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


class SimulatedBifurcationSampler(QUBOSampler):
    r"""Ballistic or discrete simulated bifurcation on batches of QUBOs: ``agents = num_reads``.

    Every problem of the batch runs ``num_reads`` agents in one tensor; the agents' initial
    positions and momenta (uniform in ``(-0.1, 0.1)``) are drawn from ``seed`` alone and shared by
    the problems of the batch, so a problem gives inside a batch what it gives alone (same
    device). ``polish=True`` ends every agent with greedy 1-flip descent.

    Parameters (``sample_qubo_batch`` keywords):
        num_steps (int, 1000), dt (float, 1.0 ballistic / 1.25 discrete: Goto et al.'s values),
        mode ("ballistic" | "discrete"), a0 (float, 1.0), c0 (float or None: ``0.5 / (sqrt(n)
        std(J))``), polish (bool, False), device ("auto" | "cpu" | "cuda"), precision
        ("float32" | "float64").

    Raises:
        ValueError: a bad parameter (naming it and its range).

    Example:
        >>> from qtrain.testing import random_qubo
        >>> res = SimulatedBifurcationSampler().sample_qubo_batch(random_qubo(2, 8), num_reads=16, seed=0)
        >>> tuple(res.sample.shape)
        (2, 8)

    References:
        Goto, Tatsumura, Dixon, Sci. Adv. 5 (2019) eaav2372; Goto et al., Sci. Adv. 7 (2021) eabe7953.
    """

    name = "sb"
    parameter_names = ("num_steps", "dt", "mode", "a0", "c0", "polish", "device", "precision")
    default_num_reads = 64

    def _sample(self, qubo: QUBO, num_reads: int, seed: int, context: Any = None, num_steps: int = 1000,
                dt: float | None = None, mode: str = "ballistic", a0: float = 1.0, c0: float | None = None,
                polish: bool = False, device: Any = "auto", precision: str = "float32",
                ) -> tuple[torch.Tensor, dict[str, Any]]:
        if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
        if mode not in ("ballistic", "discrete"):
            raise ValueError(f"mode must be 'ballistic' or 'discrete', got {mode!r}")
        dt = (1.0 if mode == "ballistic" else 1.25) if dt is None else dt
        for name, v in (("dt", dt), ("a0", a0)) + ((("c0", c0),) if c0 is not None else ()):
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        if precision not in ("float32", "float64"):
            raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
        dev = resolve_device(device)
        dtype = getattr(torch, precision)
        flat = qubo.to(dev, torch.float64)
        J, h = ising_couplings(flat)
        B, n = h.shape
        if c0 is None:
            std = J.flatten(1).std(dim=1) if n > 1 else torch.zeros(B, dtype=torch.float64, device=dev)
            scale = torch.where(std > 0, std, h.abs().amax(-1).clamp_min(1e-12))
            c0t = 0.5 / (math.sqrt(n) * scale)
        else:
            c0t = torch.full((B,), float(c0), dtype=torch.float64, device=dev)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        init = (torch.rand(2, num_reads, n, generator=gen, dtype=torch.float64) - 0.5) * 0.2
        x = init[0].to(dev, dtype).expand(B, -1, -1).clone()
        y = init[1].to(dev, dtype).expand(B, -1, -1).clone()
        s = bifurcate(J.to(dtype), h.to(dtype), x, y, num_steps, float(dt), float(a0), c0t.to(dtype),
                      mode == "discrete")
        bits = ((s + 1) / 2).to(torch.float64)
        if polish:
            from qtrain.qubo.anneal import _descend_torch

            W, d = flat.couplings(), flat.linear()
            bits = _descend_torch(W, d[:, None, :] + bits @ W, bits)
        return bits.to(torch.int8), {"mode": mode, "num_steps": num_steps, "dt": float(dt),
                                     "agents": num_reads, "device": str(dev)}
