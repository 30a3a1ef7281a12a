"""One diagonal Grover iteration at memory bandwidth: sign oracle and diffusion in two fused passes.

From a real start state, Grover with a sign oracle keeps the amplitudes real, so the state is a
float32 vector ``psi [N]`` and the marking a byte per state. One iteration is

``psi <- 2 mean(s) - s``, with ``s(x) = -psi(x)`` on marked ``x`` and ``psi(x)`` elsewhere,

done in two passes: (1) read ``psi`` and the marking, reduce ``sum(s)`` per block; (2) read them
again and write ``2 mean - s`` in place. Minimal traffic: ``psi`` read twice and written once plus
the marking read twice, ``(3 * 4 + 2 * 1) N`` bytes. On CUDA the passes are Triton kernels
(imported lazily); elsewhere, or when Triton is missing, the same two passes run in torch. The
harness that times it against the device's copy bandwidth is
:mod:`qtrain.bench.speed.grover_bandwidth`.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "grover_iteration",
    "grover_iteration_bytes",
    "grover_iteration_eager",
    "triton_available",
]

_BLOCK = 8192
_KERNELS: dict[str, Any] = {}


def triton_available(device: Any) -> bool:
    """Whether the Triton path can run on ``device`` (CUDA with ``triton`` importable)."""
    if torch.device(device).type != "cuda":
        return False
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def _kernels() -> dict[str, Any]:
    if _KERNELS:
        return _KERNELS
    import triton
    import triton.language as tl

    @triton.jit
    def oracle_sum(psi_ptr, mark_ptr, partial_ptr, n, BLOCK: tl.constexpr):
        pid = tl.program_id(0)
        offs = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        inside = offs < n
        x = tl.load(psi_ptr + offs, mask=inside, other=0.0)
        k = tl.load(mark_ptr + offs, mask=inside, other=0)
        x = tl.where(k != 0, -x, x)
        tl.store(partial_ptr + pid, tl.sum(x, axis=0))

    @triton.jit
    def diffuse(psi_ptr, mark_ptr, total_ptr, n, inv_n, BLOCK: tl.constexpr):
        pid = tl.program_id(0)
        offs = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        inside = offs < n
        x = tl.load(psi_ptr + offs, mask=inside, other=0.0)
        k = tl.load(mark_ptr + offs, mask=inside, other=0)
        x = tl.where(k != 0, -x, x)
        two_mean = 2.0 * tl.load(total_ptr) * inv_n
        tl.store(psi_ptr + offs, two_mean - x, mask=inside)

    _KERNELS.update(oracle_sum=oracle_sum, diffuse=diffuse, triton=triton)
    return _KERNELS


def grover_iteration_bytes(num_states: int) -> int:
    """Minimal bytes moved by one fused iteration: ``psi`` (float32) read twice and written once,
    the uint8 marking read twice: ``14 N``."""
    return 14 * int(num_states)


def _check(psi: torch.Tensor, marked: torch.Tensor) -> None:
    if psi.dtype != torch.float32 or psi.dim() != 1 or not psi.is_contiguous():
        raise ValueError(f"psi must be a contiguous float32 vector, got {psi.dtype} {tuple(psi.shape)}")
    if marked.dtype not in (torch.uint8, torch.bool) or marked.shape != psi.shape:
        raise ValueError(f"marked must be a uint8/bool vector of shape {tuple(psi.shape)}, got "
                         f"{marked.dtype} {tuple(marked.shape)}")
    if marked.device != psi.device:
        raise ValueError("psi and marked must be on the same device")


def grover_iteration(psi: torch.Tensor, marked: torch.Tensor, use_triton: bool | None = None) -> torch.Tensor:
    """One Grover iteration ``psi <- 2 mean(s) - s`` (``s`` = ``psi`` with marked signs flipped),
    in place; returns ``psi``.

    Args:
        psi: contiguous float32 amplitudes ``[N]`` (real: Grover from a real start stays real).
        marked: ``[N]`` uint8 (or bool) marking, nonzero = marked.
        use_triton: force (True) or forbid (False) the Triton kernels; default: on CUDA when
            Triton imports.

    Raises:
        ValueError: wrong dtypes, shapes or devices.

    References:
        Grover, quant-ph/9605043 (the iteration); the two-pass fusion is a bandwidth argument.
    """
    _check(psi, marked)
    n = psi.numel()
    if use_triton is None:
        use_triton = triton_available(psi.device)
    if use_triton:
        k = _kernels()
        blocks = (n + _BLOCK - 1) // _BLOCK
        partial = torch.empty(blocks, dtype=torch.float32, device=psi.device)
        mark = marked.view(torch.uint8)
        k["oracle_sum"][(blocks,)](psi, mark, partial, n, BLOCK=_BLOCK, num_warps=8)
        total = partial.sum(dtype=torch.float64).to(torch.float32).reshape(1)
        k["diffuse"][(blocks,)](psi, mark, total, n, 1.0 / n, BLOCK=_BLOCK, num_warps=8)
        return psi
    # torch fallback: the same two passes, chunked so temporaries stay small
    chunk = 1 << 24
    total = torch.zeros((), dtype=torch.float64, device=psi.device)
    for start in range(0, n, chunk):
        p, m = psi[start:start + chunk], marked[start:start + chunk] != 0
        p[m] = -p[m]
        total += p.sum(dtype=torch.float64)
    two_mean = (2 * total / n).to(torch.float32)
    for start in range(0, n, chunk):
        psi[start:start + chunk].neg_().add_(two_mean)
    return psi


def grover_iteration_eager(psi: torch.Tensor, marked: torch.Tensor) -> torch.Tensor:
    """The plain eager iteration (select, mean, subtract): ``s = where(marked, -psi, psi)``,
    ``psi = 2 s.mean() - s``; a new tensor. The reference the fused passes are measured against."""
    s = torch.where(marked != 0, -psi, psi)
    return 2 * s.mean() - s
