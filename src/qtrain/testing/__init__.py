"""Conformance kits that any sampler, linear solver, search solver or optimiser can run."""

from qtrain.testing.linear_solvers import assert_linear_solver_conforms, random_spd
from qtrain.testing.optim_conventions import CONVENTIONS, assert_torch_optim_conventions
from qtrain.testing.optimizers import assert_optimizer_conforms, separable_problem
from qtrain.testing.samplers import assert_dimod_sampler_suite, assert_sampler_conforms, random_qubo
from qtrain.testing.search_solvers import assert_search_solver_conforms, random_costs

__all__ = [
    "CONVENTIONS",
    "assert_dimod_sampler_suite",
    "assert_linear_solver_conforms",
    "assert_optimizer_conforms",
    "assert_sampler_conforms",
    "assert_search_solver_conforms",
    "assert_torch_optim_conventions",
    "random_costs",
    "random_qubo",
    "random_spd",
    "separable_problem",
]
