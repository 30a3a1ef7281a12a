"""Grover, BBHT and Durr-Hoyer search on diagonal oracles, computed on the search register's amplitudes.

A diagonal oracle (a marking ``f(x)`` or a cost ``c(x)``) leaves the uniform superposition inside
the span of the marked and unmarked uniform states, so Grover's dynamics has a closed form. These
functions give the same probabilities as the gate-level circuits of :mod:`qtrain.quantum.builders`
(tested to 1e-6) at a cost of ``O(N)`` per round instead of ``O(N n)`` per gate. Phase estimation
of diagonal unitaries is in :mod:`qtrain.quantum.phase_estimation`; the search-solver interface over
these functions in :mod:`qtrain.quantum.search_solvers`.

Counting: ``oracle_calls`` counts Grover iterations (one oracle each); measurements and the
classical comparison of a measured cost are ``rounds`` and not oracle calls.

Seeds follow :func:`qtrain._info.resolve_seed` (``None``: fresh entropy, recorded in the result).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._info import resolve_seed
from qtrain.quantum._checks import real_finite
from qtrain.quantum.resources import Resources, grover_iteration_resources

__all__ = [
    "GroverResult",
    "MinimumSearchResult",
    "bbht_search",
    "dh_budget",
    "grover_probabilities",
    "grover_probability",
    "grover_search",
    "minimum_search",
]


def _marking(marked: Any) -> torch.Tensor:
    m = torch.as_tensor(marked)
    if m.dim() < 1 or m.shape[-1] < 1:
        raise ValueError(f"marked must have shape [..., N] with N >= 1, got {tuple(m.shape)}")
    if m.dtype != torch.bool:
        if not bool(((m == 0) | (m == 1)).all()):
            raise ValueError("marked must be boolean or 0/1")
        m = m != 0
    return m


def _check_iterations(iterations: Any) -> torch.Tensor:
    k = torch.as_tensor(iterations)
    if k.is_floating_point() or k.is_complex() or k.dtype == torch.bool or bool((k < 0).any()):
        raise ValueError(f"iterations must be non-negative integers, got {iterations!r}")
    return k.to(torch.float64)


def grover_probability(marked: Any, iterations: Any, num_states: int | None = None) -> torch.Tensor:
    r"""Success probability of Grover search after ``k`` iterations from the uniform state.

    ``P_k = sin^2((2k + 1) theta)`` with ``sin^2 theta = M / N`` (Boyer, Brassard, Hoyer, Tapp,
    quant-ph/9605034, Eq. 1): the probability that measuring returns a marked item.

    Args:
        marked: a marking ``[..., N]`` (bool or 0/1), or the number of marked items ``M`` (an int
            or integer tensor) together with ``num_states``.
        iterations: ``k >= 0``, an int or an integer tensor broadcasting against the batch.
        num_states: ``N``, needed when ``marked`` is a count.

    Returns:
        float64 tensor of the broadcast shape of the batch and ``iterations``.

    Raises:
        ValueError: negative or non-integer ``iterations``; a count outside ``[0, N]``.

    Example:
        >>> float(grover_probability(torch.tensor([0, 0, 1, 0]), 1))  # N=4, M=1: one step finds it
        1.0
    """
    k = _check_iterations(iterations)
    if num_states is None:
        m = _marking(marked)
        M, N = m.sum(-1).to(torch.float64), m.shape[-1]
    else:
        M = torch.as_tensor(marked, dtype=torch.float64)
        N = int(num_states)
        if N < 1 or bool((M < 0).any()) or bool((M > N).any()):
            raise ValueError(f"marked count must lie in [0, num_states={N}], got {marked!r}")
    theta = torch.asin(torch.sqrt(M / N))
    return torch.sin((2 * k + 1) * theta).pow(2)


def grover_probabilities(marked: Any, iterations: int, initial: Any = None) -> torch.Tensor:
    """Outcome distribution ``|psi_k(x)|^2`` after ``k`` Grover iterations, on the amplitudes.

    Each iteration is ``psi <- 2 <psi0|psi> psi0 - psi`` after ``psi(x) <- -psi(x)`` on marked
    ``x`` (the oracle ``O_f`` and diffusion ``2|psi0><psi0| - I``), with ``psi0`` the uniform state
    or ``initial`` (unit-norm real or complex amplitudes ``[..., N]``).

    Returns:
        float64 ``[..., N]`` probabilities.
    """
    m = _marking(marked)
    k = int(_check_iterations(iterations))
    N = m.shape[-1]
    if initial is None:
        psi0 = torch.full(m.shape, 1 / math.sqrt(N), dtype=torch.float64, device=m.device)
    else:
        psi0 = torch.as_tensor(initial)
        psi0 = psi0.to(torch.complex128 if psi0.is_complex() else torch.float64)
        if psi0.shape[-1] != N:
            raise ValueError(f"initial must have N={N} amplitudes, got {tuple(psi0.shape)}")
    sign = 1 - 2 * m.to(psi0.dtype)
    psi = psi0.clone()
    for _ in range(k):
        psi = psi * sign
        psi = 2 * (psi0.conj() * psi).sum(-1, keepdim=True) * psi0 - psi
    return psi.abs().pow(2)


@dataclass
class GroverResult:
    """Outcome of a Grover or BBHT search (:func:`grover_search`, :func:`bbht_search`).

    Attributes:
        index: the measured basis state (int64 tensor of the batch shape).
        found: whether it is marked.
        oracle_calls: Grover iterations used.
        success_probability: probability that the (last) measurement returns a marked item.
        trace: per round: iterations, probability of a marked outcome, measured index.
        resources: :class:`~qtrain.quantum.resources.Resources` (summed over rounds).
        seed: the seed used.
    """

    index: torch.Tensor
    found: torch.Tensor
    oracle_calls: torch.Tensor
    success_probability: torch.Tensor
    trace: list[dict[str, Any]] = field(default_factory=list)
    resources: Resources | None = None
    seed: int | None = None


def _most(counts: torch.Tensor) -> int:
    """The largest count of a batch (0 for an empty batch): what the summed resources are priced at."""
    return int(counts.max()) if counts.numel() else 0


def _num_qubits(N: int) -> int:
    return max(1, math.ceil(math.log2(N)))


def _pick(mask: torch.Tensor, want: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Per row, a uniformly chosen index where ``mask == want`` (``u`` uniform in [0, 1))."""
    sel = (mask == want[:, None]).to(torch.int64)
    count = sel.sum(-1)
    rank = torch.minimum((u * count).floor().to(torch.int64), (count - 1).clamp_min(0))
    return torch.searchsorted(sel.cumsum(-1), (rank + 1)[:, None]).squeeze(-1).clamp_max(mask.shape[-1] - 1)


