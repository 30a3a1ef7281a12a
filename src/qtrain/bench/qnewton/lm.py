"""Benchmark ``qnewton-lm``: SGD, Adam, classical Newton and Q-Newton on a tiny transformer
language model over generated text (:mod:`qtrain.data.text`, character level).

Model: one pre-norm causal transformer block (d_model 16, 2 heads, GELU MLP) with learned
positions; loss: next-character cross-entropy averaged over positions. Newton methods use the
empirical Fisher per parameter tensor (per-sample gradients by torch.func over sequences), the
published ``eps_n max|F_ij|`` shift and the scheduler as in ``qnewton-mlp``. Reported: held-out
next-character accuracy and loss against steps, kappa and d trajectories, fraction routed
quantum, projected hybrid time per hardware profile relative to classical Newton.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from qtrain.bench.base import BenchConfig, Benchmark, Task
from qtrain.bench.qnewton.common import METHODS, PROFILES, train
from qtrain.data.text import char_corpus
from qtrain.nn import TinyLM

__all__ = ["QNewtonLM", "lm_loss"]


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over batch and positions (``[B, T, V]`` vs ``[B, T]``)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _params(quick: bool) -> dict[str, Any]:
    p = {"seq_len": 16, "d_model": 16, "heads": 2, "num_train": 1024, "num_test": 256,
         "steps": 12, "batch": 32, "eval_every": 3, "lr_sgd": 0.3, "lr_adam": 0.01,
         "lr_newton": 1.0, "curvature": "fisher", "blocking": "tensor", "eps_n": 0.1,
         "max_step_norm": 2.0, "qlsa_eps": 0.01, "route_profile": "attosecond",
         "kappa_method": "auto"}
    if not quick:
        p.update(steps=60, batch=64, eval_every=10, num_train=4096)
    return p


class QNewtonLM(Benchmark):
    name = "qnewton-lm"
    description = ("SGD, Adam, classical Newton and Q-Newton on a tiny transformer language "
                   "model over generated text: accuracy, kappa/d, routing, projected time")
    default_seeds = 1

    def tasks(self, cfg: BenchConfig) -> list[Task]:
        p = _params(cfg.quick)
        return [Task(m, s, p) for s in cfg.seeds for m in METHODS]

    def run_task(self, task: Task, cfg: BenchConfig) -> dict[str, Any]:
        p = task.params
        c = char_corpus(p["seq_len"], p["num_train"], p["num_test"], seed=task.seed)
        data = {"train_inputs": c.train_inputs.to(cfg.device),
                "train_targets": c.train_targets.to(cfg.device)}
        xt, yt = c.test_inputs.to(cfg.device), c.test_targets.to(cfg.device)
        torch.manual_seed(task.seed)
        model = TinyLM(len(c.vocab), p["seq_len"], p["d_model"], p["heads"]).double()
        model = model.to(cfg.device)

        def evaluate(m: torch.nn.Module) -> dict[str, float]:
            out = m(xt)
            return {"test_loss": float(lm_loss(out, yt)),
                    "test_acc": 100.0 * float((out.argmax(-1) == yt).double().mean())}

        return train(task.method, model, lm_loss, data, p, task.seed, cfg.device, evaluate)

    def report(self, runs: list[Any], cfg: BenchConfig) -> list[Path]:
        from qtrain.bench.qnewton.report import write_training_report

        return write_training_report(self.name, runs, cfg, metric="test_acc",
                                     metric_label="next-character accuracy (%)",
                                     profiles=PROFILES)
