"""QP-SBGD formulations: pure functions from a layer's tensors to one ``QUBO`` batch and a decoder.

Three problems, each built for all ``m`` neurons of a layer at once (batch ``[m, N, N]``):

* :func:`binary_gradient_qubo` (``objective="sign"``, the paper's): the binary direction ``d``
  maximising ``sum_i G_ij sign(x_i . d + eps)``;
* :func:`quadratic_direction_qubo` (``objective="quadratic"``): the binary ``d`` minimising the
  local quadratic model ``-lr g.d + lr^2/2 d^T H d`` of the step ``W - lr d``;
* :func:`projected_flip_qubo` (``projected=True``): which bits of binary weights to flip, with an
  optional cost per flip and Hamming budget.

Reference: Krahn et al., "Projected Stochastic Gradient Descent with Quantum Annealed Binary
Gradients", arXiv:2310.15128. The exact threshold encoding and the penalty bound are qtrain's
(see ``shared/methods/qpsbgd.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from qtrain.qubo import QUBO

__all__ = [
    "binary_gradient_qubo",
    "normalize_gradients",
    "projected_flip_qubo",
    "quadratic_direction_qubo",
    "refine_directions",
    "sign_objective",
    "sign_threshold",
    "tie_offset",
]

#: Sign tie-breaks: ``"fixed"``, ``sign(x . d + eps)`` (qtrain's); ``"authors"``,
#: ``sign(x . d + eps B)`` (Krahn et al.'s column scaling), see :func:`tie_offset`.
TIES = ("fixed", "authors")

Decoder = Callable[[torch.Tensor], torch.Tensor]


def sign_threshold(n: int, eps: float = 0.01) -> tuple[int, int]:
    r"""Integer threshold ``T`` and slack width ``R`` of the exact sign encoding for fan-in ``n``.

    With ``a = #{k : x_k = d_k}`` agreements, ``x . d = 2a - n``, so
    ``sign(x . d + eps) = +1  <=>  2a - n + eps > 0  <=>  a >= T``,
    ``T = floor((n - eps) / 2) + 1`` (clipped to ``[0, n + 1]``: an ``eps`` beyond ``+-n`` makes the
    sign constant). ``R`` is the smallest width with ``2^R >= T`` and ``2^R > n - T``, so that
    ``delta = 2^R - T`` maps ``a`` into ``[0, 2^(R+1))`` with top bit ``[a >= T]``.

    Args:
        n: fan-in (number of weights per neuron), at least 1.
        eps: tie-break offset; ``x . d + eps = 0`` must be impossible.

    Returns:
        ``(T, R)``.

    Raises:
        ValueError: ``n < 1``, non-finite ``eps``, or ``eps`` making ``x . d + eps = 0`` possible
            (``n - eps`` an even integer in ``[0, 2n]``), where ``sign`` would return 0.

    Example:
        >>> sign_threshold(64)   # majority with ties to +1: a >= 32, slack width 6
        (32, 6)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"fan-in n must be a positive integer, got {n!r}")
    if not math.isfinite(eps):
        raise ValueError(f"eps must be finite, got {eps!r}")
    z = (n - eps) / 2
    if z == math.floor(z) and 0 <= z <= n:
        raise ValueError(f"eps={eps} makes x.d + eps = 0 possible for fan-in n={n} (sign would be "
                         "0); choose eps that is not n minus an even integer, e.g. 0.01")
    T = min(max(math.floor(z) + 1, 0), n + 1)
    R = 0
    while 2**R < T or 2**R <= n - T:
        R += 1
    return T, R


