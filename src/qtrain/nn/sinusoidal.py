"""Sinusoidal networks: continuous ``SinNN`` (SIREN-style) and discrete ``DSinNN``.

Both networks are stacks of bias-free layers ``h_l = act(s_l W_l h_{l-1} + offset)`` with a sine
activation, read out by a plain sum (or a linear layer). Every forward pass is written once as a
pure function of a list of weight tensors with optional leading batch dimensions
(:meth:`SinNN.forward_with`), so many seeds or every weight configuration of a discrete net are
evaluated in one batched call.

``DSinNN`` quantises its weights (binary, ternary or k-bit odd levels), its sine outputs (ternary or
k-bit) and optionally its summed output, with straight-through backward passes. On inputs that are
odd multiples of pi/2 and integer weights, every ``cos(w x)`` vanishes, so every gradient of the
discrete net is exactly zero: the vanishing-gradient problem that quantum search side-steps.

References:
    Sitzmann et al., "Implicit neural representations with periodic activation functions" (SIREN),
    arXiv:2006.09661. Wen, Huang, Dahlsten, "Training via quantum superposition circumventing local
    minima and vanishing gradient of sinusoidal neural network", arXiv:2410.22016.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["DSinNN", "SinNN", "deep_dsinnn", "deep_sinnn", "deep_widths", "kbit_levels", "quantize_levels",
           "ternarize", "toy_dsinnn", "toy_sinnn"]


class _StraightThrough(torch.autograd.Function):
    """Forward: the quantised value, computed exactly; backward: the identity (straight-through)."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return q

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad, None


