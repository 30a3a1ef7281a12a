"""Registries: lazy names, instances passed through, and plugins found through entry points."""

import subprocess
import sys
import textwrap

import pytest

from qtrain._registry import LazyRegistry
from qtrain.qubo import available_samplers, get_sampler

PLUGIN = '''
import torch
from qtrain.bench.base import Benchmark, Task
from qtrain.linalg.solvers import LinearSolver
from qtrain.quantum.search_solvers import SearchSolver
from qtrain.qubo.sampler import QUBOSampler


class AllOnesSampler(QUBOSampler):
    """Every read is the all-ones state."""

    name = "all-ones"

    def _sample(self, qubo, num_reads, seed, **params):
        return torch.ones(qubo.num_problems, num_reads, qubo.num_variables, dtype=torch.int8), {}


class DenseSolver(LinearSolver):
    name = "dense"

    def _solve(self, A, b, seed, **kwargs):
        return torch.linalg.solve(A, b), {}


class LastStateSolver(SearchSolver):
    """Always answers the last state."""

    name = "last-state"
    finds_minimum = False

    def _search(self, costs, seed, **params):
        return torch.full(costs.shape[:-1], costs.shape[-1] - 1, dtype=torch.int64), {}, None


class Tiny(Benchmark):
    name = "tiny-plugin-bench"
    description = "a benchmark from a plugin"

    def tasks(self, cfg):
        return [Task("m", 0)]

    def run_task(self, task, cfg):
        return {"value": 1.0}
'''

ENTRY_POINTS = '''
[qtrain.samplers]
all-ones = qtrain_toy_plugin:AllOnesSampler

[qtrain.linear_solvers]
dense = qtrain_toy_plugin:DenseSolver

[qtrain.search_solvers]
last-state = qtrain_toy_plugin:LastStateSolver

[qtrain.benchmarks]
tiny-plugin-bench = qtrain_toy_plugin:Tiny
'''


def _install_plugin(root, name="qtrain_toy_plugin", entry_points=ENTRY_POINTS):
    """A distribution on ``root``: the module and a dist-info with its entry points (what pip
    writes), so ``importlib.metadata`` finds it once ``root`` is on ``sys.path``."""
    (root / f"{name}.py").write_text(PLUGIN)
    info = root / f"{name}-0.1.dist-info"  # the folder's name up to the first '-' is the dist's name
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root


def _run(code, root):
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": str(root), "PATH": ""})
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_a_plugin_distribution_adds_a_sampler_a_linear_solver_a_search_solver_and_a_benchmark(tmp_path):
    root = _install_plugin(tmp_path)
    out = _run("""
        import torch
        from qtrain.qubo import QUBO, available_samplers, get_sampler
        from qtrain.linalg import available_linear_solvers, get_linear_solver
        from qtrain.bench import available_benchmarks, run_benchmark, ResultsStore
        assert "all-ones" in available_samplers() and "dense" in available_linear_solvers()
        assert "grover" in available_samplers()  # qtrain's own entry points are still found
        res = get_sampler("all-ones").sample_qubo_batch(QUBO(torch.eye(3)), num_reads=2, seed=0)
        assert res.sample.tolist() == [1, 1, 1] and float(res.energy) == 3.0
        A = torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
        x = get_linear_solver("dense").solve(A, torch.tensor([2.0, 2.0], dtype=torch.float64), seed=0).x
        assert x.tolist() == [1.0, 0.5]
        assert "tiny-plugin-bench" in available_benchmarks()
        from qtrain.quantum import available_search_solvers, get_search_solver
        from qtrain.testing import assert_search_solver_conforms
        assert "last-state" in available_search_solvers() and "durr-hoyer" in available_search_solvers()
        found = get_search_solver("last-state").search(torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 7.0]]), seed=0)
        assert found.index.tolist() == [2, 2] and found.value.tolist() == [2.0, 7.0]
        assert_search_solver_conforms(get_search_solver("last-state"))
        print("ok")
    """, root)
    assert out.strip() == "ok"


def test_two_distributions_exporting_one_name_is_an_error_naming_both(tmp_path):
    _install_plugin(tmp_path, "qtrain_toy_plugin")
    _install_plugin(tmp_path, "qtrain_toy_plugin_b", ENTRY_POINTS.replace("qtrain_toy_plugin:", "qtrain_toy_plugin_b:"))
    out = _run("""
        from qtrain.qubo import get_sampler
        try:
            get_sampler("all-ones")
        except ValueError as exc:
            print(exc)
    """, tmp_path)
    assert "provided twice" in out and "qtrain-toy-plugin" in out and "qtrain-toy-plugin-b" in out


def test_quantum_samplers_come_from_qtrains_own_entry_points():
    assert {"grover", "qaoa"} <= set(available_samplers())
    assert type(get_sampler("grover")).__module__ == "qtrain.quantum.samplers"
    assert LazyRegistry("sampler", {}).plugins()["qaoa"] == "qtrain.quantum.samplers:QAOASampler"


def test_registered_names_win_and_unknown_names_list_the_known_ones():
    reg = LazyRegistry("sampler", {"grover": "qtrain.qubo.exact:ExactSampler"})
    assert reg.load("grover").__name__ == "ExactSampler"
    with pytest.raises(ValueError, match="unknown sampler 'nope'.*grover"):
        reg.load("nope")
    with pytest.raises(ValueError, match="package.module:Class"):
        reg.register("x", "no-colon")


def test_get_sampler_passes_an_instance_through():
    s = get_sampler("exact")
    assert get_sampler(s) is s
    with pytest.raises(ValueError, match="existing sampler instance"):
        get_sampler(s, max_variables=3)
    with pytest.raises(TypeError, match="name or a QUBOSampler"):
        get_sampler(3)
