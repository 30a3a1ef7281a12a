"""A simulated quantum linear-system solver: exact dense solve or a tiny HHL statevector run,
optional perturbation to the requested error, and the modelled quantum cost in ``info``."""

from __future__ import annotations

import math
from typing import Any

import torch

from qtrain.linalg.cost import QLSACostModel
from qtrain.linalg.solvers import LinearSolver, direct_solve, relative_residual, residual_tolerance
from qtrain.quantum.statevector import Statevector

__all__ = ["HHL_MAX_N", "SimulatedQLSASolver", "hhl_statevector", "structural_sparsity"]

#: Largest block the HHL statevector run accepts (system register of log2(16) = 4 qubits).
HHL_MAX_N = 16
_MAX_CLOCK = 12


def structural_sparsity(A: torch.Tensor) -> torch.Tensor:
    """``d``: the largest number of non-zero entries in any row, per block (int64 ``[...]``)."""
    return (A != 0).sum(-1).amax(-1)


def hhl_statevector(A: torch.Tensor, b: torch.Tensor, clock_qubits: int = 8
                    ) -> tuple[torch.Tensor, dict[str, Any]]:
    r"""Solve ``A x = b`` by simulating HHL on a ``(1 + t + log2 N)``-qubit statevector.

    Registers: one ancilla, a clock of ``t = clock_qubits`` qubits and the system (``N`` padded
    to ``2^n`` with ``|lambda|_max I``; the padded part of ``b`` is 0). The circuit runs gate by
    gate on qtrain's statevector engine (:class:`qtrain.quantum.Statevector`, complex128), one
    block at a time:

    1. ``|0>_a |0>_c |b>`` with ``|b> = b / ||b||``; Hadamards on the clock;
    2. ``U^(2^j)`` controlled by clock qubit ``j`` (together ``U^c``), ``U = exp(i A t_0)``,
       ``t_0 = 2 pi (T/2 - 1) / (T |lambda|_max)``,
       ``T = 2^t`` (so ``|lambda|_max`` lands on clock value ``T/2 - 1``; eigenvalues are signed
       in two's complement); ``U^c = V diag(exp(i lambda c t_0)) V^H`` from ``eigh``;
    3. inverse QFT on the clock (phase estimation);
    4. ancilla rotation ``|0> -> sqrt(1 - C^2/l_k^2)|0> + (C/l_k)|1>`` with
       ``l_k = 2 pi k / (T t_0)`` and ``C = 2 pi / (T t_0)`` (clock value 0 is left alone);
    5. uncompute: QFT, controlled ``U^{-c}``, Hadamards;
    6. post-select ancilla 1 and clock 0: the system holds ``C A^{-1} |b>`` when the eigenphases
       are exact on ``t`` bits (approximately otherwise).

    The norm is recovered from the success probability, ``||A^{-1} b|| = sqrt(p) ||b|| / C``, as
    amplitude estimation would; the real part is returned (``A`` and ``b`` are real).

    Args:
        A: symmetric invertible matrices ``[..., N, N]``, ``N <= 16``.
        b: right-hand sides ``[..., N]``, non-zero.
        clock_qubits: ``t``, 2 to 12.

    Returns:
        ``(x, info)`` with ``info``: ``qubits``, ``clock_qubits``, ``success_probability``
        (list per block) and ``norm_error`` (deviation of the final state's norm from 1).

    Raises:
        ValueError: ``N > 16``, ``clock_qubits`` out of range, a zero ``b``.

    References:
        Harrow, Hassidim, Lloyd, arXiv:0811.3171.
    """
    N = A.shape[-1]
    if N > HHL_MAX_N:
        raise ValueError(f"the HHL statevector run needs N <= {HHL_MAX_N} (1 + t + log2 N qubits "
                         f"simulated gate by gate), got N = {N}; use method='exact'")
    if not 2 <= clock_qubits <= _MAX_CLOCK:
        raise ValueError(f"clock_qubits must be in [2, {_MAX_CLOCK}], got {clock_qubits}")
    bnorm = torch.linalg.vector_norm(b, dim=-1)
    if bool((bnorm == 0).any()):
        raise ValueError("b must be non-zero in every block for HHL (|b> is a normalised state)")
    n = max(1, math.ceil(math.log2(N)))
    M, T = 2**n, 2**clock_qubits
    dev, cdt = A.device, torch.complex128
    A64, b64 = A.to(torch.float64), b.to(torch.float64)
    lam, V = torch.linalg.eigh(A64)
    lmax = lam.abs().amax(-1)
    if M > N:  # pad with |lambda|_max on the unused basis states; b is 0 there
        pad = torch.zeros(*A.shape[:-2], M, M, dtype=torch.float64, device=dev)
        pad[..., :N, :N] = A64
        idx = torch.arange(N, M, device=dev)
        pad[..., idx, idx] = lmax.unsqueeze(-1)
        lam, V = torch.linalg.eigh(pad)
        b64 = torch.cat([b64, b64.new_zeros(*b.shape[:-1], M - N)], -1)
    t0 = 2 * math.pi * (T / 2 - 1) / (T * lmax)                                  # [...]
    bhat = (b64 / bnorm.unsqueeze(-1).to(torch.float64)).to(cdt)
    kk = torch.arange(T, dtype=torch.float64)
    F = torch.exp(2j * math.pi * torch.outer(kk, kk) / T) / math.sqrt(T)           # QFT on the clock
    # ancilla rotation by the clock's eigenvalue estimate (two's complement sign), as one gate on
    # (clock, ancilla): |c>|0> -> |c>(sqrt(1 - (C/l_c)^2)|0> + (C/l_c)|1>), C/l_c = 1/c_signed
    ksig = torch.where(kk < T / 2, kk, kk - T)
    amp1 = torch.where(ksig != 0, 1.0 / torch.where(ksig != 0, ksig, 1.0), 0.0)
    amp0 = torch.sqrt(1 - amp1**2)
    R = torch.zeros(2 * T, 2 * T, dtype=cdt)
    c = torch.arange(T)
    R[c, c], R[c + T, c], R[c, c + T], R[c + T, c + T] = amp0.to(cdt), amp1.to(cdt), -amp1.to(cdt), amp0.to(cdt)
    Hd = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=cdt) / math.sqrt(2)
    system = list(range(n))
    clock = [n + j for j in range(clock_qubits)]
    anc = n + clock_qubits
    # The engine applies one matrix to every state of a batch, and U differs per block, so the
    # blocks (N <= 16, a demonstration size) run one after another.
    lam_f, V_f = lam.reshape(-1, M).cpu(), V.reshape(-1, M, M).to(cdt).cpu()
    t0_f, bhat_f = t0.reshape(-1).cpu(), bhat.reshape(-1, M).cpu()
    outs, norms = [], []
    for blk in range(lam_f.shape[0]):
        Vb = V_f[blk]
        # U^(+-2^j) = V diag(exp(+-i lambda t_0 2^j)) V^H, one per clock qubit j
        step_phase = 1j * lam_f[blk] * t0_f[blk]
        fwd = [((Vb * torch.exp(step_phase * 2**j)) @ Vb.mH).resolve_conj() for j in range(clock_qubits)]
        # Registers on qtrain's statevector engine: system qubits 0..n-1, clock n..n+t-1, ancilla.
        amps = torch.zeros(2 ** (n + clock_qubits + 1), dtype=cdt)
        amps[:M] = bhat_f[blk]
        sv = Statevector.from_amplitudes(amps)
        for q in clock:                                    # 1. clock in uniform superposition
            sv.apply(Hd, [q])

        def powers(sv: Statevector, mats: list[torch.Tensor]) -> None:  # 2 / 5. controlled powers
            for U, q in zip(mats, clock, strict=True):
                sv.apply(U, system, controls=[q])

        powers(sv, fwd)
        sv.apply(F.conj().resolve_conj(), clock)           # 3. inverse QFT
        sv.apply(R, clock + [anc])                         # 4. ancilla rotation
        sv.apply(F, clock)                                 # 5. uncompute: QFT, U^(-c), Hadamards
        powers(sv, [U.mH.resolve_conj() for U in fwd])
        for q in clock:
            sv.apply(Hd, [q])
        final = sv.amplitudes
        norms.append(torch.linalg.vector_norm(final))
        outs.append(final[M * T: M * T + M])               # 6. post-select clock 0, ancilla 1
    out = torch.stack(outs).reshape(*lam.shape[:-1], M).to(dev)
    total_norm = torch.stack(norms)
    p = (out.abs() ** 2).sum(-1)
    C = 2 * math.pi / (T * t0)
    x = out.real[..., :N] * (bnorm.to(torch.float64) / C).unsqueeze(-1)
    info = {"qubits": 1 + clock_qubits + n, "clock_qubits": clock_qubits,
            "success_probability": p.reshape(-1).tolist(),
            "norm_error": float((total_norm - 1).abs().max())}
    return x.to(b.dtype), info


