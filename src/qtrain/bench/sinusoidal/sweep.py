"""Benchmark ``sinnn-sweep``: bad-local-minimum proportions of GD on deep SinNN and DSinNN (v2).

For every width N and depth L (hidden widths N, N-1, ..., floor 5), one batch of seeds is trained
with full-batch SGD (lr 0.002, 300 epochs, gradient-norm clip 1.0) on ``sum_{k=1..5} sin(k x)``,
200 points on [-7pi/2, 7pi/2] split 160/40 (targets rounded for the DSinNN). A run is in a bad local
minimum when ``(L - Lmin) / (Lmin + 1e-8) > 1`` and ``L - Lmin > 1e-4``, ``Lmin`` the best run of the
configuration; reported on the training and on the test loss (arXiv:2410.22016, v2).

Full grid: N in {5, 10, 15, 20, 25, 30}, L in {1, 2, 4, 6, 8, 10}, 200 seeds. ``--quick``: N in {5, 8},
L in {1, 2}, 8 seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.nn import deep_dsinnn, deep_sinnn
from qtrain.train.sinusoidal import bad_minimum_mask, deep_data, gd_train

__all__ = ["SinusoidalSweep"]


def _grid(quick: bool) -> tuple[list[int], list[int], int]:
    if quick:
        return [5, 8], [1, 2], 8
    return [5, 10, 15, 20, 25, 30], [1, 2, 4, 6, 8, 10], 200


class SinusoidalSweep(Benchmark):
    name = "sinnn-sweep"
    description = "v2 deep SinNN/DSinNN: proportion of GD runs in bad local minima over widths and depths"
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        widths, depths, runs = _grid(cfg.quick)
        return [Task(m, s, {"width": n, "depth": d, "runs": runs, "epochs": 300, "lr": 0.002, "clip": 1.0})
                for s in cfg.seeds for m in ("sinnn", "dsinnn") for n in widths for d in depths]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        discrete = task.method == "dsinnn"
        model = (deep_dsinnn if discrete else deep_sinnn)(p["width"], p["depth"])
        xtr, ytr, xte, yte = deep_data(discrete, scaled=not discrete)
        seeds = [task.seed * 100_000 + i for i in range(p["runs"])]
        r = gd_train(model, xtr, ytr, seeds, epochs=p["epochs"], lr=p["lr"], clip=p["clip"], x_test=xte,
                     y_test=yte, device=cfg.device)
        return {"bad_train": float(bad_minimum_mask(r.loss).double().mean()),
                "bad_test": float(bad_minimum_mask(r.test_loss).double().mean()),
                "best_train": float(r.loss.min()), "median_train": float(r.loss.median()),
                "best_test": float(r.test_loss.min()), "median_test": float(r.test_loss.median()),
                "seconds": r.seconds}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        plt = pyplot()
        import numpy as np

        widths, depths, _ = _grid(cfg.quick)
        cell: dict[tuple[str, int, int], dict[str, float]] = {}
        for r in runs:
            cell[(r.method, r.params["width"], r.params["depth"])] = r.metrics
        lines = ["| model | width | depth | bad (train) | bad (test) | best train MSE | median train MSE | seconds |",
                 "|---|---|---|---|---|---|---|---|"]
        for (m, n, d), v in sorted(cell.items()):
            lines.append(f"| {m} | {n} | {d} | {v['bad_train']:.3f} | {v['bad_test']:.3f} | {v['best_train']:.4f} | "
                         f"{v['median_train']:.4f} | {v['seconds']:.1f} |")
        md = cfg.out_dir / "sinnn-sweep.md"
        md.write_text("\n".join(lines) + "\n")
        fig, axes = plt.subplots(2, 2, figsize=(9, 7), squeeze=False)
        for i, m in enumerate(("sinnn", "dsinnn")):
            for j, split in enumerate(("bad_train", "bad_test")):
                grid = np.full((len(depths), len(widths)), np.nan)
                for a, d in enumerate(depths):
                    for b, n in enumerate(widths):
                        if (m, n, d) in cell:
                            grid[a, b] = cell[(m, n, d)][split]
                ax = axes[i][j]
                im = ax.imshow(grid, vmin=0, vmax=1, cmap="magma", origin="lower", aspect="auto")
                for a in range(len(depths)):
                    for b in range(len(widths)):
                        if not np.isnan(grid[a, b]):
                            ax.text(b, a, f"{grid[a, b]:.2f}", ha="center", va="center", fontsize=7, color="cyan")
                ax.set_xticks(range(len(widths)), widths)
                ax.set_yticks(range(len(depths)), depths)
                ax.set_xlabel("width N")
                ax.set_ylabel("depth L")
                ax.set_title(f"{'SinNN' if m == 'sinnn' else 'DSinNN'}: bad minima ({split[4:]})")
        fig.colorbar(im, ax=axes, shrink=0.6, label="fraction of seeds")
        png = save_figure(fig, cfg.out_dir / "sinnn-sweep-heatmap.png", dpi=110, tight=False)
        return [md, png]
