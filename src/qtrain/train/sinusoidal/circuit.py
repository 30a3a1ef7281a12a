"""Gate-level quantum training circuit of a discrete sinusoidal network.

The network: a :class:`~qtrain.nn.DSinNN` with one input, one hidden layer of ``H`` neurons, binary
weights {-1, +1} (one qubit each), integer-valued sine outputs, a plain-sum readout and an optional
ternary output. Inputs lie on the angle grid ``x = a * pi / 2^(k-1)`` (``k = angle_bits``).

Registers (``qubits[0]`` least significant): ``w`` weights (bit 1 = weight +1), ``x`` the input in
sign-magnitude (magnitude bits, then the sign bit), ``s`` one neuron's output and ``acc`` the neuron
sum (two's complement, same width), ``carry`` (the adder's ancilla), ``out`` (the ternary output,
when the net has one) and ``pe`` (phase estimation, ``t`` qubits).

Blocks, each a reversible circuit checked in the tests:

* :func:`quarter_sine` -- ``|a>|z> -> |a>|z XOR sin(a pi/2)>`` from CNOTs and Toffolis alone: the
  low magnitude bit of ``a`` is the magnitude of the sine, ``sign(a) XOR a_1`` its sign.
* :func:`lookup` -- the general reversible table ``|a>|z> -> |a>|z XOR f(a)>`` (a QROM of
  multi-controlled X gates).
* :func:`cuccaro_add` -- ``|s>|acc>|0> -> |s>|acc + s mod 2^m>|0>`` (Cuccaro et al.,
  arXiv:quant-ph/0410184), a permutation.
* :func:`loss_phase` -- diagonal: ``exp(2 pi i * 2^j * scale * c_p(v) / 2^t)`` on prediction ``v``.
* :func:`threshold_oracle` -- diagonal sign flip of the phase-estimation outcomes that beat a
  threshold; :func:`diffusion` and :func:`inverse_qft` come from :mod:`qtrain.quantum.builders`.

References:
    Wen, Huang, Dahlsten, arXiv:2410.22016; Cuccaro et al., arXiv:quant-ph/0410184;
    Durr & Hoyer, arXiv:quant-ph/9607014; Boyer, Brassard, Hoyer, Tapp, arXiv:quant-ph/9605034.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from qtrain.nn.sinusoidal import DSinNN
from qtrain.quantum import Circuit, builders

__all__ = ["SineCircuitSpec", "cuccaro_add", "diffusion", "grover_circuit", "grover_step", "inverse_qft", "lookup",
           "loss_phase", "network_block", "oracle_circuit", "phase_estimation_circuit", "quarter_sine",
           "threshold_oracle", "twos", "sign_magnitude"]


def twos(v: int, width: int) -> int:
    """Two's-complement code of ``v`` in ``width`` bits."""
    return v % (1 << width)


def from_twos(code: int, width: int) -> int:
    return code - (1 << width) if code >> (width - 1) else code


def sign_magnitude(a: int, mag_bits: int) -> int:
    """Sign-magnitude code of ``a``: magnitude in the low ``mag_bits`` bits, then the sign bit."""
    if abs(a) >= 1 << mag_bits:
        raise ValueError(f"|a| = {abs(a)} needs more than {mag_bits} magnitude bits")
    return abs(a) | ((a < 0) << mag_bits)


def _flip_to(circ: Circuit, qubits: Sequence[int], code: int) -> None:
    """X on the qubits whose bit in ``code`` is 0 (turns 'equals code' into 'all ones')."""
    for i, q in enumerate(qubits):
        if not (code >> i) & 1:
            circ.x(q)


def lookup(circ: Circuit, address: Sequence[int], target: Sequence[int], table: Callable[[int], int]) -> Circuit:
    """Reversible table lookup ``|a>|z> -> |a>|z XOR table(a)>`` (a QROM): for every address value
    with a non-zero entry, one multi-controlled X per set bit of the entry. Self-inverse."""
    for code in range(1 << len(address)):
        val = table(code)
        if val == 0:
            continue
        if val >> len(target):
            raise ValueError(f"table value {val} does not fit the {len(target)}-qubit target")
        _flip_to(circ, address, code)
        for i, q in enumerate(target):
            if (val >> i) & 1:
                circ.mcx(list(address), q)
        _flip_to(circ, address, code)
    return circ


def quarter_sine(circ: Circuit, angle: Sequence[int], target: Sequence[int]) -> Circuit:
    """``|a>|z> -> |a>|z XOR code(sin(a pi / 2))>`` for a sign-magnitude angle register ``angle``
    (magnitude bits then sign bit, at least two magnitude bits) and a two's-complement target:
    ``z_0 ^= a_0``; ``z_i ^= a_0 (sign XOR a_1)`` for ``i >= 1``. CNOTs and Toffolis only."""
    if len(angle) < 3:
        raise ValueError("quarter_sine needs at least two magnitude bits and a sign bit")
    a0, a1, sign = angle[0], angle[1], angle[-1]
    circ.cx(a0, target[0])
    circ.cx(a1, sign)
    for q in target[1:]:
        circ.ccx(a0, sign, q)
    circ.cx(a1, sign)
    return circ


def cuccaro_add(circ: Circuit, a: Sequence[int], b: Sequence[int], carry: int) -> Circuit:
    """Ripple-carry adder ``|a>|b>|0> -> |a>|a + b mod 2^m>|0>`` (Cuccaro et al.,
    arXiv:quant-ph/0410184): MAJ gates up the register, UMA gates down; 2m Toffolis."""
    if len(a) != len(b) or not a:
        raise ValueError(f"a and b need the same positive width, got {len(a)} and {len(b)}")
    m = len(a)
    prev = [carry, *a[:-1]]
    for i in range(m):  # MAJ(prev_i, b_i, a_i)
        circ.cx(a[i], b[i]).cx(a[i], prev[i]).ccx(prev[i], b[i], a[i])
    for i in reversed(range(m)):  # UMA(prev_i, b_i, a_i)
        circ.ccx(prev[i], b[i], a[i]).cx(a[i], prev[i]).cx(prev[i], b[i])
    return circ


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


