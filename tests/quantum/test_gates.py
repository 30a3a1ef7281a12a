"""Gates: base matrices, inverses, the action on amplitudes, the checks, and the engine's import order."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

import qtrain.quantum
from qtrain.quantum.gates import Gate, apply_gate, check_gate, gate_matrix

C128 = torch.complex128
_ONE_QUBIT = [("h", ()), ("x", ()), ("y", ()), ("z", ()), ("s", ()), ("sdg", ()), ("t", ()), ("tdg", ()),
              ("rx", (0.7,)), ("ry", (-1.1,)), ("rz", (2.3,)), ("p", (0.4,)), ("u", (0.3, -0.8, 1.9))]


def _dense(n: int, g: Gate) -> torch.Tensor:
    """The gate's full ``2^n`` operator from the index convention (column = image of a basis state)."""
    U = g.matrix(C128)
    out = torch.zeros(2**n, 2**n, dtype=C128)
    for col in range(2**n):
        if any(not (col >> c) & 1 for c in g.controls):
            out[col, col] = 1
            continue
        sub = sum(((col >> t) & 1) << j for j, t in enumerate(g.targets))
        base = col & ~sum(1 << t for t in g.targets)
        for row_sub in range(2 ** len(g.targets)):
            row = base | sum(((row_sub >> j) & 1) << t for j, t in enumerate(g.targets))
            out[row, col] += U[row_sub, sub]
    return out


@pytest.mark.parametrize("name,params", [*_ONE_QUBIT, ("swap", ())])
def test_base_matrices_are_unitary_and_inverses_undo_them(name, params):
    U = gate_matrix(name, params)
    eye = torch.eye(U.shape[0], dtype=C128)
    assert torch.allclose(U.conj().T @ U, eye, atol=1e-12)
    g = Gate(name, (0,) if name != "swap" else (0, 1), (), params)
    assert torch.allclose(g.inverse().matrix() @ g.matrix(), eye, atol=1e-12)


def test_rotation_conventions():
    th = 0.9
    assert torch.allclose(gate_matrix("rz", (th,)), torch.diag(torch.tensor(
        [complex(math.cos(th / 2), -math.sin(th / 2)), complex(math.cos(th / 2), math.sin(th / 2))])).to(C128))
    assert torch.allclose(gate_matrix("p", (th,)), torch.diag(torch.tensor([1, complex(math.cos(th), math.sin(th))],
                                                                           dtype=C128)))
    assert torch.allclose(gate_matrix("rx", (math.pi,)), -1j * gate_matrix("x"), atol=1e-12)
    with pytest.raises(ValueError, match="unknown gate name"):
        gate_matrix("cnot")


@pytest.mark.parametrize("name,params", _ONE_QUBIT)
@pytest.mark.parametrize("controls", [(), (2,), (0, 3)])
def test_apply_gate_equals_the_dense_operator(name, params, controls):
    n = 4
    psi = torch.randn(3, 2**n, generator=torch.Generator().manual_seed(len(controls)), dtype=torch.float64).to(C128)
    g = Gate(name, (1,), controls, params)
    assert torch.allclose(apply_gate(psi, n, g), psi @ _dense(n, g).T, atol=1e-12)


@pytest.mark.parametrize("controls", [(), (3,), (0, 3)])
def test_diagonal_and_unitary_gates_on_scattered_targets(controls):
    n = 4
    g = torch.Generator().manual_seed(1)
    psi = torch.randn(2, 2**n, generator=g, dtype=torch.float64).to(C128)
    d = torch.polar(torch.ones(4, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64))
    diag = Gate("diagonal", (2, 1), controls, (), d)
    assert torch.allclose(apply_gate(psi, n, diag), psi @ _dense(n, diag).T, atol=1e-12)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64).to(C128))
    uni = Gate("unitary", (2, 1), controls, (), q)
    assert torch.allclose(apply_gate(psi, n, uni), psi @ _dense(n, uni).T, atol=1e-12)
    assert torch.allclose(apply_gate(apply_gate(psi, n, uni), n, uni.inverse()), psi, atol=1e-12)


def test_kind_remap_and_checks():
    assert Gate("x", (0,), (1, 2, 3)).kind == "mcx" and Gate("p", (0,), (1,), (0.1,)).kind == "cp"
    assert Gate("x", (0,), (1,)).remap([5, 6]).qubits == (6, 5)
    check_gate(Gate("u", (0,), (), (0.1, 0.2, 0.3)))
    for bad, msg in ((Gate("swap", (0,)), "takes 2 target"), (Gate("rx", (0,)), "takes 1 parameter"),
                     (Gate("rx", (0,), (), (math.inf,)), "finite"),
                     (Gate("diagonal", (0, 1), (), (), torch.ones(3)), "needs 4 entries"),
                     (Gate("unitary", (0,), (), (), torch.eye(4)), r"needs a \(2, 2\) matrix"),
                     (Gate("cnot", (0,)), "unknown gate name")):
        with pytest.raises(ValueError, match=msg):
            check_gate(bad)


def _imports(module: str) -> tuple[set[str], set[str]]:
    """The qtrain.quantum modules ``module`` imports at module level, and those it imports inside
    a function."""
    tree = ast.parse((Path(qtrain.quantum.__file__).parent / f"{module}.py").read_text())

    def quantum_imports(nodes) -> set[str]:
        return {(n.module if n.module != "qtrain.quantum" else n.names[0].name).rsplit(".", 1)[-1]
                for n in nodes if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("qtrain.quantum")}

    nested = set().union(*(quantum_imports(ast.walk(f)) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)))
    return quantum_imports(tree.body), nested


def test_engine_imports_run_one_way_at_module_level():
    # statevector <- gates <- fusion <- circuit, and no import between them inside a function
    order = ["statevector", "gates", "fusion", "circuit"]
    for i, module in enumerate(order):
        top, nested = _imports(module)
        assert not top & set(order[i:]), f"{module} imports {top & set(order[i:])}"
        assert not nested & set(order), f"{module} imports {nested & set(order)} inside a function"
    assert _imports("circuit")[0] >= {"gates", "fusion", "statevector"}
    assert _imports("fusion")[0] == {"gates", "statevector"}
