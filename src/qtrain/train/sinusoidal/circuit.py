"""Gate-level quantum training circuit of a discrete sinusoidal network: the DSinNN-specific wiring.

The network: a :class:`~qtrain.nn.DSinNN` with one input, one hidden layer of ``H`` neurons, binary
weights {-1, +1} (one qubit each), integer-valued sine outputs, a plain-sum readout and an optional
ternary output. Inputs lie on the angle grid ``x = a * pi / 2^(k-1)`` (``k = angle_bits``).

Registers (``qubits[0]`` least significant): ``w`` weights (bit 1 = weight +1), ``x`` the input in
sign-magnitude (magnitude bits, then the sign bit), ``s`` one neuron's output and ``acc`` the neuron
sum (two's complement, same width), ``carry`` (the adder's ancilla), ``out`` (the ternary output,
when the net has one) and ``pe`` (phase estimation, ``t`` qubits).

The generic blocks come from :mod:`qtrain.quantum.arithmetic` (the quarter-turn sine
:func:`~qtrain.quantum.arithmetic.quarter_sine` from CNOTs and Toffolis, the QROM
:func:`~qtrain.quantum.arithmetic.lookup` for other sines and the ternary output, the Cuccaro adder
:func:`~qtrain.quantum.arithmetic.cuccaro_add`) and :mod:`qtrain.quantum.builders` (diffusion, the
inverse QFT). This module wires them to the network, each block a new circuit over the spec's
registers, checked in the tests:

* :func:`network_block` -- the prediction on one training point into ``acc`` (and ``out``);
* :func:`loss_phase` -- diagonal: ``exp(2 pi i * 2^j * scale * c_p(v) / 2^t)`` on prediction ``v``;
* :func:`data_pass`, :func:`phase_estimation_circuit` -- the cost unitary and its phase estimation;
* :func:`threshold_oracle` -- diagonal sign flip of the phase-estimation outcomes that beat a
  threshold; :func:`oracle_circuit`, :func:`grover_step`, :func:`grover_circuit`.

References:
    Wen, Huang, Dahlsten, arXiv:2410.22016; Cuccaro et al., arXiv:quant-ph/0410184;
    Durr & Hoyer, arXiv:quant-ph/9607014; Boyer, Brassard, Hoyer, Tapp, arXiv:quant-ph/9605034.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from qtrain.nn.sinusoidal import DSinNN
from qtrain.quantum import Circuit, builders
from qtrain.quantum.arithmetic import cuccaro_add, from_twos, lookup, quarter_sine, sign_magnitude, twos

__all__ = ["SineCircuitSpec", "data_pass", "grover_circuit", "grover_step", "loss_phase", "network_block",
           "oracle_circuit", "phase_estimation_circuit", "spec_from_model", "threshold_oracle"]


@dataclass(frozen=True)
class SineCircuitSpec:
    """Shape of the gate-level circuit of one network and data set (see the module docstring).

    Attributes:
        hidden: number of hidden neurons ``H`` (= weight qubits).
        angle_bits: ``k``: inputs in units of ``pi / 2^(k-1)``.
        codes: input integers ``a_p``; targets: integer targets ``y_p``.
        amp: largest |neuron output| (1 for ternary sines).
        table: neuron output for angle code ``a`` (sign-magnitude), precomputed.
        ternary_out: whether the summed output is ternarised.
        cost: "count" or "mse"; cap: per-point squared-error cap (mse).
        t: phase-estimation qubits; scale: cost scale (phase = scale * C / 2^t turns).
    """

    hidden: int
    angle_bits: int
    codes: tuple[int, ...]
    targets: tuple[int, ...]
    amp: int
    table: tuple[int, ...]
    ternary_out: bool
    cost: str
    cap: int | None
    t: int
    scale: float

    @property
    def mag_bits(self) -> int:
        return max(2, max(abs(a) for a in self.codes).bit_length())

    @property
    def acc_bits(self) -> int:
        return (self.hidden * self.amp).bit_length() + 1

    def register_sizes(self) -> dict[str, int]:
        sizes = {"w": self.hidden, "x": self.mag_bits + 1, "s": self.acc_bits, "acc": self.acc_bits, "carry": 1}
        if self.ternary_out:
            sizes["out"] = 2
        sizes["pe"] = self.t
        return sizes

    @property
    def num_qubits(self) -> int:
        return sum(self.register_sizes().values())

    def point_cost(self, p: int, v: int) -> int:
        """Integer cost contribution of prediction ``v`` on point ``p`` (what the phase encodes)."""
        y = self.targets[p]
        if self.cost == "count":
            return int(v == y)
        e = (v - y) ** 2
        return e if self.cap is None else min(e, self.cap)

    def new_circuit(self) -> Circuit:
        return Circuit.with_registers(**self.register_sizes())


def spec_from_model(model: DSinNN, x: torch.Tensor, y: torch.Tensor, *, angle_bits: int, cost: str,
                    cap: int | None, t: int, scale: float) -> SineCircuitSpec:
    """The circuit spec of a gate-level-compatible ``model`` on data ``(x, y)``; ``ValueError`` naming
    what to change for models or data outside the circuit's scope."""
    if model.in_features != 1 or len(model.hidden_sizes) != 1 or model.readout != "sum":
        raise ValueError("the gate-level circuit supports DSinNN(1, [H], 1) with readout='sum'; "
                         f"got in_features={model.in_features}, hidden_sizes={model.hidden_sizes}, "
                         f"readout={model.readout!r} (use level='semantic')")
    if model.offset != 0:
        raise ValueError(f"the gate-level circuit needs offset=0, got {model.offset}")
    unit = math.pi / 2 ** (angle_bits - 1)
    codes = torch.round(x[:, 0].double() / unit)
    if (y - torch.round(y)).abs().max() > 1e-9:
        raise ValueError("the gate-level circuit needs integer targets y")
    scale_l = model.scales[0]
    a_max = int(codes.abs().max())
    mag_bits = max(2, a_max.bit_length())
    amp = 1 if model.activation == "ternary" else 2 ** (int(model.activation) - 1) - 1
    table = []
    for code in range(1 << (mag_bits + 1)):
        a = (code & ((1 << mag_bits) - 1)) * (-1 if code >> mag_bits else 1)
        z = torch.tensor([[scale_l * a * unit]], dtype=torch.float64)
        table.append(int(model.activate(z).item()))
    return SineCircuitSpec(model.hidden_sizes[0], angle_bits, tuple(int(c) for c in codes),
                           tuple(int(v) for v in torch.round(y[:, 0])), amp, tuple(table),
                           model.output == "ternary", cost, cap, t, scale)