def _ste(v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return _StraightThrough.apply(v, q) if v.requires_grad else q


def ternarize(v: torch.Tensor, threshold: float = 1e-6) -> torch.Tensor:
    """Ternariser ``T(v) = sign(v) * [|v| > threshold]`` with a straight-through backward (dT/dv := 1).

    Args:
        v: any tensor.
        threshold: dead zone half-width (>= 0); values with ``|v| <= threshold`` map to 0.

    Returns:
        A tensor of the same shape with values in {-1, 0, 1}.

    Example:
        >>> ternarize(torch.tensor([-0.5, 1e-9, 2.0])).tolist()
        [-1.0, 0.0, 1.0]

    References:
        arXiv:2410.22016 (DSinNN), straight-through estimator arXiv:1308.3432.
    """
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    q = torch.sign(v) * (v.abs() > threshold).to(v.dtype)
    return _ste(v, q)


def kbit_levels(bits: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The ``2^bits`` odd integer levels ``{-(2^bits - 1), ..., -3, -1, 1, 3, ..., 2^bits - 1}``.

    ``bits=1`` gives the binary weights {-1, +1}; odd levels keep ``w x`` an odd multiple of the
    input's angle unit, the grid the quantum sine circuit works on.
    """
    if bits < 1 or bits > 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")
    top = 2**bits - 1
    return torch.arange(-top, top + 1, 2, dtype=dtype)


def quantize_levels(v: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Nearest level of a sorted 1-D ``levels`` tensor (ties to the lower level), straight-through."""
    lv = levels.to(device=v.device, dtype=v.dtype)
    mid = (lv[1:] + lv[:-1]) / 2
    q = lv[torch.bucketize(v.detach(), mid, right=False)]
    return _ste(v, q)


def deep_widths(width: int, depth: int, floor: int = 5) -> list[int]:
    """Hidden widths of the v2 deep nets: ``width``, then one narrower per layer, never below ``floor``."""
    if width < 1 or depth < 1:
        raise ValueError(f"width and depth must be >= 1, got width={width}, depth={depth}")
    return [max(min(floor, width), width - i) for i in range(depth)]


class SinNN(nn.Module):
    """Continuous sinusoidal network (SIREN-style, no biases).

    Forward map: ``h_1 = sin(omega_0 W_1 x)``, ``h_l = sin(W_l h_{l-1})``, output ``y = sum_j h_L[j]``
    (``readout="sum"``, one output) or ``y = W_out h_L`` (``readout="linear"``).

    Args:
        in_features: input dimension.
        hidden_sizes: widths of the sine layers (at least one).
        out_features: outputs; must be 1 with ``readout="sum"``.
        omega_0: first-layer frequency (SIREN: 30; the v2 spec: 20; the v1 toy: 1).
        init: ``"siren"`` (first layer U(-1, 1), hidden U(-sqrt(6/fan_in), sqrt(6/fan_in))) or
            ``"normal"`` (every weight N(0, 1), the v1 toy).
        readout: ``"sum"`` or ``"linear"``.
        dtype: parameter dtype.
        generator: seeded ``torch.Generator`` for the initialisation.

    References:
        SIREN arXiv:2006.09661; sinusoidal-net training arXiv:2410.22016.
    """

    def __init__(self, in_features: int, hidden_sizes: Sequence[int], out_features: int = 1, *,
                 omega_0: float = 20.0, init: str = "siren", readout: str = "sum",
                 dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None):
        super().__init__()
        hidden_sizes = list(hidden_sizes)
        if in_features < 1 or out_features < 1:
            raise ValueError(f"in_features and out_features must be >= 1, got {in_features}, {out_features}")
        if not hidden_sizes or min(hidden_sizes) < 1:
            raise ValueError(f"hidden_sizes must be a non-empty list of positive widths, got {hidden_sizes}")
        if readout not in ("sum", "linear"):
            raise ValueError(f"readout must be 'sum' or 'linear', got {readout!r}")
        if readout == "sum" and out_features != 1:
            raise ValueError(f"readout='sum' gives one output; got out_features={out_features} (use 'linear')")
        if init not in ("siren", "normal"):
            raise ValueError(f"init must be 'siren' or 'normal', got {init!r}")
        self.in_features, self.hidden_sizes, self.out_features = in_features, hidden_sizes, out_features
        self.omega_0, self.init, self.readout, self.dtype = float(omega_0), init, readout, dtype
        self.shapes = self._shapes()
        self.weights = nn.ParameterList(nn.Parameter(w) for w in self.init_weights(generator=generator))

    def _shapes(self) -> list[tuple[int, int]]:
        sizes = [self.in_features, *self.hidden_sizes]
        shapes = [(sizes[i + 1], sizes[i]) for i in range(len(self.hidden_sizes))]
        if self.readout == "linear":
            shapes.append((self.out_features, sizes[-1]))
        return shapes

    @property
    def num_weights(self) -> int:
        """Number of trainable weights (all layers, readout included when linear)."""
        return sum(o * i for o, i in self.shapes)

    def init_weights(self, batch: Sequence[int] = (), generator: torch.Generator | None = None,
                     device: torch.device | str = "cpu") -> list[torch.Tensor]:
        """Fresh initial weights with leading ``batch`` dimensions (one net per batch entry)."""
        out = []
        for l, (o, i) in enumerate(self.shapes):
            shape = (*batch, o, i)
            if self.init == "normal":
                w = torch.randn(shape, generator=generator, dtype=self.dtype, device=device)
            else:
                bound = 1.0 if l == 0 else math.sqrt(6.0 / i)
                w = (2 * torch.rand(shape, generator=generator, dtype=self.dtype, device=device) - 1) * bound
            out.append(w)
        return out

    def forward_with(self, weights: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Batched forward: ``weights[l]`` of shape ``[..., out, in]``, ``x`` of shape ``[n, in]``
        (or ``[..., n, in]``); returns ``[..., n, out_features]``."""
        h = x
        n_sine = len(self.hidden_sizes)
        for l in range(n_sine):
            z = h @ weights[l].transpose(-1, -2)
            h = torch.sin(self.omega_0 * z if l == 0 else z)
        if self.readout == "sum":
            return h.sum(-1, keepdim=True)
        return h @ weights[n_sine].transpose(-1, -2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with(list(self.weights), x)


class DSinNN(SinNN):
    """Discrete sinusoidal network with straight-through quantisers.

    Forward map, layer ``l``: ``h_l = A(sin(s_l * (Q(W_l) h_{l-1}) + offset))``; output
    ``y = O(sum_j h_L[j])`` (``readout="sum"``) or ``O(Q(W_out) h_L)`` (``readout="linear"``), where
    ``Q`` quantises the latent weights (binary ``sign``, ternary ``T`` with dead zone 1e-6, or the
    nearest of the ``2^k`` odd levels of :func:`kbit_levels`), ``A`` is the activation quantiser
    (ternary ``T`` with ``activation_threshold``, or ``round((2^(k-1) - 1) sin)`` for k-bit) and ``O``
    is the output quantiser (ternary or none). Backward passes are straight-through.

    Args:
        in_features, hidden_sizes, out_features: as :class:`SinNN`.
        weights: ``"binary"``, ``"ternary"`` or an int ``k`` for k-bit odd levels.
        activation: ``"ternary"`` or an int ``k >= 2`` for k-bit sine outputs.
        activation_threshold: dead zone of the ternary activation.
        offset: pre-activation offset added inside the sine (v2 spec: 0.1).
        scales: per-layer angle scales ``s_l``; ``"auto"`` is 1 for the first layer and
            ``min(pi/2, pi/2^(m-1))``, ``m = floor(log2 fan_in)``, for hidden layers.
        output: ``"ternary"`` or ``None`` (plain sum).
        init_range: latent weights are drawn U(-init_range, init_range).
        dtype: parameter dtype (float64 keeps ``cos(odd * pi/2)`` at ~1e-16, hence exactly-zero
            gradients up to rounding).

    References:
        arXiv:2410.22016 (DSinNN, ternariser, hidden scale rule).
    """

    def __init__(self, in_features: int, hidden_sizes: Sequence[int], out_features: int = 1, *,
                 weights: str | int = "binary", activation: str | int = "ternary",
                 activation_threshold: float = 1e-6, offset: float = 0.0,
                 scales: str | Sequence[float] = "auto", output: str | None = None,
                 readout: str = "sum", init_range: float = 2.0, dtype: torch.dtype = torch.float64,
                 generator: torch.Generator | None = None):
        if weights not in ("binary", "ternary") and not (isinstance(weights, int) and 1 <= weights <= 8):
            raise ValueError(f"weights must be 'binary', 'ternary' or an int bit width 1..8, got {weights!r}")
        if activation != "ternary" and not (isinstance(activation, int) and 2 <= activation <= 8):
            raise ValueError(f"activation must be 'ternary' or an int bit width 2..8, got {activation!r}")
        if output not in (None, "ternary"):
            raise ValueError(f"output must be None or 'ternary', got {output!r}")
        if init_range <= 0:
            raise ValueError(f"init_range must be > 0, got {init_range}")
        self.weight_kind, self.activation, self.output = weights, activation, output
        self.activation_threshold, self.offset, self.init_range = float(activation_threshold), float(offset), init_range
        super().__init__(in_features, hidden_sizes, out_features, omega_0=1.0, init="siren", readout=readout,
                         dtype=dtype, generator=generator)
        sizes = [in_features, *self.hidden_sizes]
        if scales == "auto":
            self.scales = [1.0] + [min(math.pi / 2, math.pi / 2 ** (math.floor(math.log2(f)) - 1))
                                   for f in sizes[1:-1]]
        else:
            self.scales = [float(s) for s in scales]
            if len(self.scales) != len(self.hidden_sizes):
                raise ValueError(f"scales needs one entry per hidden layer ({len(self.hidden_sizes)}), "
                                 f"got {len(self.scales)}")

    @property
    def weight_levels(self) -> torch.Tensor:
        """The values a quantised weight can take."""
        if self.weight_kind == "binary":
            return kbit_levels(1, self.dtype)
        if self.weight_kind == "ternary":
            return torch.tensor([-1.0, 0.0, 1.0], dtype=self.dtype)
        return kbit_levels(int(self.weight_kind), self.dtype)

    def init_weights(self, batch: Sequence[int] = (), generator: torch.Generator | None = None,
                     device: torch.device | str = "cpu") -> list[torch.Tensor]:
        """Latent weights U(-init_range, init_range) with leading ``batch`` dimensions."""
        return [(2 * torch.rand((*batch, o, i), generator=generator, dtype=self.dtype, device=device) - 1)
                * self.init_range for o, i in self.shapes]

    def quantize_weight(self, w: torch.Tensor) -> torch.Tensor:
        """``Q(w)``: the discrete weight of a latent weight (straight-through)."""
        if self.weight_kind == "ternary":
            return ternarize(w)
        if self.weight_kind == "binary":
            return _ste(w, torch.where(w >= 0, 1.0, -1.0).to(w.dtype))
        return quantize_levels(w, self.weight_levels)

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        """``A(z)``: the quantised sine output (integer valued)."""
        s = torch.sin(z)
        if self.activation == "ternary":
            return ternarize(s, self.activation_threshold)
        amp = 2 ** (int(self.activation) - 1) - 1
        return _ste(s * amp, torch.round(s * amp))

    def forward_with(self, weights: Sequence[torch.Tensor], x: torch.Tensor, *,
                     quantized: bool = False) -> torch.Tensor:
        """Batched forward; ``quantized=True`` skips ``Q`` (``weights`` already hold discrete values,
        as in the enumeration of all weight configurations)."""
        qw = list(weights) if quantized else [self.quantize_weight(w) for w in weights]
        h = x
        n_sine = len(self.hidden_sizes)
        for l in range(n_sine):
            z = h @ qw[l].transpose(-1, -2)
            h = self.activate(self.scales[l] * z + self.offset)
        y = h.sum(-1, keepdim=True) if self.readout == "sum" else h @ qw[n_sine].transpose(-1, -2)
        return ternarize(y) if self.output == "ternary" else y

    def discrete_weights(self) -> list[torch.Tensor]:
        """The quantised weights of this module (detached)."""
        return [self.quantize_weight(w.detach()) for w in self.weights]

    def unflatten(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Split ``[..., num_weights]`` into per-layer ``[..., out, in]`` tensors (row-major order)."""
        if flat.shape[-1] != self.num_weights:
            raise ValueError(f"flat weights need last dimension {self.num_weights}, got {flat.shape[-1]}")
        out, k = [], 0
        for o, i in self.shapes:
            out.append(flat[..., k:k + o * i].reshape(*flat.shape[:-1], o, i))
            k += o * i
        return out


def toy_sinnn(generator: torch.Generator | None = None) -> SinNN:
    """v1 continuous toy ``y = sin(w1 x) + sin(w2 x)``, weights N(0, 1), float64 (arXiv:2410.22016)."""
    return SinNN(1, [2], 1, omega_0=1.0, init="normal", dtype=torch.float64, generator=generator)


def toy_dsinnn(generator: torch.Generator | None = None) -> DSinNN:
    """v1 discrete toy ``y = T(T(sin(T(w1) x)) + T(sin(T(w2) x)))``, latent U(-2, 2) (arXiv:2410.22016)."""
    return DSinNN(1, [2], 1, weights="ternary", activation="ternary", output="ternary", scales=[1.0],
                  init_range=2.0, generator=generator)


def deep_sinnn(width: int, depth: int, generator: torch.Generator | None = None) -> SinNN:
    """v2 deep SinNN: widths :func:`deep_widths`, first layer ``sin(20 W x)``, SIREN init."""
    return SinNN(1, deep_widths(width, depth), 1, omega_0=20.0, init="siren", dtype=torch.float32,
                 generator=generator)


def deep_dsinnn(width: int, depth: int, generator: torch.Generator | None = None) -> DSinNN:
    """v2 deep DSinNN: binary weights, ternary activations with threshold 0.1, offset +0.1, hidden scale
    ``min(pi/2, pi/2^(m-1))``, plain-sum output."""
    return DSinNN(1, deep_widths(width, depth), 1, weights="binary", activation="ternary",
                  activation_threshold=0.1, offset=0.1, output=None, init_range=1.0, dtype=torch.float32,
                  generator=generator)


def binary_dsinnn(hidden: int, in_features: int = 1, generator: torch.Generator | None = None) -> DSinNN:
    """``y = sum_j T(sin(w_j . x))``: binary weights, ternary sines (dead zone 1e-6), angle scale 1,
    plain-sum output: the network of :func:`qtrain.data.random_instance` and of the gate-level
    circuit (one qubit per weight)."""
    return DSinNN(in_features, [hidden], 1, weights="binary", activation="ternary", output=None,
                  scales=[1.0], generator=generator)
