"""Benchmark ``subnet-digits``: weight masks of a wide random MLP on the ten digit classes.

A frozen random MLP (Kaiming-uniform weights, so magnitude pruning has magnitudes to rank;
64-128-128-10 in the quick form, 64-256-256-10 in full), weight masks at each density:

* ``anneal-surrogate``: :func:`~qtrain.train.subnetwork.select_layerwise`, the annealer on the
  per-row Taylor QUBOs layer by layer, iterated (select, re-expand, select), Fisher from
  :data:`SAMPLES` training rows, count penalty :data:`PENALTY` (both chosen on validation rows by
  ``subnet-digits-tune``, :mod:`qtrain.bench.subnetwork.digits_tune`; the test rows reported here
  played no part in the choice); its ``spearman``
  is the rank correlation of the surrogate's energy with the true loss on 40 held-out masks near
  the selection (each flips 5% of the first layer's entries);
* ``edge-popup`` (SGD 0.1, momentum 0.9, wd 1e-4, cosine, batch 128), ``magnitude``,
  ``random-best`` (the best test accuracy of R random masks: 1000 in full, 300 quick) and
  ``dense`` (the architecture trained with Adam; density 1).

Metric: test accuracy against density.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task, single_thread
from qtrain.bench.subnetwork.common import digits_data, grouped_table, line_plot
from qtrain.nn import masked_mlp
from qtrain.train.subnetwork import select_layerwise, spearman, taylor_row_qubos
from qtrain.train.subnetwork.rivals import (
    accuracy,
    edge_popup,
    magnitude_masks,
    random_network_masks,
    train_dense,
)

__all__ = ["SubnetDigits"]

METHODS = ("anneal-surrogate", "edge-popup", "magnitude", "random-best")
#: ``select_layerwise``'s count-penalty scale and Fisher rows: the choice of ``subnet-digits-tune``
#: on validation rows (:mod:`qtrain.bench.subnetwork.digits_tune`).
PENALTY = 0.1
SAMPLES = 1000
#: The rest of the surrogate route (fixed, not tuned): select/re-expand rounds and annealer reads.
ROUNDS = 2
ANNEAL = {"num_reads": 4, "num_sweeps": 200}


class SubnetDigits(Benchmark):
    name = "subnet-digits"
    description = ("Weight masks of a wide random MLP on digits: surrogate-QUBO annealing vs edge-popup, "
                   "magnitude, random")
    default_seeds = 3

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        quick = cfg.quick
        width = 128 if quick else 256
        dens = (0.1, 0.5) if quick else (0.1, 0.3, 0.5, 0.7)
        seeds = cfg.seeds[:1] if quick else cfg.seeds
        base = {"width": width, "epochs": 12 if quick else 100, "draws": 300 if quick else 1000}
        out = [Task(m, s, {**base, "density": d}) for s in seeds for d in dens for m in METHODS]
        out += [Task("dense", s, {**base, "density": 1.0}) for s in seeds]
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        with single_thread():
            return _run(task)

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        lines = [f"# subnet-digits{' (quick)' if cfg.quick else ''}", "",
                 "Test accuracy of weight masks of a frozen random MLP at each density (fraction kept).", ""]
        lines += grouped_table(runs, "density", ("test_acc", "train_acc", "spearman", "sampler_calls", "wall_s"))
        md = cfg.out_dir / "subnet-digits.md"
        md.write_text("\n".join(lines) + "\n")
        png = line_plot(runs, "density", "test_acc", cfg.out_dir / "subnet-digits.png",
                        "subnet-digits: accuracy against density", ylabel="test accuracy")
        return [md, png]


def _run(task: Task) -> dict[str, Any]:
    p = task.params
    d = digits_data(0, torch.float32)
    Xtr, ytr, Xte, yte = d["train_inputs"], d["train_targets"], d["test_inputs"], d["test_targets"]
    sizes = [64, p["width"], p["width"], 10]
    net = masked_mlp(sizes, init="kaiming-uniform", seed=task.seed)
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    m, density = task.method, p["density"]
    if m == "dense":
        dense = train_dense(sizes, Xtr, ytr, epochs=60, seed=task.seed)
        return {"test_acc": accuracy(dense, Xte, yte), "train_acc": accuracy(dense, Xtr, ytr),
                "wall_s": time.perf_counter() - t0}
    if m == "edge-popup":
        edge_popup(net, Xtr, ytr, density, epochs=p["epochs"], seed=task.seed)
    elif m == "magnitude":
        _set(net, magnitude_masks(net, density))
    elif m == "random-best":
        best = -1.0
        for s in range(p["draws"]):
            _set(net, random_network_masks(net, density, seed=task.seed * 100003 + s))
            best = max(best, accuracy(net, Xte, yte))
        return {"test_acc": best, "wall_s": time.perf_counter() - t0}
    elif m == "anneal-surrogate":
        info = select_layerwise(net, Xtr, ytr, density, rounds=ROUNDS, samples=SAMPLES, penalty=PENALTY,
                                params=dict(ANNEAL), seed=task.seed)
        out.update(sampler_calls=info["sampler_calls"], solve_s=info["solve_s"], spearman=_spearman(net, Xtr, ytr))
    else:
        raise ValueError(f"unknown method {m!r}")
    out.update(test_acc=accuracy(net, Xte, yte), train_acc=accuracy(net, Xtr, ytr), wall_s=time.perf_counter() - t0)
    return out


def _set(net: Any, masks: list[torch.Tensor]) -> None:
    for layer, mk in zip(net.layers, masks, strict=True):
        layer.mask = mk


def _spearman(net: Any, X: torch.Tensor, y: torch.Tensor, samples: int = 40) -> float:
    """Rank correlation of the first layer's surrogate energy with the true loss on masks near the
    selection (5% of the entries flipped)."""
    q = taylor_row_qubos(net, 0, X, y, samples=256)
    layer = net.layers[0]
    base = layer.mask.clone()
    g = torch.Generator().manual_seed(0)
    energies, losses = [], []
    for _ in range(samples):
        flip = (torch.rand(base.shape, generator=g) < 0.05).to(base.dtype)
        m = (base + flip) % 2
        energies.append(float(q.energy(m.to(torch.float64)).sum()))
        layer.mask = m
        with torch.no_grad():
            losses.append(float(torch.nn.functional.cross_entropy(net(X).double(), y)))
    layer.mask = base
    return spearman(energies, losses)
