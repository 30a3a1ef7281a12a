"""Conformance kits that any sampler, linear solver or optimiser can run."""

from qtrain.testing.optimizers import assert_optimizer_conforms, separable_problem
from qtrain.testing.samplers import assert_sampler_conforms, random_qubo

__all__ = ["assert_optimizer_conforms", "assert_sampler_conforms", "random_qubo", "separable_problem"]
