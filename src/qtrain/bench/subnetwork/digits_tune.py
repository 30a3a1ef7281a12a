"""Benchmark ``subnet-digits-tune``: the surrogate-annealing settings of ``subnet-digits`` chosen
on validation rows.

Protocol (written before the run; the test rows are never read):

1. Data and network exactly as ``subnet-digits`` (:func:`~qtrain.bench.subnetwork.common.digits_data`,
   the frozen Kaiming-uniform ``64-w-w-10`` MLP of the task's seed), but the training rows are
   split by :func:`~qtrain.data.validation_split` (stratified, seeded by the task's seed):
   :data:`VALIDATION_FRACTION` of them are held out as validation rows, the rest are the only rows
   :func:`~qtrain.train.subnetwork.select_layerwise` sees.
2. A fixed grid (:data:`GRID`, decided before any run) of the two settings picked earlier on the
   test split: the count-penalty scale ``penalty`` (``lam_o = penalty * max |Q_o|`` per row) and
   the rows of the empirical Fisher ``samples``. It holds the previous defaults (penalty 1.0,
   256 rows) and the test-picked ones (0.1, 1000 rows).
3. Every grid point runs ``select_layerwise`` (2 rounds, annealer with 4 reads of 200 sweeps, as
   ``subnet-digits``) at every density and seed, and is scored on the validation rows: accuracy
   and cross-entropy.
4. :func:`select` keeps one setting for all densities: the best mean validation accuracy over
   densities and seeds; ties (within 1e-9) go to the smaller change of the penalty from the
   previous default 1.0 (``|log10 penalty|``), then to the fewer Fisher rows. A choice on the
   grid's edge (penalty 0.03 or 1.0) would extend the grid on that side and the run resume; the
   report says which chosen values lie on an edge.
5. ``subnet-digits`` runs the chosen setting (:data:`~qtrain.bench.subnetwork.digits.PENALTY`,
   :data:`~qtrain.bench.subnetwork.digits.SAMPLES`) on all training rows and reports its test
   accuracy; this report says whether those constants hold the choice.

``--quick``: the network of ``subnet-digits --quick`` (width 128, densities 0.1 and 0.5) with the
whole grid and both seeds (32 tasks, about 2 minutes on a shared 2-core CPU): this is the choice
``subnet-digits --quick`` runs. Full: width 256, densities 0.1/0.3/0.5/0.7, seeds 0 and 1 (not run
yet: ``qtrain bench run subnet-digits-tune``).

References: Whitaker, arXiv:2302.05984 (mask selection as a QUBO); the validation protocol is
``qpsbgd-digits-tune``'s (:mod:`qtrain.bench.qpsbgd.digits_tune`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task, single_thread
from qtrain.bench.subnetwork.common import digits_data, line_plot
from qtrain.bench.subnetwork.digits import ANNEAL, PENALTY, ROUNDS, SAMPLES
from qtrain.data import Split, validation_split
from qtrain.nn import masked_mlp
from qtrain.train.subnetwork import select_layerwise
from qtrain.train.subnetwork.rivals import accuracy

__all__ = ["GRID", "VALIDATION_FRACTION", "SubnetDigitsTune", "select", "validation_rows"]

#: The grid: count-penalty scale x Fisher rows (previous defaults 1.0 and 256 included).
GRID: list[dict[str, float]] = [{"penalty": p, "samples": s} for p in (0.03, 0.1, 0.3, 1.0)
                                for s in (256, 1000)]
VALIDATION_FRACTION = 0.2
#: The previous default of the penalty scale: ties go to the smaller change from it.
PREVIOUS_PENALTY = 1.0


def _label(setting: dict[str, float]) -> str:
    return f"penalty={setting['penalty']:g},samples={int(setting['samples'])}"


def validation_rows(seed: int, fraction: float = VALIDATION_FRACTION) -> Split:
    """``subnet-digits``' training rows (standardised digits, 75/25 split of seed 0) split into
    fitting rows (``X_train``) and held-out validation rows (``X_test``) by
    :func:`~qtrain.data.validation_split` with ``seed``; the test rows are not included.

    Note: the pixels are standardised with the mean and std of all training rows (validation rows
    included), as ``subnet-digits`` does; no label is used there.
    """
    d = digits_data(0, torch.float32)
    train = Split(d["train_inputs"], d["train_targets"], d["train_inputs"][:0], d["train_targets"][:0],
                  10, tuple(range(10)))
    return validation_split(train, fraction, seed=seed)


def _group(runs: list[Any]) -> dict[str, tuple[dict[str, float], list[dict[str, Any]]]]:
    groups: dict[str, tuple[dict[str, float], list[dict[str, Any]]]] = {}
    for r in runs:
        setting = {"penalty": float(r.params["penalty"]), "samples": int(r.params["samples"])}
        groups.setdefault(_label(setting), (setting, []))[1].append(r.metrics)
    return groups


def _rank(setting: dict[str, float], ms: list[dict[str, Any]]) -> tuple[float, float, float]:
    return (-round(float(np.mean([m["val_acc"] for m in ms])), 9),
            round(abs(math.log10(setting["penalty"] / PREVIOUS_PENALTY)), 9), float(setting["samples"]))


def select(runs: list[Any]) -> dict[str, float]:
    """The chosen setting among the stored tuning ``runs``: the best mean validation accuracy over
    every density and seed; ties (within 1e-9) go to the smaller ``|log10(penalty / 1.0)|`` (the
    smaller change from the previous default), then to the fewer Fisher rows.

    Rank of a grid point ``g`` (smaller is better, compared lexicographically):
    ``(-mean val_acc(g), |log10 penalty(g)|, samples(g))``.

    Raises:
        ValueError: no runs.
    """
    groups = _group(runs)
    if not groups:
        raise ValueError("select needs at least one tuning run")
    setting, _ = min(groups.values(), key=lambda g: _rank(*g))
    return dict(setting)


class SubnetDigitsTune(Benchmark):
    name = "subnet-digits-tune"
    description = ("count penalty and Fisher rows of subnet-digits' surrogate annealing, chosen on validation "
                   "rows (80/20 split of the training rows; test rows unused)")
    default_seeds = 2

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        width = 128 if cfg.quick else 256
        dens = (0.1, 0.5) if cfg.quick else (0.1, 0.3, 0.5, 0.7)
        return [Task(f"samples={int(g['samples'])}", s,
                     {"width": width, "density": d, "val": VALIDATION_FRACTION, **g})
                for s in cfg.seeds for d in dens for g in GRID]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        data = validation_rows(task.seed, p["val"])
        net = masked_mlp([64, p["width"], p["width"], 10], init="kaiming-uniform", seed=task.seed)
        with single_thread():
            info = select_layerwise(net, data.X_train, data.y_train, p["density"], rounds=ROUNDS,
                                    samples=int(p["samples"]), penalty=float(p["penalty"]),
                                    params=dict(ANNEAL), seed=task.seed)
            with torch.no_grad():
                val_loss = float(torch.nn.functional.cross_entropy(net(data.X_test).double(), data.y_test))
            return {"val_acc": accuracy(net, data.X_test, data.y_test), "val_loss": val_loss,
                    "fit_acc": accuracy(net, data.X_train, data.y_train), "solve_s": info["solve_s"]}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        chosen, groups = select(runs), _group(runs)
        dens = sorted({float(r.params["density"]) for r in runs})
        seeds = sorted({r.seed for r in runs})
        lines = [f"# subnet-digits-tune{' (quick)' if cfg.quick else ''}", "",
                 f"Validation accuracy of select_layerwise's masks (mean over seeds {seeds}) on "
                 f"{VALIDATION_FRACTION:.0%} of the training rows; test rows unused; **bold**: chosen.", "",
                 "| setting |" + "".join(f" val acc @ {d:g} |" for d in dens) + " mean val acc | mean val loss |",
                 "|---|" + "---|" * (len(dens) + 2)]
        for label, (setting, _) in sorted(groups.items(), key=lambda kv: (kv[1][0]["penalty"], kv[1][0]["samples"])):
            at = {d: [r.metrics["val_acc"] for r in runs if _label(_setting(r)) == label
                      and float(r.params["density"]) == d] for d in dens}
            ms = groups[label][1]
            mark = "**" if setting == chosen else ""
            lines.append(f"| {mark}{label}{mark} |" + "".join(
                f" {np.mean(at[d]):.4f} |" if at[d] else " - |" for d in dens)
                + f" {np.mean([m['val_acc'] for m in ms]):.4f} | {np.mean([m['val_loss'] for m in ms]):.4g} |")
        held = chosen == {"penalty": PENALTY, "samples": SAMPLES}
        pens = [g["penalty"] for g in GRID]
        edge = "yes" if chosen["penalty"] in (min(pens), max(pens)) else "no"
        lines += ["", f"Chosen: {_label(chosen)}; subnet-digits runs penalty={PENALTY:g}, samples={SAMPLES} "
                  f"({'holds the choice' if held else 'does NOT hold the choice'}); chosen penalty on the "
                  f"grid's edge: {edge}."]
        md = cfg.out_dir / "subnet-digits-tune.md"
        md.write_text("\n".join(lines) + "\n")
        png = line_plot(runs, "penalty", "val_acc", cfg.out_dir / "subnet-digits-tune.png",
                        "subnet-digits-tune: validation accuracy (mean over densities)",
                        ylabel="validation accuracy", logx=True)
        return [md, png]


def _setting(r: Any) -> dict[str, float]:
    return {"penalty": float(r.params["penalty"]), "samples": int(r.params["samples"])}
