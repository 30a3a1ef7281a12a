"""Speed benchmarks of the solvers against their peers: QUBO samplers, the quantum layer."""