def tie_offset(eps: float, rows: int, n: int, tie: str = "fixed") -> float:
    r"""The offset ``e`` of the output test ``sign(x . d + e)`` for ``rows`` rows of fan-in ``n``.

    * ``tie="fixed"`` (qtrain's): ``e = eps``;
    * ``tie="authors"``: ``e = eps B`` with ``B = rows``. The authors scale every column of their
      formulation by the batch size, which for +-1 inputs turns their test into
      ``sign(x . d + eps B)``. ``x . d`` has the parity of ``n``, so the two agree while
      ``eps B < 1`` (odd ``n``; ``< 2`` for even ``n``) and disagree beyond: with ``eps = 0.01``
      and ``B = 120``, an odd fan-in's ``x . d = -1`` gives ``-1`` under ``"fixed"`` and ``+1``
      under ``"authors"``. Where ``eps B`` would make ``x . d + e = 0`` possible (``n - eps B``
      an even integer in ``[0, 2n]``), ``e`` is raised by ``1e-6``: an exact zero counts as
      ``+1``, the convention of :func:`~qtrain.nn.binary.binarize`.

    Args:
        eps: the tie-break (finite). rows: ``B`` (>= 0). n: fan-in (>= 1).
        tie: one of :data:`TIES`.

    Returns:
        ``e``, to be passed as ``eps`` to the encodings and objectives here.

    Raises:
        ValueError: an unknown ``tie``, a non-finite ``eps`` or a negative ``rows``.

    Example:
        >>> tie_offset(0.01, 120, 3), sign_threshold(3, 0.01), sign_threshold(3, 1.2)
        (0.01, (2, 1), (1, 2))
        >>> tie_offset(0.01, 120, 3, "authors")
        1.2

    References:
        Krahn et al., arXiv:2310.15128.
    """
    if tie not in TIES:
        raise ValueError(f"tie must be one of {TIES}, got {tie!r}")
    if not math.isfinite(eps):
        raise ValueError(f"eps must be finite, got {eps!r}")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows must be a non-negative integer, got {rows!r}")
    if tie == "fixed":
        return float(eps)
    e = eps * rows
    z = (n - e) / 2
    if z == math.floor(z) and 0 <= z <= n:
        e += 1e-6
    return e


def normalize_gradients(G: torch.Tensor) -> torch.Tensor:
    """Each neuron's gradients ``G[:, j]`` scaled to ``max_i |G_ij| = 1`` (all-zero columns stay
    zero); returned transposed, ``[m, B]``."""
    scale = G.abs().amax(0)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (G / scale).T


def sign_objective(X: torch.Tensor, G: torch.Tensor, d: torch.Tensor,
                   eps: float = 0.01) -> torch.Tensor:
    r"""``F_j(d) = sum_i G_ij sign(x_i . d + eps)`` for candidate directions of every neuron.

    Args:
        X: ``[B, n]`` inputs, or ``[m, B, n]`` per neuron.
        G: ``[B, m]`` output gradients.
        d: ``[m, n]`` or ``[m, k, n]`` candidates (``k`` per neuron).

    Returns:
        ``[m]`` or ``[m, k]``; ``sign`` uses ``sign(0) = 0`` (torch's), so ties show.
    """
    Xm = X if X.dim() == 3 else X.expand(G.shape[1], *X.shape)
    dd = d if d.dim() == 3 else d[:, None, :]
    z = torch.einsum("mbn,mkn->mkb", Xm.to(G.dtype), dd.to(G.dtype)) + eps
    out = torch.einsum("mkb,bm->mk", torch.sign(z), G)
    return out if d.dim() == 3 else out[:, 0]


