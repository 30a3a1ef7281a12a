"""Offline data sets and generators: digits (pairs and all ten classes), graphs, tabular data, text,
Rosenbrock, NARMA-10 and Mackey-Glass series, and the sinusoidal-network series and teacher instances."""

from qtrain.data.digits import Split, binarize_pixels, digits, digits_pair, load_digits_split, validation_split
from qtrain.data.graphs import Graph, karate, sbm_graph
from qtrain.data.rosenbrock import rosenbrock, rosenbrock_grad, rosenbrock_hessian, rosenbrock_start
from qtrain.data.series import mackey_glass, narma10, nrmse
from qtrain.data.sinusoidal import SinusoidalInstance, deep_data, random_instance, toy_data
from qtrain.data.tabular import breast_cancer

__all__ = [
    "Graph",
    "SinusoidalInstance",
    "Split",
    "binarize_pixels",
    "breast_cancer",
    "deep_data",
    "digits",
    "digits_pair",
    "karate",
    "load_digits_split",
    "mackey_glass",
    "narma10",
    "nrmse",
    "random_instance",
    "rosenbrock",
    "rosenbrock_grad",
    "rosenbrock_hessian",
    "rosenbrock_start",
    "sbm_graph",
    "toy_data",
    "validation_split",
]
