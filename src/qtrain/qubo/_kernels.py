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


@njit(inline="always")
def _splitmix(state):
    """One step of splitmix64: returns (new_state, output)."""
    state = state + _M1
    z = state
    z = (z ^ (z >> _S30)) * _M2
    z = (z ^ (z >> _S27)) * _M3
    return state, z ^ (z >> _S31)


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
        dx = 1.0 - 2.0 * x[k]
        x[k] ^= 1
        for j in range(n):
            f[j] += dx * W[k, j]


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
def anneal_dense(W, d, betas, x0, seeds, polish, out):
    """Metropolis simulated annealing on dense QUBOs, in place into ``out``.

    Args:
        W: ``[B, n, n]`` symmetric couplings ``Q + Q^T`` with zero diagonal.
        d: ``[B, n]`` linear terms ``Q_ii``.
        betas: ``[B, S]`` inverse temperature of each sweep, per problem.
        x0: ``[R, n]`` int8 initial states (shared by the problems of the batch).
        seeds: ``[R]`` uint64 stream seeds.
        polish: run greedy descent after the last sweep.
        out: ``[B, R, n]`` int8 result.
    """
    B = W.shape[0]
    n = W.shape[1]
    R = x0.shape[0]
    S = betas.shape[1]
    for job in prange(B * R):
        b = job // R
        r = job % R
        Wb = W[b]
        x = x0[r].copy()
        f = np.empty(n, dtype=W.dtype)
        _fields(Wb, d[b], x, f, n)
        state = seeds[r]
        for s in range(S):
            beta = betas[b, s]
            for i in range(n):
                delta = f[i] if x[i] == 0 else -f[i]
                accept = delta <= 0.0
                if not accept:
                    z = beta * delta
                    if z < 40.0:
                        state, u = _splitmix(state)
                        accept = (u >> _S11) * _INV53 < np.exp(-z)
                if accept:
                    dx = 1.0 - 2.0 * x[i]
                    x[i] ^= 1
                    for j in range(n):
                        f[j] += dx * Wb[i, j]
        if polish:
            _descend(Wb, f, x, n)
        out[b, r, :] = x


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