def refine_directions(X: torch.Tensor, G: torch.Tensor, d: torch.Tensor, eps: float = 0.01,
                      max_iters: int | None = None) -> torch.Tensor:
    r"""Greedy single-flip ascent on :func:`sign_objective` from every candidate direction.

    Each round flips, in every candidate at once, the one coordinate with the largest strict gain of
    ``F_j(d) = sum_i G_ij sign(x_i . d + eps)`` (flipping ``d_k`` moves ``x_i . d`` by
    ``-2 x_ik d_k``), until no flip gains or ``max_iters`` rounds (default ``n``) have run. The
    result is a local maximum of ``F`` no worse than the start: classical post-processing of the
    sampler's reads, in the spirit of a QPU's optional postprocessing.

    Args:
        X: ``[B, n]`` +-1 inputs, or ``[m, B, n]`` per neuron. G: ``[B, m]`` output gradients.
        d: ``[m, k, n]`` +-1 candidates (``k`` per neuron).
        eps: sign tie-break. max_iters: bound on the rounds.

    Returns:
        ``[m, k, n]`` refined candidates.

    References:
        Krahn et al., arXiv:2310.15128 (the objective).
    """
    Gd = G.T  # [m, B]
    Xd = (X if X.dim() == 3 else X.expand(G.shape[1], *X.shape)).to(G.dtype)  # [m, B, n]
    d = d.to(G.dtype).clone()
    rows = torch.arange(d.shape[0] * d.shape[1], device=d.device)
    for _ in range(X.shape[-1] if max_iters is None else max_iters):
        z = torch.einsum("mbn,mkn->mkb", Xd, d)  # [m, k, B]
        now = torch.sign(z + eps)
        # z after flipping coordinate n: z_b - 2 x_bn d_n, for every n at once
        flipped = torch.sign(z[..., None] - 2 * Xd[:, None] * d[:, :, None, :] + eps)
        gain = torch.einsum("mb,mkbn->mkn", Gd, flipped - now[..., None])
        best, idx = gain.max(-1)
        move = best > 1e-12
        if not bool(move.any()):
            break
        flat = d.reshape(-1, d.shape[-1])
        sel = move.reshape(-1)
        flat[rows[sel], idx.reshape(-1)[sel]] *= -1
        d = flat.reshape(d.shape)
    return d


def _check_layer(X: torch.Tensor, G: torch.Tensor) -> None:
    if not isinstance(X, torch.Tensor) or not isinstance(G, torch.Tensor):
        raise ValueError("X and G must be tensors")
    if X.dim() not in (2, 3) or G.dim() != 2:
        raise ValueError(f"X must be [B, n] (or [m, B, n]) and G [B, m]; got X {tuple(X.shape)}, "
                         f"G {tuple(G.shape)}")
    if X.shape[-2] != G.shape[0] or (X.dim() == 3 and X.shape[0] != G.shape[1]):
        raise ValueError(f"X {tuple(X.shape)} and G {tuple(G.shape)} disagree on the batch size B "
                         "(or the number of neurons m)")
    if X.shape[-1] < 1 or G.shape[0] < 1 or G.shape[1] < 1:
        raise ValueError(f"empty layer: X {tuple(X.shape)}, G {tuple(G.shape)}")
    if not bool(((X == 1) | (X == -1)).all()):
        raise ValueError("X must be binary (every entry +1 or -1)")
    if not G.is_floating_point() or not bool(torch.isfinite(G).all()):
        raise ValueError("G must be a finite floating-point tensor")


def _sign_block(X: torch.Tensor, Gn: torch.Tensor, eps: float, penalty_margin: float,
                extra: int = 0) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """Q ``[m, N + extra, N + extra]`` and offset ``[m]`` of the sign encoding (see
    :func:`binary_gradient_qubo`), with ``extra`` trailing zero variables for callers to fill."""
    m, B = Gn.shape
    n = X.shape[-1]
    T, R = sign_threshold(n, eps)
    N = n + B * (R + 1) + extra
    dtype, dev = Gn.dtype, Gn.device
    Xm = (X if X.dim() == 3 else X.expand(m, B, n)).to(dtype)
    # Residual r_i = k_i + V_i . z of the i-th constraint a_i + delta = sum 2^r s_ir + 2^R o_i.
    V = torch.zeros(m, B, N, dtype=dtype, device=dev)
    V[:, :, :n] = Xm
    pow2 = -(2.0 ** torch.arange(R + 1, dtype=dtype, device=dev))
    rows = torch.arange(B, device=dev)
    cols = n + rows[:, None] * (R + 1) + torch.arange(R + 1, device=dev)[None, :]
    V[:, rows[:, None], cols] = pow2
    k = (n - Xm.sum(-1)) / 2 + (2**R - T)  # agreements at w = 0 plus delta
    lam = 2 * Gn.abs() + penalty_margin
    Q = torch.einsum("mbu,mb,mbv->muv", V, lam, V)
    lin = 2 * torch.einsum("mbu,mb->mu", V, lam * k)
    lin[:, cols[:, R]] += -2 * Gn  # data term -g_i (2 o_i - 1)
    Q = Q + torch.diag_embed(lin)
    offset = (lam * k**2).sum(-1) + Gn.sum(-1)
    return Q, offset, n, R


