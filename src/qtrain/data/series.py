"""Generated time series for reservoir computing: NARMA-10 and Mackey-Glass (offline, seeded).

Both are the standard one-step-prediction benchmarks of echo state networks; the NK echo state
networks of :mod:`qtrain.train.subnetwork.nk` are measured on them (error as NRMSE, :func:`nrmse`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["mackey_glass", "narma10", "nrmse"]


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def narma10(length: int, seed: int = 0, washout: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The NARMA-10 system driven by i.i.d. uniform inputs.

    ``y_{t+1} = 0.3 y_t + 0.05 y_t sum_{i=0}^{9} y_{t-i} + 1.5 u_{t-9} u_t + 0.1`` with
    ``u_t ~ U[0, 0.5]`` and ``y = 0`` before the start; the first ``washout`` steps are dropped.

    Args:
        length: steps returned (``>= 1``).
        seed: seeds the inputs.
        washout: transient steps generated and dropped (``>= 0``).

    Returns:
        ``(u, y)``: float64 tensors ``[length]``; ``y[t]`` is the system's output after input
        ``u[t]`` (the one-step target of ``u[..t]``).

    Raises:
        ValueError: bad ``length``/``washout``, or a seed whose run diverges (rare; the message
            says so).

    Example:
        >>> u, y = narma10(500, seed=0)
        >>> u.shape, bool((u >= 0).all() and (u <= 0.5).all())
        (torch.Size([500]), True)

    References:
        Atiya & Parlos, IEEE TNN 11 (2000); Jaeger, NIPS 2002 (echo state networks on NARMA-10).
    """
    length, washout = _check_int(length, "length", 1), _check_int(washout, "washout", 0)
    total = length + washout
    gen = torch.Generator().manual_seed(int(seed))
    u = 0.5 * torch.rand(total, generator=gen, dtype=torch.float64)
    y = [0.0] * (total + 1)
    uu = u.tolist()
    for t in range(total):
        hist = sum(y[max(0, t - 9):t + 1])
        u9 = uu[t - 9] if t >= 9 else 0.0
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * hist + 1.5 * u9 * uu[t] + 0.1
        if not math.isfinite(y[t + 1]) or abs(y[t + 1]) > 1e6:
            raise ValueError(f"NARMA-10 diverged at step {t} for seed={seed}; choose another seed")
    return u[washout:], torch.tensor(y[1 + washout:], dtype=torch.float64)


def mackey_glass(length: int, tau: float = 17.0, seed: int = 0, beta: float = 0.2, gamma: float = 0.1,
                 power: float = 10.0, substeps: int = 10, washout: int = 300) -> torch.Tensor:
    r"""The Mackey-Glass delay differential equation, sampled once per time unit.

    ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x(t)``, integrated by Heun's
    method with step ``1 / substeps`` from a history ``x = 1.2 + 0.1 xi`` (``xi ~ U[-1, 1]``,
    seeded); chaotic at ``tau = 17``.

    Args:
        length: samples returned (``>= 1``).
        tau: delay (time units, ``> 0``).
        seed: seeds the initial history.
        beta, gamma, power: the equation's constants.
        substeps: integration steps per time unit (``>= 1``).
        washout: time units integrated and dropped (``>= 0``).

    Returns:
        float64 tensor ``[length]``.

    Raises:
        ValueError: bad ``length``/``substeps``/``washout`` or ``tau <= 0``.

    Example:
        >>> x = mackey_glass(300, seed=0)
        >>> x.shape, bool((x > 0).all())
        (torch.Size([300]), True)

    References:
        Mackey & Glass, Science 197 (1977); Jaeger & Haas, Science 304 (2004).
    """
    length, substeps = _check_int(length, "length", 1), _check_int(substeps, "substeps", 1)
    washout = _check_int(washout, "washout", 0)
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    h = 1.0 / substeps
    lag = max(1, round(tau * substeps))
    gen = torch.Generator().manual_seed(int(seed))
    hist = (1.2 + 0.1 * (2 * torch.rand(lag + 1, generator=gen, dtype=torch.float64) - 1)).tolist()
    x = list(hist)  # x[-1] is the present, x[-1 - lag] the delayed value

    def f(xt: float, xd: float) -> float:
        return beta * xd / (1 + xd**power) - gamma * xt

    out = []
    steps = (length + washout) * substeps
    for s in range(steps):
        xt, xd, xd_next = x[-1], x[-1 - lag], x[-lag]
        k1 = f(xt, xd)
        k2 = f(xt + h * k1, xd_next)
        x.append(xt + 0.5 * h * (k1 + k2))
        if (s + 1) % substeps == 0:
            out.append(x[-1])
        if len(x) > 4 * (lag + 1):
            del x[: len(x) - 2 * (lag + 1)]
    return torch.tensor(out[washout:], dtype=torch.float64)


def nrmse(prediction: Any, target: Any) -> float:
    """Normalised root-mean-square error ``sqrt(mean((p - y)^2) / var(y))`` (1 for predicting the
    mean).

    Raises:
        ValueError: shapes that differ, a constant target, non-finite values.
    """
    p, y = torch.as_tensor(prediction, dtype=torch.float64), torch.as_tensor(target, dtype=torch.float64)
    if p.shape != y.shape:
        raise ValueError(f"prediction and target must have the same shape, got {tuple(p.shape)} and {tuple(y.shape)}")
    if not bool(torch.isfinite(p).all() and torch.isfinite(y).all()):
        raise ValueError("prediction and target must be finite")
    var = float(y.var(unbiased=False))
    if var == 0:
        raise ValueError("target is constant: NRMSE is undefined")
    return math.sqrt(float((p - y).pow(2).mean()) / var)
