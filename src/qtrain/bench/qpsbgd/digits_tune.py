"""Benchmark ``qpsbgd-digits-tune``: step sizes of ``qpsbgd-digits`` chosen on validation rows.

For every digit pair and every method of :mod:`qtrain.bench.qpsbgd.digits` (``qpsbgd-milp``
excepted: it reuses QP-SBGD's step size), each point of a fixed grid (:data:`GRIDS`, decided before
any run) trains the benchmark's model with the benchmark's code on 80% of the pair's training rows
(:func:`~qtrain.data.validation_split`) and is scored on the other 20%: accuracy and
cross-entropy, evaluated as the method is evaluated. Seeds 0 and 1 (``default_seeds``), 10 epochs.
:func:`select` keeps, per pair and method, the grid point with the best mean validation accuracy,
ties broken by the lower mean validation cross-entropy, then by the smaller step size. The test
rows are never used, so ``qpsbgd-digits``'s test accuracies stay unbiased estimates.

Why per pair and on validation rows: the earlier protocol picked one step size per method on pair
0/2's *test* rows, where every method but ProxQuant scores 0.97-1.0 and the grids' best points
sat on their edges; the usual train/validation/test protocol gives every method, baselines
included, its best setting on each pair without looking at the figures it is judged by.

``--quick``: pair 0/2, seed 0, two grid points per method, 2 epochs (checks the pipeline only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.qpsbgd.common import grid_edges, plot_tuning, selection_rank, single_thread
from qtrain.bench.qpsbgd.digits import PAIRS, TUNED, fit_digits
from qtrain.data import digits_pair, validation_split

__all__ = ["GRIDS", "VALIDATION_FRACTION", "QPSBGDDigitsTune", "on_edge", "select"]

#: The grid per method (factor 2-3.3 between points; the earlier three-point grids included).
#: Rule: a grid whose chosen point lies on its edge is extended on that side and the run resumed,
#: until every choice is interior (the report flags edge choices). The first run's grids were
#: QP-SBGD 0.05-1, BC 0.03-3, signSGD 0.001-0.1, ProxQuant 0.1-3 x reg 0.001/0.01 and full
#: precision 0.001-0.1; BC, ProxQuant (step size and strength) and full precision chose edges
#: and were extended; ProxQuant's strength kept choosing its lowest value down to 1e-5, so its
#: grid closes with 0 (no prox: hardtanh SGD, binarised only for evaluation).
GRIDS: dict[str, list[dict[str, float]]] = {
    "qpsbgd": [{"lr": v} for v in (0.05, 0.1, 0.2, 0.5, 1.0)],
    "bc": [{"lr": v} for v in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)],
    "signsgd": [{"lr": v} for v in (0.001, 0.003, 0.01, 0.03, 0.1)],
    "proxquant": [{"lr": v, "reg": r} for v in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
                  for r in (0.0, 0.00001, 0.0001, 0.001, 0.01)],
    "full-precision": [{"lr": v} for v in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)],
}
VALIDATION_FRACTION = 0.2


def _label(setting: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in sorted(setting.items()))


def on_edge(method: str, setting: dict[str, float]) -> list[str]:
    """The keys of ``setting`` whose value is the smallest or largest of ``method``'s grid
    (a value of 0, the natural bound of ProxQuant's strength, is not an edge: it cannot be
    extended; :func:`~qtrain.bench.qpsbgd.common.grid_edges`)."""
    return grid_edges(GRIDS[method], setting)


def _settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 2 if quick else 10, "batch_size": 32, "hidden": 32}


#: One grid point on one pair: ``(pair, method, label)`` -> ``(setting, [metrics per seed])``.
_Groups = dict[tuple[str, str, str], tuple[dict[str, float], list[dict[str, Any]]]]


def _group(runs: list[Any]) -> _Groups:
    """The tuning ``runs`` grouped by pair, base method (``run.method`` up to the first ``/``)
    and setting (``params`` minus the keys every task shares)."""
    fixed = {"pair", "val", *_settings(False)}
    groups: _Groups = {}
    for r in runs:
        setting = {k: v for k, v in r.params.items() if k not in fixed}
        key = (r.params["pair"], r.method.split("/")[0], _label(setting))
        groups.setdefault(key, (setting, []))[1].append(r.metrics)
    return groups


def _mean(ms: list[dict[str, Any]], key: str) -> float:
    return float(np.mean([m[key] for m in ms]))


def select(runs: list[Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Per pair and method, the chosen setting among the stored tuning ``runs``.

    Best mean validation accuracy over seeds; ties (within 1e-9) go to the lower mean validation
    cross-entropy, then to the smaller step size.
    """
    best: dict[str, dict[str, tuple[tuple[float, float, float], dict[str, float]]]] = {}
    for (pair, method, _), (setting, ms) in _group(runs).items():
        rank = selection_rank(ms, setting["lr"])
        cur = best.setdefault(pair, {}).get(method)
        if cur is None or rank < cur[0]:
            best[pair][method] = (rank, setting)
    return {pair: {m: dict(setting) for m, (_, setting) in sorted(ms.items())}
            for pair, ms in sorted(best.items())}