def binary_gradient_qubo(X: torch.Tensor, G: torch.Tensor, eps: float = 0.01,
                         penalty_margin: float = 0.5) -> tuple[QUBO, Decoder]:
    r"""One QUBO per neuron whose ground states are the binary directions best matching ``G``.

    For neuron ``j``, maximise over ``d in {-1, +1}^n``

    .. math:: F_j(d) = \sum_i \hat g_{ij} \operatorname{sign}(x_i \cdot d + \epsilon),
        \qquad \hat g_{\cdot j} = G_{\cdot j} / \max_i |G_{ij}|.

    Variables per neuron (``N = n + B (R + 1)``): weight bits ``w_k`` (``d_k = 2 w_k - 1``), then for
    each sample ``i`` the slack bits ``s_i0 .. s_i,R-1`` and the output bit ``o_i``. The agreements
    ``a_i = sum_k [x_ik = d_k]`` are affine in ``w`` (``w_k`` where ``x_ik = +1``, ``1 - w_k``
    else), so no copy variables are needed, and ``o_i = [a_i >= T]`` (:func:`sign_threshold`) is
    the top bit of ``a_i + 2^R - T`` through the penalty

    .. math:: E_j = -\sum_i \hat g_{ij} (2 o_i - 1)
        + \sum_i \lambda_{ij} \big(a_i + 2^R - T - \textstyle\sum_{r<R} 2^r s_{ir} - 2^R o_i\big)^2,
        \qquad \lambda_{ij} = 2 |\hat g_{ij}| + \text{margin}.

    Why this ``lambda`` is just large enough: given ``d``, each sample's block is independent; an
    infeasible block has an integer residual, so pays at least ``lambda_ij``, and can gain at most
    ``2 |g_ij|`` by reporting the wrong ``o_i``. Hence every ground state is feasible and
    ``min E_j = -max_d F_j(d)``; with ``lambda_ij = 2|g_ij|`` exactly, the wrong bit would tie
    (when ``a_i = T``). The largest coefficient is about ``lambda 4^R``, i.e. ``O(n^2)`` times the
    data term, not a fixed ``lambda = 50`` over gradients of ``1e-2``.

    Args:
        X: ``[B, n]`` binary (+-1) layer inputs (or ``[m, B, n]``, one per neuron).
        G: ``[B, m]`` gradients of the loss with respect to the layer's outputs.
        eps: tie-break offset of the sign (default 0.01: ties go to +1).
        penalty_margin: ``lambda_ij - 2|g_ij|`` (> 0), in units of the normalised gradient.

    Returns:
        ``(qubo, decode)``: a ``QUBO`` of batch shape ``[m]`` over ``N`` variables (float64), and
        ``decode(samples)`` mapping ``[m, N]`` (or ``[m, k, N]``) 0/1 samples to ``[m, n]``
        (``[m, k, n]``) +-1 directions ``d = 2 w - 1``.

    Raises:
        ValueError: shapes disagree, ``X`` not +-1, ``G`` not finite, bad ``eps`` or margin.

    Example:
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> qubo, decode = binary_gradient_qubo(X, G)
        >>> qubo.batch_shape, qubo.num_variables
        (torch.Size([1]), 6)

    References:
        Krahn et al., arXiv:2310.15128.
    """
    _check_layer(X, G)
    if not (math.isfinite(penalty_margin) and penalty_margin > 0):
        raise ValueError(f"penalty_margin must be a positive finite number, got {penalty_margin!r}")
    Gn = normalize_gradients(G.to(torch.float64))
    Q, offset, n, _ = _sign_block(X, Gn, eps, penalty_margin)
    return QUBO(Q, offset), _direction_decoder(n)


