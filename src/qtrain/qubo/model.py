"""The `QUBO` batch: dense quadratic unconstrained binary optimisation problems as tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from qtrain import _device

__all__ = ["QUBO"]


def _as_tensor(value: Any, name: str, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Turn ``value`` into a real floating tensor, raising ``ValueError`` naming ``name``."""
    if isinstance(value, torch.Tensor):
        t = value
    else:
        try:
            t = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a real numeric array, got {type(value).__name__}") from exc
    if t.is_complex():
        raise ValueError(f"{name} must be real, got complex dtype {t.dtype}")
    if t.dtype == torch.bool or not (t.is_floating_point() or t.dtype in _INT_DTYPES):
        raise ValueError(f"{name} must be a real numeric array, got dtype {t.dtype}")
    if dtype is not None:
        t = t.to(dtype)
    elif not t.is_floating_point():
        t = t.to(torch.float64)
    # One reduction first: a finite sum proves every entry finite (NaN and inf propagate); only a
    # non-finite sum (possibly an overflow of finite entries) needs the element-wise check.
    if t.numel() and not bool(torch.isfinite(t.sum())) and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite, found NaN or infinity")
    return t


_INT_DTYPES = {torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8}


def _check_energy_range(Q: torch.Tensor, offset: torch.Tensor) -> None:
    r"""Refuse finite coefficients whose energies can overflow float64.

    Every energy obeys :math:`|x^\top Q x + c| \le \sum_{ij} |Q_{ij}| + |c|` for ``x`` in
    {0, 1}^n, so a finite bound (computed in float64) guarantees finite energies, energy
    differences and beta ranges of every sampler.
    """
    span = Q.abs().sum(dim=(-1, -2), dtype=torch.float64) + offset.abs().to(torch.float64)
    if span.numel() and not bool(torch.isfinite(span).all()):
        raise ValueError(
            "Q's energies overflow float64: sum_ij |Q_ij| + |offset| must stay below "
            f"{torch.finfo(torch.float64).max:.3e} (float64's largest value); rescale the coefficients"
        )