def network_block(spec: SineCircuitSpec, circ: Circuit, p: int) -> Circuit:
    """Compute the network's prediction on point ``p`` into ``acc`` (and ``out``): load ``a_p`` into
    ``x`` (X gates), then per neuron ``j``: flip the sign of ``x`` when ``w_j = 0`` (weight -1), look
    up the sine into ``s``, restore the sign, add ``s`` into ``acc``, and clear ``s`` by the same lookup."""
    w, x, s, acc, carry = (circ[r] for r in ("w", "x", "s", "acc", "carry"))
    mb, ab = spec.mag_bits, spec.acc_bits
    code = sign_magnitude(spec.codes[p], mb)
    for i, q in enumerate(x):  # load the classical input: X where the code has a 1
        if (code >> i) & 1:
            circ.x(q)

    def neuron_lookup(j: int) -> None:
        circ.cx(w[j], x[-1]).x(x[-1])
        if spec.angle_bits == 2 and spec.amp == 1:
            quarter_sine(circ, list(x), list(s))
        else:
            lookup(circ, list(x), list(s), lambda c: twos(spec.table[c], ab))
        circ.x(x[-1]).cx(w[j], x[-1])

    for j in range(spec.hidden):
        neuron_lookup(j)
        cuccaro_add(circ, list(s), list(acc), carry[0])
        neuron_lookup(j)
    if spec.ternary_out:
        lookup(circ, list(acc), list(circ["out"]),
               lambda c: twos(int(math.copysign(1, from_twos(c, ab))) if from_twos(c, ab) else 0, 2))
    return circ


def _prediction(spec: SineCircuitSpec, circ: Circuit) -> tuple[list[int], int]:
    reg = circ["out"] if spec.ternary_out else circ["acc"]
    return list(reg), len(reg)


def loss_phase(spec: SineCircuitSpec, circ: Circuit, p: int, control: int | None, power: int = 1) -> Circuit:
    """Diagonal ``exp(2 pi i * power * scale * c_p(v) / 2^t)`` on the prediction register ``v``
    (controlled by ``control``, a phase-estimation qubit)."""
    qubits, width = _prediction(spec, circ)
    angles = [2 * math.pi * power * spec.scale * spec.point_cost(p, from_twos(c, width)) / 2**spec.t
              for c in range(1 << width)]
    if control is None:
        return circ.phase(angles, qubits, label=f"loss_phase[{p}]")
    return circ.add("diagonal", qubits, [control], (), torch.polar(torch.ones(len(angles), dtype=torch.float64),
                                                                     torch.tensor(angles, dtype=torch.float64)),
                    label=f"loss_phase[{p}]")


def data_pass(spec: SineCircuitSpec, control: int | None = None, power: int = 1) -> Circuit:
    """``U`` (or ``U^power`` controlled on ``control``): for every point, compute the network, kick the
    loss phase, uncompute. ``U |w>|0> = exp(2 pi i scale C(w) / 2^t) |w>|0>``."""
    circ = spec.new_circuit()
    for p in range(len(spec.codes)):
        block = network_block(spec, spec.new_circuit(), p)
        circ.compose(block)
        loss_phase(spec, circ, p, control, power)
        circ.compose(block.inverse())
    return circ


def inverse_qft(circ: Circuit, qubits: Sequence[int]) -> Circuit:
    """Inverse QFT ``|y> -> 2^(-t/2) sum_m exp(-2 pi i y m / 2^t) |m>`` on ``qubits`` (``qubits[0]`` least
    significant), composed from :func:`qtrain.quantum.builders.inverse_qft`."""
    return circ.compose(builders.inverse_qft(len(qubits)), list(qubits))


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
            block = network_block(spec, spec.new_circuit(), p)
            circ.compose(block)
            for j, q in enumerate(pe):
                loss_phase(spec, circ, p, q, power=2**j)
            circ.compose(block.inverse())
    return inverse_qft(circ, pe)


def threshold_oracle(circ: Circuit, pe: Sequence[int], marked: Callable[[int], bool]) -> Circuit:
    """Diagonal ``(-1)^[marked(m)]`` on the phase-estimation outcome ``m``."""
    circ.diagonal([(-1.0 if marked(m) else 1.0) for m in range(1 << len(pe))], list(pe), label="threshold")
    return circ


def oracle_circuit(spec: SineCircuitSpec, marked: Callable[[int], bool], repeat: bool = True) -> Circuit:
    """One oracle call: phase estimation, threshold sign flip, uncomputation (inverse phase estimation)."""
    pe = phase_estimation_circuit(spec, repeat)
    circ = spec.new_circuit().compose(pe)
    threshold_oracle(circ, list(circ["pe"]), marked)
    return circ.compose(pe.inverse())


def diffusion(circ: Circuit, qubits: Sequence[int]) -> Circuit:
    """Grover diffusion ``I - 2|s><s|`` on ``qubits`` (:func:`qtrain.quantum.builders.diffusion`)."""
    return circ.compose(builders.diffusion(len(qubits)), list(qubits))


def grover_step(spec: SineCircuitSpec, marked: Callable[[int], bool], repeat: bool = True) -> Circuit:
    """One Grover iteration: the oracle (:func:`oracle_circuit`), then diffusion on ``w``."""
    step = oracle_circuit(spec, marked, repeat)
    return diffusion(step, list(step["w"]))


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
