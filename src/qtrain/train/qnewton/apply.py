"""Q-Newton's apply stage: pure functions from the solved directions to parameter steps.

A block's direction ``d_b`` (the solve of ``(C_b + lam_b I) d_b = g_b``) is kept when it is a
finite descent direction, else replaced by the gradient; the update then is a damped, clipped Newton
step, or ``d`` fed to SGD with momentum or to Adam (as the published experiments did).

Reference: Li, Liu, Wang, Chen, "Q-Newton", arXiv:2405.00252.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["UPDATES", "adam_update", "clip_by_norm", "descent_directions", "direction_step",
           "momentum_update"]

UPDATES = ("newton", "sgd", "adam")


def descent_directions(x: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``d_b = x_b`` where it is finite and a descent direction (``g_b . x_b > 0``), else ``g_b``.

    An indefinite Hessian can give ``g . x <= 0``; a singular solve can give non-finite ``x``.

    Args:
        x: solutions ``[B, N]``; g: gradients ``[B, N]``.

    Returns:
        ``(d, fallbacks)``: the directions and how many non-zero-gradient blocks fell back.

    Example:
        >>> d, k = descent_directions(torch.tensor([[1.0], [-1.0]]), torch.tensor([[2.0], [3.0]]))
        >>> d.tolist(), k
        ([[1.0], [3.0]], 1)
    """
    bad = ~torch.isfinite(x).all(-1) | ((x * g).sum(-1) <= 0)
    fallbacks = int((bad & (g.abs().sum(-1) > 0)).sum())
    return torch.where(bad.unsqueeze(-1), g, x), fallbacks


def clip_by_norm(steps: list[torch.Tensor], max_norm: float | None) -> tuple[list[torch.Tensor],
                                                                                float]:
    """Scale ``steps`` so their joint 2-norm is at most ``max_norm``; returns ``(steps, norm)``."""
    norm = float(torch.sqrt(sum((s.double() ** 2).sum() for s in steps))) if steps else 0.0
    if max_norm is None or norm <= max_norm:
        return steps, norm
    return [s * (max_norm / norm) for s in steps], norm


def momentum_update(d: torch.Tensor, buf: torch.Tensor | None, momentum: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Heavy ball on direction ``d``: ``buf = momentum buf + d``; returns ``(step, buf)``."""
    buf = d.clone() if buf is None else buf.mul(momentum).add_(d)
    return buf, buf


def adam_update(d: torch.Tensor, m: torch.Tensor, v: torch.Tensor, t: int,
                betas: tuple[float, float], eps: float) -> torch.Tensor:
    """Adam (Kingma & Ba, arXiv:1412.6980) on direction ``d``: ``m = b1 m + (1 - b1) d``,
    ``v = b2 v + (1 - b2) d^2`` (in place), and returns ``m_hat / (sqrt(v_hat) + eps)`` with the
    bias corrections ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``."""
    b1, b2 = betas
    m.mul_(b1).add_(d, alpha=1 - b1)
    v.mul_(b2).addcmul_(d, d, value=1 - b2)
    return (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)


def direction_step(update: str, d: torch.Tensor, state: dict[str, Any], group: dict[str, Any]
                   ) -> torch.Tensor:
    """The step ``s`` (``theta <- theta - lr s``) of one parameter for ``update="sgd"`` or
    ``"adam"``, advancing the parameter's ``state`` (``step``, ``momentum_buffer`` or
    ``exp_avg``/``exp_avg_sq``) with the group's ``momentum``, ``betas`` and ``adam_eps``."""
    state["step"] = state.get("step", 0) + 1
    if update == "sgd":
        s, state["momentum_buffer"] = momentum_update(d, state.get("momentum_buffer"), group["momentum"])
        return s
    if update != "adam":
        raise ValueError(f"direction_step takes update 'sgd' or 'adam', got {update!r}")
    if "exp_avg" not in state:
        state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(d), torch.zeros_like(d)
    return adam_update(d, state["exp_avg"], state["exp_avg_sq"], state["step"], group["betas"],
                       group["adam_eps"])
