"""Offline data sets: digits (pairs and all ten classes), graphs, tabular data, Rosenbrock."""

from qtrain.data.digits import Split, binarize_pixels, digits, digits_pair, validation_split
from qtrain.data.graphs import Graph, karate, sbm_graph
from qtrain.data.rosenbrock import rosenbrock, rosenbrock_grad, rosenbrock_hessian, rosenbrock_start
from qtrain.data.tabular import breast_cancer

__all__ = [
    "Graph",
    "Split",
    "binarize_pixels",
    "breast_cancer",
    "digits",
    "digits_pair",
    "karate",
    "rosenbrock",
    "rosenbrock_grad",
    "rosenbrock_hessian",
    "rosenbrock_start",
    "sbm_graph",
    "validation_split",
]
