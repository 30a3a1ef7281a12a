"""Benchmark ``qnewton-cost``: where, if anywhere, a quantum linear solve beats a classical one.

Parts (each a task):

* ``classical``: measured, synchronised Cholesky solve times on the device for several N, and the
  analytic ``(1/3) N^3 / FLOPS`` model with FLOPS calibrated on the same device;
* ``surface/<profile>``: projected QLSA time (Jennings query count x gates per query x profile,
  state preparation included; with and without read-out) over a grid of N and kappa, dense
  (``d = N``) and sparse (``d = 8``), against the analytic classical time; the crossover
  ``kappa*(N)`` below which the quantum branch is cheaper; the cost against d and eps;
* ``lanczos``: condition number of N = 2000 blocks by Lanczos against ``eigvalsh`` (a
  regularised empirical Fisher and a geometric spectrum), error and time ratio.

Runs on the CPU or, with ``--device cuda``, measures the classical solves, eigvalsh and Lanczos
on the GPU.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtrain._device import synchronize
from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.bench.qnewton.common import PROFILES
from qtrain.linalg import ClassicalCostModel, QLSACostModel, condition_number
from qtrain.testing import random_spd

__all__ = ["QNewtonCost"]


def _grid(quick: bool) -> dict[str, Any]:
    return {"N": [2**k for k in range(4, 18 if quick else 21)],
            "kappa": [float(10**e) for e in np.arange(0.6, 8.01, 0.35 if quick else 0.2)],
            "sizes": [64, 256, 1024] if quick else [64, 256, 1024, 2048, 4096],
            "lanczos_N": 2000}


def _timed(fn, device: str, repeats: int = 1) -> tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        out = fn()
        synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return out, best


class QNewtonCost(Benchmark):
    name = "qnewton-cost"
    description = ("QLSA vs classical solve cost surfaces over N, kappa, d, eps per hardware "
                   "profile, crossover lines, measured Cholesky times, Lanczos vs eigvalsh")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        g = _grid(cfg.quick)
        out = []
        for s in cfg.seeds:
            out.append(Task("classical", s, {"sizes": g["sizes"]}))
            out += [Task(f"surface/{p}", s, {"profile": p, "N": g["N"], "kappa": g["kappa"]})
                    for p in PROFILES]
            out.append(Task("lanczos", s, {"N": g["lanczos_N"]}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        if task.method == "classical":
            return self._classical(task, cfg)
        if task.method == "lanczos":
            return self._lanczos(task, cfg)
        return self._surface(task, cfg)

    def _classical(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        meas = ClassicalCostModel("measured", device=cfg.device, repeats=5)
        ana = ClassicalCostModel("analytic", device=cfg.device)
        sizes = task.params["sizes"]
        tm = meas.time(sizes).tolist()
        ta = ana.time(sizes).tolist()
        return {"sizes": sizes, "measured_s": tm, "analytic_s": ta,
                "flops": ana.calibrated_flops(),
                "measured_over_analytic_largest": tm[-1] / ta[-1]}

    def _surface(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        flops = ClassicalCostModel("analytic", device=cfg.device).calibrated_flops()
        N = torch.tensor(p["N"], dtype=torch.float64)[:, None]
        K = torch.tensor(p["kappa"], dtype=torch.float64)[None, :]
        tc = (N**3 / 3 / flops).expand(-1, K.shape[1])
        out: dict[str, Any] = {"profile": p["profile"], "flops": flops}
        for readout in (False, True):
            qm = QLSACostModel(profile=p["profile"], eps=0.01, readout=readout)
            for dname, d in (("dense", N), ("d8", torch.full_like(N, 8.0).minimum(N))):
                tq = qm.time(N, K, d)
                tag = f"{dname}{'+readout' if readout else ''}"
                ratio = (tq / tc)
                out[f"log10_ratio:{tag}"] = torch.log10(ratio).tolist()
                # crossover: the largest kappa on the grid with quantum cheaper, per N (0: none)
                cheaper = ratio < 1
                idx = torch.where(cheaper.any(1), cheaper.double().cumsum(1).argmax(1),
                                  torch.full((N.shape[0],), -1))
                out[f"crossover_kappa:{tag}"] = [p["kappa"][i] if i >= 0 else 0.0
                                                  for i in idx.tolist()]
                out[f"cheaper_cells:{tag}"] = int(cheaper.sum())
        qm = QLSACostModel(profile=p["profile"], eps=0.01)
        ds = [1, 2, 4, 8, 16, 64, 256, 1024]
        eps = [0.24, 0.1, 0.03, 0.01, 0.003, 1e-3, 1e-4]
        out["vs_d"] = {"d": ds, "s": qm.time(1024.0, 100.0, torch.tensor(ds, dtype=torch.float64)
                                             ).tolist()}
        out["vs_eps"] = {"eps": eps, "s": [float(QLSACostModel(profile=p["profile"], eps=e)
                                                 .time(1024.0, 100.0, 1024.0)) for e in eps],
                         "s_readout": [float(QLSACostModel(profile=p["profile"], eps=e,
                                                           readout=True)
                                             .time(1024.0, 100.0, 1024.0)) for e in eps]}
        return out

    def _lanczos(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        n, dev = task.params["N"], cfg.device
        g = torch.Generator().manual_seed(task.seed)
        G = torch.randn(256, n, generator=g, dtype=torch.float64)
        G = G * torch.linspace(1.0, 0.01, n, dtype=torch.float64)  # decaying feature scales
        F = G.T @ G / 256
        F = F + 1e-3 * F.diagonal().max() * torch.eye(n, dtype=torch.float64)
        blocks = {"fisher": F, "geometric": random_spd(1, n, kappa=1e3, seed=task.seed)[0]}
        out: dict[str, Any] = {"N": n}
        for name, A in blocks.items():
            A = A.to(dev)[None]
            condition_number(A[:, :64, :64], "lanczos")  # warm up kernels
            exact, t_exact = _timed(lambda A=A: condition_number(A, "exact"), dev, 2)
            est, t_lan = _timed(lambda A=A: condition_number(A, "lanczos", tol=1e-2,
                                                             return_estimate=True), dev, 2)
            out[f"{name}/kappa_exact"] = float(exact)
            out[f"{name}/kappa_lanczos"] = float(est.kappa)
            out[f"{name}/rel_error"] = abs(float(est.kappa) / float(exact) - 1)
            out[f"{name}/eigvalsh_s"] = t_exact
            out[f"{name}/lanczos_s"] = t_lan
            out[f"{name}/time_ratio"] = t_lan / t_exact
            out[f"{name}/matvecs"] = est.cost["matvecs"]
        return out

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        plt = pyplot()

        by = {r.method: r.metrics for r in runs}
        surf = {m.split("/", 1)[1]: v for m, v in by.items() if m.startswith("surface/")}
        lines = [f"# qnewton-cost{' (quick)' if cfg.quick else ''}", ""]
        if "classical" in by:
            c = by["classical"]
            lines += [f"Classical Cholesky on {cfg.device} (calibrated {c['flops'] / 1e9:.2f} "
                      "GFLOP/s):", "", "| N | measured (s) | analytic (s) |", "|---|---|---|"]
            lines += [f"| {n} | {m:.3g} | {a:.3g} |" for n, m, a in
                      zip(c["sizes"], c["measured_s"], c["analytic_s"], strict=True)]
        if surf:
            Nlist = next(r.params["N"] for r in runs if r.method.startswith("surface/"))
            klist = next(r.params["kappa"] for r in runs if r.method.startswith("surface/"))
            pick = [n for n in (1024, 16384, 131072) if n in Nlist]
            lines += ["", "Crossover kappa* (largest kappa on the grid where the QLSA is cheaper "
                      "than the analytic classical solve; 0 = never), eps = 0.01:", "",
                      "| profile | " + " | ".join(f"N={n} dense | N={n} d=8 | N={n} d=8 + read-out"
                                                  for n in pick) + " |",
                      "|---|" + "---|" * (3 * len(pick))]
            for p, v in surf.items():
                cells = []
                for n in pick:
                    i = Nlist.index(n)
                    for tag in ("dense", "d8", "d8+readout"):
                        cells.append(f"{v[f'crossover_kappa:{tag}'][i]:.3g}")
                lines.append(f"| {p} | " + " | ".join(cells) + " |")
            fig, axes = plt.subplots(1, len(surf), figsize=(4 * len(surf), 3.6), squeeze=False)
            for ax, (p, v) in zip(axes[0], surf.items(), strict=True):
                Z = np.array(v["log10_ratio:dense"])
                im = ax.pcolormesh(np.log10(klist), np.log10(Nlist), Z, cmap="RdBu_r",
                                   vmin=-6, vmax=6, shading="auto")
                ax.contour(np.log10(klist), np.log10(Nlist), Z, levels=[0], colors="k")
                ax.set_title(f"{p}: log10 T_q/T_c (d=N)", fontsize=8)
                ax.set_xlabel("log10 kappa")
                ax.set_ylabel("log10 N")
            fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
            png1 = save_figure(fig, cfg.out_dir / "qnewton-cost-surfaces.png", dpi=100, tight=False)
            fig, axes = plt.subplots(1, 3, figsize=(14, 4))
            for i, (p, v) in enumerate(surf.items()):
                col = f"C{i}"  # one colour per profile; line style marks the variant
                for tag, ls in (("dense", "-"), ("d8", "--"), ("d8+readout", ":")):
                    k = np.array(v[f"crossover_kappa:{tag}"], dtype=float)
                    axes[0].plot(Nlist, np.where(k > 0, k, np.nan), ls=ls, color=col,
                                 label=f"{p} {tag}")
                axes[1].plot(v["vs_d"]["d"], v["vs_d"]["s"], marker="o", color=col, label=p)
                axes[2].plot(v["vs_eps"]["eps"], v["vs_eps"]["s"], marker="o", color=col, label=p)
                axes[2].plot(v["vs_eps"]["eps"], v["vs_eps"]["s_readout"], ls=":", color=col,
                             label=f"{p} + read-out")
            axes[0].set(xscale="log", yscale="log", xlabel="N", ylabel="crossover kappa*",
                        title="quantum cheaper below the line")
            axes[1].set(xscale="log", yscale="log", xlabel="d", ylabel="projected QLSA s",
                        title="N=1024, kappa=100")
            axes[2].set(xscale="log", yscale="log", xlabel="eps", ylabel="projected QLSA s",
                        title="N=1024, kappa=100, d=N")
            for ax in axes:
                ax.legend(fontsize=6)
            png2 = save_figure(fig, cfg.out_dir / "qnewton-cost-crossover.png", dpi=100)
        if "lanczos" in by:
            v = by["lanczos"]
            lines += ["", f"Lanczos vs eigvalsh on N = {v['N']} blocks ({cfg.device}; target: "
                      "error <= 5%, time <= 1/5 of eigvalsh):", "",
                      "| block | kappa exact | kappa Lanczos | error | matvecs | eigvalsh (s) | "
                      "Lanczos (s) | time ratio |", "|---|---|---|---|---|---|---|---|"]
            for b in ("fisher", "geometric"):
                lines.append(f"| {b} | {v[f'{b}/kappa_exact']:.4g} | "
                             f"{v[f'{b}/kappa_lanczos']:.4g} | {100 * v[f'{b}/rel_error']:.2f}% | "
                             f"{v[f'{b}/matvecs']} | {v[f'{b}/eigvalsh_s']:.3g} | "
                             f"{v[f'{b}/lanczos_s']:.3g} | {v[f'{b}/time_ratio']:.3f} |")
        md = cfg.out_dir / "qnewton-cost.md"
        md.write_text("\n".join(lines) + "\n")
        files = [md]
        if surf:
            files += [png1, png2]
        return files
