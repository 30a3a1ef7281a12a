"""Device selection and synchronisation shared by every package (torch only, so ``qtrain.quantum``
imports without dimod)."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["resolve_device", "synchronize"]


def resolve_device(device: Any = "auto") -> torch.device:
    """``"auto"`` (or ``None``) is CUDA when available, else CPU; anything else goes to
    :class:`torch.device`. ``ValueError`` when CUDA is requested but torch sees no CUDA device."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but torch sees no CUDA device; use 'cpu' or 'auto'")
    return dev


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels on ``device`` (CUDA) so wall-clock timings are honest."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
