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
_S40 = np.uint64(40)
_INV24 = np.float32(1.0 / 16777216.0)
# Uphill moves with beta * delta >= _ZMAX are rejected outright: exp(-22) = 2.8e-10 is below the
# resolution 2^-24 of the uniform variates, so the test could never accept them anyway.
_ZMAX = np.float32(22.0)


@njit(inline="always")
def _expm(z):
    """``exp(-z)`` for ``0 <= z <= 22`` in float32 arithmetic, relative error below 2e-5.

    ``exp(-z) = (exp(-z/64))^64``: a degree-6 Taylor polynomial on ``[0, 0.35]`` (remainder below
    1e-7), then six squarings. Branch-free, so the decision loop over reads compiles without jumps.
    """
    t = z * np.float32(1.0 / 64.0)
    p = np.float32(1.0) - t * (np.float32(1.0) - t * (np.float32(0.5) - t * (np.float32(1.0 / 6.0) - t * (
        np.float32(1.0 / 24.0) - t * (np.float32(1.0 / 120.0) - t * np.float32(1.0 / 720.0))))))
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


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


@njit(parallel=True, cache=True, fastmath=True, boundscheck=False)
def anneal_dense(W, d, betas, x0, seeds, polish, block, out):
    """Metropolis simulated annealing on dense QUBOs, in place into ``out``.

    One job advances a block of reads of one problem together, variable by variable: first the
    Metropolis decisions of all reads for variable ``i`` (branch-free: every read draws its uniform
    variate, accept iff ``delta <= 0`` or ``u < exp(-beta delta)``), then the field update
    ``f_r += s W_i`` of each read that flipped (one contiguous row, vectorised). Signs
    ``s = 1 - 2 x`` are kept per (variable, read), fields per (read, variable); fields are
    recomputed from the state every 64 sweeps so float32 rounding cannot accumulate.

    Args:
        W: ``[B, n, n]`` symmetric couplings ``Q + Q^T`` with zero diagonal.
        d: ``[B, n]`` linear terms ``Q_ii``.
        betas: ``[B, S]`` inverse temperature of each sweep, per problem.
        x0: ``[R, n]`` int8 initial states (shared by the problems of the batch).
        seeds: ``[R]`` uint64 stream seeds (splitmix64, one stream per read: a problem solved inside
            a batch, or in another block layout, gets exactly the samples it gets alone).
        polish: run greedy descent after the last sweep.
        block: reads advanced together by one job (cache reuse of ``W``); results do not depend on it.
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
        f = np.empty((m, n), dtype=W.dtype)
        sgT = np.empty((n, m), dtype=np.float32)
        fi = np.empty(m, dtype=np.float32)
        c = np.zeros(m, dtype=np.float32)
        xk = np.empty(n, dtype=np.int8)
        states = seeds[r0:r0 + m].copy()
        for k in range(m):
            xk[:] = x0[r0 + k]
            _fields(Wb, d[b], xk, f[k], n)
            for i in range(n):
                sgT[i, k] = 1.0 - 2.0 * xk[i]
        for s in range(S):
            beta = np.float32(betas[b, s])
            if s % 64 == 63:
                for k in range(m):
                    for i in range(n):
                        xk[i] = 1 if sgT[i, k] < 0 else 0
                    _fields(Wb, d[b], xk, f[k], n)
            for i in range(n):
                for k in range(m):
                    fi[k] = f[k, i]
                sr = sgT[i]
                for k in range(m):
                    si = sr[k]
                    z = beta * (si * fi[k])
                    states[k], h = _splitmix(states[k])
                    u = np.float32(h >> _S40) * _INV24
                    zc = min(max(z, np.float32(0.0)), _ZMAX)
                    accept = (z <= 0) | (u < _expm(zc))
                    ck = si if accept else np.float32(0.0)
                    c[k] = ck
                    sr[k] = si - 2 * ck
                for k in range(m):
                    ck = c[k]
                    if ck != 0:
                        for j in range(n):
                            f[k, j] += ck * Wb[i, j]
        for k in range(m):
            for i in range(n):
                xk[i] = 1 if sgT[i, k] < 0 else 0
            if polish:
                _descend(Wb, f[k], xk, n)
            out[b, r0 + k, :] = xk


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
