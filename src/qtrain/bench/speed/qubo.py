"""Benchmark ``qubo-speed``: qtrain's batched annealer against dwave-samplers, same run.

(a) one dense QUBO, n=1000, couplings uniform(-1, 1), 10 reads x 1000 sweeps: ``anneal`` vs
    ``dwave.samplers.SimulatedAnnealingSampler`` with the same reads and sweeps;
(b) 64 dense QUBOs with n=128: ``anneal`` in one call vs dwave-samplers called per problem;
(c) 20 instances with n=20 whose optimum is known by brute force: fraction solved at
    100 reads x 1000 sweeps.
(d) simulated bifurcation: qtrain's ``sb`` sampler against the ``simulated-bifurcation`` package
    (extra ``sb``; the part is skipped when it is not installed) on one dense QUBO (n=1000, n=400
    with ``--quick``), ballistic, the same agents (128) and steps (1000), the package's early
    stopping off; time and mean best energy in the same run.
(a-gpu), (b-gpu): when ``--device`` resolves to CUDA, (a) and (b) again with 1024 reads on the GPU.
    dwave-samplers runs on the CPU only and its time is linear in the number of reads (each read is an
    independent anneal), so its 1024-read time is its measured 10-read time of the same run x 102.4;
    the table labels that figure as extrapolated.

Timing: ours is the whole ``sample_qubo_batch`` call (conversion included); dwave-samplers' is its
``sample(bqm)`` calls alone, the BQMs built beforehand. Compilation is warmed up before timing.
Each side is timed ``REPEATS`` times (once with ``--quick``) and the median is reported, so a burst
of load from other jobs on a shared machine moves neither side's figure.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task, speed_bar_chart
from qtrain.qubo import QUBO, get_sampler

__all__ = ["QuboSpeed"]


GPU_READS = 1024
#: Timed repetitions per part and side (the median is reported); 1 with ``--quick``.
REPEATS = 3


def _on_cuda(cfg: BenchConfig) -> bool:
    from qtrain.qubo.anneal import resolve_device

    return resolve_device(cfg.device).type == "cuda"


def _has_sb_package() -> bool:
    import importlib.util

    return importlib.util.find_spec("simulated_bifurcation") is not None


def _run_sb(task: Task, cfg: BenchConfig, qubo: QUBO) -> dict[str, Any]:
    """Part (d): qtrain's ``sb`` or the ``simulated-bifurcation`` package, same agents and steps."""
    p = task.params
    times, best = [], []
    for _ in range(1 if cfg.quick else REPEATS):
        if task.method == "d/sb":
            sampler = get_sampler("sb", device=cfg.device)
            t0 = time.perf_counter()
            res = sampler.sample_qubo_batch(qubo, num_reads=p["agents"], num_steps=p["num_steps"], seed=task.seed)
            times.append(time.perf_counter() - t0)
            best.append(float(res.energy.mean()))
        else:
            import simulated_bifurcation as sbp

            torch.manual_seed(task.seed)
            t0 = time.perf_counter()
            vecs = [sbp.minimize(q.to(torch.float32), domain="binary", agents=p["agents"], max_steps=p["num_steps"],
                                 early_stopping=False, verbose=False, device=cfg.device)[0] for q in qubo.Q]
            times.append(time.perf_counter() - t0)
            best.append(float(qubo.energy(torch.stack(vecs).to(torch.float64)).mean()))
    return {"seconds": float(np.median(times)), "repeats": len(times), "mean_best_energy": float(np.mean(best))}


def _instances(seed: int, batch: int, n: int) -> QUBO:
    rng = np.random.default_rng(seed)
    return QUBO(torch.from_numpy(rng.uniform(-1, 1, size=(batch, n, n))))


