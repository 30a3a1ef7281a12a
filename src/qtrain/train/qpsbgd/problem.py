"""QP-SBGD's per-layer problem: a typed record built by a pure function of the layer's tensors.

:func:`formulate_layer` turns one binary layer's inputs ``X``, output gradients ``G`` and weights
into a :class:`LayerProblem`: the rows kept, the neurons with a gradient, the settings the true
objective is scored with, and (unless the direction solver needs none) the ``QUBO`` batch of the
encodings in :mod:`qtrain.train.qpsbgd.formulate` with its decoder. No solver runs here.

Reference: Krahn et al., "Projected Stochastic Gradient Descent with Quantum Annealed Binary
Gradients", arXiv:2310.15128.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from qtrain.nn.binary import binarize
from qtrain.qubo import QUBO
from qtrain.train.qpsbgd.formulate import (
    Decoder,
    binary_gradient_qubo,
    projected_flip_qubo,
    quadratic_direction_qubo,
    tie_offset,
)

__all__ = ["KINDS", "LayerProblem", "formulate_layer"]

#: Problem kinds: the paper's sign objective, the local quadratic model, projected bit flips.
KINDS = ("sign", "quadratic", "projected")
_CURVATURES = ("fisher", "diagonal")


@dataclass(frozen=True)
class LayerProblem:
    """One layer's step problem: ``m`` independent per-neuron problems over ``n`` weights.

    With ``chunk_rows`` the rows are split into ``chunks`` equal chunks and every (chunk, neuron)
    pair is a problem of its own: ``X`` is then ``[C m, k, n]`` and ``G`` ``[k, C m]`` (column
    ``c m + j`` is neuron ``j`` on chunk ``c``).

    Attributes:
        name: the layer's name (for messages and ``last_info``).
        kind: one of :data:`KINDS`.
        X: ``[B, n]`` +-1 inputs of the rows kept (``[C m, k, n]`` when chunked).
        G: ``[B, m]`` float64 output gradients of those rows (``[k, C m]`` when chunked).
        active: ``[m]`` (``[C m]``) bool, problems with a non-zero gradient: only they move.
        eps: the offset of the output test ``sign(x . d + eps)`` the problem is scored with (the
            tie-break after :func:`~qtrain.train.qpsbgd.formulate.tie_offset`).
        chunks: ``C``, the number of row chunks (1: no chunking).
        W: ``projected``: the current +-1 weights ``[m, n]`` (float64).
        flip_penalty: ``projected``: cost per flip (normalised units).
        hamming_budget: ``projected``: at most this many flips per neuron (None: no budget).
        lr: ``quadratic``: the step size of the model ``-lr g.d + lr^2/2 d^T H d``.
        g: ``quadratic``: ``[m, n]`` weight gradients.
        H: ``quadratic``: ``[m, n, n]`` curvature blocks, or ``[m, n]`` diagonals.
        qubo: the ``QUBO`` batch ``[m]`` (None when not built or no problem is active).
        decode: maps the QUBO's 0/1 samples ``[m, k, N]`` to candidates ``[m, k, n]`` (+-1).
    """

    name: str
    kind: str
    X: torch.Tensor
    G: torch.Tensor
    active: torch.Tensor
    eps: float = 0.01
    chunks: int = 1
    W: torch.Tensor | None = None
    flip_penalty: float = 0.0
    hamming_budget: int | None = None
    lr: float | None = None
    g: torch.Tensor | None = None
    H: torch.Tensor | None = None
    qubo: QUBO | None = None
    decode: Decoder | None = None

    @property
    def num_problems(self) -> int:
        """Problems in the batch: ``m`` neurons (``C m`` (chunk, neuron) pairs when chunked)."""
        return int(self.G.shape[1])

    @property
    def num_rows(self) -> int:
        """Rows per problem (``B``, or the chunk size ``k``)."""
        return int(self.G.shape[0])

    @property
    def fan_in(self) -> int:
        """``n``, the weights per neuron."""
        return int(self.X.shape[-1])

    @property
    def solvable(self) -> bool:
        """Whether any problem has a gradient (a layer without one is neither solved nor moved)."""
        return bool(self.active.any())


def _split_rows(X: torch.Tensor, G: torch.Tensor, size: int
                ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Rows of ``X`` ``[B, n]`` and ``G`` ``[B, m]`` split into ``C = ceil(B / size)`` chunks of
    equal size ``k = ceil(B / C)`` (the last padded with repeated rows of zero gradient, which
    leave every neuron's objective unchanged): per-(chunk, neuron) inputs ``[C m, k, n]`` and
    gradients ``[k, C m]`` (column ``c m + j`` is neuron ``j`` on chunk ``c``), and ``C``."""
    B, n = X.shape
    m = G.shape[1]
    C = -(-B // size)
    k = -(-B // C)
    pad = C * k - B
    if pad:
        X = torch.cat([X, X[:pad]])
        G = torch.cat([G, G.new_zeros(pad, m)])
    Xc = X.reshape(C, k, n)[:, None].expand(C, m, k, n).reshape(C * m, k, n)
    Gc = G.reshape(C, k, m).permute(1, 0, 2).reshape(k, C * m)
    return Xc, Gc, C


def formulate_layer(name: str, X: torch.Tensor, G: torch.Tensor, weight: torch.Tensor, *,
                    kind: str = "sign", eps: float = 0.01, penalty_margin: float = 0.5,
                    lr: float | None = None, scale: float = 1.0, curvature: str = "fisher",
                    flip_penalty: float = 0.0, hamming_budget: int | None = None,
                    max_rows: int | None = None, chunk_rows: int | None = None,
                    generator: torch.Generator | None = None, with_qubo: bool = True,
                    tie: str = "fixed") -> LayerProblem:
    r"""The step problem of one binary layer with weights ``weight`` ``[m, n]``.

    Rows: those where ``G`` is all zero are dropped (they change no objective); if more than
    ``max_rows`` remain, ``max_rows`` of them are drawn without replacement by ``generator``
    (one ``randperm`` call, so the caller's generator advances exactly as the draw needs).
    Problems, per neuron ``j`` (all neurons in one ``QUBO`` batch):

    * ``kind="sign"``: ``max_d sum_i G_ij sign(x_i . d + eps)``
      (:func:`~qtrain.train.qpsbgd.formulate.binary_gradient_qubo`); with ``chunk_rows``, one
      problem per (chunk of at most ``chunk_rows`` rows, neuron);
    * ``kind="quadratic"``: ``min_d -lr g_j . d + lr^2/2 d^T H_j d`` with ``g = s G^T X`` and the
      empirical Fisher ``H_j = s^2 B X^T diag(G_j^2) X`` (``s = scale``, the layer's output
      scale), or its diagonal (``curvature="diagonal"``)
      (:func:`~qtrain.train.qpsbgd.formulate.quadratic_direction_qubo`);
    * ``kind="projected"``: which bits of ``W = sign(weight)`` to flip
      (:func:`~qtrain.train.qpsbgd.formulate.projected_flip_qubo`).

    Args:
        name: the layer's name, used in every message.
        X: ``[B, n]`` layer inputs, every entry +-1.
        G: ``[B, m]`` gradients of the loss with respect to the layer's outputs (cast to float64).
        weight: ``[m, n]`` the layer's (latent) weights; ``projected`` uses their signs.
        kind: one of :data:`KINDS`.
        eps: sign tie-break. penalty_margin: the exact penalty's margin (> 0).
        lr: ``quadratic``: the step size (> 0). scale: ``quadratic``: the layer's output scale.
        curvature: ``quadratic``: ``"fisher"`` or ``"diagonal"``.
        flip_penalty, hamming_budget: ``projected``: cost per flip, flips per neuron at most.
        max_rows: keep at most this many rows (None: all). chunk_rows: ``sign`` only, see above.
        generator: draws the rows when more than ``max_rows`` remain (default: torch's global).
        with_qubo: build the ``QUBO`` (False for direction solvers that read ``X`` and ``G`` only).
        tie: ``sign`` and ``projected``: ``"fixed"`` (test ``sign(x . d + eps)``) or ``"authors"``
            (``sign(x . d + eps B)``, ``B`` the rows per problem after dropping, drawing and
            chunking; :func:`~qtrain.train.qpsbgd.formulate.tie_offset`).

    Returns:
        :class:`LayerProblem`; ``qubo`` is None when no neuron has a gradient.

    Raises:
        ValueError: an unknown ``kind`` or ``curvature``, ``X``/``G``/``weight`` shapes that
            disagree, non-binary inputs (each naming the layer), ``chunk_rows`` with a kind other
            than ``sign``, ``quadratic`` without ``lr``, an unknown ``tie``; and the encodings'
            own errors.

    Example:
        >>> X = torch.tensor([[1.0, -1.0], [1.0, 1.0]]); G = torch.tensor([[1.0], [-1.0]])
        >>> p = formulate_layer("0", X, G, torch.zeros(1, 2))
        >>> p.num_problems, p.qubo.num_variables
        (1, 6)

    References:
        Krahn et al., arXiv:2310.15128.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if curvature not in _CURVATURES:
        raise ValueError(f"curvature must be one of {_CURVATURES}, got {curvature!r}")
    if chunk_rows is not None and kind != "sign":
        raise ValueError("chunk_rows applies to the sign objective without projection")
    if kind == "quadratic" and lr is None:
        raise ValueError("the quadratic objective needs the step size lr")
    tie_offset(eps, 0, 1, tie)  # checks tie and eps before any work
    G = G.to(torch.float64)
    m, n = weight.shape
    if X.dim() != 2 or G.dim() != 2 or X.shape[-1] != n or G.shape[-1] != m \
            or X.shape[0] != G.shape[0]:
        raise ValueError(f"layer {name!r}: inputs X {tuple(X.shape)} and output gradients G "
                         f"{tuple(G.shape)} do not match its weight {tuple(weight.shape)}")
    if not bool(((X == 1) | (X == -1)).all()):
        raise ValueError(f"layer {name!r} got non-binary inputs (entries other than +-1); "
                         "QP-SBGD needs binary inputs: binarise the data or put a "
                         "BinaryActivation before the layer")
    keep = (G != 0).any(1)
    X, G = X[keep], G[keep]
    if max_rows is not None and X.shape[0] > max_rows:
        idx = torch.randperm(X.shape[0], generator=generator)[:max_rows].to(X.device)
        X, G = X[idx], G[idx]
    active = (G != 0).any(0) if G.shape[0] else torch.zeros(m, dtype=torch.bool, device=G.device)
    base = dict(name=name, kind=kind, eps=eps)
    if not bool(active.any()):
        return LayerProblem(X=X, G=G, active=active, **base)
    if kind == "projected":
        eps = base["eps"] = tie_offset(eps, int(X.shape[0]), n, tie)
        W = binarize(weight.detach()).to(torch.float64)
        qubo, decode = projected_flip_qubo(X, G, W, eps, flip_penalty, hamming_budget,
                                           penalty_margin) if with_qubo else (None, None)
        return LayerProblem(X=X, G=G, active=active, W=W, flip_penalty=flip_penalty,
                            hamming_budget=hamming_budget, qubo=qubo, decode=decode, **base)
    if kind == "sign":
        chunks = 1
        if chunk_rows is not None and X.shape[0] > chunk_rows:
            X, G, chunks = _split_rows(X, G, chunk_rows)
            active = (G != 0).any(0)
        eps = base["eps"] = tie_offset(eps, int(G.shape[0]), n, tie)
        qubo, decode = binary_gradient_qubo(X, G, eps, penalty_margin) if with_qubo \
            else (None, None)
        return LayerProblem(X=X, G=G, active=active, chunks=chunks, qubo=qubo, decode=decode,
                            **base)
    Xd = X.to(torch.float64)
    g = scale * G.T @ Xd
    H = scale**2 * X.shape[0] * torch.einsum("bm,bu,bv->muv", G**2, Xd, Xd)
    if curvature == "diagonal":
        H = torch.diagonal(H, dim1=-2, dim2=-1)
    qubo, decode = quadratic_direction_qubo(g, H, lr) if with_qubo else (None, None)
    return LayerProblem(X=X, G=G, active=active, lr=lr, g=g, H=H, qubo=qubo, decode=decode,
                        **base)
