r"""Costs over a mask register: the black box, the exact last-layer QUBO, surrogate QUBOs.

A **register** is ``k`` chosen bits of one masked layer's mask (neurons or weights,
:class:`MaskRegister`); mask state ``s`` in ``0..2^k - 1`` sets bit ``j`` to ``(s >> j) & 1`` (the
convention of :func:`qtrain.qubo.exact.enumerate_energies` and the search solvers), the layer's
other mask entries stay as they are.

Every register acts linearly on one pre-activation: for weight bits of layer ``L`` on layer
``L``'s pre-activation, for neuron bits of layer ``L`` on layer ``L + 1``'s (``act(0) = 0`` for
ReLU and tanh, so masking a neuron's pre-activation masks its output). With the register's bits
all kept that pre-activation is ``z`` ``[B, w]``; in general

.. math:: z(m) = z + \sum_j (m_j - 1)\, a_j v_j^\top, \qquad a_j \in \mathbb{R}^B,\ v_j \in \mathbb{R}^w

(a weight bit ``(o, i)``: ``a_j = W_{oi} x_{:, i}``, ``v_j = e_o``; a neuron bit ``o``:
``a_j = h_{:, o}``, ``v_j = W^{(L+1)}_{:, o}``). The black box (:func:`mask_costs`) evaluates the
rest of the network on ``z(m)`` for a chunk of masks at once; at the last hidden layer under
squared error the loss is exactly quadratic in ``m`` (:func:`last_layer_qubo`); elsewhere
:func:`taylor_qubo` and :func:`fit_qubo` build surrogate QUBOs whose rank correlation with the
true loss :func:`spearman` reports.

References:
    Whitaker, arXiv:2302.05984 (mask registers searched by Grover, QAOA, annealing).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from qtrain._device import resolve_device
from qtrain.nn.masked import MaskedLinear, MaskedMLP, check_density
from qtrain.quantum.statevector import free_memory_bytes
from qtrain.qubo import QUBO

__all__ = [
    "LOSSES",
    "MaskCosts",
    "MaskRegister",
    "density_penalty",
    "fit_qubo",
    "last_layer_qubo",
    "mask_bits",
    "mask_costs",
    "mask_evaluator",
    "mask_losses",
    "max_register_bits",
    "register_qubo",
    "spearman",
    "taylor_qubo",
    "taylor_row_qubos",
]

LOSSES = ("cross-entropy", "sse", "mse")
#: share of the free memory the cost table and one chunk may take
_MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class MaskRegister:
    """``k`` bits of one masked layer's mask.

    Attributes:
        layer: index of the layer in ``model.layers``.
        bits: flat indices into that layer's mask (a neuron ``o``, or a weight ``o * in + i``).
        kind: ``"neuron"`` or ``"weight"`` (the layer's granularity).
    """

    layer: int
    bits: tuple[int, ...]
    kind: str

    @property
    def k(self) -> int:
        return len(self.bits)

    @classmethod
    def of(cls, model: MaskedMLP, layer: int, bits: Any = None) -> MaskRegister:
        """The register of ``bits`` (default: every mask entry) of ``model.layers[layer]``.

        Raises:
            ValueError: a layer index out of range, bits out of range or repeated, no bits.
            TypeError: ``model`` is not a :class:`~qtrain.nn.MaskedMLP`.
        """
        if not isinstance(model, MaskedMLP):
            raise TypeError(f"model must be a qtrain.nn.MaskedMLP, got {type(model).__name__}")
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(model.layers):
            raise ValueError(f"layer must be an index in [0, {len(model.layers)}), got {layer!r}")
        lin: MaskedLinear = model.layers[layer]
        size = lin.mask.numel()
        idx = list(range(size)) if bits is None else [int(b) for b in torch.as_tensor(bits).reshape(-1).tolist()]
        if not idx:
            raise ValueError("a register needs at least one bit")
        if min(idx) < 0 or max(idx) >= size:
            raise ValueError(f"bits must index the layer's {size} mask entries, got range [{min(idx)}, {max(idx)}]")
        if len(set(idx)) != len(idx):
            raise ValueError("bits repeats a mask entry")
        return cls(layer, tuple(idx), lin.granularity)


def mask_bits(states: Any, k: int) -> torch.Tensor:
    """Mask states ``s`` -> bits ``[..., k]`` with bit ``j = (s >> j) & 1`` (float64)."""
    s = torch.as_tensor(states, dtype=torch.int64)
    return ((s[..., None] >> torch.arange(k, device=s.device)) & 1).to(torch.float64)


def _check_data(X: Any, Y: Any, loss: str, device: torch.device, dtype: torch.dtype
                ) -> tuple[torch.Tensor, torch.Tensor]:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    Xt = torch.as_tensor(X).to(device=device, dtype=dtype)
    if Xt.dim() != 2:
        raise ValueError(f"X must have shape [B, d], got {tuple(Xt.shape)}")
    if not bool(torch.isfinite(Xt).all()):
        raise ValueError("X (validation inputs) must be finite, found NaN or infinity")
    Yt = torch.as_tensor(Y).to(device)
    if Yt.shape[0] != Xt.shape[0]:
        raise ValueError(f"Y must have one row per sample of X ({Xt.shape[0]}), got {tuple(Yt.shape)}")
    if Yt.is_floating_point() and not bool(torch.isfinite(Yt).all()):
        raise ValueError("Y (validation targets) must be finite, found NaN or infinity")
    if loss == "cross-entropy" and (Yt.dim() != 1 or Yt.is_floating_point()):
        raise ValueError(f"Y must be integer labels [B] for loss='cross-entropy', got {Yt.dtype} {tuple(Yt.shape)}")
    return Xt, Yt


def _terms(model: MaskedMLP, reg: MaskRegister, X: torch.Tensor, dtype: torch.dtype
           ) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(P, z [B, w], A [k, B], V [k, w])``: the register acts on layer ``P``'s pre-activation as
    ``z(m) = z + sum_j (m_j - 1) a_j v_j^T`` (register bits all kept in ``z``)."""
    lin: MaskedLinear = model.layers[reg.layer]
    bits = torch.tensor(reg.bits, device=X.device)
    with torch.no_grad():
        x = X.to(dtype)
        for layer in model.layers[:reg.layer]:
            x = model.act(_linear(layer, x, dtype))
        W = lin.weight.to(dtype)
        m = lin.mask.to(dtype).reshape(-1).clone()
        m[bits] = 1
        m = m.reshape(lin.mask.shape)
        b = None if lin.bias is None else lin.bias.to(dtype)
        if reg.kind == "weight":
            z = torch.nn.functional.linear(x, W * m, b)
            o, i = bits // lin.in_features, bits % lin.in_features
            A = (W[o, i][:, None] * x[:, i].T)
            V = torch.zeros(reg.k, lin.out_features, dtype=dtype, device=X.device)
            V[torch.arange(reg.k, device=X.device), o] = 1
            return reg.layer, z, A, V
        if reg.layer == len(model.layers) - 1:
            raise ValueError("a neuron register on the output layer masks logits; choose a hidden layer")
        h = model.act(torch.nn.functional.linear(x, W, b) * m)
        nxt: MaskedLinear = model.layers[reg.layer + 1]
        W2 = nxt.effective_weight().to(dtype)
        z = _linear(nxt, h, dtype)
        return reg.layer + 1, z, h[:, bits].T.contiguous(), W2[:, bits].T.contiguous()


def _linear(layer: MaskedLinear, h: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``layer(h)`` computed in ``dtype``."""
    b = None if layer.bias is None else layer.bias.to(dtype)
    if layer.granularity == "weight":
        return torch.nn.functional.linear(h, layer.effective_weight().to(dtype), b)
    return torch.nn.functional.linear(h, layer.weight.to(dtype), b) * layer.mask.to(dtype)


def _tail(model: MaskedMLP, P: int, z: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Logits from layer ``P``'s pre-activation ``z [..., B, w]``."""
    h = z
    for layer in model.layers[P + 1:]:
        h = _linear(layer, model.act(h), dtype)
    return h


def _loss(logits: torch.Tensor, Y: torch.Tensor, loss: str) -> torch.Tensor:
    """Loss per leading index of ``logits [..., B, c]``: mean cross-entropy, or the sum (``sse``)
    or mean (``mse``) of squared errors against ``Y`` (labels become one-hot)."""
    if loss == "cross-entropy":
        lse = torch.logsumexp(logits, -1)
        picked = logits.gather(-1, Y.expand(*logits.shape[:-1])[..., None]).squeeze(-1)
        return (lse - picked).mean(-1)
    T = Y
    if not Y.is_floating_point():
        T = torch.nn.functional.one_hot(Y, logits.shape[-1])
    err = (logits - T.to(logits.dtype)).pow(2).sum((-1, -2))
    return err if loss == "sse" else err / (logits.shape[-1] * logits.shape[-2])


def _bytes_per_mask(model: MaskedMLP, P: int, B: int, k: int, itemsize: int) -> int:
    widths = [model.layers[i].out_features for i in range(P, len(model.layers))]
    return itemsize * (B * (3 * sum(widths) + 1) + k)


def max_register_bits(model: MaskedMLP, register: MaskRegister, batch: int, device: Any = "auto",
                      dtype: torch.dtype = torch.float64) -> int:
    """The largest ``k`` whose cost table (``2^k`` float64 costs and flags) and one chunk of the
    batched forward fit in half the free memory of ``device``."""
    P = register.layer + (1 if register.kind == "neuron" else 0)
    itemsize = torch.empty((), dtype=dtype).element_size()
    budget = _MEMORY_SHARE * free_memory_bytes(resolve_device(device))
    per_mask = _bytes_per_mask(model, P, batch, register.k, itemsize)
    room = budget - 1024 * per_mask
    return max(0, int(math.floor(math.log2(max(room, 1) / 9.0))))


@dataclass
class MaskCosts:
    """The black-box cost of every mask of a register.

    Attributes:
        costs: float64 ``[2^k]``; infeasible masks (outside the density filter) hold a finite value
            above every feasible one, so a minimiser is always feasible.
        feasible: bool ``[2^k]`` (all True without a filter).
        register: the register.
        loss: the loss name.
        info: ``timing`` (ns), ``evaluations`` (``2^k``), ``chunk`` (masks per batched forward),
            ``max_bits`` (how many bits fit on the device).
    """

    costs: torch.Tensor
    feasible: torch.Tensor
    register: MaskRegister
    loss: str
    info: dict[str, Any] = field(default_factory=dict)


def mask_losses(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, masks: Any, *,
                loss: str = "cross-entropy", chunk: int | None = None, device: Any = "auto",
                dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The loss of the masked network on ``(X, Y)`` for each 0/1 register mask of ``masks [S, k]``,
    ``S`` masks per call of the batched forward in chunks (same maths as :func:`mask_costs`).

    Raises:
        ValueError: masks of the wrong width or not 0/1, bad data (see :func:`mask_costs`).
    """
    dev = resolve_device(device)
    Xt, Yt = _check_data(X, Y, loss, dev, dtype)
    M = torch.as_tensor(masks).to(device=dev, dtype=dtype)
    if M.dim() != 2 or M.shape[1] != register.k:
        raise ValueError(f"masks must have shape [S, k={register.k}], got {tuple(M.shape)}")
    if not bool(((M == 0) | (M == 1)).all()):
        raise ValueError("masks must hold only 0 and 1")
    model = model.to(dev)
    P, z, A, V = _terms(model, register, Xt, dtype)
    return _evaluate(model, P, z, A, V, Yt, M, loss, chunk, dtype)


def mask_evaluator(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, *, loss: str = "cross-entropy",
                   device: Any = "auto", dtype: torch.dtype = torch.float64) -> Any:
    """The black box as a function: ``evaluate(masks [S, k], chunk=None) -> losses [S]``, with the
    register's terms computed once (what :func:`mask_costs` runs per chunk; no checks per call).

    Raises:
        ValueError: bad data (see :func:`mask_costs`).
    """
    dev = resolve_device(device)
    Xt, Yt = _check_data(X, Y, loss, dev, dtype)
    model = model.to(dev)
    P, z, A, V = _terms(model, register, Xt, dtype)

    def evaluate(masks: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        return _evaluate(model, P, z, A, V, Yt, masks.to(device=dev, dtype=dtype), loss, chunk, dtype)

    return evaluate


def _evaluate(model: MaskedMLP, P: int, z: torch.Tensor, A: torch.Tensor, V: torch.Tensor, Y: torch.Tensor,
              masks: torch.Tensor, loss: str, chunk: int | None, dtype: torch.dtype) -> torch.Tensor:
    B, w = z.shape
    k = A.shape[0]
    D = (A[:, :, None] * V[:, None, :]).reshape(k, B * w)  # one contribution per bit
    size = chunk or _default_chunk(model, P, B, k, dtype, z.device)
    out = torch.empty(masks.shape[0], dtype=dtype, device=z.device)
    with torch.no_grad():
        for s in range(0, masks.shape[0], size):
            m = masks[s:s + size]
            zz = z + ((m - 1) @ D).reshape(-1, B, w)
            out[s:s + size] = _loss(_tail(model, P, zz, dtype), Y, loss)
    return out


def _default_chunk(model: MaskedMLP, P: int, B: int, k: int, dtype: torch.dtype, device: torch.device) -> int:
    itemsize = torch.empty((), dtype=dtype).element_size()
    per_mask = _bytes_per_mask(model, P, B, k, itemsize)
    # CPU: chunks that stay in cache (measured: 4 MiB chunks ran 3-6x faster than 64 MiB ones)
    target = 4 * 2**20 if device.type == "cpu" else 1 * 2**30
    return max(1, min(2**16, int(target // per_mask)))


def mask_costs(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, *, loss: str = "cross-entropy",
               density: float | None = None, chunk: int | None = None, device: Any = "auto",
               dtype: torch.dtype = torch.float64) -> MaskCosts:
    r"""The loss of the masked network on a validation set for every mask of a register.

    ``costs[s] = L(model with register bits m = bits(s))`` for ``s = 0..2^k - 1``, the masks
    enumerated in chunks of a batched forward from the register's pre-activation
    (``z(m) = z + (m - 1) D``, one matrix product per chunk), on CPU or CUDA. A ``density``
    filter keeps the masks with exactly ``round(density k)`` bits set; the others get a finite
    cost above every feasible one.

    Args:
        model: a :class:`~qtrain.nn.MaskedMLP` (its other masks stay as set).
        register: the :class:`MaskRegister` searched.
        X: validation inputs ``[B, d]``.
        Y: targets: labels ``[B]`` (any loss) or ``[B, c]`` real targets (``sse``/``mse``).
        loss: ``"cross-entropy"`` (mean), ``"sse"`` (sum of squared errors, the energy of
            :func:`last_layer_qubo`) or ``"mse"``.
        density: optional fraction kept in ``(0, 1]`` for the filter.
        chunk: masks per batched forward (default: about 4 MiB of work on CPU, 1 GiB on CUDA).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        dtype: float dtype of the forward (float64 default: exact comparisons).

    Returns:
        :class:`MaskCosts`.

    Raises:
        ValueError: a register that does not fit in memory (before allocating; the message says
            how many bits fit), ``density`` outside ``(0, 1]``, non-finite or mis-shaped data, an
            unknown loss.

    Example:
        >>> from qtrain.nn import masked_mlp
        >>> net = masked_mlp([4, 3, 2], granularity="neuron", seed=0)
        >>> reg = MaskRegister.of(net, 0)
        >>> mask_costs(net, reg, torch.randn(5, 4), torch.tensor([0, 1, 0, 1, 1])).costs.shape
        torch.Size([8])

    References:
        Whitaker, arXiv:2302.05984 (the diagonal cost ``C(x)`` of a mask register).
    """
    t0 = time.perf_counter_ns()
    dev = resolve_device(device)
    k = register.k
    kept = None if density is None else round(check_density(density) * k)
    Xt, Yt = _check_data(X, Y, loss, dev, dtype)
    fit = max_register_bits(model, register, Xt.shape[0], dev, dtype)
    if k > fit:
        need = 9 * 2**k
        raise ValueError(f"a register of k={k} bits needs {need / 2**30:.1f} GiB for its 2^{k} costs; "
                         f"at most {fit} bits fit in half of {dev}'s free memory")
    model = model.to(dev)
    P, z, A, V = _terms(model, register, Xt, dtype)
    size = chunk or _default_chunk(model, P, Xt.shape[0], k, dtype, dev)
    costs = torch.empty(2**k, dtype=dtype, device=dev)
    for s in range(0, 2**k, size):
        states = torch.arange(s, min(2**k, s + size), device=dev)
        costs[s:s + states.shape[0]] = _evaluate(model, P, z, A, V, Yt, mask_bits(states, k).to(dtype),
                                                 loss, size, dtype)
    costs = costs.to(torch.float64)
    feasible = torch.ones(2**k, dtype=torch.bool, device=dev)
    if kept is not None:
        ones = mask_bits(torch.arange(2**k, device=dev), k).sum(-1)
        feasible = ones == kept
        good = costs[feasible]
        above = good.max() + (good.max() - good.min()) + 1.0
        costs = torch.where(feasible, costs, above)
    t1 = time.perf_counter_ns()
    info = {"timing": {"preprocessing_ns": 0, "solve_ns": t1 - t0, "postprocessing_ns": 0, "total_ns": t1 - t0},
            "evaluations": 2**k, "chunk": size, "max_bits": fit, "device": str(dev)}
    return MaskCosts(costs, feasible, register, loss, info)


# ------------------------------------------------------------------------------------ QUBOs
def last_layer_qubo(H: Any, W: Any, Y: Any, bias: Any = None) -> QUBO:
    r"""The exact QUBO of neuron masks of the last hidden layer under squared error.

    .. math:: E(m) = \sum_b \| Y_b - W (m \circ H_b) - \text{bias} \|^2 = m^\top Q m + c

    with ``R = Y - bias``: ``Q = (W^T W) o (H^T H)`` plus the linear term
    ``-2 sum_b (R_b^T W) o H_b`` on the diagonal (``m_i^2 = m_i``), ``c = ||R||_F^2``. Exact for
    every ``m`` in ``{0,1}^h``: the loss is quadratic in ``m`` because the output layer is linear
    and ``act(0) = 0``.

    Args:
        H: ``[B, h]`` the last hidden layer's activations (all neurons kept).
        W: ``[c, h]`` output weights.
        Y: ``[B, c]`` targets.
        bias: ``[c]`` or ``[B, c]`` (a per-sample constant, e.g. neurons outside the register),
            default 0.

    Returns:
        A float64 :class:`~qtrain.qubo.QUBO` on ``h`` variables.

    Raises:
        ValueError: shapes that do not pair, non-finite values.

    Example:
        >>> H, W, Y = torch.rand(6, 3), torch.randn(2, 3), torch.randn(6, 2)
        >>> q = last_layer_qubo(H, W, Y)
        >>> m = torch.tensor([1.0, 0.0, 1.0])
        >>> bool(torch.isclose(q.energy(m), ((Y - (m * H) @ W.T) ** 2).sum()))
        True

    References:
        qtrain's exact instance of Whitaker, arXiv:2302.05984 (comparing every route to the optimum).
    """
    Ht, Wt, Yt = (torch.as_tensor(a).to(torch.float64) for a in (H, W, Y))
    for name, t in (("H", Ht), ("W", Wt), ("Y", Yt)):
        if t.dim() != 2:
            raise ValueError(f"{name} must be a matrix, got shape {tuple(t.shape)}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite, found NaN or infinity")
    B, h = Ht.shape
    c = Wt.shape[0]
    if Wt.shape[1] != h:
        raise ValueError(f"W must be [c, h={h}] to pair with H [B, h], got {tuple(Wt.shape)}")
    if tuple(Yt.shape) != (B, c):
        raise ValueError(f"Y must be [B={B}, c={c}], got {tuple(Yt.shape)}")
    R = Yt
    if bias is not None:
        bt = torch.as_tensor(bias).to(torch.float64)
        if not bool(torch.isfinite(bt).all()):
            raise ValueError("bias must be finite, found NaN or infinity")
        try:
            R = Yt - torch.broadcast_to(bt, (B, c))
        except RuntimeError as exc:
            raise ValueError(f"bias must broadcast to [B={B}, c={c}], got {tuple(bt.shape)}") from exc
    Q = (Wt.T @ Wt) * (Ht.T @ Ht)
    lin = -2 * ((R @ Wt) * Ht).sum(0)
    Q = Q + torch.diag(lin)
    return QUBO(Q, (R * R).sum())


def register_qubo(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, device: Any = "cpu") -> QUBO:
    """The exact :func:`last_layer_qubo` of a neuron register on the last hidden layer (the energy
    is the black-box ``sse`` loss of every mask; labels become one-hot targets).

    Raises:
        ValueError: a register that is not neurons of the last hidden layer, bad data.
    """
    if register.kind != "neuron" or register.layer != len(model.layers) - 2:
        raise ValueError("the exact QUBO exists for neuron registers of the last hidden layer "
                         f"(layer {len(model.layers) - 2}); use taylor_qubo or fit_qubo elsewhere")
    dev = resolve_device(device)
    Xt, Yt = _check_data(X, Y, "sse", dev, torch.float64)
    _, z, A, V = _terms(model.to(dev), register, Xt, torch.float64)
    T = Yt if Yt.is_floating_point() else torch.nn.functional.one_hot(Yt, z.shape[1]).to(torch.float64)
    # z holds every register neuron's term; the rest of z is the per-sample bias
    return last_layer_qubo(A.T, V.T, T, bias=z - A.T @ V)


def density_penalty(qubo: QUBO, kept: int, lam: float) -> QUBO:
    r"""``qubo`` plus ``lam (sum_i m_i - kept)^2``: ``Q + lam 1 1^T - 2 lam kept I``, offset
    ``+ lam kept^2``.

    Raises:
        ValueError: ``kept`` outside ``[0, n]``, ``lam < 0``.
    """
    n = qubo.num_variables
    if isinstance(kept, bool) or not isinstance(kept, int) or not 0 <= kept <= n:
        raise ValueError(f"kept must be an integer in [0, n={n}], got {kept!r}")
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    Q = qubo.Q + lam * (torch.ones(n, n, dtype=qubo.dtype, device=qubo.device)
                        - 2 * kept * torch.eye(n, dtype=qubo.dtype, device=qubo.device))
    return QUBO(Q, qubo.offset + lam * kept**2)


def taylor_qubo(model: MaskedMLP, register: MaskRegister, X: Any, Y: Any, *, loss: str = "cross-entropy",
                at: Any = None, device: Any = "cpu") -> QUBO:
    r"""Second-order surrogate of the loss in the register's bits around the mask ``m0``.

    .. math:: L(m) \approx L(m_0) + g^\top (m - m_0) + \tfrac12 (m - m_0)^\top F (m - m_0)

    with ``g = (1/B) sum_b g_b`` and the empirical Fisher ``F = (1/B) sum_b g_b g_b^T`` from the
    per-sample gradients ``g_b = dl_b/dm`` at ``m0`` (exact and cheap: the register acts linearly
    on one pre-activation, ``g_{bj} = a_{jb} (dl_b/dz_b . v_j)``). As a QUBO:
    ``Q = F/2 + diag(g - F m0)``, offset ``L(m0) - g.m0 + m0^T F m0 / 2``. The loss is the mean
    over samples (``sse`` is divided by ``B`` the same way).

    Args:
        at: the expansion point ``m0`` (0/1 ``[k]``), default the layer's current register bits.
        loss, device: as in :func:`mask_costs`.

    Returns:
        float64 :class:`~qtrain.qubo.QUBO` on ``k`` variables.

    References:
        LeCun et al., Optimal Brain Damage (NIPS 1989, second-order saliency); Martens,
        arXiv:1412.1193 (the empirical Fisher and its limits).
    """
    dev = resolve_device(device)
    Xt, Yt = _check_data(X, Y, loss, dev, torch.float64)
    lin: MaskedLinear = model.to(dev).layers[register.layer]
    bits = torch.tensor(register.bits, device=dev)
    m0 = lin.mask.reshape(-1)[bits].to(torch.float64) if at is None else torch.as_tensor(at).to(dev, torch.float64)
    if m0.shape != (register.k,) or not bool(((m0 == 0) | (m0 == 1)).all()):
        raise ValueError(f"at must be a 0/1 mask of shape [{register.k}]")
    P, z, A, V = _terms(model, register, Xt, torch.float64)
    B = z.shape[0]
    zz = (z + ((m0 - 1)[:, None] * A).T @ V).detach().requires_grad_(True)
    per = _per_sample_loss(model, P, zz, Yt, loss)
    per.sum().backward()
    G = A.T * (zz.grad @ V.T)  # [B, k] per-sample gradients dl_b/dm
    g = G.mean(0)
    F = G.T @ G / B
    L0 = float(per.detach().mean())
    Q = F / 2 + torch.diag(g - F @ m0)
    return QUBO(Q, L0 - float(g @ m0) + float(m0 @ F @ m0) / 2)


def _per_sample_loss(model: MaskedMLP, P: int, z: torch.Tensor, Y: torch.Tensor, loss: str) -> torch.Tensor:
    """Loss of each sample (``[B]``) from layer ``P``'s pre-activation ``z [B, w]``."""
    logits = _tail(model, P, z, torch.float64)
    if loss == "cross-entropy":
        return torch.logsumexp(logits, -1) - logits.gather(-1, Y[:, None]).squeeze(-1)
    T = Y if Y.is_floating_point() else torch.nn.functional.one_hot(Y, logits.shape[-1])
    err = (logits - T.to(torch.float64)).pow(2).sum(-1)
    return err if loss == "sse" else err / logits.shape[-1]


def fit_qubo(masks: Any, values: Any, ridge: float = 1e-8) -> QUBO:
    r"""Least-squares quadratic pseudo-Boolean model of sampled losses, as a QUBO.

    Fits ``v(m) ~ c + sum_i q_i m_i + sum_{i<j} q_ij m_i m_j`` to ``values [S]`` at ``masks
    [S, k]`` (ridge ``ridge`` on the coefficients); ``Q`` holds ``q_i`` on the diagonal and
    ``q_ij`` above it.

    Raises:
        ValueError: fewer samples than the ``1 + k (k + 1) / 2`` coefficients, masks not 0/1,
            non-finite values.

    References:
        Boros & Hammer, Discrete Appl. Math. 123 (2002) (pseudo-Boolean optimisation).
    """
    Mt = torch.as_tensor(masks).to(torch.float64)
    v = torch.as_tensor(values).to(torch.float64)
    if Mt.dim() != 2 or v.shape != (Mt.shape[0],):
        raise ValueError(f"masks must be [S, k] and values [S], got {tuple(Mt.shape)} and {tuple(v.shape)}")
    if not bool(((Mt == 0) | (Mt == 1)).all()):
        raise ValueError("masks must hold only 0 and 1")
    if not bool(torch.isfinite(v).all()):
        raise ValueError("values must be finite, found NaN or infinity")
    S, k = Mt.shape
    iu = torch.triu_indices(k, k)
    need = 1 + iu.shape[1]
    if S < need:
        raise ValueError(f"fit_qubo needs at least {need} sampled masks for k={k} bits, got {S}")
    feats = torch.cat([torch.ones(S, 1, dtype=torch.float64), Mt[:, iu[0]] * Mt[:, iu[1]]], 1)
    mu = v.mean()
    A = feats.T @ feats + ridge * torch.eye(need, dtype=torch.float64)
    coef = torch.linalg.solve(A, feats.T @ (v - mu))
    Q = torch.zeros(k, k, dtype=torch.float64)
    Q[iu[0], iu[1]] = coef[1:]
    return QUBO(Q, coef[0] + mu)


def spearman(a: Any, b: Any) -> float:
    """Spearman's rank correlation of two samples (ties get average ranks).

    Raises:
        ValueError: shapes that differ or fewer than 2 values.
    """
    from scipy.stats import spearmanr

    x = torch.as_tensor(a, dtype=torch.float64).reshape(-1).cpu().numpy()
    y = torch.as_tensor(b, dtype=torch.float64).reshape(-1).cpu().numpy()
    if x.shape != y.shape or x.shape[0] < 2:
        raise ValueError(f"a and b must have the same length >= 2, got {x.shape[0]} and {y.shape[0]}")
    return float(spearmanr(x, y).statistic)


def taylor_row_qubos(model: MaskedMLP, layer: int, X: Any, Y: Any, *, loss: str = "cross-entropy",
                     samples: int | None = 256, seed: int = 0, device: Any = "cpu") -> QUBO:
    r"""The Taylor surrogate of :func:`taylor_qubo` for a whole weight-masked layer, block-diagonal
    by output neuron: one QUBO per row ``o`` of the mask, a batch ``[out, in, in]``.

    Per-sample gradients ``g_b[o, i] = (dl_b/dz_bo) W_oi x_bi``; row ``o``'s empirical Fisher is
    ``F_o = (W_o W_o^T) o (X^T diag(dz_o^2) X) / B`` and ``Q_o = F_o/2 + diag(g_o - F_o m0_o)``
    around the layer's current mask ``m0``. Couplings between rows are dropped (the price of a
    batch that fits in memory: a full ``out * in`` QUBO of a 256 x 256 layer holds 4.3e9 entries).

    Args:
        layer: a weight-granularity layer of ``model``.
        samples: validation rows used for the Fisher (a seeded subset; ``None``: all).

    Returns:
        float64 :class:`~qtrain.qubo.QUBO` batch ``[out, in, in]`` (offsets: ``L(m0)`` shared evenly).
    """
    dev = resolve_device(device)
    Xt, Yt = _check_data(X, Y, loss, dev, torch.float64)
    if samples is not None and samples < Xt.shape[0]:
        idx = torch.randperm(Xt.shape[0], generator=torch.Generator().manual_seed(seed))[:samples].to(dev)
        Xt, Yt = Xt[idx], Yt[idx]
    model = model.to(dev)
    lin: MaskedLinear = model.layers[layer]
    if lin.granularity != "weight":
        raise ValueError("taylor_row_qubos needs a weight-granularity layer")
    x = Xt
    for prev in model.layers[:layer]:
        x = model.act(_linear(prev, x, torch.float64))
    with torch.no_grad():
        z = _linear(lin, x, torch.float64)
    z = z.detach().requires_grad_(True)
    per = _per_sample_loss(model, layer, z, Yt, loss)
    per.sum().backward()
    dz = z.grad  # [B, out]
    B = x.shape[0]
    W = lin.weight.to(torch.float64)
    m0 = lin.mask.to(torch.float64)
    g = (dz.T @ x) * W / B  # [out, in]
    F = torch.einsum("bo,bi,bj->oij", dz.pow(2), x, x) / B * (W[:, :, None] * W[:, None, :])
    Fm = (F @ m0[:, :, None]).squeeze(-1)
    Q = F / 2 + torch.diag_embed(g - Fm)
    L0 = float(per.detach().mean())
    offset = L0 / W.shape[0] - (g * m0).sum(-1) + (m0 * Fm).sum(-1) / 2
    return QUBO(Q, offset)
