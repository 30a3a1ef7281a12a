"""QAOA of depth ``p`` on a cost vector or a QUBO, simulated on the amplitudes.

``|gamma, beta> = prod_{l=1..p} exp(-i beta_l sum_j X_j) exp(-i gamma_l C) H^n |0>``
(Farhi, Goldstone, Gutmann, arXiv:1411.4028). The cost layer is diagonal (one multiplication);
the mixer is ``RX(2 beta_l)`` on every qubit, applied as ``n`` strided 2x2 updates per state.
Angles are optimised classically with Adam on the exact expectation (autograd through the
simulation), from seeded restarts; a batch of problems runs as one batch of states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._info import resolve_seed
from qtrain.quantum.resources import Resources

__all__ = ["QAOAResult", "qaoa", "qaoa_costs", "qaoa_state"]


def qaoa_costs(problem: Any) -> torch.Tensor:
    """Cost vector ``[..., 2^n]`` of a problem: a tensor as is, a ``QUBO`` enumerated
    (state ``k`` has ``x_i = (k >> i) & 1``, energy ``x^T Q x + c``)."""
    if hasattr(problem, "Q") and hasattr(problem, "offset"):
        from qtrain.qubo.exact import enumerate_energies  # lazy: quantum imports qubo on demand

        n = problem.num_variables
        if n > 26:
            raise ValueError(f"QUBO with n={n} variables is too large to enumerate (at most 26)")
        return enumerate_energies(problem.to(torch.float64)).reshape(*problem.batch_shape, 2**n)
    c = torch.as_tensor(problem)
    if c.dim() < 1:
        raise ValueError("costs must have shape [..., 2^n]")
    c = c.to(torch.float64)
    N = c.shape[-1]
    if N < 2 or N & (N - 1):
        raise ValueError(f"costs must have a power-of-two length >= 2, got {N}")
    if not bool(torch.isfinite(c).all()):
        raise ValueError("costs must be finite (found NaN or inf)")
    return c


def _mixer(psi: torch.Tensor, n: int, beta: torch.Tensor) -> torch.Tensor:
    """``exp(-i beta sum_j X_j)`` on every state of ``psi [R, 2^n]`` (``beta [R]``)."""
    R = psi.shape[0]
    c = torch.cos(beta).to(psi.dtype)[:, None, None]
    s = (-1j * torch.sin(beta)).to(psi.dtype)[:, None, None]
    for q in range(n):
        v = psi.reshape(R, 2 ** (n - q - 1), 2, 2**q)
        a0, a1 = v[:, :, 0], v[:, :, 1]
        psi = torch.stack([c * a0 + s * a1, s * a0 + c * a1], dim=2).reshape(R, 2**n)
    return psi


def qaoa_state(costs: Any, gammas: Any, betas: Any, dtype: torch.dtype = torch.complex128) -> torch.Tensor:
    """Amplitudes of the QAOA state for costs ``[R, 2^n]`` and angles ``[R, p]`` (or ``[p]``).

    Raises:
        ValueError: ``p < 1``, angle shapes that differ.
    """
    c = qaoa_costs(costs)
    g = torch.as_tensor(gammas, dtype=torch.float64, device=c.device)
    b = torch.as_tensor(betas, dtype=torch.float64, device=c.device)
    if g.shape != b.shape or g.dim() < 1 or g.shape[-1] < 1:
        raise ValueError(f"gammas and betas must have the same shape [..., p] with p >= 1, got "
                         f"{tuple(g.shape)} and {tuple(b.shape)}")
    flat = c.reshape(-1, c.shape[-1])
    R, N = flat.shape
    n = N.bit_length() - 1
    g, b = g.reshape(-1, g.shape[-1]).expand(R, -1), b.reshape(-1, b.shape[-1]).expand(R, -1)
    psi = torch.full((R, N), 1 / math.sqrt(N), dtype=dtype, device=flat.device)
    for layer in range(g.shape[-1]):
        psi = psi * torch.polar(torch.ones_like(flat), -g[:, layer:layer + 1] * flat).to(dtype)
        psi = _mixer(psi, n, b[:, layer])
    return psi.reshape(*c.shape)


@dataclass
class QAOAResult:
    """Optimised QAOA (tensors of the batch shape unless noted).

    Attributes:
        gammas, betas: ``[..., p]`` angles for the original costs (radians).
        expectation: ``<C>`` at those angles.
        probabilities: ``[..., 2^n]`` outcome distribution.
        index: the most likely outcome; ``value``: its cost.
        success_probability: probability of measuring a global minimiser.
        oracle_calls: cost-layer applications in the optimisation: ``p`` per circuit evaluation,
            counting ``1 + 4p`` evaluations per Adam step (one value, parameter-shift gradient).
        trace: per restart and step, the normalised expectation (``[..., restarts, steps]``).
        resources: one circuit's resources (a QAOA layer of P/CP/RX gates for a QUBO, a diagonal
            phase gate for a cost vector), with ``oracle_calls`` as above.
        seed: the seed used.
    """

    gammas: torch.Tensor
    betas: torch.Tensor
    expectation: torch.Tensor
    probabilities: torch.Tensor
    index: torch.Tensor
    value: torch.Tensor
    success_probability: torch.Tensor
    oracle_calls: int
    trace: torch.Tensor | None = None
    resources: Resources | None = None
    seed: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _layer_resources(problem: Any, n: int, p: int) -> Resources:
    if hasattr(problem, "Q"):
        Q = problem.Q.reshape(-1, n, n)
        pairs = int(((Q + Q.transpose(-1, -2)).triu(1) != 0).any(0).sum())
        counts = {"h": n, "p": n * p, "cp": pairs * p, "rx": n * p}
        return Resources.from_counts(counts, qubits=n, measurements=n)
    counts = {"h": n, "diagonal": p, "rx": n * p}
    return Resources.from_counts(counts, qubits=n, measurements=n, diagonal_sizes=[n] * p)


def qaoa(problem: Any, p: int = 1, seed: int | None = None, restarts: int = 4, steps: int = 100,
         lr: float = 0.05) -> QAOAResult:
    """QAOA of depth ``p`` with seeded classical angle optimisation.

    The costs are standardised (``C' = (C - mean) / std``) for the optimisation, which runs Adam
    on ``<C'>`` for ``steps`` steps from ``restarts`` initial angle sets: a linear ramp
    (``gamma_l = 0.8 (l + 1/2) / p``, ``beta_l = 0.8 (1 - (l + 1/2) / p)``) and uniform random
    draws. The best restart per problem is kept; ``gammas`` are reported for the original costs
    (``gamma = gamma' / std``; the shift only adds a global phase).

    Args:
        problem: costs ``[..., 2^n]`` or a ``QUBO`` (batch allowed).
        p: depth ``>= 1``.
        seed: seeds the random restarts (``None``: fresh entropy, :func:`qtrain._info.resolve_seed`;
            recorded in the result's ``seed``).
        restarts: initial angle sets ``>= 1``.
        steps: Adam steps ``>= 0``.
        lr: Adam learning rate ``> 0``.

    Raises:
        ValueError: ``p < 1``, ``restarts < 1``, ``steps < 0``, ``lr <= 0``, non-finite costs, a seed
            outside ``[0, 2**32)``.

    References:
        Farhi, Goldstone & Gutmann, arXiv:1411.4028; Zhou et al., arXiv:1812.01041 (ramp init).
    """
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"p must be an integer >= 1, got {p!r}")
    if not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an integer >= 1, got {restarts!r}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    seed = resolve_seed(seed)
    costs = qaoa_costs(problem)
    batch, N = costs.shape[:-1], costs.shape[-1]
    n = N.bit_length() - 1
    flat = costs.reshape(-1, N)
    B = flat.shape[0]
    mean = flat.mean(-1, keepdim=True)
    std = flat.std(-1, unbiased=False, keepdim=True)
    std = torch.where(std > 0, std, torch.ones_like(std))
    cn = ((flat - mean) / std)[:, None, :].expand(B, restarts, N).reshape(B * restarts, N)
    # Initial angles per restart, shared by every problem (a batch equals its problems one by one).
    gen = torch.Generator().manual_seed(seed)
    ramp = (torch.arange(p, dtype=torch.float64) + 0.5) / p
    init = torch.rand(restarts, 2, p, generator=gen, dtype=torch.float64)
    init[:, 0] *= math.pi / 2
    init[:, 1] *= math.pi / 4
    init[0, 0], init[0, 1] = 0.8 * ramp, 0.8 * (1 - ramp)
    theta = init[None].expand(B, restarts, 2, p).reshape(B * restarts, 2, p).to(flat.device).requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=lr)
    history = torch.zeros(B * restarts, steps, dtype=torch.float64, device=flat.device)
    for step in range(steps):
        opt.zero_grad()
        psi = qaoa_state(cn, theta[:, 0], theta[:, 1])
        e = (psi.abs().pow(2) * cn).sum(-1)
        history[:, step] = e.detach()
        e.sum().backward()
        opt.step()
    with torch.no_grad():
        th = theta.detach()
        psi = qaoa_state(cn, th[:, 0], th[:, 1])
        e = (psi.abs().pow(2) * cn).sum(-1).reshape(B, restarts)
        best = e.argmin(-1)
        rows = torch.arange(B, device=flat.device)
        th = th.reshape(B, restarts, 2, p)[rows, best]
        probs = psi.abs().pow(2).reshape(B, restarts, N)[rows, best]
    gammas, betas = th[:, 0] / std, th[:, 1]
    expectation = (probs * flat).sum(-1)
    index = probs.argmax(-1)
    cmin = flat.min(-1, keepdim=True).values
    success = (probs * (flat == cmin)).sum(-1)
    evaluations = restarts * (steps * (1 + 4 * p) + 1)
    res = _layer_resources(problem, n, p)
    res.oracle_calls = p * evaluations
    return QAOAResult(
        gammas=gammas.reshape(*batch, p), betas=betas.reshape(*batch, p),
        expectation=expectation.reshape(batch), probabilities=probs.reshape(*batch, N),
        index=index.reshape(batch), value=flat[rows, index].reshape(batch),
        success_probability=success.reshape(batch), oracle_calls=p * evaluations,
        trace=history.reshape(*batch, restarts, steps), resources=res, seed=seed,
        info={"circuit_evaluations": evaluations, "p": p, "restarts": restarts, "steps": steps})
