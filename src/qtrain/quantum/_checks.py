"""Argument checks shared by the semantic algorithms and the search solvers."""

from __future__ import annotations

from typing import Any

import torch

_REAL = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def real_finite(values: Any, name: str = "costs") -> torch.Tensor:
    """``values`` as a float64 tensor ``[..., N]`` with ``N >= 1`` (an empty batch ``[0, N]`` is
    allowed), on its device.

    Raises:
        ValueError: something that is not numeric (a string, a ragged list), a bool, complex or
            other non-real dtype, fewer than one dimension, ``N = 0``,
            or a NaN or infinite entry (naming ``name``).
    """
    try:
        c = torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name} must be a real numeric tensor [..., N], got {type(values).__name__}") from exc
    if c.dtype == torch.bool or not (c.is_floating_point() or c.dtype in _REAL):
        raise ValueError(f"{name} must be a real tensor, got dtype {c.dtype}")
    if c.dim() < 1 or c.shape[-1] < 1:
        raise ValueError(f"{name} must have shape [..., N] with N >= 1, got {tuple(c.shape)}")
    c = c.to(torch.float64)
    if not bool(torch.isfinite(c).all()):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return c