class SimulatedQLSASolver(LinearSolver):
    """A quantum linear-system solver, simulated, with its modelled quantum cost.

    ``method="exact"`` solves densely (Cholesky, LU where that fails); ``method="hhl"`` runs
    :func:`hhl_statevector` (``N <= 16``). With ``perturb=True`` the solution is moved to the
    requested error, ``x + eps ||x|| u`` with ``u`` a seeded random unit vector per block, the
    accuracy a QLSA run with target ``eps`` delivers. ``info["resources"]`` holds the modelled
    cost per block (``N``, ``kappa`` from ``eigvalsh``, structural ``d``, the query count, gate
    counts and projected seconds of :class:`~qtrain.linalg.cost.QLSACostModel`) and
    ``projected_time_s``, their sum: projected hardware time, never mixed with the measured
    ``timing``. ``info["converged"]``: for ``exact``, the solve before any perturbation is within
    :func:`~qtrain.linalg.solvers.residual_tolerance` (a singular block raises ``ValueError``);
    for ``hhl``, approximate by design, a finite answer.

    Args:
        method: ``"exact"`` or ``"hhl"``.
        eps: target error (perturbation size and cost-model tolerance), ``0 < eps <= 0.24``.
        perturb: perturb the solution to error ``eps``.
        clock_qubits: HHL clock register size.
        cost_model: a :class:`QLSACostModel` (default: ``QLSACostModel(eps=eps)``).

    References:
        Li et al. arXiv:2405.00252 (Q-Newton); Jennings et al. arXiv:2305.11352 (costs).
    """

    name = "simulated-qlsa"
    quantum = True

    def __init__(self, method: str = "exact", eps: float = 0.01, perturb: bool = False,
                 clock_qubits: int = 8, cost_model: QLSACostModel | None = None):
        if method not in ("exact", "hhl"):
            raise ValueError(f"method must be 'exact' or 'hhl', got {method!r}")
        if not 0 < eps <= 0.24:
            raise ValueError(f"eps must be in (0, 0.24], got {eps}")
        if not 2 <= clock_qubits <= _MAX_CLOCK:
            raise ValueError(f"clock_qubits must be in [2, {_MAX_CLOCK}], got {clock_qubits}")
        self.method, self.eps, self.perturb, self.clock_qubits = method, eps, perturb, clock_qubits
        self.cost_model = cost_model if cost_model is not None else QLSACostModel(eps=eps)

    def _solve(self, A, b, seed, kappa=None, context=None, **kwargs):
        """``kappa`` (optional, ``[...]``): a condition-number estimate to price with (the
        scheduler passes its own), instead of ``eigvalsh`` here."""
        if kwargs:
            raise TypeError(f"unknown options for simulated-qlsa: {sorted(kwargs)}")
        info: dict[str, Any] = {"method": self.method}
        if self.method == "hhl":
            x, hinfo = hhl_statevector(A, b, self.clock_qubits)
            info["hhl"] = hinfo
            # approximate by design (eigenphases on t clock bits): the residual says how close
            info["converged"] = torch.isfinite(x).all(-1)
        else:
            # A is Hermitian positive definite (the QLSA's precondition): Cholesky is the exact
            # solve; LU only for blocks where it fails; a singular block is a ValueError.
            x, _ = direct_solve(A, b)
            info["converged"] = relative_residual(A, x, b) <= residual_tolerance(A.dtype)
        if self.perturb:
            g = torch.Generator().manual_seed(seed)
            u = torch.randn(x.shape, generator=g, dtype=torch.float64).to(x)
            u = u / torch.linalg.vector_norm(u, dim=-1, keepdim=True)
            x = x + self.eps * torch.linalg.vector_norm(x, dim=-1, keepdim=True) * u
        info["resources"] = self.resources(A, kappa)
        return x, info

    def resources(self, A: torch.Tensor, kappa: torch.Tensor | None = None) -> dict[str, Any]:
        """The modelled quantum cost of solving each block of ``A`` (JSON-serialisable)."""
        if kappa is None:
            ev = torch.linalg.eigvalsh(A.to(torch.float64)).abs()
            kappa = ev.amax(-1) / ev.amin(-1).clamp_min(torch.finfo(torch.float64).tiny)
        d = structural_sparsity(A)
        N = torch.full(d.shape, A.shape[-1], dtype=torch.float64)
        kappa = torch.as_tensor(kappa, dtype=torch.float64).cpu()
        cost = self.cost_model.cost(N, kappa.clamp_max(1e300), d.cpu())
        out: dict[str, Any] = {"N": A.shape[-1], "kappa": kappa.reshape(-1).tolist(),
                               "d": d.reshape(-1).tolist(),
                               "cost_model": self.cost_model.describe()}
        out.update({k: v.reshape(-1).tolist() for k, v in cost.items()})
        out["projected_time_s"] = float(cost["total_s"].sum())
        return out

    def __repr__(self) -> str:
        return (f"SimulatedQLSASolver(method={self.method!r}, eps={self.eps}, "
                f"perturb={self.perturb})")
