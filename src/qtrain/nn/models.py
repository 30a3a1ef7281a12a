"""Plain models the benchmarks train: a tanh MLP and a one-block causal transformer language model."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP", "TinyLM"]


class MLP(nn.Sequential):
    """``in -> [hidden, tanh] x layers -> out``."""

    def __init__(self, n_in: int, hidden: int, layers: int, n_out: int):
        mods: list[nn.Module] = []
        width = n_in
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        mods.append(nn.Linear(width, n_out))
        super().__init__(*mods)


class TinyLM(nn.Module):
    """A one-block causal transformer (pre-norm, ``heads`` heads, GELU MLP) over characters,
    written with plain ops so torch.func can take per-sample gradients through it."""

    def __init__(self, vocab: int, seq_len: int, d_model: int = 16, heads: int = 2):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by heads ({heads})")
        self.heads = heads
        self.emb = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(0.02 * torch.randn(seq_len, d_model))
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.fc1, self.fc2 = nn.Linear(d_model, 2 * d_model), nn.Linear(2 * d_model, d_model)
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("mask", torch.ones(seq_len, seq_len).tril().bool(), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        B, T = ids.shape
        h = self.emb(ids) + self.pos[:T]
        q, k, v = self.qkv(self.ln1(h)).chunk(3, -1)
        split = lambda t: t.reshape(B, T, self.heads, -1).transpose(1, 2)  # noqa: E731
        q, k, v = split(q), split(k), split(v)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(-1)
        h = h + self.proj((att @ v).transpose(1, 2).reshape(B, T, -1))
        h = h + self.fc2(F.gelu(self.fc1(self.ln2(h))))
        return self.head(h)
