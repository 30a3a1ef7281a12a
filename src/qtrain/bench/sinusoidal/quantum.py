"""Benchmark ``sinnn-quantum``: quantum weight search vs GD vs brute force on DSinNN instances.

Instances (:func:`qtrain.data.random_instance`): ``DSinNN(1, [H], 1)`` with binary weights (H weight qubits),
ternary sines, plain-sum output; 8 training and 8 test inputs, odd multiples of pi/2 in [-7pi/2,
7pi/2]; targets from a random binary teacher of the same shape plus noise in {-1, 0, 1}. Cost: the
squared error (``"mse"``), so the search minimises the training MSE exactly.

Parts, per size H (CPU: 4, 8, ..., 24, then 26 and 28 while twice the search's memory fits;
``--quick``: 4, 8, 12, 16; with ``--device cuda`` the sizes 28 and 30, semantic level on the GPU):

* ``quantum`` -- :class:`~qtrain.train.sinusoidal.QuantumWeightSearch` at the semantic level:
  success probability, oracle calls against ``sqrt(N_w)``, the loss and test MSE of the returned
  weights, simulated wall time and projected hardware time of the full gate-level circuit.
* ``brute-force`` -- exhaustive search: loss, ``n N_w`` evaluations, wall time, test MSE.
* ``gd`` -- straight-through GD on the DSinNN from 20 random latent inits (lr 0.01, 100 epochs).
* ``targets`` -- 50 random instances with 2..20 weight qubits (one or two inputs; ``--quick``: 12
  instances, 2..13 weight qubits): does the search
  return the brute-force minimum on every one, the smallest success probability, and the mean
  oracle calls over ``sqrt(N_w)`` (Durr-Hoyer bound 22.5).
* ``gate-vs-semantic`` -- small instances run at both levels: the largest difference of success
  probabilities (target below 1e-6).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.data import random_instance
from qtrain.nn import DSinNN, binary_dsinnn
from qtrain.quantum.statevector import free_memory_bytes
from qtrain.train.sinusoidal import BYTES_PER_CONFIG, QuantumWeightSearch, brute_force_search, gd_train

__all__ = ["SinusoidalQuantum", "instance"]


def instance(seed: int, hidden: int, **kwargs: Any
             ) -> tuple[DSinNN, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`qtrain.data.random_instance` with its network: ``(model, x, y, x_test, y_test)``."""
    inst = random_instance(seed, hidden, **kwargs)
    return binary_dsinnn(hidden, inst.in_features), inst.x, inst.y, inst.x_test, inst.y_test


def _mse(model: DSinNN, weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, quantized: bool) -> float:
    with torch.no_grad():
        return float((model.forward_with(weights, x, quantized=quantized) - y).pow(2).mean())


def _sizes(cfg: BenchConfig) -> list[int]:
    """Quick: 4..16 weight qubits; full: 4..24, then 26 and 28 while they fit the CPU's free memory;
    on CUDA the 28- and 30-qubit instances (semantic level on the GPU)."""
    if cfg.quick:
        sizes = [4, 8, 12, 16]
    else:
        fit = int(math.log2(max(free_memory_bytes("cpu"), 1) / (2 * BYTES_PER_CONFIG)))
        sizes = [4, 8, 12, 16, 20, 24] + [h for h in (26, 28) if h <= fit]
    if cfg.device.startswith("cuda"):
        sizes = [h for h in sizes if h < 28] + [28, 30]
    return sizes


