"""qtrain: train neural networks with quantum and quantum-inspired optimisers."""

__version__ = "0.1.0"