def _direction_decoder(n: int) -> Decoder:
    def decode(samples: torch.Tensor) -> torch.Tensor:
        """The first ``n`` bits of each sample as +-1 directions ``d = 2 w - 1``."""
        if samples.shape[-1] < n:
            raise ValueError(f"samples must have at least n={n} variables, got {samples.shape[-1]}")
        return 2 * samples[..., :n].to(torch.float64) - 1

    return decode


def quadratic_direction_qubo(g: torch.Tensor, H: torch.Tensor, lr: float) -> tuple[QUBO, Decoder]:
    r"""QUBO of the local quadratic model of the step ``W - lr d`` over binary ``d``.

    .. math:: m_j(d) = -\mathrm{lr}\, g_j \cdot d + \frac{\mathrm{lr}^2}{2} d^\top H_j d,
        \qquad d = 2 w - 1 \in \{-1, +1\}^n,

    so ``Q = 2 lr^2 H + diag(-2 lr g - 2 lr^2 H_s 1)`` (``H_s`` the symmetric part) and offset
    ``lr sum g + lr^2/2 1^T H 1``; the QUBO energy equals ``m_j(d)`` exactly. A diagonal ``H``
    only adds the constant ``lr^2/2 tr H`` (``d_k^2 = 1``): the minimiser is then
    ``d = sign(g)``, signSGD's direction.

    Args:
        g: ``[m, n]`` gradients (one row per neuron or problem).
        H: ``[m, n, n]`` curvature blocks (Gauss-Newton, Fisher, a Hessian) or ``[m, n]`` diagonals.
        lr: step size (> 0).

    Returns:
        ``(qubo, decode)`` with ``decode`` as in :func:`binary_gradient_qubo`.

    References:
        Krahn et al., arXiv:2310.15128 (the sign objective this generalises).
    """
    if g.dim() != 2:
        raise ValueError(f"g must be [m, n], got {tuple(g.shape)}")
    m, n = g.shape
    if H.dim() == 2:
        H = torch.diag_embed(H)
    if tuple(H.shape) != (m, n, n):
        raise ValueError(f"H must be [m, n, n] = {(m, n, n)} or its diagonal [m, n], got "
                         f"{tuple(H.shape)}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    g, H = g.to(torch.float64), H.to(torch.float64)
    if not bool(torch.isfinite(g).all() and torch.isfinite(H).all()):
        raise ValueError("g and H must be finite")
    Hs = (H + H.transpose(-1, -2)) / 2
    Q = 2 * lr**2 * H + torch.diag_embed(-2 * lr * g - 2 * lr**2 * Hs.sum(-1))
    offset = lr * g.sum(-1) + lr**2 / 2 * H.sum((-1, -2))
    return QUBO(Q, offset), _direction_decoder(n)


def _budget_slack(budget: int) -> list[int]:
    """Coefficients ``1, 2, .., 2^(L-2), budget - (2^(L-1) - 1)``: their subset sums are exactly
    ``0..budget``."""
    if budget == 0:
        return []
    L = budget.bit_length()
    return [2**r for r in range(L - 1)] + [budget - (2 ** (L - 1) - 1)]


def projected_flip_qubo(X: torch.Tensor, G: torch.Tensor, W: torch.Tensor, eps: float = 0.01,
                        flip_penalty: float = 0.0, hamming_budget: int | None = None,
                        penalty_margin: float = 0.5) -> tuple[QUBO, Decoder]:
    r"""QUBO choosing which bits of binary weights ``W`` to flip (projected QP-SBGD).

    New weights ``w'_jk = w_jk (1 - 2 f_jk)`` with flip bits ``f``; minimise the first-order change
    of the loss through the layer's output signs plus a cost per flip,

    .. math:: \sum_i \hat g_{ij} \operatorname{sign}(x_i \cdot w'_j + \epsilon)
        + \mu \sum_k f_{jk} \quad \text{s.t.} \quad \sum_k f_{jk} \le K.

    ``[x_ik = w'_jk]`` is ``f_jk`` when ``x_ik w_jk = -1`` and ``1 - f_jk`` else, so the problem is
    the sign encoding of :func:`binary_gradient_qubo` with inputs ``-x_i * w_j`` and gradients
    ``-G`` (the same exact penalty). The budget (optional) is
    ``lambda_H (sum_k f_k + sum_l c_l t_l - K)^2`` with bounded-coefficient slack ``t``
    (sums exactly ``0..K``) and ``lambda_H = 2 sum_i |g_ij| + margin``, above any gain that
    extra flips can buy. Flip bits come first, so ``samples[..., :n]`` are the flips.

    Args:
        X: ``[B, n]`` binary inputs; G: ``[B, m]`` output gradients; W: ``[m, n]`` +-1 weights.
        eps: sign tie-break; flip_penalty: ``mu >= 0`` per flip (normalised units).
        hamming_budget: ``K``, at most this many flips per neuron (None: no budget).
        penalty_margin: as in :func:`binary_gradient_qubo`.

    Returns:
        ``(qubo, decode)``; ``decode(samples)`` gives the new weights ``w'`` ``[m, n]`` (+-1).

    References:
        Krahn et al., arXiv:2310.15128 (projected variant).
    """
    _check_layer(X, G)
    m, n = G.shape[1], X.shape[-1]
    if tuple(W.shape) != (m, n) or not bool(((W == 1) | (W == -1)).all()):
        raise ValueError(f"W must be a +-1 tensor of shape [m, n] = {(m, n)}, got {tuple(W.shape)}")
    if not (math.isfinite(flip_penalty) and flip_penalty >= 0):
        raise ValueError(f"flip_penalty must be a finite number >= 0, got {flip_penalty!r}")
    if hamming_budget is not None and (isinstance(hamming_budget, bool) or
                                       not isinstance(hamming_budget, int) or hamming_budget < 0):
        raise ValueError(f"hamming_budget must be a non-negative integer or None, got "
                         f"{hamming_budget!r}")
    if not (math.isfinite(penalty_margin) and penalty_margin > 0):
        raise ValueError(f"penalty_margin must be a positive finite number, got {penalty_margin!r}")
    Gn = normalize_gradients(G.to(torch.float64))
    Wd = W.to(torch.float64)
    Xf = -X.to(torch.float64)[None, :, :] * Wd[:, None, :]
    slack = _budget_slack(hamming_budget) if hamming_budget is not None and hamming_budget < n \
        else None
    extra = 0 if slack is None else len(slack)
    Q, offset, _, _ = _sign_block(Xf, -Gn, eps, penalty_margin, extra=extra)
    Q[:, range(n), range(n)] += flip_penalty
    if slack is not None:
        N = Q.shape[-1]
        v = torch.zeros(N, dtype=torch.float64, device=Q.device)
        v[:n] = 1
        if slack:
            v[N - extra:] = torch.tensor(slack, dtype=torch.float64, device=Q.device)
        lam_h = 2 * Gn.abs().sum(-1) + penalty_margin
        K = float(hamming_budget)
        Q = Q + lam_h[:, None, None] * (torch.outer(v, v) - 2 * K * torch.diag(v))[None]
        offset = offset + lam_h * K**2

    def decode(samples: torch.Tensor) -> torch.Tensor:
        """New weights ``w' = w (1 - 2 f)`` from the flip bits ``samples[..., :n]``."""
        f = samples[..., :n].to(torch.float64)
        Wb = Wd if f.dim() == 2 else Wd[:, None, :]
        return Wb * (1 - 2 * f)

    return QUBO(Q, offset), decode
