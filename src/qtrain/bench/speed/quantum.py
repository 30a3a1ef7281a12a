"""Benchmark ``quantum-speed``: qtrain's quantum layer against qiskit-aer, same run, same machine.

(a) Durr-Hoyer minimum search over ``2^n`` random costs. Ours: :func:`qtrain.quantum.minimum_search`
    (semantic). Aer: the same schedule (the same seed-drawn thresholds and iteration counts, read
    from our trace) as gate-level circuits, one per round: ``H^n``, then ``j`` x (a ``DiagonalGate``
    sign oracle, the textbook diffusion ``H X H-MCX-H X H``), ``save_probabilities``. Aer's
    per-round probabilities of an improving state and of a minimiser must equal ours to 1e-6.
    At ``n = 20`` the whole schedule (~24k Grover iterations) is out of reach of aer in a
    benchmark, so aer runs a sample of rounds and its total is extrapolated as
    ``rounds x t_round + iterations x t_iteration`` (both measured; labelled as extrapolated); at
    the smaller size aer replays every round and the time is measured.
(b) A 20-qubit circuit of 10 layers (RX and RZ on every qubit, CNOT brickwork): our engine with gate
    fusion (complex64) vs aer's statevector (single and double precision, its own fusion), with
    the same number of threads; both times include fusion and the final state. The same circuit
    at the local methods' sizes (10, 14 and 16 qubits; ``b<n>``), where per-call overhead rules.
(c) CUDA only: one diagonal Grover iteration at 28 and 30 qubits (fused Triton passes, and eager
    torch) against the ideal time at the device's copy bandwidth measured in the same run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtrain.bench.base import BenchConfig, Benchmark, Task, speed_bar_chart
from qtrain.bench.speed.grover_bandwidth import measure_grover_iteration

__all__ = ["QuantumSpeed"]


def _sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {"a_full": 8, "a_large": 14, "a_sample_iterations": 16, "b_qubits": 14, "b_layers": 10,
                "b_small": [10, 16], "c_qubits": [24, 26]}
    return {"a_full": 12, "a_large": 20, "a_sample_iterations": 48, "b_qubits": 20, "b_layers": 10,
            "b_small": [10, 14, 16], "c_qubits": [28, 30]}


def _costs(n: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=2**n))


# ------------------------------------------------------------------------------------ part (a)
def _aer_round(sim: Any, costs: np.ndarray, thr: float, j: int) -> tuple[np.ndarray, float, float]:
    """One Durr-Hoyer round on aer: the circuit a Qiskit user writes; returns (probabilities,
    wall seconds including building the circuit, aer's own reported simulation seconds)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import DiagonalGate

    t0 = time.perf_counter()
    n = int(np.log2(costs.size))
    qc = QuantumCircuit(n)
    qc.h(range(n))
    if j:
        oracle = DiagonalGate(np.where(costs < thr, -1.0, 1.0).astype(complex).tolist())
        for _ in range(j):
            qc.append(oracle, range(n))
            qc.h(range(n))
            qc.x(range(n))
            qc.h(n - 1)
            qc.mcx(list(range(n - 1)), n - 1)
            qc.h(n - 1)
            qc.x(range(n))
            qc.h(range(n))
    qc.save_probabilities()
    result = sim.run(qc).result()
    p = np.asarray(result.data(0)["probabilities"])
    return p, time.perf_counter() - t0, float(result.results[0].time_taken)


def _part_a(method: str, n: int, seed: int, sample_iterations: int | None) -> dict[str, Any]:
    from qtrain.quantum import minimum_search

    costs = _costs(n, seed)
    minimum_search(costs[:16], seed=0)  # warm-up
    t0 = time.perf_counter()
    res = minimum_search(costs, seed=seed)
    ours_s = time.perf_counter() - t0
    rounds = [(float(r["threshold"]), int(r["iterations"]), float(r["p_improve"]), float(r["p_min"]))
              for r in res.trace]
    total_iter = int(res.oracle_calls)
    if method == "qtrain":
        return {"seconds": ours_s, "oracle_calls": total_iter, "rounds": len(rounds),
                "success_probability": float(res.success_probability), "found": int(bool(res.found)),
                "num_qubits": n}
    from qiskit_aer import AerSimulator

    sim = AerSimulator(method="statevector", max_parallel_threads=torch.get_num_threads())
    c = costs.numpy()
    cmin = c.min()
    full = sample_iterations is None
    chosen = rounds
    if not full:  # a prefix of rounds with j >= 1 up to the iteration sample, plus one j=0 round
        chosen, it = [], 0
        for r in rounds:
            if r[1] >= 1 and it + r[1] <= sample_iterations:
                chosen.append(r)
                it += r[1]
    _aer_round(sim, c[:16], 0.0, 1)  # warm-up
    dp, miss, seconds, internal, iters = 0.0, 1 - (c == cmin).sum() / c.size, 0.0, 0.0, 0
    for thr, j, p_improve, p_min in chosen:
        p, s, s_aer = _aer_round(sim, c, thr, j)
        seconds += s
        internal += s_aer
        iters += j
        dp = max(dp, abs(p[c < thr].sum() - p_improve), abs(p[c == cmin].sum() - p_min))
        miss *= 1 - p[c == cmin].sum()
    out: dict[str, Any] = {"max_abs_probability_diff": float(dp), "measured_rounds": len(chosen),
                           "measured_iterations": iters, "oracle_calls": total_iter,
                           "rounds": len(rounds), "num_qubits": n}
    if full:
        out.update(seconds=seconds, aer_internal_s=internal, extrapolated=0,
                   success_probability=float(1 - miss),
                   success_probability_diff=abs(float(1 - miss) - float(res.success_probability)))
    else:
        thr0 = rounds[0][0]
        zero = [_aer_round(sim, c, thr0, 0) for _ in range(3)]
        t_round = float(np.median([z[1] for z in zero]))
        t_round_aer = float(np.median([z[2] for z in zero]))
        t_iter = max(0.0, (seconds - len(chosen) * t_round) / max(iters, 1))
        t_iter_aer = max(0.0, (internal - len(chosen) * t_round_aer) / max(iters, 1))
        out.update(seconds=len(rounds) * t_round + total_iter * t_iter, extrapolated=1,
                   aer_internal_s=len(rounds) * t_round_aer + total_iter * t_iter_aer,
                   measured_seconds=seconds, t_round_s=t_round, t_iteration_s=t_iter,
                   t_iteration_aer_internal_s=t_iter_aer)
    return out


# ------------------------------------------------------------------------------------ part (b)
def _layered(n: int, layers: int, seed: int) -> tuple[Any, Any]:
    from qtrain.quantum import Circuit

    ang = np.random.default_rng(seed).uniform(0, 2 * np.pi, size=(layers, n, 2))
    c = Circuit.with_registers(q=n)
    for layer in range(layers):
        for q in range(n):
            c.rx(float(ang[layer, q, 0]), q).rz(float(ang[layer, q, 1]), q)
        for q in range(layer % 2, n - 1, 2):
            c.cx(q, q + 1)
    return c, ang


def _part_b(method: str, n: int, layers: int, seed: int) -> dict[str, Any]:
    c, _ = _layered(n, layers, seed)
    threads = torch.get_num_threads()
    if method == "qtrain":
        c.run(device="cpu", fuse=True)  # warm-up
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            sv = c.run(device="cpu", fuse=True, max_fused_qubits=5)
            times.append(time.perf_counter() - t0)
        ref = c.run(device="cpu", dtype=torch.complex128).amplitudes
        err = float((sv.amplitudes.to(torch.complex128) - ref).abs().max())
        return {"seconds": min(times), "max_abs_amplitude_error": err, "threads": threads, "num_qubits": n}
    from qiskit_aer import AerSimulator

    precision = method.split("-")[1]
    qc = c.to_qiskit()
    qc.save_statevector()
    sim = AerSimulator(method="statevector", precision=precision, max_parallel_threads=threads)
    sim.run(qc).result()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        sim.run(qc).result()
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "threads": threads, "num_qubits": n}


