r"""NK echo state networks: per-output K-bit subfunctions, exact dynamic programming, merging.

A fixed random reservoir ``z_t = tanh(W_res z_{t-1} + W_in u_t)`` (spectral radius below 1) feeds
``N`` probe neurons ``p_t = W_p z_t``; a probe-filter mask ``M in {0,1}^N`` selects which probes
are read, and output neuron ``i`` reads exactly the ``K`` probes of its neighbourhood
``n_i = (n_{i0}, ..., n_{i,K-1})`` through its own ridge readout. Output ``i``'s validation fit
``f_i = 1 - MSE_i / var(y)`` depends only on the ``K`` bits ``M[n_i]``, so the mask's fitness is an
NK landscape ``F(M) = sum_i f_i(M[n_i])`` given by lookup tables of ``2^K`` entries per output
(bit ``j`` of a table index is probe ``n_{ij}``). The network predicts the mean of its outputs.

* :func:`nk_dynamic_programming` maximises ``F`` exactly by variable elimination; for adjacent
  cyclic neighbourhoods (``n_{ij} = (s_i + j) mod N``) in probe order this is the classic
  ``O(N 4^K)`` dynamic programme over windows of ``K - 1`` bits with the first ``K - 1`` bits
  carried to close the cycle;
* :func:`per_output_search` searches each output's ``2^K`` patterns with a ``K``-qubit search
  solver (``O(sqrt(2^K))`` oracle calls each, against the classical ``2^K N`` table);
* :func:`merge_patterns` is the stated rule for probes shared by several outputs: each probe
  takes the **majority** of the bits the outputs reading it chose (ties keep the probe); the
  benchmark measures its gap to the dynamic programme.

References:
    Whitaker, arXiv:2302.05984 (NK echo state networks); Whitley, Tinos & Chicano,
    arXiv:1505.01887 (NK landscapes, DP for adjacent neighbourhoods); Jaeger, GMD Report 148
    (echo state networks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain.data.series import nrmse
from qtrain.quantum import get_search_solver

__all__ = [
    "NKProblem",
    "adjacent_neighbourhoods",
    "merge_patterns",
    "nk_dynamic_programming",
    "nk_esn_problem",
    "nk_exhaustive",
    "nk_value",
    "per_output_search",
    "random_neighbourhoods",
]

#: the largest factor scope (bits) variable elimination may build
MAX_SCOPE = 24


def _as_rows(values: Any, dtype: torch.dtype, name: str) -> torch.Tensor:
    """A ``[N_out, m]`` tensor from a tensor, an array or a sequence of per-output rows (tensors,
    arrays or lists)."""
    try:
        if isinstance(values, list | tuple) and values and all(isinstance(v, torch.Tensor) for v in values):
            return torch.stack([v.detach().to(dtype).flatten() for v in values])
        return torch.as_tensor(values, dtype=dtype)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name} must be an [N_out, ...] array or a list of equal-length rows: {exc}") from None


def _check_nk(tables: Any, neighbourhoods: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
    t = _as_rows(tables, torch.float64, "tables")
    nb = _as_rows(neighbourhoods, torch.int64, "neighbourhoods")
    if nb.dim() != 2 or nb.shape[1] < 1:
        raise ValueError(f"neighbourhoods must be [N_out, K] with K >= 1, got {tuple(nb.shape)}")
    n_out, K = nb.shape
    if tuple(t.shape) != (n_out, 2**K):
        raise ValueError(f"tables must be [N_out={n_out}, 2^K={2**K}], got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError("tables must be finite, found NaN or infinity")
    if bool((nb < 0).any()):
        raise ValueError("neighbourhoods must hold probe indices >= 0")
    for i, row in enumerate(nb.tolist()):
        if len(set(row)) != K:
            raise ValueError(f"neighbourhood {i} repeats a probe: {row}")
    return t, nb, int(nb.max()) + 1


def adjacent_neighbourhoods(num_probes: int, K: int, num_outputs: int | None = None) -> torch.Tensor:
    """Cyclic windows ``n_i = (i, i+1, ..., i+K-1) mod N`` for outputs ``i < num_outputs`` (default N).

    Raises:
        ValueError: ``K`` larger than the probe layer, or below 1.
    """
    if isinstance(K, bool) or not isinstance(K, int) or not 1 <= K <= num_probes:
        raise ValueError(f"K must be an integer in [1, num_probes={num_probes}], got {K!r}")
    n_out = num_probes if num_outputs is None else num_outputs
    return (torch.arange(n_out)[:, None] + torch.arange(K)[None, :]) % num_probes


def random_neighbourhoods(num_probes: int, K: int, num_outputs: int | None = None, seed: int = 0) -> torch.Tensor:
    """``K`` distinct probes drawn uniformly per output (seeded).

    Raises:
        ValueError: ``K`` larger than the probe layer, or below 1.
    """
    if isinstance(K, bool) or not isinstance(K, int) or not 1 <= K <= num_probes:
        raise ValueError(f"K must be an integer in [1, num_probes={num_probes}], got {K!r}")
    n_out = num_probes if num_outputs is None else num_outputs
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(num_probes, generator=g)[:K] for _ in range(n_out)])


def nk_value(tables: Any, neighbourhoods: Any, masks: Any) -> torch.Tensor:
    """``F(M) = sum_i tables[i][index_i(M)]`` for masks ``[..., N]`` (0/1)."""
    t, nb, _ = _check_nk(tables, neighbourhoods)
    m = torch.as_tensor(masks).to(torch.int64)
    idx = (m[..., nb] << torch.arange(nb.shape[1])).sum(-1)  # [..., N_out]
    return t.gather(1, idx.reshape(-1, nb.shape[0]).T).T.reshape(idx.shape).sum(-1)


def nk_exhaustive(tables: Any, neighbourhoods: Any, chunk: int = 2**16) -> tuple[torch.Tensor, float]:
    """The reference: ``F`` of all ``2^N`` masks, the best (lowest index on ties) and its value.

    Raises:
        ValueError: ``N > 26``.
    """
    t, nb, N = _check_nk(tables, neighbourhoods)
    if N > 26:
        raise ValueError(f"exhaustive search over 2^{N} masks is too large (at most N=26)")
    best, value = 0, -math.inf
    for s in range(0, 2**N, chunk):
        states = torch.arange(s, min(2**N, s + chunk))
        masks = (states[:, None] >> torch.arange(N)) & 1
        v = nk_value(t, nb, masks)
        i = int(v.argmax())
        if float(v[i]) > value:
            best, value = s + i, float(v[i])
    return ((torch.tensor(best) >> torch.arange(N)) & 1).to(torch.int8), value


def _order(scopes: list[set[int]], N: int, adjacent: bool) -> list[int]:
    """Elimination order: probe order for adjacent windows, else greedy min-degree."""
    if adjacent:
        return list(range(N))
    order, remaining = [], set(range(N))
    live = [set(s) for s in scopes]
    while remaining:
        v = min(remaining, key=lambda u: (len(set().union(*[s for s in live if u in s]) - {u}), u))
        merged = set().union(*[s for s in live if v in s]) - {v}
        live = [s for s in live if v not in s] + ([merged] if merged else [])
        order.append(v)
        remaining.discard(v)
    return order


def _expand(values: torch.Tensor, scope: tuple[int, ...], target: tuple[int, ...]) -> torch.Tensor:
    """A factor over ``scope`` (axes in ``scope`` order) broadcast to the axes of ``target``."""
    perm = sorted(range(len(scope)), key=lambda a: target.index(scope[a]))
    v = values.permute(perm) if scope else values
    shape = [2 if q in scope else 1 for q in target]
    return v.reshape(shape)


def nk_dynamic_programming(tables: Any, neighbourhoods: Any) -> tuple[torch.Tensor, float]:
    r"""The mask ``M in {0,1}^N`` maximising ``F(M) = sum_i tables[i][sum_j M[n_ij] 2^j]``, exactly.

    Variable elimination (max-sum): eliminate the probes one at a time, each time adding the
    factors that contain the probe over their joint scope and maximising it out (its argmax kept
    for the backward pass). For adjacent cyclic neighbourhoods (:func:`adjacent_neighbourhoods`)
    the order is the probe order, the scopes hold at most ``2K - 1`` bits (the window plus the
    first ``K - 1`` bits that close the cycle) and the cost is ``O(N 4^K)``; other neighbourhoods
    use a min-degree order and stay exact while the scopes fit in ``MAX_SCOPE`` bits (NK
    landscapes with random neighbourhoods are NP-hard in general).

    Args:
        tables: ``[N_out, 2^K]`` values, ``tables[i][s]`` for output ``i``'s pattern ``s``.
        neighbourhoods: ``[N_out, K]`` probe indices; ``N = max + 1`` probes.

    Returns:
        ``(mask, value)``: int8 ``[N]`` and ``F(mask)`` (probes no output reads are 0).

    Raises:
        ValueError: mis-shaped or non-finite tables, repeated probes in a neighbourhood, a scope
            beyond ``MAX_SCOPE`` bits.

    Example:
        >>> tables = torch.tensor([[0.0, 1.0, 2.0, 0.0], [3.0, 0.0, 0.0, 1.0]])
        >>> nk_dynamic_programming(tables, [[0, 1], [1, 0]])
        (tensor([0, 1], dtype=torch.int8), 2.0)

    References:
        Whitley, Tinos & Chicano, arXiv:1505.01887; Dechter, Artificial Intelligence 113 (1999)
        (bucket elimination).
    """
    t, nb, N = _check_nk(tables, neighbourhoods)
    K = nb.shape[1]
    starts = nb[:, 0]
    adjacent = bool((nb == (starts[:, None] + torch.arange(K)) % N).all())
    factors: list[tuple[tuple[int, ...], torch.Tensor]] = []
    for i in range(nb.shape[0]):
        scope = tuple(nb[i].tolist())
        # table index bit j = probe scope[j]: as a [2]*K tensor its axes run scope[K-1], ..., scope[0]
        factors.append((tuple(reversed(scope)), t[i].reshape([2] * K)))
    order = _order([set(s) for s, _ in factors], N, adjacent)
    back: list[tuple[int, tuple[int, ...], torch.Tensor]] = []
    for v in order:
        mine = [f for f in factors if v in f[0]]
        factors = [f for f in factors if v not in f[0]]
        if not mine:
            back.append((v, (), torch.zeros((), dtype=torch.int64)))
            continue
        scope = tuple(sorted(set().union(*[set(s) for s, _ in mine])))
        if len(scope) > MAX_SCOPE:
            raise ValueError(f"exact DP needs a factor over {len(scope)} probes (limit MAX_SCOPE={MAX_SCOPE}); "
                             "these neighbourhoods are too entangled for variable elimination")
        total = sum(_expand(vals, s, scope) for s, vals in mine)
        total = total.expand([2] * len(scope)) if scope else total
        axis = scope.index(v)
        best, arg = total.max(dim=axis)
        rest = scope[:axis] + scope[axis + 1:]
        back.append((v, rest, arg))
        if rest:
            factors.append((rest, best))
        else:
            factors.append(((), best))
    mask = torch.zeros(N, dtype=torch.int64)
    for v, rest, arg in reversed(back):
        mask[v] = int(arg[tuple(int(mask[q]) for q in rest)]) if rest else int(arg)
    mask = mask.to(torch.int8)
    return mask, float(nk_value(t, nb, mask))


def per_output_search(tables: Any, solver: str = "durr-hoyer", seed: int = 0, **params: Any
                      ) -> tuple[torch.Tensor, dict[str, Any]]:
    """Each output's best pattern by a ``K``-qubit search over its ``2^K`` table entries (costs
    ``-tables``), all outputs in one batched call.

    Returns:
        ``(patterns [N_out] int64 indices, info)``; ``info`` holds ``found`` (per output, the
        pattern is that output's optimum), ``oracle_calls`` (total), ``classical_evaluations``
        (``2^K N_out``), ``success_probability`` and ``resources`` as the solver reports them.
    """
    t = torch.as_tensor(tables, dtype=torch.float64)
    res = get_search_solver(solver).search(-t, seed=seed, **params)
    found = (t.gather(1, res.index[:, None]).squeeze(1) == t.max(1).values).tolist()
    calls = res.info.get("oracle_calls", res.info.get("evaluations"))
    total = int(sum(calls)) if isinstance(calls, list) else int(calls) * t.shape[0]
    return res.index, {"found": found, "oracle_calls": total, "classical_evaluations": int(t.numel()),
                       "success_probability": res.info.get("success_probability"),
                       "resources": res.info.get("resources"), "solver": res.info["solver"]}


def merge_patterns(patterns: Any, neighbourhoods: Any, num_probes: int) -> torch.Tensor:
    """One mask from per-output patterns: each probe takes the majority of the bits the outputs
    reading it chose; a tie (or a probe no output reads) keeps the probe (bit 1).

    Args:
        patterns: ``[N_out]`` table indices (bit ``j`` is probe ``neighbourhoods[i][j]``).
        neighbourhoods: ``[N_out, K]``.
        num_probes: ``N``.
    """
    nb = torch.as_tensor(neighbourhoods, dtype=torch.int64)
    p = torch.as_tensor(patterns, dtype=torch.int64)
    bits = (p[:, None] >> torch.arange(nb.shape[1])) & 1
    votes = torch.zeros(num_probes, dtype=torch.int64).index_add_(0, nb.reshape(-1), 2 * bits.reshape(-1) - 1)
    return (votes >= 0).to(torch.int8)


# ------------------------------------------------------------------------------ the NK-ESN
@dataclass
class NKProblem:
    """An NK-ESN on a series: its lookup tables and what scoring a mask on the test split needs.

    Attributes:
        tables: ``[N_out, 2^K]`` validation fits ``1 - MSE_i / var(y_val)``.
        neighbourhoods: ``[N_out, K]``.
        num_probes: ``N``.
        info: reservoir size, spectral radius, split sizes.
    """

    tables: torch.Tensor
    neighbourhoods: torch.Tensor
    num_probes: int
    probes: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)
    targets: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)
    ridge: float = 1e-4
    info: dict[str, Any] = field(default_factory=dict)

    def test_nrmse(self, mask: Any, split: str = "test") -> float:
        """NRMSE on ``split`` of the network with probe mask ``mask [N]`` (outputs refit on train)."""
        m = torch.as_tensor(mask, dtype=torch.int64)
        pattern = (m[self.neighbourhoods] << torch.arange(self.neighbourhoods.shape[1])).sum(-1)
        w = _readouts(self.probes["train"], self.targets["train"], self.neighbourhoods, self.ridge, pattern)
        pred = _predict(self.probes[split], self.neighbourhoods, w, pattern).mean(0)
        return nrmse(pred, self.targets[split])


def _features(P: torch.Tensor, nb: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """``[N_out, S, T, K + 1]``: each output's masked probes and a bias column, per pattern."""
    K = nb.shape[1]
    bits = ((pattern[..., None] >> torch.arange(K)) & 1).to(P.dtype)  # [N_out, S, K]
    x = P[:, nb].permute(1, 0, 2)  # [N_out, T, K]
    f = x[:, None] * bits[:, :, None, :]
    return torch.cat([f, torch.ones(*f.shape[:-1], 1, dtype=P.dtype)], -1)


def _readouts(P: torch.Tensor, y: torch.Tensor, nb: torch.Tensor, ridge: float, pattern: torch.Tensor) -> torch.Tensor:
    pat = pattern if pattern.dim() == 2 else pattern[:, None]
    F = _features(P, nb, pat)
    G = F.transpose(-1, -2) @ F + ridge * F.shape[-2] * torch.eye(F.shape[-1], dtype=P.dtype)
    return torch.linalg.solve(G, F.transpose(-1, -2) @ y[:, None]).squeeze(-1)  # [N_out, S, K + 1]


def _predict(P: torch.Tensor, nb: torch.Tensor, w: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    pat = pattern if pattern.dim() == 2 else pattern[:, None]
    out = (_features(P, nb, pat) @ w[..., None]).squeeze(-1)  # [N_out, S, T]
    return out if pattern.dim() == 2 else out[:, 0]


def _reservoir(u: torch.Tensor, size: int, spectral_radius: float, input_scale: float, gen: torch.Generator
               ) -> torch.Tensor:
    W = torch.randn(size, size, generator=gen, dtype=torch.float64) / math.sqrt(size)
    W = W * (spectral_radius / float(torch.linalg.eigvals(W).abs().max()))
    w_in = input_scale * (2 * torch.rand(size, generator=gen, dtype=torch.float64) - 1)
    z = torch.zeros(size, dtype=torch.float64)
    states = []
    for ut in u.tolist():
        z = torch.tanh(W @ z + w_in * ut)
        states.append(z)
    return torch.stack(states)


def nk_esn_problem(u: Any, y: Any, *, num_probes: int = 16, K: int = 2, neighbourhoods: str | Any = "adjacent",
                   reservoir: int = 100, spectral_radius: float = 0.9, input_scale: float = 1.0,
                   ridge: float = 1e-4, washout: int = 100, fractions: tuple[float, float] = (0.5, 0.25),
                   seed: int = 0) -> NKProblem:
    """Build an NK-ESN on input ``u [T]`` and one-step target ``y [T]`` and its lookup tables.

    The reservoir runs over the whole series (the first ``washout`` states dropped); the rest is
    split in time into train / validation / test by ``fractions``. For every output and pattern a
    ridge readout (penalty ``ridge * T_train``) is fitted on train and scored on validation.

    Args:
        neighbourhoods: ``"adjacent"``, ``"random"`` or an ``[N, K]`` index tensor.
        spectral_radius: of ``W_res``, in ``(0, 1)``.

    Raises:
        ValueError: ``K`` larger than the probe layer, a spectral radius outside ``(0, 1)``,
            series of different lengths or too short, non-finite series.
    """
    ut, yt = torch.as_tensor(u, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    if ut.shape != yt.shape or ut.dim() != 1:
        raise ValueError(f"u and y must be series of the same length, got {tuple(ut.shape)} and {tuple(yt.shape)}")
    if not bool(torch.isfinite(ut).all() and torch.isfinite(yt).all()):
        raise ValueError("u and y must be finite, found NaN or infinity")
    if not 0 < spectral_radius < 1:
        raise ValueError(f"spectral_radius must lie in (0, 1), got {spectral_radius!r}")
    if isinstance(K, bool) or not isinstance(K, int) or not 1 <= K <= num_probes:
        raise ValueError(f"K must be an integer in [1, num_probes={num_probes}] (each output reads K probes), "
                         f"got {K!r}")
    if ut.shape[0] < washout + 30:
        raise ValueError(f"series of length {ut.shape[0]} is too short for washout={washout}")
    gen = torch.Generator().manual_seed(seed)
    Z = _reservoir(ut, reservoir, spectral_radius, input_scale, gen)[washout:]
    Wp = torch.randn(num_probes, reservoir, generator=gen, dtype=torch.float64) / math.sqrt(reservoir)
    P = Z @ Wp.T
    P = (P - P.mean(0)) / P.std(0).clamp_min(1e-12)
    target = yt[washout:]
    if isinstance(neighbourhoods, str):
        if neighbourhoods == "adjacent":
            nb = adjacent_neighbourhoods(num_probes, K)
        elif neighbourhoods == "random":
            nb = random_neighbourhoods(num_probes, K, seed=seed)
        else:
            raise ValueError(f"neighbourhoods must be 'adjacent', 'random' or a tensor, got {neighbourhoods!r}")
    else:
        nb = torch.as_tensor(neighbourhoods, dtype=torch.int64)
        if nb.dim() != 2 or nb.shape[1] != K or int(nb.max()) >= num_probes or int(nb.min()) < 0:
            raise ValueError(f"neighbourhoods must be [N_out, K={K}] indices below num_probes={num_probes}")
    T = P.shape[0]
    a, b = int(fractions[0] * T), int((fractions[0] + fractions[1]) * T)
    parts = {"train": slice(0, a), "val": slice(a, b), "test": slice(b, T)}
    probes = {k: P[s] for k, s in parts.items()}
    targets = {k: target[s] for k, s in parts.items()}
    pattern = torch.arange(2**K).expand(nb.shape[0], -1)
    w = _readouts(probes["train"], targets["train"], nb, ridge, pattern)
    pred = _predict(probes["val"], nb, w, pattern)  # [N_out, 2^K, T_val]
    yv = targets["val"]
    tables = 1 - (pred - yv).pow(2).mean(-1) / yv.var(unbiased=False)
    info = {"reservoir": reservoir, "spectral_radius": spectral_radius, "K": K, "num_probes": num_probes,
            "split": [a, b - a, T - b]}
    return NKProblem(tables, nb, num_probes, probes, targets, ridge, info)