def _shared_uniform(R: int, gen: torch.Generator) -> torch.Tensor:
    """One uniform in [0, 1) for all ``R`` problems of a batch: a problem searched alone then draws
    what it draws inside a batch."""
    return torch.rand(1, generator=gen, dtype=torch.float64).expand(R)


def _measure(mask: torch.Tensor, p_marked: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Measure the Grover state: marked with probability ``p_marked``, uniform within each class."""
    R = mask.shape[0]
    r, u = _shared_uniform(R, gen), _shared_uniform(R, gen)
    M = mask.sum(-1)
    hit = (r < p_marked) & (M > 0) | (M == mask.shape[-1])
    return _pick(mask, hit, u)


def grover_search(marked: Any, iterations: int | None = None, seed: int | None = None,
                  oracle: Resources | None = None) -> GroverResult:
    """Grover search with a given number of iterations on a diagonal marking, then one measurement.

    Default ``iterations = floor(pi / (4 theta))`` for the true ``M`` (the optimum when ``M`` is known).
    The random numbers are shared by the problems of a batch, so a problem searched alone gives
    exactly what it gives inside a batch.

    Args:
        marked: ``[..., N]`` marking (bool or 0/1).
        iterations: ``k >= 0``.
        seed: seeds the measurement.
        oracle: resources of one oracle call (default: a diagonal phase oracle).
    """
    m = _marking(marked).cpu()  # O(N) per round: the CPU is fast enough, and seeds stay portable
    batch, N = m.shape[:-1], m.shape[-1]
    flat = m.reshape(-1, N)
    if iterations is None:
        theta = torch.asin(torch.sqrt(flat.sum(-1).to(torch.float64) / N))
        ks = torch.where(theta > 0, torch.floor(math.pi / (4 * theta.clamp_min(1e-300))), 0).to(torch.int64)
    else:
        ks = _check_iterations(iterations).to(torch.int64).expand(flat.shape[0]).clone()
    seed = resolve_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    p = grover_probability(flat, ks)
    idx = _measure(flat, p, gen)
    found = flat.gather(1, idx[:, None]).squeeze(1)
    n = _num_qubits(N)
    res = grover_iteration_resources(n, oracle).scaled(_most(ks))
    res.measurements = n
    return GroverResult(idx.reshape(batch), found.reshape(batch), ks.reshape(batch), p.reshape(batch),
                        [{"iterations": ks.reshape(batch), "p_marked": p.reshape(batch),
                          "measured": idx.reshape(batch)}], res, seed)


def bbht_search(marked: Any, seed: int | None = None, lam: float = 6 / 5,
                max_oracle_calls: int | None = None, oracle: Resources | None = None) -> GroverResult:
    """Search with an unknown number of marked items (Boyer, Brassard, Hoyer, Tapp, quant-ph/9605034).

    ``m = 1``; repeat: draw ``j`` uniformly from ``{0, ..., ceil(m) - 1}``, run ``j`` Grover
    iterations, measure; stop on a marked outcome, else ``m <- min(lam m, sqrt(N))``. Expected
    ``O(sqrt(N / M))`` oracle calls. Gives up after ``max_oracle_calls`` (default
    ``ceil(9 sqrt(N))``), then ``found`` is False (always the case when ``M = 0``). With ``N = 1``
    no iteration can be drawn and the first measurement decides. As in :func:`grover_search`, the
    random numbers are shared by the problems of a batch.

    Raises:
        ValueError: ``lam`` outside (1, 4/3], a negative ``max_oracle_calls``.
    """
    m_ = _marking(marked).cpu()
    if not 1 < lam <= 4 / 3:
        raise ValueError(f"lam must lie in (1, 4/3], got {lam}")
    batch, N = m_.shape[:-1], m_.shape[-1]
    mask = m_.reshape(-1, N)
    R = mask.shape[0]
    budget = math.ceil(9 * math.sqrt(N)) if max_oracle_calls is None else int(max_oracle_calls)
    if budget < 0:
        raise ValueError(f"max_oracle_calls must be >= 0, got {max_oracle_calls}")
    seed = resolve_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    mscale = torch.ones(R, dtype=torch.float64)
    calls = torch.zeros(R, dtype=torch.int64)
    active = torch.ones(R, dtype=torch.bool)
    found = torch.zeros(R, dtype=torch.bool)
    index = torch.zeros(R, dtype=torch.int64)
    p_last = torch.zeros(R, dtype=torch.float64)
    trace = []
    while bool(active.any()):
        j = (_shared_uniform(R, gen) * torch.ceil(mscale)).floor().to(torch.int64)
        j = torch.minimum(j, budget - calls).clamp_min(0)
        p = grover_probability(mask, j)
        x = _measure(mask, p, gen)
        hit = mask.gather(1, x[:, None]).squeeze(1)
        calls = torch.where(active, calls + j, calls)
        index = torch.where(active, x, index)
        p_last = torch.where(active, p, p_last)
        found = found | (active & hit)
        trace.append({"iterations": torch.where(active, j, 0), "p_marked": p, "measured": x,
                      "active": active.clone()})
        mscale = torch.clamp(mscale * lam, max=math.sqrt(N))
        # Termination: for N >= 2, m > 1 after the first round, so a round draws j >= 1 with
        # probability >= 1/2 and the calls reach the budget (or a marked state is measured) almost
        # surely, after about 2 * budget rounds. For N = 1 every j is 0 (m <= sqrt(N) = 1) and no
        # iteration changes the state: the first measurement decides.
        active = active & ~hit & (calls < budget) & (N > 1)
    n = _num_qubits(N)
    res = grover_iteration_resources(n, oracle).scaled(_most(calls))
    res.measurements = n * len(trace)
    return GroverResult(index.reshape(batch), found.reshape(batch), calls.reshape(batch),
                        p_last.reshape(batch), trace, res, seed)


def dh_budget(num_states: int, *, total: bool = False) -> int:
    """Durr-Hoyer's budget of Grover iterations for a search over ``N = num_states`` states.

    ``total=False``: ``ceil(22.5 sqrt(N) + 1.4 log2(N)^2)``, twice the expected number of
    iterations until the threshold holds a minimiser (``45/4 sqrt(N) + 7/10 log2(N)^2``, Durr &
    Hoyer, quant-ph/9607014, Lemma 2), so by Markov's inequality a search that runs this long finds
    the minimum with probability at least 1/2. The default of :func:`minimum_search`.

    ``total=True``: ``max(1, floor(22.5 sqrt(N)) - ceil(sqrt(N)) + 2)``, a budget whose *total*,
    last round included, stays within ``22.5 sqrt(N)`` (the bound without its log term, which
    :class:`~qtrain.train.sinusoidal.QuantumWeightSearch` reports against): the search starts a
    round while fewer than ``budget`` iterations are spent, and a round adds at most
    ``ceil(sqrt(N)) - 1``, so it spends at most ``floor(22.5 sqrt(N))``.

    Example:
        >>> dh_budget(1024), dh_budget(1024, total=True)
        (860, 690)
    """
    N = int(num_states)
    if total:
        root = math.sqrt(N)
        return max(1, math.floor(22.5 * root) - math.ceil(root) + 2)
    return math.ceil(22.5 * math.sqrt(N) + 1.4 * math.log2(max(N, 1)) ** 2)


@dataclass
class MinimumSearchResult:
    """Outcome of Durr-Hoyer minimum search (tensors of the batch shape; 0-d for one problem).

    Attributes:
        index: the final threshold index ``y`` (the best state seen).
        value: its cost.
        oracle_calls: Grover iterations used.
        success_probability: ``1 - prod_r (1 - p_min,r)`` over the initial draw and every round's
            measurement, with ``p_min,r`` the probability that round ``r`` measures a global
            minimiser: the probability that the realised schedule (thresholds and iteration counts)
            returns the minimum. Gate-level circuits reproduce every ``p_min,r`` (see tests).
        found: whether ``index`` is a global minimiser (checked against ``costs.min()``).
        rounds: measurements made.
        trace: per round: ``threshold`` (cost of ``y`` before the round), ``marked`` (how many
            states beat it), ``iterations``, ``p_improve`` (probability of a better state),
            ``p_min``, ``measured`` and ``active`` (runs still going).
        resources: summed resources (oracle calls, gates, projected time via ``.projected_time``).
        seed: the seed used.
    """

    index: torch.Tensor
    value: torch.Tensor
    oracle_calls: torch.Tensor
    success_probability: torch.Tensor
    found: torch.Tensor
    rounds: torch.Tensor
    trace: list[dict[str, Any]] = field(default_factory=list)
    resources: Resources | None = None
    seed: int | None = None


def minimum_search(costs: Any, seed: int | None = None, max_oracle_calls: int | None = None,
                   lam: float = 6 / 5, oracle: Resources | None = None, runs: int | None = None
                   ) -> MinimumSearchResult:
    """Durr-Hoyer quantum minimum finding on a cost vector, simulated on the amplitudes.

    Start from a uniformly random threshold index ``y``. Each round runs one BBHT step with the
    oracle marking ``{x : c(x) < c(y)}``: ``j`` uniform in ``{0, ..., ceil(m) - 1}`` Grover
    iterations, then a measurement ``x`` (a marked state with probability ``sin^2((2j+1) theta)``,
    ``sin^2 theta = M/N``, uniform within each class). If ``c(x) < c(y)`` then ``y <- x`` and
    ``m <- 1``, else ``m <- min(lam m, sqrt(N))``. Stop once ``max_oracle_calls`` Grover
    iterations are spent (default :func:`dh_budget`). With ``N = 1`` the initial draw is the
    minimum and no round runs.

    Every problem of a batch (and every run) searches in one vectorised loop; the costs are sorted
    once, so a round costs ``O(log N)`` (the marked set is a prefix of the sorted order). Random
    numbers are drawn per run and shared by the problems of a batch, so a problem searched alone
    gives exactly what it gives inside a batch.

    Args:
        costs: ``[..., N]`` real costs (the uniform superposition over ``N`` states; gate level
            needs ``N = 2^n``).
        seed: seeds the initial threshold, iteration counts and measurements.
        max_oracle_calls: Grover-iteration budget per run.
        lam: BBHT's growth factor in (1, 4/3].
        oracle: resources of one oracle call for the projected time (default: diagonal phase oracle).
        runs: independent runs per problem; results then have shape ``[..., runs]``
            (default: one run, shape ``[...]``).

    Returns:
        :class:`MinimumSearchResult`.

    Raises:
        ValueError: non-finite ``costs``, bad ``lam``/``runs``, negative ``max_oracle_calls`` or ``seed``.

    References:
        Durr & Hoyer, quant-ph/9607014; Boyer, Brassard, Hoyer & Tapp, quant-ph/9605034.

    Example:
        >>> res = minimum_search(torch.tensor([3.0, 1.0, 2.0, 0.5]), seed=0)
        >>> int(res.index), float(res.value)
        (3, 0.5)
    """
    c = real_finite(costs)
    if not 1 < lam <= 4 / 3:
        raise ValueError(f"lam must lie in (1, 4/3], got {lam}")
    if runs is not None and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
        raise ValueError(f"runs must be a positive integer or None, got {runs!r}")
    batch, N = c.shape[:-1], c.shape[-1]
    budget = dh_budget(N) if max_oracle_calls is None else int(max_oracle_calls)
    if budget < 0:
        raise ValueError(f"max_oracle_calls must be >= 0, got {max_oracle_calls}")
    seed = resolve_seed(seed)
    flat = c.reshape(-1, N)
    P, K, dev = flat.shape[0], runs or 1, flat.device
    gen = torch.Generator().manual_seed(seed)

    def draw() -> torch.Tensor:  # one uniform per run, shared by every problem
        return torch.rand(K, generator=gen, dtype=torch.float64).to(dev).expand(P, K)

    # Sorting once makes each round O(log N): the marked set {c < c(y)} is a prefix of the order,
    # and a uniform draw within a class is a uniform rank within its range.
    sorted_c, order = torch.sort(flat, dim=-1, stable=True)
    cmin = sorted_c[:, :1].expand(P, K)
    nmin = torch.searchsorted(sorted_c, sorted_c[:, :1].contiguous(), right=True).expand(P, K).to(torch.float64)
    y = (draw() * N).floor().to(torch.int64).clamp_max(N - 1)
    thr = flat.gather(1, y)
    p0 = nmin / N
    log_miss = torch.where(p0 >= 1, -math.inf, torch.log1p(-p0.clamp_max(1 - 1e-16)))
    mscale = torch.ones(P, K, dtype=torch.float64, device=dev)
    calls = torch.zeros(P, K, dtype=torch.int64, device=dev)
    rounds = torch.zeros(P, K, dtype=torch.int64, device=dev)
    # Termination: for N >= 2, m > 1 after any round that does not improve (at most N - 1 do), so
    # such a round draws j >= 1 with probability >= 1/2 and the calls reach the budget almost
    # surely, after about 2 * budget rounds. For N = 1 every j is 0 (m <= sqrt(N) = 1), the budget
    # would never be spent, and the initial draw is already the minimum: no rounds.
    active = torch.full((P, K), budget > 0 and N > 1, dtype=torch.bool, device=dev)
    trace: list[dict[str, Any]] = []
    shape = (*batch, K) if runs else tuple(batch)
    while bool(active.any()):
        M = torch.searchsorted(sorted_c, thr.contiguous())
        j = torch.where(active, (draw() * torch.ceil(mscale)).floor().to(torch.int64), 0)
        p = grover_probability(M, j, N)
        r, u = draw(), draw()
        hit = ((r < p) & (M > 0)) | (M == N)
        lo = torch.where(hit, 0, M)
        size = torch.where(hit, M, N - M)
        rank = torch.minimum(lo + (u * size).floor().to(torch.int64), torch.full_like(lo, N - 1))
        x = order.gather(1, rank)
        # probability of measuring a global minimiser this round
        p_min = torch.where(cmin < thr, p * nmin / M.clamp_min(1).to(torch.float64),
                            (1 - p) * nmin / (N - M).clamp_min(1).to(torch.float64))
        step = torch.where(p_min >= 1, -math.inf, torch.log1p(-p_min.clamp_max(1 - 1e-16)))
        log_miss = torch.where(active, log_miss + step, log_miss)
        trace.append({k: v.reshape(shape) for k, v in
                      {"threshold": thr, "marked": M, "iterations": j, "p_improve": p, "p_min": p_min,
                       "measured": x, "active": active}.items()})
        cx = flat.gather(1, x)
        better = active & (cx < thr)
        y = torch.where(better, x, y)
        thr = torch.where(better, cx, thr)
        mscale = torch.where(better, torch.ones_like(mscale), torch.clamp(mscale * lam, max=math.sqrt(N)))
        calls = calls + j
        rounds = rounds + active.to(torch.int64)
        active = active & (calls < budget)
    n = _num_qubits(N)
    res = grover_iteration_resources(n, oracle).scaled(_most(calls))
    res.measurements = n * _most(rounds)
    return MinimumSearchResult(
        index=y.reshape(shape), value=thr.reshape(shape), oracle_calls=calls.reshape(shape),
        success_probability=(1 - torch.exp(log_miss)).reshape(shape), found=(thr == cmin).reshape(shape),
        rounds=rounds.reshape(shape), trace=trace, resources=res, seed=seed)