class SinusoidalQuantum(Benchmark):
    name = "sinnn-quantum"
    description = ("quantum weight search (phase estimation + Durr-Hoyer) vs GD vs brute force on DSinNN "
                   "instances of growing size; 50-instance target; gate level vs semantic")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        out = []
        for s in cfg.seeds:
            for h in _sizes(cfg):
                out += [Task(m, s, {"hidden": h}) for m in ("quantum", "brute-force", "gd")]
            out.append(Task("targets", s, {"instances": 12 if cfg.quick else 50,
                                           "max_hidden": 13 if cfg.quick else 20}))
            out.append(Task("gate-vs-semantic", s, {"instances": 2 if cfg.quick else 5}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        if task.method == "targets":
            return self._targets(task.seed, p["instances"], p["max_hidden"], cfg.device)
        if task.method == "gate-vs-semantic":
            return self._gate_vs_semantic(task.seed, p["instances"])
        h = p["hidden"]
        model, x, y, xt, yt = instance(1000 * task.seed + h, h)
        N = 2**h
        if task.method == "quantum":
            r = QuantumWeightSearch(model, x, y, cost="mse", device=cfg.device).run(seed=task.seed)
            res = r.resources or {}
            return {"weight_qubits": h, "success_probability": r.success_probability, "oracle_calls": r.oracle_calls,
                    "calls_over_sqrtN": r.oracle_calls / math.sqrt(N), "loss": r.loss, "found": int(r.found),
                    "test_mse": _mse(model, r.weights, xt, yt, True), "sim_seconds": r.sim_seconds,
                    "sine_evaluations": r.sine_evaluations, "projected_seconds": res.get("projected_time_s", -1.0),
                    "qubits": res.get("qubits", -1), "toffoli": res.get("toffoli", -1)}
        if task.method == "brute-force":
            r = brute_force_search(model, x, y, device=cfg.device)
            return {"weight_qubits": h, "loss": r.loss, "evaluations": r.evaluations, "seconds": r.seconds,
                    "test_mse": _mse(model, r.weights, xt, yt, True), "num_minima": r.num_minima}
        seeds = [task.seed * 1000 + i for i in range(20)]
        r = gd_train(model, x, y, seeds, epochs=100, lr=0.01, x_test=xt, y_test=yt, device=cfg.device)
        return {"weight_qubits": h, "loss": float(r.loss.mean()), "best_loss": float(r.loss.min()),
                "test_mse": float(r.test_loss.mean()), "evaluations": r.evaluations, "seconds": r.seconds,
                "max_abs_grad": float(r.max_grad.max())}

    def _targets(self, seed: int, instances: int, max_hidden: int, device: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        found, probs, ratios, sizes = [], [], [], []
        for i in range(instances):
            # sizes spread over 2..max_hidden weight qubits; odd i: two inputs (fewer symmetric minima)
            q = 2 + round(i * (max_hidden - 2) / max(instances - 1, 1))
            inputs = 1 if i % 2 == 0 else 2
            h = max(1, q // inputs)
            model, x, y, _, _ = instance(10_000 * seed + i, h, in_features=inputs)
            res = QuantumWeightSearch(model, x, y, cost="mse", device=device).run(seed=seed * 1000 + i)
            bf = brute_force_search(model, x, y, device=device)
            found.append(abs(res.loss - bf.loss) < 1e-9)
            probs.append(res.success_probability)
            ratios.append(res.oracle_calls / math.sqrt(2**res.weight_qubits))
            sizes.append(res.weight_qubits)
        return {"instances": instances, "max_weight_qubits": max(sizes), "all_found": int(all(found)),
                "found": sum(found), "min_success_probability": min(probs),
                "mean_calls_over_sqrtN": sum(ratios) / len(ratios), "max_calls_over_sqrtN": max(ratios),
                "seconds": time.perf_counter() - t0}

    def _gate_vs_semantic(self, seed: int, instances: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        gaps, probs = [], []
        for i in range(instances):
            model, x, y, _, _ = instance(20_000 * seed + i, 2 + i % 2, n_train=3)
            r = QuantumWeightSearch(model, x, y, cost="count", level="gate", device="cpu").run(seed=seed * 1000 + i)
            gaps.append(abs(r.success_probability - r.semantic_success_probability))
            probs.append(r.success_probability)
        return {"instances": instances, "max_gap": max(gaps), "min_success_probability": min(probs),
                "seconds": time.perf_counter() - t0}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        plt = pyplot()

        rows: dict[int, dict[str, dict[str, Any]]] = {}
        extra = {}
        for r in runs:
            if "hidden" in r.params:
                rows.setdefault(r.params["hidden"], {})[r.method] = r.metrics
            else:
                extra[r.method] = r.metrics
        lines = ["| weight qubits | global minima | P(success) | oracle calls | calls / sqrt(N) | brute-force evals "
                 "| loss Q / BF / GD mean | test MSE Q / GD mean | sim s (Q) | BF s | projected s (Q, gate circuit) |",
                 "|---|---|---|---|---|---|---|---|---|---|---|"]
        for h in sorted(rows):
            q, b, g = rows[h].get("quantum", {}), rows[h].get("brute-force", {}), rows[h].get("gd", {})
            if not (q and b and g):
                continue
            lines.append(f"| {h} | {b['num_minima']} | {q['success_probability']:.4f} | {q['oracle_calls']} | "
                         f"{q['calls_over_sqrtN']:.2f} "
                         f"| {b['evaluations']} | {q['loss']:.3f} / {b['loss']:.3f} / {g['loss']:.3f} | "
                         f"{q['test_mse']:.3f} / {g['test_mse']:.3f} | {q['sim_seconds']:.2f} | {b['seconds']:.2f} | "
                         f"{q['projected_seconds']:.3g} |")
        if "targets" in extra:
            t = extra["targets"]
            lines.append(f"\ntargets: {t['found']}/{t['instances']} instances (up to {t['max_weight_qubits']} weight "
                         f"qubits) return the brute-force minimum; smallest success probability "
                         f"{t['min_success_probability']:.4f}; mean oracle calls {t['mean_calls_over_sqrtN']:.2f} "
                         f"sqrt(N_w) (bound 22.5)")
        if "gate-vs-semantic" in extra:
            t = extra["gate-vs-semantic"]
            lines.append(f"\ngate level vs semantic: {t['instances']} instances, largest success-probability gap "
                         f"{t['max_gap']:.2e}")
        md = cfg.out_dir / "sinnn-quantum.md"
        md.write_text("\n".join(lines) + "\n")
        hs = [h for h in sorted(rows) if {"quantum", "brute-force", "gd"} <= set(rows[h])]
        N = [2.0**h for h in hs]
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].loglog(N, [rows[h]["quantum"]["oracle_calls"] for h in hs], "o-", label="quantum oracle calls")
        ax[0].loglog(N, [22.5 * math.sqrt(n) for n in N], "--", label="22.5 sqrt(N_w)")
        ax[0].loglog(N, [rows[h]["brute-force"]["evaluations"] for h in hs], "s-", label="brute-force evaluations")
        ax[0].set_xlabel("N_w (weight configurations)")
        ax[0].set_ylabel("count")
        ax[0].legend(fontsize=8)
        ax[0].set_title("queries")
        ax[1].plot(hs, [rows[h]["quantum"]["loss"] for h in hs], "o-", label="quantum (train)")
        ax[1].plot(hs, [rows[h]["gd"]["loss"] for h in hs], "^-", label="GD mean (train)")
        ax[1].plot(hs, [rows[h]["quantum"]["test_mse"] for h in hs], "o--", label="quantum (test)")
        ax[1].plot(hs, [rows[h]["gd"]["test_mse"] for h in hs], "^--", label="GD mean (test)")
        ax[1].set_xlabel("weight qubits")
        ax[1].set_ylabel("MSE")
        ax[1].legend(fontsize=8)
        ax[1].set_title("loss reached")
        png = save_figure(fig, cfg.out_dir / "sinnn-quantum.png", dpi=110)
        return [md, png]
