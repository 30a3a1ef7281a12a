"""Benchmarks of QP-SBGD: digit pairs, their step-size tuning, binary GCNs, Rosenbrock."""
