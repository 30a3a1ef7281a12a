"""Benchmark ``qpsbgd-gcn-tune``: step sizes of ``qpsbgd-gcn`` chosen on validation nodes.

The protocol of ``qpsbgd-digits-tune`` on graphs: for each graph (karate, the SBM graph) and each
method of :mod:`qtrain.bench.qpsbgd.gcn`, every point of a fixed grid (:data:`GRIDS`, decided
before any run) trains the benchmark's binary GCN with the benchmark's code on 80% of the
training nodes (:func:`validation_nodes`, stratified per class) and is scored on the other 20%:
accuracy and cross-entropy. The test nodes are never used. Seeds 0 and 1; :func:`select` keeps,
per graph and method, the best mean validation accuracy, ties to the lower mean validation
cross-entropy, then the smaller step. A choice on a grid's edge is flagged: extend the grid on
that side and resume. ``qpsbgd-gcn`` runs the chosen settings (:data:`~qtrain.bench.qpsbgd.gcn.TUNED`).

``--quick``: karate, seed 0, two grid points per method, 30 steps (checks the pipeline only).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.qpsbgd.common import grid_edges, plot_tuning, selection_rank, single_thread
from qtrain.bench.qpsbgd.gcn import LR, TUNED, fit_gcn, graph_settings, make_graph
from qtrain.data import Graph

__all__ = ["GRIDS", "VALIDATION_FRACTION", "QPSBGDGCNTune", "select", "validation_nodes"]

#: The grid per method (the digits grids; ProxQuant: step x strength, 0 being no prox). Rule: a
#: choice on an edge extends that side and the run is resumed. The first run (seed 0) chose edges
#: for QP-SBGD + refine on karate (0.05: 0.02 added) and ProxQuant on the SBM graph (30: 100 added).
GRIDS: dict[str, list[dict[str, float]]] = {
    "qpsbgd": [{"lr": v} for v in (0.05, 0.1, 0.2, 0.5, 1.0)],
    "qpsbgd-refine": [{"lr": v} for v in (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)],
    "bc": [{"lr": v} for v in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)],
    "signsgd": [{"lr": v} for v in (0.001, 0.003, 0.01, 0.03, 0.1)],
    "proxquant": [{"lr": v, "reg": r} for v in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
                  for r in (0.0, 0.0001, 0.001)],
    "full-precision": [{"lr": v} for v in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)],
}
VALIDATION_FRACTION = 0.2
GRAPHS = ("karate", "sbm")


def validation_nodes(g: Graph, fraction: float = VALIDATION_FRACTION, seed: int = 0) -> Graph:
    """Hold out a stratified, seeded part of ``g``'s *training* nodes for model selection.

    In every class, ``round(fraction * k)`` of its ``k`` training nodes (at least one, and at most
    ``k - 1``) become validation nodes. Returns the same graph whose ``train_mask`` holds the
    remaining training nodes and whose ``test_mask`` holds the validation nodes; ``g``'s test
    nodes belong to neither, so nothing chosen on the result sees them.

    Raises:
        ValueError: ``fraction`` outside ``(0, 1)``, a negative seed, or a class with fewer than
            two training nodes.

    Example:
        >>> from qtrain.data import karate
        >>> g = karate(seed=0); v = validation_nodes(g, 0.2, seed=0)
        >>> int(v.train_mask.sum() + v.test_mask.sum()) == int(g.train_mask.sum())
        True
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    train = g.train_mask.numpy().copy()
    held = np.zeros_like(train)
    labels = g.labels.numpy()
    for c in np.unique(labels[train]):
        idx = np.flatnonzero(train & (labels == c))
        if len(idx) < 2:
            raise ValueError(f"class {int(c)} has {len(idx)} training node(s); at least 2 are needed "
                             "to hold one out")
        k = min(len(idx) - 1, max(1, round(fraction * len(idx))))
        held[rng.choice(idx, size=k, replace=False)] = True
    return replace(g, train_mask=torch.from_numpy(train & ~held), test_mask=torch.from_numpy(held))


def _label(setting: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in sorted(setting.items()))


def _group(runs: list[Any]) -> dict[tuple[str, str, str], tuple[dict[str, float], list[Any]]]:
    groups: dict[tuple[str, str, str], tuple[dict[str, float], list[Any]]] = {}
    for r in runs:
        setting = {k: r.params[k] for k in ("lr", "reg") if k in r.params}
        key = (r.params["graph"], r.method.split("/")[0], _label(setting))
        groups.setdefault(key, (setting, []))[1].append(r.metrics)
    return groups


