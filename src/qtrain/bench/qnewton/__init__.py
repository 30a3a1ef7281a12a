"""Benchmarks of Q-Newton: a digits MLP, a tiny language model, QLSA cost surfaces."""
