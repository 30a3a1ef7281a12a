"""The selector: every route on the same register finds the exhaustive optimum of the exact problem."""

import pytest
import torch

from qtrain.data import digits
from qtrain.nn import masked_mlp
from qtrain.train.subnetwork import MaskRegister, SubnetworkSelector, mask_costs, routes


@pytest.fixture(scope="module")
def setup():
    s = digits(seed=0, binary=False)
    net = masked_mlp([64, 8, 10], granularity="neuron", seed=4)
    reg = MaskRegister.of(net, 0)
    X, Y = s.X_test[:150], s.y_test[:150]
    costs = mask_costs(net, reg, X, Y, loss="sse", device="cpu").costs
    return net, reg, X, Y, costs


ROUTES = [
    ("exhaustive", None, {}),
    ("durr-hoyer", None, {}),
    ("exact", None, {}),
    ("anneal", None, {"num_reads": 20}),
    ("tabu", None, {"num_reads": 4}),
    ("grover", None, {"num_reads": 2}),
    ("qaoa", "black-box", {"p": 2, "steps": 60}),
    ("qaoa", "qubo", {"p": 2, "steps": 60, "num_reads": 64}),
    ("adiabatic", None, {"T": 40.0}),
]


@pytest.mark.parametrize("name, problem, params", ROUTES)
def test_route_finds_the_exhaustive_optimum(setup, name, problem, params):
    net, reg, X, Y, costs = setup
    sel = SubnetworkSelector(net, reg, name, problem=problem, loss="sse", params=params)
    res = sel.select(X, Y, seed=3, costs=costs if sel.problem == "black-box" else None)
    best = int(costs.argmin())
    if name == "qaoa":  # QAOA's most likely outcome need not be the optimum at p = 2: report the ratio
        assert res.info["approximation_ratio"] > 0.5 and res.info["success_probability"] > 1 / 256
    else:
        assert res.state == best and res.loss == pytest.approx(float(costs[best]), rel=1e-9)
    assert res.info["wall_s"] >= res.info["solve_s"] >= 0
    if name not in ("exhaustive", "exact", "anneal", "tabu"):
        assert res.info["projected_time_s"] > 0 and res.info["resources"]["qubits"] >= 8


def test_grover_threshold_marks_passing_masks(setup):
    net, reg, X, Y, costs = setup
    thr = float(costs.sort().values[3])  # three masks pass
    res = SubnetworkSelector(net, reg, "grover-threshold", loss="sse", params={"threshold": thr}).select(
        X, Y, seed=1, costs=costs)
    assert res.loss < thr and res.info["solver_info"]["marked"] == 3


def test_dwave_on_the_mock_qpu(setup):
    from dwave.system.testing import MockDWaveSampler

    from qtrain.qubo import get_sampler

    net, reg, X, Y, costs = setup
    sampler = get_sampler("dwave", child=MockDWaveSampler(topology_type="pegasus", topology_shape=[4]))
    res = SubnetworkSelector(net, reg, sampler, loss="sse", params={"num_reads": 20}).select(X, Y, seed=0)
    assert res.problem == "qubo" and res.info["profile"] == "annealer-today" and res.info["projected_time_s"] > 0
    assert res.loss <= float(costs.sort().values[5])  # the mock's annealer lands near the optimum


def test_apply_and_density_and_bad_names(setup):
    net, reg, X, Y, costs = setup
    res = SubnetworkSelector(net, reg, "exhaustive", loss="sse", density=0.5).select(X, Y, seed=0, apply=True)
    assert int(res.mask.sum()) == 4 and torch.equal(net.layers[0].mask, res.mask.float())
    q = SubnetworkSelector(net, reg, "exact", loss="sse", density=0.5).select(X, Y, seed=0)
    assert int(q.mask.sum()) == 4 and q.loss == pytest.approx(res.loss)
    net.layers[0].mask = torch.ones(8)
    assert "anneal" in routes() and "adiabatic" in routes()
    with pytest.raises(ValueError, match="unknown solver"):
        SubnetworkSelector(net, reg, "nope")
    with pytest.raises(ValueError, match="black-box"):
        SubnetworkSelector(net, reg, "durr-hoyer", problem="qubo")
    with pytest.raises(ValueError, match="density"):
        SubnetworkSelector(net, reg, "exhaustive", density=0.0)


def test_qaoa_defaults_to_the_qubo_and_takes_the_black_box_on_request(setup):
    net, reg, X, Y, costs = setup
    assert SubnetworkSelector(net, reg, "qaoa").problem == "qubo"
    assert SubnetworkSelector(net, reg, "qaoa", problem="black-box").problem == "black-box"
    assert SubnetworkSelector(net, reg, "adiabatic").problem == "black-box"