def _sine_block(spec: SineCircuitSpec) -> Circuit:
    """One neuron's sine of ``x`` into ``s`` (registers ``angle``, ``target``): the quarter-turn
    circuit for ternary sines on the pi/2 grid, else a QROM of the precomputed table."""
    if spec.angle_bits == 2 and spec.amp == 1:
        return quarter_sine(spec.mag_bits + 1, spec.acc_bits)
    return lookup([twos(v, spec.acc_bits) for v in spec.table], target_bits=spec.acc_bits)


def _ternary(code: int, width: int) -> int:
    """Two-bit two's-complement code of the sign of the ``width``-bit two's-complement ``code``."""
    v = from_twos(code, width)
    return twos(int(math.copysign(1, v)) if v else 0, 2)


def network_block(spec: SineCircuitSpec, p: int) -> Circuit:
    """The network's prediction on point ``p`` computed into ``acc`` (and ``out``), over the spec's
    registers: load ``a_p`` into ``x`` (X gates), then per neuron ``j``: flip the sign of ``x`` when
    ``w_j = 0`` (weight -1), look up the sine into ``s``, restore the sign, add ``s`` into ``acc``,
    and clear ``s`` by the same lookup."""
    circ = spec.new_circuit()
    w, x, s, acc, carry = (circ[r] for r in ("w", "x", "s", "acc", "carry"))
    code = sign_magnitude(spec.codes[p], spec.mag_bits)
    for i, q in enumerate(x):  # load the classical input: X where the code has a 1
        if (code >> i) & 1:
            circ.x(q)
    # built once per point and placed twice per neuron: composing a block is cheaper than building it
    sine, xs = _sine_block(spec), [*x, *s]
    adder, sa = cuccaro_add(spec.acc_bits), [*s, *acc, carry[0]]

    def neuron_lookup(j: int) -> None:
        circ.cx(w[j], x[-1]).x(x[-1])
        circ.compose(sine, xs)
        circ.x(x[-1]).cx(w[j], x[-1])

    for j in range(spec.hidden):
        neuron_lookup(j)
        circ.compose(adder, sa)
        neuron_lookup(j)
    if spec.ternary_out:
        ab = spec.acc_bits
        circ.compose(lookup([_ternary(c, ab) for c in range(1 << ab)], target_bits=2), [*acc, *circ["out"]])
    return circ


