"""Regression tests of issue 13 for the linear solvers: converged flags, singular systems,
mismatched dtypes."""

import pytest
import torch

from qtrain.linalg import UnconvergedWarning, get_linear_solver

SINGULAR = torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
B_OUT = torch.tensor([1.0, 0.0], dtype=torch.float64)  # outside the range of SINGULAR
SPD = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)


def test_cg_flags_a_singular_system_instead_of_a_silent_wrong_x():
    with pytest.warns(UnconvergedWarning, match="did not converge on 1 of 1"):
        res = get_linear_solver("cg").solve(SINGULAR, B_OUT, seed=0)
    assert res.info["converged"] is False and res.info["converged_blocks"] == [False]
    assert float(res.residual) > 0.5  # no x solves it: the residual is at least 1/sqrt(2)


@pytest.mark.parametrize("name", ["cholesky", "simulated-qlsa"])
def test_direct_solvers_refuse_a_singular_system_with_value_error(name):
    with pytest.raises(ValueError, match="singular in 1 block"):
        get_linear_solver(name).solve(SINGULAR, B_OUT, seed=0)


@pytest.mark.parametrize("name", ["cholesky", "cg", "simulated-qlsa", "scheduled"])
def test_every_solver_reports_converged_on_a_good_batch(name, recwarn):
    A = torch.stack([SPD, 2 * SPD + torch.eye(2, dtype=torch.float64)])
    b = torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64)
    res = get_linear_solver(name).solve(A, b, seed=0)
    assert res.info["converged"] is True and res.info["converged_blocks"] == [True, True]
    assert torch.allclose(res.x, torch.linalg.solve(A, b), atol=1e-8)
    assert not [w for w in recwarn if issubclass(w.category, UnconvergedWarning)]


def test_scheduler_reports_its_childrens_unconverged_blocks_once():
    A = torch.stack([SPD, SINGULAR])
    b = torch.stack([torch.tensor([1.0, 2.0], dtype=torch.float64), B_OUT])
    solver = get_linear_solver("scheduled", quantum="cg", classical="cg")
    with pytest.warns(UnconvergedWarning) as record:
        res = solver.solve(A, b, seed=0)
    assert res.info["converged_blocks"] == [True, False]
    assert len([w for w in record if issubclass(w.category, UnconvergedWarning)]) == 1


@pytest.mark.parametrize("name", ["cholesky", "cg", "simulated-qlsa"])
def test_mismatched_dtypes_are_a_value_error(name):
    with pytest.raises(ValueError, match="dtype"):
        get_linear_solver(name).solve(SPD, torch.ones(2, dtype=torch.float32))
