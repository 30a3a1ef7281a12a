"""Device selection and synchronisation shared by every package (torch only, so ``qtrain.quantum``
imports without dimod)."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["DEVICE_TYPES", "check_bytes", "free_memory_bytes", "resolve_device", "synchronize"]


#: Device types qtrain's kernels run on.
DEVICE_TYPES = ("cpu", "cuda")


def resolve_device(device: Any = "auto") -> torch.device:
    """The device a solver runs on: ``"auto"`` (or ``None``) is CUDA when available, else CPU; a
    string such as ``"cpu"``, ``"cuda"`` or ``"cuda:1"``, or a :class:`torch.device`, of a type in
    :data:`DEVICE_TYPES`.

    Raises:
        TypeError: ``device`` is neither a string, a ``torch.device`` nor ``None``.
        ValueError: an unknown device string or type (the message lists the supported ones), or
            CUDA requested where torch sees no CUDA device.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str | torch.device):
        raise TypeError(f"device must be 'auto', 'cpu', 'cuda' or a torch.device, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got {device!r}") from exc
    if dev.type not in DEVICE_TYPES:
        raise ValueError(f"device type must be one of {DEVICE_TYPES} (or 'auto'), got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but torch sees no CUDA device; use 'cpu' or 'auto'")
    return dev


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels on ``device`` (CUDA) so wall-clock timings are honest."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def free_memory_bytes(device: Any = "cpu") -> int:
    """Free memory on ``device`` in bytes: ``torch.cuda.mem_get_info`` on CUDA, else the
    available system memory (psutil, or ``MemAvailable`` in ``/proc/meminfo``)."""
    device = resolve_device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil ships with the dev extra
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    raise RuntimeError("cannot determine free memory")  # pragma: no cover


def check_bytes(need: int, device: Any, what: str, limit: str) -> None:
    """Pre-flight of an allocation: refuse ``need`` bytes that exceed ``device``'s free memory.

    Args:
        need: bytes the call would allocate (its largest working set).
        device: where they would live.
        what: the allocation, for the message (``"anneal: 1000 reads x 50 variables"``).
        limit: what the caller can change and the largest value that fits (``"num_reads <= 4000"``).

    Raises:
        ValueError: ``need`` exceeds the free memory; the message names ``what``, the GiB needed and
            free, and ``limit``.
    """
    free = free_memory_bytes(device)
    if need > free:
        raise ValueError(f"{what} needs {need / 2**30:.1f} GiB but {resolve_device(device)} has "
                         f"{free / 2**30:.1f} GiB free: {limit}")
