"""Benchmark ``qbo-digits``: 1- and 2-bit MLPs on a digit pair trained by QBO, STE-QAT and in full precision.

Data: sklearn's 8x8 digits, pair 1 vs 7 (:func:`qtrain.data.digits_pair`, +-1 pixels), pooled to
4x4 by summing 2x2 blocks (integer features in -4..4, so every big-M row is integral); targets
``+-1``; prediction ``sign(y)``. Network ``16-H-1`` with ReLU (exact with ``S = 2``), first-layer
weights ``+-1`` at 1 bit (``scale=2, offset=1``) or the symmetric 2-bit codes ``{-3, -1, 1, 3}``;
the output layer has the same codes times :data:`OUT_SCALE` (0.1), since the hidden activations
reach about 10 and the targets are ``+-1``.

Methods (same data, same architecture and bits):

* ``qbo-anneal`` / ``qbo-sb``: :class:`~qtrain.train.qbo.QBOTrainer` with progressive hedging over
  every training sample, the annealer or simulated bifurcation as the oracle;
* ``ste-qat``: straight-through QAT (Adam on latent weights, rounded forward pass);
* ``full-precision``: the same network with real weights (Adam).

``--quick``: ``H = 2``, 1 bit, the annealer. The ten-class task (``K = 10``) multiplies the
product variables by ten and is not run here (see BENCHMARKS.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from qtrain.bench.base import BenchConfig, Benchmark, Task, pyplot, save_figure
from qtrain.data import digits_pair
from qtrain.nn import QuantizedLinear
from qtrain.train.qbo import QBOTrainer, train_ste_qat

__all__ = ["QBODigits", "pooled_pair"]

#: The output layer's codes are scaled by this: hidden activations reach ~10, targets are +-1.
OUT_SCALE = 0.1


def pooled_pair(seed: int) -> tuple[torch.Tensor, ...]:
    """``(X_train, T_train, X_test, T_test)``: 4x4 block sums of the +-1 pixels, targets +-1."""
    s = digits_pair(1, 7, seed=seed)

    def pool(X: torch.Tensor) -> torch.Tensor:
        return X.reshape(-1, 4, 2, 4, 2).sum((2, 4)).reshape(-1, 16).double()

    t = lambda y: (2 * y.double() - 1)[:, None]  # noqa: E731
    return pool(s.X_train), t(s.y_train), pool(s.X_test), t(s.y_test)


def _model(H: int, bits: int, quantize: bool = True) -> nn.Sequential:
    kw = {"scale": 2.0, "offset": 2.0 ** bits - 1}  # codes {-1, 1} or {-3, -1, 1, 3}: integral rows
    out = {"scale": 2.0 * OUT_SCALE, "offset": (2.0 ** bits - 1) * OUT_SCALE}  # the same codes times 0.1
    return nn.Sequential(QuantizedLinear(16, H, bits, quantize=quantize, **kw), nn.ReLU(),
                         QuantizedLinear(H, 1, bits, quantize=quantize, **out))


def _accuracy(model: nn.Module, X: torch.Tensor, T: torch.Tensor) -> float:
    with torch.no_grad():
        y = model(X.float()).double()
    return float((torch.where(y >= 0, 1.0, -1.0) == T).double().mean())


class QBODigits(Benchmark):
    name = "qbo-digits"
    description = "digit pair 1/7 pooled to 4x4: QBO (hedging, anneal or SB oracle) vs STE-QAT vs full precision"
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        if cfg.quick:
            grid = [(2, 1)]
            methods = ("qbo-anneal", "ste-qat", "full-precision")
        else:
            grid = [(4, 1), (4, 2)]
            methods = ("qbo-anneal", "qbo-sb", "ste-qat", "full-precision")
        return [Task(m, seed, {"H": H, "bits": b}) for seed in cfg.seeds for H, b in grid for m in methods]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        H, bits = task.params["H"], task.params["bits"]
        Xtr, Ttr, Xte, Tte = pooled_pair(task.seed)
        torch.manual_seed(task.seed)
        model = _model(H, bits, quantize=task.method != "full-precision")
        t0 = time.perf_counter()
        out: dict[str, Any] = {}
        if task.method.startswith("qbo"):
            sampler = task.method.split("-", 1)[1]
            kw = {"num_sweeps": 200} if sampler == "anneal" else {"num_steps": 300}
            info = QBOTrainer(model, sampler, method="hedging", pieces=2, iterations=10 if cfg.quick else 20,
                              seed=task.seed, num_reads=8, sampler_params=kw).fit(Xtr, Ttr)
            out.update({"spins_per_call": info["spins_per_call"], "oracle_calls": info["oracle_calls"],
                        "spins_monolithic": info["counts"]["spins_monolithic"],
                        "train_loss": info["training_loss"]})
        else:
            losses = train_ste_qat(model, Xtr, Ttr, epochs=300, lr=0.02, seed=task.seed)
            out["train_loss"] = losses[-1]
        out["seconds"] = time.perf_counter() - t0
        out["test_accuracy"] = _accuracy(model, Xte, Tte)
        out["train_accuracy"] = _accuracy(model, Xtr, Ttr)
        return out

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        lines = [f"# qbo-digits{' (quick)' if cfg.quick else ''}", "",
                 "Digit pair 1/7, 4x4 pooled, 16-H-1 ReLU network.", "",
                 "| H | bits | method | test acc | train acc | train loss | spins/call | spins monolithic | "
                 "oracle calls | s |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in runs:
            m, p = r.metrics, r.params
            lines.append(f"| {p['H']} | {p['bits']} | {r.method} | {m['test_accuracy']:.3f} | "
                         f"{m['train_accuracy']:.3f} | {m['train_loss']:.4f} | {m.get('spins_per_call', '-')} | "
                         f"{m.get('spins_monolithic', '-')} | {m.get('oracle_calls', '-')} | {m['seconds']:.1f} |")
        md = cfg.out_dir / "qbo-digits.md"
        md.write_text("\n".join(lines) + "\n")
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 3.5))
        labels = [f"{r.method}\nH={r.params['H']},{r.params['bits']}b" for r in runs]
        ax.bar(range(len(runs)), [r.metrics["test_accuracy"] for r in runs])
        ax.set_xticks(range(len(runs)), labels, fontsize=6)
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0.4, 1.0)
        ax.set_title("qbo-digits")
        png = save_figure(fig, cfg.out_dir / "qbo-digits.png")
        return [md, png]
