"""Benchmark ``subnet-nk``: NK echo state networks on NARMA-10 and Mackey-Glass.

Per configuration (series, neighbourhoods adjacent or random, ``K``), an NK-ESN
(:func:`~qtrain.train.subnetwork.nk.nk_esn_problem`, ``N`` probes and outputs, reservoir 100,
spectral radius 0.9) and its lookup tables. Methods:

* ``dp``: :func:`~qtrain.train.subnetwork.nk_dynamic_programming`, checked against exhaustive
  search where ``2^N`` fits (``dp_equals_exhaustive``);
* ``per-output``: Durr-Hoyer on each output's ``2^K`` table (``K`` qubits), merged by majority
  (:func:`~qtrain.train.subnetwork.nk.merge_patterns`); over ``SEEDS`` seeds, the fraction of
  subfunctions whose optimum was found (``found_rate``, the worst output's rate
  ``min_found_rate``), total oracle calls against the classical ``2^K N`` table, the merge's gap
  to the DP optimum of the NK objective;
* ``random``: the mean over 100 uniformly random masks; ``all-probes``: every probe kept.

Metric: test NRMSE of the one-step prediction (the mean of the outputs, each refit on train).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.subnetwork.common import grouped_table, line_plot
from qtrain.data import mackey_glass, narma10
from qtrain.train.subnetwork import merge_patterns, nk_dynamic_programming, nk_esn_problem, per_output_search
from qtrain.train.subnetwork.nk import nk_exhaustive, nk_value

__all__ = ["SubnetNK"]

METHODS = ("dp", "per-output", "random", "all-probes")
SEEDS = 20


class SubnetNK(Benchmark):
    name = "subnet-nk"
    description = "NK echo state networks on NARMA-10 and Mackey-Glass: per-output Grover search vs exact DP vs random"
    default_seeds = 3

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        Ks = (2, 3) if cfg.quick else (2, 3, 4)
        N = 16 if cfg.quick else 20
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        return [Task(m, s, {"series": series, "neighbourhoods": nb, "K": K, "N": N, "length": 1500})
                for s in seeds for series in ("narma10", "mackey-glass") for nb in ("adjacent", "random")
                for K in Ks for m in METHODS]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        if p["series"] == "narma10":
            u, y = narma10(p["length"], seed=task.seed)
        else:
            x = mackey_glass(p["length"] + 1, seed=task.seed)
            u, y = x[:-1], x[1:]
        prob = nk_esn_problem(u, y, num_probes=p["N"], K=p["K"], neighbourhoods=p["neighbourhoods"], seed=task.seed)
        t0 = time.perf_counter()
        best_mask, best_value = nk_dynamic_programming(prob.tables, prob.neighbourhoods)
        dp_s = time.perf_counter() - t0
        out: dict[str, Any] = {"dp_value": best_value}
        if task.method == "dp":
            out.update(wall_s=dp_s, nk_value=best_value, test_nrmse=prob.test_nrmse(best_mask),
                       classical_evaluations=prob.tables.numel())
            if p["N"] <= 20:
                _, ref = nk_exhaustive(prob.tables, prob.neighbourhoods)
                out["dp_equals_exhaustive"] = float(abs(ref - best_value) <= 1e-9)
        elif task.method == "per-output":
            t0 = time.perf_counter()
            found = torch.zeros(prob.tables.shape[0])
            calls = 0
            for s in range(SEEDS):
                pattern, info = per_output_search(prob.tables, "durr-hoyer", seed=s)
                found += torch.tensor(info["found"], dtype=torch.float64)
                calls += info["oracle_calls"]
            mask = merge_patterns(pattern, prob.neighbourhoods, prob.num_probes)
            val = float(nk_value(prob.tables, prob.neighbourhoods, mask))
            out.update(wall_s=time.perf_counter() - t0, nk_value=val, merge_gap=best_value - val,
                       found_rate=float(found.mean() / SEEDS), min_found_rate=float(found.min() / SEEDS),
                       oracle_calls=calls / SEEDS, classical_evaluations=prob.tables.numel(),
                       qubits=p["K"], test_nrmse=prob.test_nrmse(mask))
        elif task.method == "random":
            g = torch.Generator().manual_seed(task.seed)
            masks = torch.randint(0, 2, (100, prob.num_probes), generator=g)
            out.update(nk_value=float(nk_value(prob.tables, prob.neighbourhoods, masks).mean()),
                       test_nrmse=sum(prob.test_nrmse(m) for m in masks[:20]) / 20)
        elif task.method == "all-probes":
            ones = torch.ones(prob.num_probes, dtype=torch.int64)
            out.update(nk_value=float(nk_value(prob.tables, prob.neighbourhoods, ones)),
                       test_nrmse=prob.test_nrmse(ones))
        else:
            raise ValueError(f"unknown method {task.method!r}")
        return out

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        lines = [f"# subnet-nk{' (quick)' if cfg.quick else ''}", "",
                 "NK-ESN one-step prediction; `nk_value` = sum of the outputs' validation fits (maximised), "
                 "`test_nrmse` on the held-out tail; per-output search over 20 seeds.", ""]
        for series in ("narma10", "mackey-glass"):
            for nb in ("adjacent", "random"):
                sub = [r for r in runs if r.params["series"] == series and r.params["neighbourhoods"] == nb]
                if sub:
                    lines += [f"## {series}, {nb} neighbourhoods", ""]
                    lines += grouped_table(sub, "K", ("test_nrmse", "nk_value", "dp_value", "merge_gap", "found_rate",
                                                      "min_found_rate", "oracle_calls", "classical_evaluations",
                                                      "dp_equals_exhaustive", "wall_s"))
                    lines.append("")
        md = cfg.out_dir / "subnet-nk.md"
        md.write_text("\n".join(lines) + "\n")
        png = line_plot([r for r in runs if r.params["series"] == "narma10"], "K", "test_nrmse",
                        cfg.out_dir / "subnet-nk.png", "subnet-nk: NARMA-10 test NRMSE", ylabel="NRMSE")
        return [md, png]
