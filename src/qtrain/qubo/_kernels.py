"""Compiled CPU kernels (numba) for the dense-QUBO annealer and greedy descent.

Pure functions of arrays. Every job (problem ``b``, read ``r``) owns its random stream, seeded from
``seeds[r]`` only, so a problem solved inside a batch gets exactly the samples it gets alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_LOG2E = 1.4426950408889634
_LN2_64 = 0.6931471805599453 / 64.0
# 2^(-k) for whole k, and 2^(-j/64) for j = 0..63: exp(-z) = 2^(-k) 2^(-j/64) e^(-r).
_POW2_INT = np.array([2.0 ** -k for k in range(64)])
_POW2_FRAC = np.array([2.0 ** (-j / 64.0) for j in range(64)])


@njit(inline="always")
def _exp_neg(z):
    """``exp(-z)`` for ``0 <= z < 40``, relative error below 1e-9, without a libm call.

    ``z log2(e) = k + j/64 + t`` with ``0 <= t < 1/64``; two table look-ups and a cubic for
    ``e^{-t ln 2}`` (Taylor, remainder below (ln2/64)^4/24 = 6e-10).
    """
    y = z * _LOG2E * 64.0
    m = int(y)
    r = (y - m) * _LN2_64
    p = 1.0 - r * (1.0 - r * (0.5 - r * (1.0 / 6.0)))
    return _POW2_INT[m >> 6] * _POW2_FRAC[m & 63] * p


@njit(inline="always")
def _splitmix(state):
    """One step of splitmix64: returns (new_state, output)."""
    state = state + _M1
    z = state
    z = (z ^ (z >> _S30)) * _M2
    z = (z ^ (z >> _S27)) * _M3
    return state, z ^ (z >> _S31)


@njit(inline="always")
def _flip(W, f, x, k, n):
    """Flip ``x_k`` and update the fields: ``f += (1 - 2 x_k) W_k`` (add or subtract, no casts)."""
    if x[k] == 0:
        for j in range(n):
            f[j] += W[k, j]
    else:
        for j in range(n):
            f[j] -= W[k, j]
    x[k] ^= 1


@njit(inline="always")
def _flip2(W, f, x, r, k, n):
    """:func:`_flip` on row ``r`` of a block of reads (no array views in the hot loop)."""
    if x[r, k] == 0:
        for j in range(n):
            f[r, j] += W[k, j]
    else:
        for j in range(n):
            f[r, j] -= W[k, j]
    x[r, k] ^= 1


@njit(inline="always")
def _descend(W, f, x, n):
    """Flip the most energy-lowering variable until none lowers the energy (a local minimum)."""
    while True:
        best = 0.0
        k = -1
        for i in range(n):
            delta = f[i] if x[i] == 0 else -f[i]
            if delta < best:
                best = delta
                k = i
        if k < 0:
            return
        _flip(W, f, x, k, n)


@njit(inline="always")
def _fields(W, d, x, f, n):
    """Local fields ``f_i = d_i + sum_j W_ij x_j`` (energy change of setting x_i from 0 to 1)."""
    for i in range(n):
        f[i] = d[i]
    for j in range(n):
        if x[j]:
            for i in range(n):
                f[i] += W[j, i]


@njit(parallel=True, cache=True)
def prepare_dense(Q, W, d, stats):
    """One pass over every problem: kernel arrays and the statistics of the automatic beta range.

    Writes ``W = Q + Q^T`` with zero diagonal and ``d = diag Q`` (in the dtype of ``W``), and per
    problem ``stats[b] = (max_i (|m_i| + 3 s_i), min_i ||(d_i, W_i)||_2, smallest non-zero
    |coefficient|)`` with ``m_i = d_i + sum_j W_ij / 2`` and ``s_i = ||W_i||_2 / 2``, accumulated in
    float64 (see ``qtrain.qubo.anneal.default_beta_range``). ``inf`` marks "no non-zero coefficient".
    """
    B = Q.shape[0]
    n = Q.shape[1]
    for b in prange(B):
        hot = 0.0
        rowmin = np.inf
        floor = np.inf
        for i in range(n):
            di = np.float64(Q[b, i, i])
            d[b, i] = di
            s1 = 0.0
            s2 = 0.0
            for j in range(n):
                if j == i:
                    W[b, i, j] = 0.0
                    continue
                w = np.float64(Q[b, i, j]) + np.float64(Q[b, j, i])
                W[b, i, j] = w
                s1 += w
                s2 += w * w
                aw = abs(w)
                if aw > 0.0 and aw < floor:
                    floor = aw
            hot = max(hot, abs(di + s1 / 2.0) + 1.5 * np.sqrt(s2))
            rowmin = min(rowmin, np.sqrt(di * di + s2))
            if di != 0.0 and abs(di) < floor:
                floor = abs(di)
        stats[b, 0] = hot
        stats[b, 1] = rowmin
        stats[b, 2] = floor


@njit(parallel=True, cache=True)
def anneal_dense(W, d, betas, x0, seeds, polish, block, out):
    """Metropolis simulated annealing on dense QUBOs, in place into ``out``.

    Args:
        W: ``[B, n, n]`` symmetric couplings ``Q + Q^T`` with zero diagonal.
        d: ``[B, n]`` linear terms ``Q_ii``.
        betas: ``[B, S]`` inverse temperature of each sweep, per problem.
        x0: ``[R, n]`` int8 initial states (shared by the problems of the batch).
        seeds: ``[R]`` uint64 stream seeds.
        polish: run greedy descent after the last sweep.
        block: reads advanced together by one job, so a row ``W_i`` is loaded once for all of
            them (cache reuse); results do not depend on it.
        out: ``[B, R, n]`` int8 result.
    """
    B = W.shape[0]
    n = W.shape[1]
    R = x0.shape[0]
    S = betas.shape[1]
    nblk = (R + block - 1) // block
    for job in prange(B * nblk):
        b = job // nblk
        r0 = (job % nblk) * block
        m = min(r0 + block, R) - r0
        Wb = W[b]
        x = x0[r0:r0 + m].copy()
        f = np.empty((m, n), dtype=W.dtype)
        states = seeds[r0:r0 + m].copy()
        for k in range(m):
            _fields(Wb, d[b], x[k], f[k], n)
        for s in range(S):
            beta = betas[b, s]
            if s % 64 == 63:
                for k in range(m):
                    _fields(Wb, d[b], x[k], f[k], n)
            for i in range(n):
                for k in range(m):
                    delta = f[k, i] if x[k, i] == 0 else -f[k, i]
                    accept = delta <= 0.0
                    if not accept:
                        z = beta * delta
                        if z < 40.0:
                            states[k], u = _splitmix(states[k])
                            accept = (u >> _S11) * _INV53 < _exp_neg(z)
                    if accept:
                        _flip2(Wb, f, x, k, i, n)
        for k in range(m):
            if polish:
                _descend(Wb, f[k], x[k], n)
            out[b, r0 + k, :] = x[k]


@njit(parallel=True, cache=True)
def descend_dense(W, d, x0, out):
    """Greedy steepest descent from ``x0[r]`` for every problem, into ``out`` ``[B, R, n]``."""
    B = W.shape[0]
    n = W.shape[1]
    R = x0.shape[0]
    for job in prange(B * R):
        b = job // R
        r = job % R
        x = x0[r].copy()
        f = np.empty(n, dtype=W.dtype)
        _fields(W[b], d[b], x, f, n)
        _descend(W[b], f, x, n)
        out[b, r, :] = x