def loss_phase(spec: SineCircuitSpec, p: int, control: int | None = None, power: int = 1) -> Circuit:
    """Diagonal ``exp(2 pi i * power * scale * c_p(v) / 2^t)`` on the prediction register ``v``
    (``out`` for a ternary output, else ``acc``), over the spec's registers, controlled by
    ``control`` (a phase-estimation qubit) when given."""
    circ = spec.new_circuit()
    reg = circ["out"] if spec.ternary_out else circ["acc"]
    width = len(reg)
    angles = [2 * math.pi * power * spec.scale * spec.point_cost(p, from_twos(c, width)) / 2**spec.t
              for c in range(1 << width)]
    if control is None:
        return circ.phase(angles, reg, label=f"loss_phase[{p}]")
    return circ.add("diagonal", reg, [control], (), torch.polar(torch.ones(len(angles), dtype=torch.float64),
                                                                 torch.tensor(angles, dtype=torch.float64)),
                    label=f"loss_phase[{p}]")


def data_pass(spec: SineCircuitSpec, control: int | None = None, power: int = 1) -> Circuit:
    """``U`` (or ``U^power`` controlled on ``control``): for every point, compute the network, kick the
    loss phase, uncompute. ``U |w>|0> = exp(2 pi i scale C(w) / 2^t) |w>|0>``."""
    circ = spec.new_circuit()
    for p in range(len(spec.codes)):
        block = network_block(spec, p)
        circ.compose(block)
        circ.compose(loss_phase(spec, p, control, power))
        circ.compose(block.inverse())
    return circ


def phase_estimation_circuit(spec: SineCircuitSpec, repeat: bool = True) -> Circuit:
    """Phase estimation of ``U`` with the ``pe`` register: H on ``pe``, controlled ``U^(2^j)``, inverse QFT.

    ``repeat=True`` builds controlled ``U^(2^j)`` as ``2^j`` repetitions of the data pass with the loss
    phase controlled by ``pe_j`` (the paper's construction, used for resource counts).
    ``repeat=False`` computes the network once per point and kicks ``exp(2 pi i 2^j phi_p)`` for every
    ``j`` before uncomputing: the same unitary (tested), ``2^t - 1`` times fewer network evaluations.
    """
    circ = spec.new_circuit()
    pe = list(circ["pe"])
    circ.h(pe)
    if repeat:
        for j, q in enumerate(pe):
            rep = data_pass(spec, control=q)
            for _ in range(2**j):
                circ.compose(rep)
    else:
        for p in range(len(spec.codes)):
            block = network_block(spec, p)
            circ.compose(block)
            for j, q in enumerate(pe):
                circ.compose(loss_phase(spec, p, q, power=2**j))
            circ.compose(block.inverse())
    return circ.compose(builders.inverse_qft(spec.t), pe)


def threshold_oracle(t: int, marked: Callable[[int], bool]) -> Circuit:
    """Diagonal ``(-1)^[marked(m)]`` on the phase-estimation outcome ``m``: register ``pe`` of
    ``t`` qubits."""
    circ = Circuit.with_registers(pe=t)
    return circ.diagonal([(-1.0 if marked(m) else 1.0) for m in range(1 << t)], circ["pe"], label="threshold")


def oracle_circuit(spec: SineCircuitSpec, marked: Callable[[int], bool], repeat: bool = True) -> Circuit:
    """One oracle call: phase estimation, threshold sign flip, uncomputation (inverse phase estimation)."""
    pe = phase_estimation_circuit(spec, repeat)
    circ = spec.new_circuit().compose(pe)
    circ.compose(threshold_oracle(spec.t, marked), circ["pe"])
    return circ.compose(pe.inverse())


def grover_step(spec: SineCircuitSpec, marked: Callable[[int], bool], repeat: bool = True) -> Circuit:
    """One Grover iteration: the oracle (:func:`oracle_circuit`), then diffusion on ``w``."""
    step = oracle_circuit(spec, marked, repeat)
    return step.compose(builders.diffusion(spec.hidden), step["w"])


def grover_circuit(spec: SineCircuitSpec, marked: Callable[[int], bool], iterations: int,
                   repeat: bool = True) -> Circuit:
    """Uniform superposition on ``w``, then ``iterations`` Grover steps (oracle, diffusion)."""
    circ = spec.new_circuit()
    w = list(circ["w"])
    circ.h(w)
    if iterations:
        step = grover_step(spec, marked, repeat)
        for _ in range(iterations):
            circ.compose(step)
    return circ
