"""Reversible arithmetic: table lookup (QROM), comparison, addition, a quarter-turn sine, and the
integer encodings they act on.

Each block returns a new :class:`~qtrain.quantum.circuit.Circuit` with named registers, the calling
style of :mod:`qtrain.quantum.builders`; a caller places it with ``circ.compose(block, qubits)``,
``qubits`` listing the block's registers in order. Registers are little-endian (``qubits[0]`` is the
least significant bit). The blocks are permutations of the computational basis (the comparator a
diagonal sign), built from X, CX, CCX and multi-controlled X/Z gates without ancillas beyond the
adder's carry; the tests check each on every basis state of small registers.

References:
    Babbush et al., arXiv:1805.03662 (QROM); Cuccaro et al., arXiv:quant-ph/0410184 (adder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from qtrain.quantum.circuit import Circuit

__all__ = ["cuccaro_add", "from_twos", "less_than_phase", "lookup", "quarter_sine", "sign_magnitude", "twos"]


def twos(v: int, width: int) -> int:
    """Two's-complement code of ``v`` in ``width`` bits: ``v mod 2^width``.

    Example:
        >>> twos(-1, 3), twos(2, 3)
        (7, 2)
    """
    return v % (1 << width)


def from_twos(code: int, width: int) -> int:
    """The integer of a ``width``-bit two's-complement ``code``: ``code - 2^width`` when the top
    bit is set, else ``code`` (the inverse of :func:`twos` on ``[-2^(width-1), 2^(width-1))``).

    Example:
        >>> from_twos(7, 3), from_twos(2, 3)
        (-1, 2)
    """
    return code - (1 << width) if code >> (width - 1) else code


def sign_magnitude(a: int, mag_bits: int) -> int:
    """Sign-magnitude code of ``a``: ``|a|`` in the low ``mag_bits`` bits, then the sign bit
    (1 for ``a < 0``).

    Raises:
        ValueError: ``|a| >= 2^mag_bits``.

    Example:
        >>> sign_magnitude(-3, 2)
        7
    """
    if abs(a) >= 1 << mag_bits:
        raise ValueError(f"|a| = {abs(a)} needs more than {mag_bits} magnitude bits")
    return abs(a) | ((a < 0) << mag_bits)


def _table(values: Sequence[int] | torch.Tensor | Callable[[int], int], address_bits: int | None) -> list[int]:
    """The lookup's entries as Python ints: ``values`` itself, or ``values(a)`` for every address."""
    if callable(values):
        if address_bits is None:
            raise ValueError("lookup needs address_bits when values is a callable")
        return [int(values(a)) for a in range(1 << address_bits)]
    table = torch.as_tensor(values).to(torch.int64).reshape(-1).tolist()
    if address_bits is not None and len(table) != 1 << address_bits:
        raise ValueError(f"values must have 2^{address_bits} = {1 << address_bits} entries, got {len(table)}")
    return table


def lookup(values: Sequence[int] | torch.Tensor | Callable[[int], int], *, address_bits: int | None = None,
           target_bits: int | None = None) -> Circuit:
    """QROM ``|a>|z> -> |a>|z XOR v(a)>`` on registers ``address`` and ``target``.

    For every address ``a`` with ``v(a) != 0``: X on the address qubits whose bit of ``a`` is 0,
    one ``|address|``-controlled X on each target qubit of a set bit of ``v(a)``, then the same X
    gates again (Babbush et al., arXiv:1805.03662, the unary-iteration-free form). Self-inverse.

    Args:
        values: the table: ``2^n`` non-negative integers (a sequence or an integer tensor), or a
            callable ``a -> v(a)`` evaluated on every address.
        address_bits: ``n`` (default: ``log2 len(values)``; required for a callable).
        target_bits: width of ``target`` (default: the fewest bits that hold every value, at
            least 1).

    Returns:
        A circuit with registers ``address`` (``n`` qubits) and ``target``.

    Raises:
        ValueError: a table whose length is not a power of two of at least 2 (or not
            ``2^address_bits``), a callable without ``address_bits``, or a value outside
            ``[0, 2^target_bits)``.

    Example:
        >>> circ = lookup([0, 3, 1, 2])  # 2 address bits, 2 target bits
        >>> circ.count_ops(), list(circ.registers)
        ({'ccx': 4, 'x': 4}, ['address', 'target'])
    """
    table = _table(values, address_bits)
    n = len(table).bit_length() - 1
    if len(table) < 2 or len(table) != 1 << n:
        raise ValueError(f"values must have a power-of-two number of entries >= 2, got {len(table)}")
    b = max(1, max(table).bit_length()) if target_bits is None else int(target_bits)
    if min(table) < 0 or max(table) >= 1 << b:
        raise ValueError(f"values must lie in [0, 2^{b}) for a {b}-qubit target register")
    circ = Circuit.with_registers(address=n, target=b)
    address, target = list(circ["address"]), list(circ["target"])
    for a, v in enumerate(table):
        if v == 0:
            continue
        zeros = [address[i] for i in range(n) if not (a >> i) & 1]
        circ.x(zeros)
        for i in range(b):
            if (v >> i) & 1:
                circ.mcx(address, target[i])
        circ.x(zeros)
    return circ


