"""Shared pieces of the subnetwork benchmarks: the digits data, grouped tables, bar plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtrain.bench.base import pyplot, save_figure
from qtrain.data import load_digits_split

__all__ = ["digits_data", "grouped_table", "line_plot", "mean_of"]

_CACHE: dict[Any, Any] = {}


def digits_data(seed: int = 0, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """Standardised digits (75/25 split, :func:`qtrain.data.load_digits_split`), cached per process."""
    key = ("digits", seed, dtype)
    if key not in _CACHE:
        _CACHE[key] = load_digits_split(seed, dtype=dtype)
    return _CACHE[key]


def mean_of(ms: list[dict[str, Any]], key: str) -> float | None:
    """Mean of a numeric metric over runs (``None`` when no run has it)."""
    vals = [float(m[key]) for m in ms if isinstance(m.get(key), int | float) and not isinstance(m.get(key), bool)
            and math.isfinite(float(m[key]))]
    return float(np.mean(vals)) if vals else None


def _cell(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"


def grouped_table(runs: list[Any], group: str, cols: tuple[str, ...]) -> list[str]:
    """Markdown rows ``| group | method | runs | col means ... |`` over the stored runs."""
    acc: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        acc.setdefault((str(r.params.get(group, "")), r.method), []).append(r.metrics)
    lines = [f"| {group} | method | runs |" + "".join(f" {c} |" for c in cols), "|" + "---|" * (3 + len(cols))]

    def order(k: tuple[str, str]) -> tuple[float, str, str]:
        g, m = k
        try:
            return float(g), g, m
        except ValueError:
            return math.inf, g, m

    for key in sorted(acc, key=order):
        ms = acc[key]
        lines.append(f"| {key[0]} | {key[1]} | {len(ms)} |" + "".join(f" {_cell(mean_of(ms, c))} |" for c in cols))
    return lines


def line_plot(runs: list[Any], x: str, y: str, path: Path, title: str, methods: list[str] | None = None,
              ylabel: str | None = None, log: bool = False, logx: bool = False) -> Path:
    """One line per method: mean metric ``y`` against parameter ``x`` (log axes on request)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    by: dict[str, dict[float, list[dict[str, Any]]]] = {}
    for r in runs:
        if methods is not None and r.method not in methods:
            continue
        if y not in r.metrics or r.params.get(x) is None:
            continue
        by.setdefault(r.method, {}).setdefault(float(r.params[x]), []).append(r.metrics)
    for m, pts in sorted(by.items()):
        xs = sorted(pts)
        ys = [mean_of(pts[v], y) for v in xs]
        ax.plot(xs, [np.nan if v is None else v for v in ys], marker="o", label=m)
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel or y)
    if log:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