def select(runs: list[Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Per graph and method, the chosen setting among the tuning ``runs`` (best mean validation
    accuracy; ties within 1e-9 to the lower mean validation cross-entropy, then the smaller step)."""
    best: dict[str, dict[str, tuple[tuple[float, float, float], dict[str, float]]]] = {}
    for (graph, method, _), (setting, ms) in _group(runs).items():
        rank = selection_rank(ms, setting["lr"])
        cur = best.setdefault(graph, {}).get(method)
        if cur is None or rank < cur[0]:
            best[graph][method] = (rank, setting)
    return {g: {m: dict(s) for m, (_, s) in sorted(ms.items())} for g, ms in sorted(best.items())}


def on_edge(method: str, setting: dict[str, float]) -> list[str]:
    """The keys of ``setting`` on the edge of ``method``'s grid (:func:`~qtrain.bench.qpsbgd.common.grid_edges`)."""
    return grid_edges(GRIDS[method], setting)


class QPSBGDGCNTune(Benchmark):
    name = "qpsbgd-gcn-tune"
    description = ("step sizes of qpsbgd-gcn per graph and method, chosen on validation nodes "
                   "(80/20 split of the training nodes; test nodes unused)")
    default_seeds = 2

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        graphs = GRAPHS[:1] if cfg.quick else GRAPHS
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        out = []
        for seed in seeds:
            for graph in graphs:
                s = graph_settings(graph, quick=False)
                if cfg.quick:
                    s["steps"] = 30
                for method in LR:
                    for setting in (GRIDS[method][1:3] if cfg.quick else GRIDS[method]):
                        out.append(Task(f"{method}/{_label(setting)}", seed,
                                        {"graph": graph, "val": VALIDATION_FRACTION, **s,
                                         **setting}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        g = validation_nodes(make_graph(p["graph"], task.seed), p["val"], seed=task.seed)
        with single_thread():
            out, score = fit_gcn(task.method.split("/")[0], g, task.seed, p, cfg.device,
                                 curve=False)
        acc, loss = score(g.test_mask)
        return {"val_acc": acc, "val_loss": loss, "val_nodes": int(g.test_mask.sum()),
                "train_loss": out["train_loss"], "seconds": out["seconds"]}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        chosen, groups = select(runs), _group(runs)
        seeds = sorted({r.seed for r in runs})
        nodes = sorted({(r.params["graph"], r.metrics["val_nodes"]) for r in runs})
        lines = [f"# qpsbgd-gcn-tune{' (quick)' if cfg.quick else ''}", "",
                 f"Validation accuracy and cross-entropy (mean over seeds {seeds}) on "
                 f"{VALIDATION_FRACTION:.0%} of each graph's training nodes (validation nodes per "
                 f"graph and seed: {nodes}); **bold**: chosen.", "",
                 "| graph | method | setting | val acc | val loss | seeds |", "|---|---|---|---|---|---|"]
        for (graph, method, label), (setting, ms) in sorted(
                groups.items(), key=lambda kv: (kv[0][:2], sorted(kv[1][0].items()))):
            mark = "**" if chosen[graph][method] == setting else ""
            lines.append(f"| {graph} | {method} | {mark}{label}{mark} | "
                         f"{np.mean([m['val_acc'] for m in ms]):.4f} | "
                         f"{np.mean([m['val_loss'] for m in ms]):.4g} | {len(ms)} |")
        lines += ["", "Chosen settings, whether `qpsbgd_gcn.TUNED` (what `qpsbgd-gcn` runs) holds "
                  "them, and grid edges among them (extend the grid if any):", "",
                  "| graph | method | chosen | in TUNED | on the grid's edge |", "|---|---|---|---|---|"]
        for graph, ms in chosen.items():
            for method, setting in ms.items():
                held = TUNED.get(graph, {}).get(method) == setting
                edge = ", ".join(on_edge(method, setting)) if not cfg.quick else "(quick)"
                lines.append(f"| {graph} | {method} | {_label(setting)} | {'yes' if held else 'NO'} "
                             f"| {edge or '-'} |")
        md = cfg.out_dir / "qpsbgd-gcn-tune.md"
        md.write_text("\n".join(lines) + "\n")
        return [md, plot_tuning(groups, chosen, cfg.out_dir / "qpsbgd-gcn-tune.png", "",
                                "qpsbgd-gcn-tune")]