def _sizes(quick: bool) -> dict[str, dict[str, int]]:
    if quick:
        return {"a": {"n": 400, "batch": 1, "num_reads": 10, "num_sweeps": 1000},
                "b": {"n": 128, "batch": 16, "num_reads": 10, "num_sweeps": 1000},
                "c": {"n": 20, "batch": 20, "num_reads": 100, "num_sweeps": 1000},
                "d": {"n": 400, "batch": 1, "agents": 128, "num_steps": 1000}}
    return {"a": {"n": 1000, "batch": 1, "num_reads": 10, "num_sweeps": 1000},
            "b": {"n": 128, "batch": 64, "num_reads": 10, "num_sweeps": 1000},
            "c": {"n": 20, "batch": 20, "num_reads": 100, "num_sweeps": 1000},
            "d": {"n": 1000, "batch": 1, "agents": 128, "num_steps": 1000}}


class QuboSpeed(Benchmark):
    name = "qubo-speed"
    description = ("qtrain's batched annealer vs dwave-samplers' SA on the same instances: "
                   "(a) n=1000, (b) 64 x n=128 batch, (c) 20 x n=20 solved fraction")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        sizes = _sizes(cfg.quick)
        out = []
        for seed in cfg.seeds:
            for part in ("a", "b", "c"):
                for method in ("anneal", "dwave-sa"):
                    out.append(Task(f"{part}/{method}", seed, {**sizes[part], "part": part}))
            if _has_sb_package():
                for method in ("sb", "sb-package"):
                    out.append(Task(f"d/{method}", seed, {**sizes["d"], "part": "d"}))
            if _on_cuda(cfg):
                for part in ("a", "b"):
                    out.append(Task(f"{part}-gpu/anneal", seed, {**sizes[part], "part": f"{part}-gpu",
                                                                 "num_reads": GPU_READS}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        qubo = _instances(task.seed, p["batch"], p["n"])
        if p["part"] == "d":
            return _run_sb(task, cfg, qubo)
        kw = {"num_reads": p["num_reads"], "num_sweeps": p["num_sweeps"], "seed": task.seed}
        times = []
        if task.method.endswith("anneal"):
            sampler = get_sampler("anneal", device=cfg.device)
            sampler.sample_qubo_batch(QUBO(qubo.Q[:1, :8, :8]), num_reads=2, num_sweeps=2, seed=0)
            for _ in range(1 if cfg.quick else REPEATS):
                if "gpu" in p["part"]:
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                res = sampler.sample_qubo_batch(qubo, return_all=True, **kw)
                times.append(time.perf_counter() - t0)
            best, mean = res.energy.numpy(), res.energies.mean(-1).numpy()
        else:
            from dwave.samplers import SimulatedAnnealingSampler

            sa, bqms = SimulatedAnnealingSampler(), qubo.to_bqm()
            best, mean = np.empty(len(bqms)), np.empty(len(bqms))
            for _ in range(1 if cfg.quick else REPEATS):
                seconds = 0.0
                for b, bqm in enumerate(bqms):
                    t0 = time.perf_counter()
                    ss = sa.sample(bqm, **kw)
                    seconds += time.perf_counter() - t0
                    best[b], mean[b] = ss.record.energy.min(), ss.record.energy.mean()
                times.append(seconds)
        metrics: dict[str, Any] = {"seconds": float(np.median(times)), "repeats": len(times),
                                   "mean_best_energy": float(best.mean()),
                                   "mean_read_energy": float(mean.mean())}
        if p["part"] == "c":
            exact = get_sampler("exact").sample_qubo_batch(qubo).energy.numpy()
            metrics["solved"] = int(np.sum(np.abs(best - exact) <= 1e-9 * np.maximum(1, np.abs(exact))))
            metrics["instances"] = int(p["batch"])
        return metrics

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        from qtrain.bench.runner import summarize

        s = summarize(runs)
        r = ratios(s)
        lines = ["| part | ours (s) | dwave-samplers (s) | speed-up | ours mean best | theirs mean best |",
                 "|---|---|---|---|---|---|"]
        for part in ("a", "b", "c"):
            ours, theirs = s.get(f"{part}/anneal"), s.get(f"{part}/dwave-sa")
            if ours and theirs:
                lines.append(f"| {part} | {ours['seconds']:.3f} | {theirs['seconds']:.3f} | "
                             f"{theirs['seconds'] / ours['seconds']:.1f}x | "
                             f"{ours['mean_best_energy']:.4f} | {theirs['mean_best_energy']:.4f} |")
        if "c/anneal" in s:
            lines.append(f"\n(c) solved: ours {s['c/anneal']['solved']:.1f} / "
                         f"{s['c/anneal']['instances']:.0f}, dwave-samplers "
                         f"{s['c/dwave-sa']['solved']:.1f} / {s['c/dwave-sa']['instances']:.0f}")
        for part in ("a", "b"):
            gpu, theirs = s.get(f"{part}-gpu/anneal"), s.get(f"{part}/dwave-sa")
            if gpu and theirs:
                ext = theirs["seconds"] * GPU_READS / 10
                lines.append(f"\n({part}-gpu) {GPU_READS} reads on {cfg.device}: ours {gpu['seconds']:.3f} s, "
                             f"dwave-samplers {ext:.1f} s (extrapolated from its 10-read time), "
                             f"speed-up {ext / gpu['seconds']:.1f}x; ours mean best {gpu['mean_best_energy']:.4f}")
        ours, theirs = s.get("d/sb"), s.get("d/sb-package")
        if ours and theirs:
            lines.append(f"\n(d) simulated bifurcation, 128 agents x 1000 steps: qtrain sb {ours['seconds']:.3f} s, "
                         f"simulated-bifurcation {theirs['seconds']:.3f} s "
                         f"(speed-up {theirs['seconds'] / ours['seconds']:.2f}x); mean best energy "
                         f"{ours['mean_best_energy']:.4f} vs {theirs['mean_best_energy']:.4f}")
        elif not _has_sb_package():
            lines.append("\n(d) skipped: the simulated-bifurcation package is not installed (pip install 'qtrain[sb]')")
        lines.append(f"\nratios: {r}")
        md = cfg.out_dir / "qubo-speed.md"
        md.write_text("\n".join(lines) + "\n")
        parts = [p for p in ("a", "b", "c") if f"{p}/anneal" in s]
        png = speed_bar_chart(cfg.out_dir / "qubo-speed.png", [f"({p})" for p in parts],
                              [s[f"{p}/anneal"]["seconds"] for p in parts],
                              [s[f"{p}/dwave-sa"]["seconds"] for p in parts],
                              "qtrain anneal", "dwave-samplers SA",
                              "qubo-speed" + (" (quick)" if cfg.quick else ""))
        return [md, png]

    def summary_extra(self, summary: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {"ratios": ratios(summary)}


def ratios(s: dict[str, dict[str, float]]) -> dict[str, float]:
    """Speed-ups (theirs / ours), the relative energy gap of (a) in percent (positive: ours worse)
    and the solved counts of (c)."""
    out = {}
    for part in ("a", "b"):
        ours, theirs = s.get(f"{part}/anneal"), s.get(f"{part}/dwave-sa")
        if ours and theirs:
            out[f"{part}_speedup"] = theirs["seconds"] / ours["seconds"]
            gap = ours["mean_best_energy"] - theirs["mean_best_energy"]
            out[f"{part}_energy_gap_pct"] = 100 * gap / abs(theirs["mean_best_energy"])
    for part in ("a", "b"):
        gpu, theirs = s.get(f"{part}-gpu/anneal"), s.get(f"{part}/dwave-sa")
        if gpu and theirs:
            out[f"{part}_gpu_speedup_vs_extrapolated"] = theirs["seconds"] * GPU_READS / 10 / gpu["seconds"]
    ours, theirs = s.get("d/sb"), s.get("d/sb-package")
    if ours and theirs:
        out["d_sb_speedup"] = theirs["seconds"] / ours["seconds"]
        out["d_sb_energy_gap_pct"] = 100 * (ours["mean_best_energy"] - theirs["mean_best_energy"]) / abs(
            theirs["mean_best_energy"])
    if "c/anneal" in s:
        out["c_solved"] = s["c/anneal"]["solved"]
        out["c_solved_dwave"] = s["c/dwave-sa"]["solved"]
    return out
