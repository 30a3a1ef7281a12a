"""Conformance kits that any sampler, linear solver or optimiser can run."""

from qtrain.testing.samplers import assert_sampler_conforms, random_qubo

__all__ = ["assert_sampler_conforms", "random_qubo"]
