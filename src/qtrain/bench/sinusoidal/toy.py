"""Benchmark ``sinnn-toy``: the v1 toy of arXiv:2410.22016, GD frozen, quantum search finds the optimum.

Parts (20 GD seeds each, SGD lr 0.01, 30 epochs, mini-batches of one point):

* ``dsinnn-gd`` -- the discrete toy ``y = T(T(sin(T(w1) x)) + T(sin(T(w2) x)))``: the largest
  |gradient| seen over all seeds and steps (every ``T(w) x`` is an odd multiple of pi/2, so it is
  0 up to float64 rounding), how far the weights moved, and the fractions of seeds ending at MSE 0,
  1 and 4.
* ``sinnn-gd`` -- the continuous toy ``y = sin(w1 x) + sin(w2 x)`` with targets ``2 sin x``: the
  fraction reaching the global minimum (MSE < 1e-3), the distinct local minima the others end in.
* ``quantum-gate`` -- the gate-level circuit (16 qubits): the phase-estimation marginal on the
  uniform weight superposition (published: [0.75, 0, 0.25, 0]), the probability that one Grover
  step measures (1, 1), and the full Durr-Hoyer search at gate level against the semantic level.
* ``brute-force`` -- exhaustive search over the binary toy weights.

Plot: the continuous loss landscape with the GD end points and the quantum optimum (1, 1).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.nn import toy_dsinnn, toy_sinnn
from qtrain.train.sinusoidal import QuantumWeightSearch, brute_force_search, gd_train, toy_data
from qtrain.train.sinusoidal import circuit as sc

__all__ = ["SinusoidalToy"]

_GD = {"epochs": 30, "lr": 0.01, "batch_size": 1, "gd_seeds": 20}


def _distinct(values: list[float], tol: float = 0.1) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


class SinusoidalToy(Benchmark):
    name = "sinnn-toy"
    description = ("v1 sinusoidal toy: DSinNN gradients exactly zero, MSE 0/1/4 fractions, SinNN local minima, "
                   "gate-level PE marginal [0.75, 0, 0.25, 0] and one Grover step to (1, 1)")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        return [Task(m, s, dict(_GD)) for s in cfg.seeds
                for m in ("dsinnn-gd", "sinnn-gd", "quantum-gate", "brute-force")]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        seeds = [task.seed * 1000 + i for i in range(p["gd_seeds"])]
        if task.method == "dsinnn-gd":
            x, y = toy_data(discrete=True)
            model = toy_dsinnn()
            r = gd_train(model, x, y, seeds, epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                         device=cfg.device)
            init = torch.stack([model.init_weights(generator=torch.Generator().manual_seed(s))[0] for s in seeds])
            frac = {f"frac_mse{v}": float((r.loss == v).double().mean()) for v in (0, 1, 4)}
            return {"max_abs_grad": float(r.max_grad.max()),
                    "max_weight_change": float((r.weights[0] - init).abs().max()), **frac,
                    "seconds": r.seconds, "end_points": r.weights[0].squeeze(-1).tolist()}
        if task.method == "sinnn-gd":
            x, y = toy_data(discrete=False)
            r = gd_train(toy_sinnn(), x, y, seeds, epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                         device=cfg.device)
            losses = r.loss.tolist()
            bad = [v for v in losses if v >= 1e-3]
            return {"frac_global": float(sum(v < 1e-3 for v in losses) / len(losses)),
                    "num_local_minima": len(_distinct(bad)), "local_minima_losses": _distinct(bad),
                    "mean_loss": sum(losses) / len(losses), "seconds": r.seconds,
                    "end_points": r.weights[0].squeeze(-1).tolist()}
        x, y = toy_data(discrete=True)
        if task.method == "brute-force":
            r = brute_force_search(toy_dsinnn(), x, y, levels=[-1, 1], device="cpu")
            return {"loss": r.loss, "evaluations": r.evaluations, "seconds": r.seconds,
                    "weights": r.weights[0].squeeze(-1).tolist()}
        t0 = time.perf_counter()
        search = QuantumWeightSearch(toy_dsinnn(), x, y, cost="count", t=2, cost_scale=0.5, levels=[-1, 1],
                                     level="gate", device="cpu")
        spec = search.circuit_spec()
        circ = spec.new_circuit()
        circ.h(list(circ["w"]))
        circ.compose(sc.phase_estimation_circuit(spec, repeat=False))
        marginal = circ.run(device="cpu", dtype=torch.complex128).probabilities(list(circ["pe"])).double()
        g = sc.grover_circuit(spec, lambda m: m > 0, 1, repeat=False)
        p11 = float(g.run(device="cpu", dtype=torch.complex128).probabilities(list(g["w"]))[3])
        res = search.run(seed=task.seed)
        return {"pe_marginal": marginal.tolist(), "pe_marginal_error": float((marginal - torch.tensor(
                    [0.75, 0, 0.25, 0], dtype=torch.float64)).abs().max()),
                "p_one_grover_step_11": p11, "qubits": spec.num_qubits,
                "success_probability_gate": res.success_probability,
                "success_probability_semantic": res.semantic_success_probability,
                "level_gap": abs(res.success_probability - res.semantic_success_probability),
                "oracle_calls": res.oracle_calls, "weights": res.weights[0].squeeze(-1).tolist(), "loss": res.loss,
                "projected_seconds": res.resources["projected_time_s"], "seconds": time.perf_counter() - t0}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        plt = pyplot()

        by = {r.method: r.metrics for r in runs}
        lines = ["| part | figure | value |", "|---|---|---|"]
        if "dsinnn-gd" in by:
            d = by["dsinnn-gd"]
            lines += [f"| DSinNN GD | largest abs gradient (20 seeds) | {d['max_abs_grad']:.2e} |",
                      f"| DSinNN GD | largest weight change | {d['max_weight_change']:.2e} |",
                      f"| DSinNN GD | fraction at MSE 0 / 1 / 4 | {d['frac_mse0']:.2f} / {d['frac_mse1']:.2f} / "
                      f"{d['frac_mse4']:.2f} |"]
        if "sinnn-gd" in by:
            s = by["sinnn-gd"]
            lines += [f"| SinNN GD | fraction reaching MSE < 1e-3 | {s['frac_global']:.2f} |",
                      "| SinNN GD | distinct local minima (MSE) | "
                      f"{', '.join(f'{v:.3f}' for v in s['local_minima_losses'])} |"]
        if "quantum-gate" in by:
            q = by["quantum-gate"]
            lines += [f"| quantum (gate level, {q['qubits']} qubits) | PE marginal | "
                      f"{', '.join(f'{v:.4f}' for v in q['pe_marginal'])} |",
                      f"| quantum | P(one Grover step measures (1, 1)) | {q['p_one_grover_step_11']:.6f} |",
                      f"| quantum | Durr-Hoyer success probability gate / semantic | "
                      f"{q['success_probability_gate']:.8f} / {q['success_probability_semantic']:.8f} |",
                      f"| quantum | weights, loss, oracle calls | {q['weights']}, {q['loss']}, {q['oracle_calls']} |"]
        if "brute-force" in by:
            b = by["brute-force"]
            lines.append(f"| brute force | weights, loss, evaluations | {b['weights']}, {b['loss']}, "
                         f"{b['evaluations']} |")
        md = cfg.out_dir / "sinnn-toy.md"
        md.write_text("\n".join(lines) + "\n")
        x, y = toy_data(discrete=False)
        w = torch.linspace(-4, 4, 161, dtype=torch.float64)
        W1, W2 = torch.meshgrid(w, w, indexing="ij")
        pred = torch.sin(W1[..., None] * x[:, 0]) + torch.sin(W2[..., None] * x[:, 0])
        L = (pred - y[:, 0]).pow(2).mean(-1)
        fig, ax = plt.subplots(figsize=(5.5, 4.6))
        cs = ax.contourf(W1.numpy(), W2.numpy(), L.numpy(), levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="MSE")
        if "sinnn-gd" in by:
            e = torch.tensor(by["sinnn-gd"]["end_points"])
            ax.scatter(e[:, 0], e[:, 1], c="white", edgecolors="k", s=28, label="GD end points (20 seeds)")
        ax.scatter([1], [1], marker="*", c="red", s=220, edgecolors="k", label="quantum optimum (1, 1)")
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
        ax.set_title("sin(w1 x) + sin(w2 x): loss landscape")
        ax.legend(loc="lower left", fontsize=8)
        png = save_figure(fig, cfg.out_dir / "sinnn-toy-landscape.png", dpi=120)
        return [md, png]