def less_than_phase(num_bits: int, threshold: int) -> Circuit:
    """Phase comparator ``|v> -> (-1)^[v < T] |v>`` against a classical integer ``T``, on
    register ``value`` (``num_bits`` qubits).

    ``v < T`` iff for some bit ``i`` with ``T_i = 1``, ``v_i = 0`` and ``v`` agrees with ``T`` above
    ``i``; these cases are disjoint, so the oracle is one multi-controlled Z per set bit of ``T``
    (zero bits conjugated with X). No ancillas. ``T <= 0`` gives the empty circuit, ``T >= 2^b``
    a global -1.

    Example:
        >>> less_than_phase(2, 2).count_ops()  # T = 0b10: v < 2 iff v_1 = 0
        {'x': 2, 'z': 1}
    """
    b, T = int(num_bits), int(threshold)
    circ = Circuit.with_registers(value=b)
    register = list(circ["value"])
    if T <= 0:
        return circ
    if T >= 2**b:
        circ.x(register[0]).z(register[0]).x(register[0]).z(register[0])  # global -1
        return circ
    for i in range(b):
        if not (T >> i) & 1:
            continue
        qs = register[i:]
        flip = [register[j] for j in range(i, b) if not (T >> j) & 1 or j == i]
        circ.x(flip)
        if len(qs) == 1:
            circ.z(qs[0])
        else:
            circ.mcz(qs[:-1], qs[-1])
        circ.x(flip)
    return circ


def cuccaro_add(num_bits: int) -> Circuit:
    """Ripple-carry adder ``|a>|b>|0> -> |a>|a + b mod 2^m>|0>`` on registers ``a``, ``b`` (``m``
    qubits each) and ``carry`` (one clean ancilla): MAJ gates up the register, UMA gates down;
    ``2m`` Toffolis (Cuccaro et al., arXiv:quant-ph/0410184). A permutation.

    Raises:
        ValueError: ``num_bits < 1``.

    Example:
        >>> cuccaro_add(3).count_ops()
        {'ccx': 6, 'cx': 12}
    """
    if isinstance(num_bits, bool) or not isinstance(num_bits, int) or num_bits < 1:
        raise ValueError(f"num_bits must be a positive integer, got {num_bits!r}")
    circ = Circuit.with_registers(a=num_bits, b=num_bits, carry=1)
    a, b = list(circ["a"]), list(circ["b"])
    prev = [circ["carry"][0], *a[:-1]]
    for i in range(num_bits):  # MAJ(prev_i, b_i, a_i)
        circ.cx(a[i], b[i]).cx(a[i], prev[i]).ccx(prev[i], b[i], a[i])
    for i in reversed(range(num_bits)):  # UMA(prev_i, b_i, a_i)
        circ.ccx(prev[i], b[i], a[i]).cx(a[i], prev[i]).cx(prev[i], b[i])
    return circ


def quarter_sine(angle_bits: int, target_bits: int) -> Circuit:
    """``|a>|z> -> |a>|z XOR twos(sin(a pi / 2))>`` on registers ``angle`` (sign-magnitude:
    magnitude bits, then the sign bit; at least two magnitude bits) and ``target`` (two's
    complement): ``z_0 ^= a_0``; ``z_i ^= a_0 (sign XOR a_1)`` for ``i >= 1``. CNOTs and Toffolis
    only: the low magnitude bit is ``|sin|``, ``sign XOR a_1`` the sign of the sine.

    Raises:
        ValueError: fewer than three angle bits.

    Example:
        >>> quarter_sine(3, 2).count_ops()
        {'ccx': 1, 'cx': 3}
    """
    if angle_bits < 3:
        raise ValueError("quarter_sine needs at least two magnitude bits and a sign bit")
    circ = Circuit.with_registers(angle=angle_bits, target=target_bits)
    angle, target = circ["angle"], circ["target"]
    a0, a1, sign = angle[0], angle[1], angle[-1]
    circ.cx(a0, target[0])
    circ.cx(a1, sign)
    for q in target[1:]:
        circ.ccx(a0, sign, q)
    return circ.cx(a1, sign)