class QuantumSpeed(Benchmark):
    name = "quantum-speed"
    description = ("qtrain's quantum layer vs qiskit-aer: (a) Durr-Hoyer minimum search, semantic vs "
                   "gate level; (b) 20-qubit layered circuit, fused engine vs aer; (c) GPU Grover "
                   "iteration vs copy bandwidth (CUDA only)")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        z = _sizes(cfg.quick)
        out = []
        for seed in cfg.seeds:
            for key, n in (("a_full", z["a_full"]), ("a_large", z["a_large"])):
                sample = None if key == "a_full" else z["a_sample_iterations"]
                for m in ("qtrain", "aer"):
                    out.append(Task(f"{key}/{m}", seed, {"part": "a", "n": n, "sample_iterations": sample}))
            for key, n in [("b", z["b_qubits"])] + [(f"b{n}", n) for n in z["b_small"]]:
                for m in ("qtrain", "aer-single", "aer-double"):
                    out.append(Task(f"{key}/{m}", seed, {"part": "b", "n": n, "layers": z["b_layers"]}))
            if cfg.device == "cuda":
                for n in z["c_qubits"]:
                    out.append(Task(f"c{n}/grover-iteration", seed, {"part": "c", "n": n}))
            else:
                out.append(Task("c/skipped", seed, {"part": "c"}))
        return out

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        method = task.method.split("/")[1]
        if p["part"] == "a":
            return _part_a(method, p["n"], task.seed, p["sample_iterations"])
        if p["part"] == "b":
            return _part_b(method, p["n"], p["layers"], task.seed)
        if method == "skipped":
            return {"note": "part (c) needs CUDA: run `qtrain bench run quantum-speed --device cuda`"}
        return measure_grover_iteration(p["n"], cfg.device)

    def summary_extra(self, summary: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {"ratios": ratios(summary)}

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        from qtrain.bench.runner import summarize

        s = summarize(runs)
        r = ratios(s)
        lines = ["| part | qtrain (s) | qiskit-aer (s) | aer / qtrain | note |", "|---|---|---|---|---|"]
        for key in ("a_full", "a_large"):
            if f"{key}/qtrain" in s and f"{key}/aer" in s:
                a, b = s[f"{key}/qtrain"], s[f"{key}/aer"]
                note = (f"n={a['num_qubits']:.0f}, {a['oracle_calls']:.0f} Grover iterations in "
                        f"{a['rounds']:.0f} rounds; max |dp| = {b['max_abs_probability_diff']:.1e}; "
                        f"aer's own simulation time {b['aer_internal_s']:.1f} s "
                        f"({b['aer_internal_s'] / a['seconds']:.0f}x)"
                        + (f"; success probability {a['success_probability']:.6f}, |diff| "
                           f"{b['success_probability_diff']:.1e}" if "success_probability_diff" in b else "")
                        + ("; aer extrapolated from "
                           f"{b['measured_iterations']:.0f} iterations" if b.get("extrapolated") else ""))
                lines.append(f"| (a) Durr-Hoyer | {a['seconds']:.3f} | {b['seconds']:.1f} | "
                             f"{b['seconds'] / a['seconds']:.0f}x | {note} |")
        for key in _b_keys(s):
            for prec in ("single", "double"):
                if f"{key}/aer-{prec}" in s:
                    a, b = s[f"{key}/qtrain"], s[f"{key}/aer-{prec}"]
                    lines.append(f"| (b) layered circuit, aer {prec} | {a['seconds']:.4f} | {b['seconds']:.4f} | "
                                 f"{b['seconds'] / a['seconds']:.2f}x | n={a['num_qubits']:.0f}, "
                                 f"{a['threads']:.0f} threads |")
        for key, v in sorted(s.items()):
            if key.startswith("c") and key.endswith("grover-iteration"):
                lines.append(f"| (c) Grover iteration n={v['num_qubits']:.0f} | {v['fused_s'] * 1e3:.2f} ms "
                             f"(eager {v['eager_s'] * 1e3:.2f} ms) | ideal {v['ideal_s'] * 1e3:.2f} ms | "
                             f"{100 * v['fused_fraction_of_ideal']:.0f}% of ideal | copy bandwidth "
                             f"{v['bandwidth_GBps']:.0f} GB/s |")
        if "c/skipped" in s or not any(k.startswith("c") for k in s):
            lines.append("\n(c) skipped: no CUDA device (run with `--device cuda`).")
        lines.append(f"\nratios: {r}")
        md = cfg.out_dir / "quantum-speed.md"
        md.write_text("\n".join(lines) + "\n")
        keys = [k for k in ("a_full", "a_large") if f"{k}/qtrain" in s] + _b_keys(s)
        theirs = [s.get(f"{k}/aer", s.get(f"{k}/aer-single", {})).get("seconds", np.nan) for k in keys]
        png = speed_bar_chart(cfg.out_dir / "quantum-speed.png", keys, [s[f"{k}/qtrain"]["seconds"] for k in keys],
                              theirs, "qtrain", "qiskit-aer",
                              "quantum-speed" + (" (quick)" if cfg.quick else ""))
        return [md, png]


def ratios(s: dict[str, dict[str, float]]) -> dict[str, float]:
    """aer / qtrain time ratios of (a) and (b), the probability agreement of (a) and the
    bandwidth fractions of (c)."""
    out: dict[str, float] = {}
    for key in ("a_full", "a_large"):
        if f"{key}/qtrain" in s and f"{key}/aer" in s:
            out[f"{key}_speedup"] = s[f"{key}/aer"]["seconds"] / s[f"{key}/qtrain"]["seconds"]
            out[f"{key}_speedup_vs_aer_internal"] = s[f"{key}/aer"]["aer_internal_s"] / s[f"{key}/qtrain"]["seconds"]
            out[f"{key}_max_abs_probability_diff"] = s[f"{key}/aer"]["max_abs_probability_diff"]
    for key in _b_keys(s):
        for prec in ("single", "double"):
            if f"{key}/aer-{prec}" in s:
                out[f"{key}_speedup_vs_aer_{prec}"] = s[f"{key}/aer-{prec}"]["seconds"] / s[f"{key}/qtrain"]["seconds"]
    for key, v in s.items():
        if key.endswith("grover-iteration"):
            out[f"{key.split('/')[0]}_fraction_of_ideal"] = v["fused_fraction_of_ideal"]
    return out


def _b_keys(s: dict[str, dict[str, float]]) -> list[str]:
    """Part (b) task prefixes present in a summary: ``b`` (the main size), then ``b<n>`` by size."""
    keys = {k.split("/")[0] for k in s if k.startswith("b") and k.endswith("/qtrain")}
    return sorted(keys, key=lambda k: (k != "b", int(k[1:] or 0)))