class QUBO:
    r"""A batch of dense QUBOs sharing one size ``n``.

    Each problem is a matrix ``Q`` of shape ``[n, n]`` and a scalar ``offset``; its energy is

    .. math:: E(x) = x^\top Q x + c = \sum_{i,j} Q_{ij} x_i x_j + c, \qquad x \in \{0, 1\}^n.

    Convention: ``Q`` is the **full** matrix, not an upper triangle. Both ``Q[i, j]`` and ``Q[j, i]``
    count, so the coupling between ``x_i`` and ``x_j`` is ``Q[i, j] + Q[j, i]``; the diagonal is the
    linear part (``x_i^2 = x_i``). Any matrix is accepted; :meth:`symmetrized` gives the equivalent
    symmetric one.

    Args:
        Q: real, finite tensor of shape ``[..., n, n]`` (the leading dimensions are the batch).
        offset: constant ``c``, a scalar or a tensor broadcastable to the batch shape ``[...]``.
            Defaults to 0.

    Raises:
        ValueError: ``Q`` not square, not real, not finite, ``offset`` not matching the batch, or
            coefficients whose energies can overflow float64 (``sum_ij |Q_ij| + |c|`` must stay
            below float64's largest value, about 1.8e308).

    Example:
        >>> q = QUBO([[-1.0, 2.0], [0.0, -1.0]])
        >>> float(q.energy(torch.tensor([1.0, 0.0])))
        -1.0
    """

    def __init__(self, Q: Any, offset: Any = 0.0):
        Q = _as_tensor(Q, "Q")
        if Q.dim() < 2 or Q.shape[-1] != Q.shape[-2]:
            raise ValueError(f"Q must have shape [..., n, n] (square), got {tuple(Q.shape)}")
        off = _as_tensor(offset, "offset", dtype=Q.dtype).to(Q.device)
        batch = Q.shape[:-2]
        try:
            off = torch.broadcast_to(off, batch).clone()
        except RuntimeError as exc:
            raise ValueError(
                f"offset of shape {tuple(off.shape)} does not match the batch shape {tuple(batch)} of Q"
            ) from exc
        _check_energy_range(Q, off)
        self.Q = Q
        self.offset = off

    @classmethod
    def _trusted(cls, Q: torch.Tensor, offset: torch.Tensor) -> QUBO:
        """Wrap tensors already validated (derived from a valid ``QUBO``) without checking again."""
        obj = cls.__new__(cls)
        obj.Q, obj.offset = Q, offset
        return obj

    # ----------------------------------------------------------------- shape and device
    @property
    def num_variables(self) -> int:
        """``n``, the number of binary variables of every problem."""
        return int(self.Q.shape[-1])

    @property
    def batch_shape(self) -> torch.Size:
        """Leading dimensions of ``Q`` (empty for a single problem)."""
        return self.Q.shape[:-2]

    @property
    def num_problems(self) -> int:
        """Number of problems in the batch (1 for a single problem)."""
        return int(np.prod(tuple(self.batch_shape), dtype=np.int64))

    @property
    def device(self) -> torch.device:
        return self.Q.device

    @property
    def dtype(self) -> torch.dtype:
        return self.Q.dtype

    def to(self, *args: Any, **kwargs: Any) -> QUBO:
        """Move or cast like :meth:`torch.Tensor.to`."""
        Q, off = self.Q.to(*args, **kwargs), self.offset.to(*args, **kwargs)
        # a narrowing cast can overflow to inf: check again only when the dtype changed
        return QUBO._trusted(Q, off) if Q.dtype == self.Q.dtype else QUBO(Q, off)

    def reshape(self, *batch_shape: int) -> QUBO:
        """Reshape the batch dimensions (``n`` is kept)."""
        n = self.num_variables
        return QUBO._trusted(self.Q.reshape(*batch_shape, n, n), self.offset.reshape(*batch_shape))

    def flatten(self) -> QUBO:
        """The same problems as a one-dimensional batch ``[B, n, n]``."""
        return self.reshape(self.num_problems)

    def __getitem__(self, index: Any) -> QUBO:
        if not self.batch_shape:
            raise IndexError("a single QUBO (empty batch shape) cannot be indexed")
        return QUBO._trusted(self.Q[index], self.offset[index])

    def __len__(self) -> int:
        if not self.batch_shape:
            raise TypeError("a single QUBO has no len(); use num_problems")
        return int(self.batch_shape[0])

    def __repr__(self) -> str:
        return (
            f"QUBO(batch_shape={tuple(self.batch_shape)}, num_variables={self.num_variables}, "
            f"dtype={self.dtype}, device={self.device})"
        )

    @classmethod
    def stack(cls, problems: Sequence[QUBO]) -> QUBO:
        """Stack single problems (or batches of one shape) along a new leading dimension."""
        if not problems:
            raise ValueError("problems must not be empty")
        sizes = {p.num_variables for p in problems}
        if len(sizes) != 1:
            raise ValueError(f"problems must share one size n to be stacked, got sizes {sorted(sizes)}")
        return cls(torch.stack([p.Q for p in problems]), torch.stack([p.offset for p in problems]))

    # ----------------------------------------------------------------- energies
    def energy(self, x: Any) -> torch.Tensor:
        r"""Energies :math:`x^\top Q x + c` of samples.

        Args:
            x: 0/1 tensor of shape ``[..., n]``: either the batch shape followed by any number of
                read dimensions (``[*batch, *reads, n]``) or anything broadcastable against a single
                problem.

        Returns:
            Tensor of energies, shape ``x.shape[:-1]``, in ``Q``'s dtype.
        """
        x = torch.as_tensor(x, device=self.device).to(self.dtype)
        if x.shape[-1] != self.num_variables:
            raise ValueError(f"x must have last dimension n={self.num_variables}, got {tuple(x.shape)}")
        nb = len(self.batch_shape)
        if nb and (x.dim() - 1 < nb or tuple(x.shape[:nb]) != tuple(self.batch_shape)):
            raise ValueError(
                f"x of shape {tuple(x.shape)} must start with the batch shape {tuple(self.batch_shape)}"
            )
        extra = x.dim() - 1 - nb
        Q = self.Q.reshape(*self.batch_shape, *([1] * extra), self.num_variables, self.num_variables)
        off = self.offset.reshape(tuple(self.batch_shape) + (1,) * extra)
        return torch.einsum("...i,...ij,...j->...", x, Q, x) + off

    # ----------------------------------------------------------------- equivalent forms
    def symmetrized(self) -> QUBO:
        """The same energies with a symmetric matrix ``(Q + Q^T) / 2``."""
        return QUBO((self.Q + self.Q.transpose(-1, -2)) / 2, self.offset)

    def upper(self) -> QUBO:
        """The same energies with an upper-triangular matrix (``Q_ij + Q_ji`` above the diagonal)."""
        W = torch.triu(self.Q + self.Q.transpose(-1, -2), diagonal=1)
        return QUBO(W + torch.diag_embed(torch.diagonal(self.Q, dim1=-2, dim2=-1)), self.offset)

    def linear(self) -> torch.Tensor:
        """Linear coefficients ``Q_ii``, shape ``[..., n]``."""
        return torch.diagonal(self.Q, dim1=-2, dim2=-1)

    def couplings(self) -> torch.Tensor:
        """Symmetric coupling matrix ``W = Q + Q^T`` with zero diagonal, shape ``[..., n, n]``.

        Flipping ``x_i`` changes the energy by ``(1 - 2 x_i) (Q_ii + sum_j W_ij x_j)``.
        """
        W = self.Q + self.Q.transpose(-1, -2)
        return W - torch.diag_embed(torch.diagonal(W, dim1=-2, dim2=-1))

    # ----------------------------------------------------------------- Ising
    def to_ising(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""Ising form: ``E = h·s + s^T J s + offset`` for spins ``s = 2x - 1`` in {-1, +1}^n.

        With ``W = Q + Q^T`` (zero diagonal) and ``x = (1 + s) / 2``:
        ``J = triu(W, 1) / 4``, ``h_i = Q_ii / 2 + sum_j W_ij / 4`` and
        ``offset = c + sum_i Q_ii / 2 + sum_{i<j} W_ij / 4``.

        Returns:
            ``(h, J, offset)`` with ``J`` strictly upper triangular, shapes ``[..., n]``,
            ``[..., n, n]`` and ``[...]``.
        """
        d = self.linear()
        W = self.couplings()
        J = torch.triu(W, diagonal=1) / 4
        h = d / 2 + W.sum(-1) / 4
        off = self.offset + d.sum(-1) / 2 + J.sum((-1, -2))
        return h, J, off

    @classmethod
    def from_ising(cls, h: Any, J: Any, offset: Any = 0.0) -> QUBO:
        r"""QUBO with the same energies as ``E(s) = h·s + s^T J s + offset``, ``s = 2x - 1``.

        ``J`` is read as a full matrix (both triangles count; its diagonal adds the constant
        ``trace(J)`` since ``s_i^2 = 1``). Substituting ``s = 2x - 1`` gives
        ``Q = 4 J`` off the diagonal, ``Q_ii = 2 h_i - 2 sum_j (J_ij + J_ji)`` (off-diagonal ``j``) and
        ``c = offset - sum h + sum_{i != j} J_ij + trace(J)``.
        """
        h = _as_tensor(h, "h")
        J = _as_tensor(J, "J", dtype=h.dtype).to(h.device)
        if J.dim() < 2 or J.shape[-1] != J.shape[-2]:
            raise ValueError(f"J must have shape [..., n, n] (square), got {tuple(J.shape)}")
        if h.shape[-1] != J.shape[-1]:
            raise ValueError(f"h has {h.shape[-1]} variables but J has {J.shape[-1]}")
        diagJ = torch.diagonal(J, dim1=-2, dim2=-1)
        Joff = J - torch.diag_embed(diagJ)
        S = Joff + Joff.transpose(-1, -2)
        Q = 4 * Joff + torch.diag_embed(2 * h - 2 * S.sum(-1))
        off = _as_tensor(offset, "offset", dtype=h.dtype).to(h.device)
        c = off - h.sum(-1) + Joff.sum((-1, -2)) + diagJ.sum(-1)
        return cls(Q, c)

    # ----------------------------------------------------------------- numpy / torch / dimod
    @classmethod
    def from_numpy(cls, Q: np.ndarray, offset: Any = 0.0) -> QUBO:
        """Build from numpy arrays (no copy where possible)."""
        return cls(torch.from_numpy(np.ascontiguousarray(Q)), offset)

    def to_numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Q, offset)`` as numpy arrays on the CPU."""
        return self.Q.detach().cpu().numpy(), self.offset.detach().cpu().numpy()

    def to_torch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Q, offset)`` as tensors (the stored ones, not copies)."""
        return self.Q, self.offset

    def to_bqm(self) -> Any:
        """One ``dimod.BinaryQuadraticModel`` (BINARY, variables ``0..n-1``) or a list for a batch.

        Linear biases are ``Q_ii`` and quadratic biases ``Q_ij + Q_ji``, so energies agree exactly.
        """
        import dimod

        def one(q: np.ndarray, c: float) -> dimod.BinaryQuadraticModel:
            bqm = dimod.BinaryQuadraticModel(q.astype(np.float64), "BINARY")
            bqm.offset = float(c)
            return bqm

        Qn, off = self.to_numpy()
        if not self.batch_shape:
            return one(Qn, off)
        Qf = Qn.reshape(-1, self.num_variables, self.num_variables)
        return [one(q, c) for q, c in zip(Qf, off.reshape(-1), strict=True)]

    @classmethod
    def from_bqm(cls, bqm: Any, variable_order: Sequence[Any] | None = None,
                 dtype: torch.dtype = torch.float64) -> QUBO:
        """Dense QUBO of a dimod BQM (SPIN models are converted to BINARY).

        Args:
            bqm: a ``dimod.BinaryQuadraticModel``.
            variable_order: the variables in the order of ``Q``'s rows; defaults to ``bqm.variables``.
            dtype: floating dtype of the result.

        Returns:
            A single (unbatched) ``QUBO`` with the upper-triangular couplings of the BQM.

        Raises:
            ValueError: ``bqm`` is not a BQM, a bad ``variable_order``, or ``n^2`` float64
                entries that exceed the free memory (the message says how many variables fit).
        """
        import dimod

        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise ValueError(f"bqm must be a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        b = bqm.change_vartype("BINARY", inplace=False) if bqm.vartype is dimod.SPIN else bqm
        order = list(b.variables) if variable_order is None else list(variable_order)
        if set(order) != set(b.variables) or len(order) != len(b.variables):
            raise ValueError("variable_order must list every variable of bqm exactly once")
        index = {v: i for i, v in enumerate(order)}
        n = len(order)
        _device.check_bytes(8 * n * n, "cpu", f"a dense QUBO of n={n} variables",
                    f"at most n={int((_device.free_memory_bytes('cpu') / 8) ** 0.5)} variables fit in a dense QUBO")
        Q = np.zeros((n, n))
        for v, bias in b.linear.items():
            Q[index[v], index[v]] = bias
        for (u, v), bias in b.quadratic.items():
            i, j = sorted((index[u], index[v]))
            Q[i, j] += bias
        return cls(torch.as_tensor(Q, dtype=dtype), float(b.offset))
