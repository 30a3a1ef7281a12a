"""Benchmark ``subnet-kd``: layer-wise distillation of a trained 64-16-10 teacher into a random
student twice as deep (:func:`~qtrain.train.subnetwork.layerwise_distill`).

Methods: per-block routes at a small width where the exhaustive block optimum fits
(``exhaustive``, ``durr-hoyer``, ``anneal`` at ``w = 16``, 12 in the quick form) and at large widths (``tabu``,
``anneal`` at ``w = 256``, and ``w = 512`` in full) where only the annealers run; ``teacher``
(Adam) and ``dense-student`` (the student's architecture, blocks ``64 -> w -> 2*16 -> pool`` and
``16 -> w -> 2*10 -> pool``, trained densely with Adam: the ceiling). Metrics: per-block loss over
the target's energy (``block_ratio``, 1 = the empty mask), gap to the exhaustive block optimum
(``block_gap``) where it fits, test accuracy.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from qtrain.bench.base import BenchConfig, Benchmark, Task, single_thread
from qtrain.bench.subnetwork.common import digits_data, grouped_table, line_plot
from qtrain.train.subnetwork import layerwise_distill
from qtrain.train.subnetwork.rivals import accuracy, train_dense

__all__ = ["SubnetKD"]


class SubnetKD(Benchmark):
    name = "subnet-kd"
    description = ("Layer-wise distillation into a masked random student: per-block routes vs exhaustive, "
                   "teacher, dense student")
    default_seeds = 3

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        wide = (256,) if cfg.quick else (256, 512)
        out = []
        for s in seeds:
            small = 12 if cfg.quick else 16
            out += [Task(m, s, {"hidden": small}) for m in ("exhaustive", "durr-hoyer", "anneal")]
            out += [Task(m, s, {"hidden": w}) for w in wide for m in ("tabu", "anneal")]
            out += [Task("teacher", s, {"hidden": 16}), Task("dense-student", s, {"hidden": 256})]
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        with single_thread():
            return _run(task)

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        lines = [f"# subnet-kd{' (quick)' if cfg.quick else ''}", "",
                 "`block_ratio` = block loss / target energy (mean over the two blocks), `block_gap` = loss / "
                 "exhaustive block optimum - 1 where 2^w fits.", ""]
        lines += grouped_table(runs, "hidden", ("test_acc", "block_ratio", "block_gap", "wall_s"))
        md = cfg.out_dir / "subnet-kd.md"
        md.write_text("\n".join(lines) + "\n")
        png = line_plot(runs, "hidden", "test_acc", cfg.out_dir / "subnet-kd.png",
                        "subnet-kd: accuracy against block width", ylabel="test accuracy")
        return [md, png]


class _DenseStudent(nn.Module):
    """The student's architecture with every weight trained: two-layer blocks pooled by 2."""

    def __init__(self, widths: list[int], hidden: int, ratio: int = 2):
        super().__init__()
        self.ratio = ratio
        self.layers = nn.ModuleList()
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            self.layers.append(nn.Sequential(nn.Linear(a, hidden, bias=False), nn.ReLU(),
                                             nn.Linear(hidden, ratio * b, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.layers):
            z = block(x)
            x = z.reshape(*z.shape[:-1], -1, self.ratio).mean(-1)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


def _run(task: Task) -> dict[str, Any]:
    d = digits_data(0)
    Xtr, ytr, Xte, yte = d["train_inputs"], d["train_targets"], d["test_inputs"], d["test_targets"]
    t0 = time.perf_counter()
    teacher = train_dense([64, 16, 10], Xtr.float(), ytr, epochs=40, seed=task.seed).double()
    if task.method == "teacher":
        return {"test_acc": accuracy(teacher, Xte, yte), "wall_s": time.perf_counter() - t0}
    if task.method == "dense-student":
        torch.manual_seed(task.seed)
        net = _DenseStudent([64, 16, 10], task.params["hidden"]).double()
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        g = torch.Generator().manual_seed(task.seed)
        for _ in range(40):
            perm = torch.randperm(Xtr.shape[0], generator=g)
            for b in range(0, Xtr.shape[0], 128):
                idx = perm[b:b + 128]
                opt.zero_grad()
                F.cross_entropy(net(Xtr[idx]), ytr[idx]).backward()
                opt.step()
        return {"test_acc": accuracy(net, Xte, yte), "wall_s": time.perf_counter() - t0}
    params = {"anneal": {"num_reads": 20}, "tabu": {"num_reads": 2}}.get(task.method, {})
    t0 = time.perf_counter()
    res = layerwise_distill(teacher, Xtr[:300], hidden=task.params["hidden"], solver=task.method, params=params,
                            seed=task.seed)
    out = {"test_acc": accuracy(res.student, Xte, yte), "wall_s": time.perf_counter() - t0,
           "block_ratio": sum(b["loss"] / b["target_energy"] for b in res.blocks) / len(res.blocks)}
    if all(b["optimum"] is not None for b in res.blocks):
        out["block_gap"] = sum(b["loss"] / b["optimum"] - 1 for b in res.blocks) / len(res.blocks)
    return out