class QPSBGDDigitsTune(Benchmark):
    name = "qpsbgd-digits-tune"
    description = ("step sizes of qpsbgd-digits per pair and method, chosen on validation rows "
                   "(80/20 split of the training rows; test rows unused)")
    default_seeds = 2

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        s = _settings(cfg.quick)
        pairs = PAIRS[:1] if cfg.quick else PAIRS
        seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds
        out = []
        for seed in seeds:
            for a, b in pairs:
                for method, grid in GRIDS.items():
                    for setting in (grid[1:3] if cfg.quick else grid):
                        out.append(Task(f"{method}/{_label(setting)}", seed,
                                        {"pair": f"{a}/{b}", "val": VALIDATION_FRACTION, **s,
                                         **setting}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        a, b = (int(v) for v in task.params["pair"].split("/"))
        data = validation_split(digits_pair(a, b, seed=task.seed), task.params["val"],
                                seed=task.seed)
        with single_thread():
            out, score = fit_digits(task.method.split("/")[0], data, task.seed, task.params,
                                       cfg.device)
        acc, loss = score(data)
        return {"val_acc": acc, "val_loss": loss, "train_loss": out["train_loss"],
                "seconds": out["seconds"]}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        chosen, groups = select(runs), _group(runs)
        seeds = sorted({r.seed for r in runs})
        lines = [f"# qpsbgd-digits-tune{' (quick)' if cfg.quick else ''}", "",
                 f"Validation accuracy and cross-entropy (mean over seeds {seeds}) on "
                 f"{VALIDATION_FRACTION:.0%} of each pair's training rows; **bold**: chosen.", "",
                 "| pair | method | setting | val acc | val loss | seeds |", "|---|---|---|---|---|---|"]
        for (pair, method, label), (setting, ms) in sorted(
                groups.items(), key=lambda kv: (kv[0][:2], sorted(kv[1][0].items()))):
            mark = "**" if chosen[pair][method] == setting else ""
            lines.append(f"| {pair} | {method} | {mark}{label}{mark} | {_mean(ms, 'val_acc'):.4f} | "
                         f"{_mean(ms, 'val_loss'):.4g} | {len(ms)} |")
        lines += ["", "Chosen settings, and whether `qpsbgd_digits.TUNED` (what `qpsbgd-digits` "
                  "runs) holds them; grid edges among the chosen values (extend the grid if any):", "",
                  "| pair | method | chosen | in TUNED | on the grid's edge |", "|---|---|---|---|---|"]
        for pair, ms in chosen.items():
            for method, setting in ms.items():
                held = TUNED.get(pair, {}).get(method) == setting
                edge = ", ".join(on_edge(method, setting)) if not cfg.quick else "(quick)"
                lines.append(f"| {pair} | {method} | {_label(setting)} | {'yes' if held else 'NO'} | "
                             f"{edge or '-'} |")
        md = cfg.out_dir / "qpsbgd-digits-tune.md"
        md.write_text("\n".join(lines) + "\n")
        return [md, plot_tuning(groups, chosen, cfg.out_dir / "qpsbgd-digits-tune.png", "pair",
                                "qpsbgd-digits-tune")]
