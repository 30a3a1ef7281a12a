"""Benchmarks of quantum training of discrete sinusoidal networks (``sinnn-*``)."""
