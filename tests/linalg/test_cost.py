"""Cost models: Jennings' query count (regressions, domain), gate and hardware terms, classical."""

import math

import pytest
import torch

from qtrain.linalg import KAPPA_MIN, ClassicalCostModel, QLSACostModel, qlsa_queries
from qtrain.quantum.resources import get_profile


@pytest.mark.parametrize("a, kappa, jennings, published", [
    (1, 10, 5.693e3, 5.693e3),
    (10, 10, 3.451e4, 3.451e5),
    (100, 100, 4.933e6, 4.933e8),
    (1e4, 1e4, 8.585e10, 8.585e14),
])
def test_query_count_regressions_to_four_significant_digits(a, kappa, jennings, published):
    assert float(f"{qlsa_queries(a, kappa, 0.01):.4g}") == jennings
    assert float(f"{qlsa_queries(a, kappa, 0.01, variant='published'):.4g}") == published


def test_query_count_formula_by_hand_and_batched():
    k, e = 50.0, 0.05
    L = math.log(2 * k + 3)
    q = (1741 * 2 * math.e / 500 * math.sqrt(k * k + 1) *
         ((133 / 125 + 4 / (25 * k ** (1 / 3))) * math.pi * L + 1) +
         351 / 50 * L**2 * (math.log(451 * L**2 / e) + 1) + 2 * k * math.log(32 / e))
    assert qlsa_queries(2, k, e) == pytest.approx(q / (0.39 - 0.204 * e), rel=1e-12)
    t = qlsa_queries(torch.tensor([1.0, 2.0]), torch.tensor([10.0, 50.0]), 0.05)
    assert isinstance(t, torch.Tensor) and t[1].item() == pytest.approx(q / (0.39 - 0.204 * e))
    assert bool((qlsa_queries(1, torch.tensor([10.0, 100.0, 1e3]), 0.01).diff() > 0).all())


@pytest.mark.parametrize("kwargs, match", [
    ({"a": 1, "kappa": 3.0, "eps": 0.01}, r"kappa must be >= sqrt\(12\)"),
    ({"a": 1, "kappa": 10, "eps": 0.25}, r"eps must be in \(0, 0.24\]"),
    ({"a": 1, "kappa": 10, "eps": 0.0}, r"eps must be in"),
    ({"a": 0.5, "kappa": 10, "eps": 0.01}, "a .* must be >= 1"),
    ({"a": 1, "kappa": float("inf"), "eps": 0.01}, "kappa must be finite"),
    ({"a": 1, "kappa": 10, "eps": 0.01, "variant": "paper"}, "variant must be"),
])
def test_outside_validity_domain_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        qlsa_queries(**kwargs)
    assert qlsa_queries(1, KAPPA_MIN, 0.24) > 0  # the domain's corner is inside


def test_qlsa_cost_model_terms():
    m = QLSACostModel(profile="optimistic", eps=0.01, state_prep=False)
    c = m.cost(N=64, kappa=100.0, d=8)
    assert float(c["queries"]) == pytest.approx(qlsa_queries(8, 100.0, 0.01))
    # n + m = 6 + 3, b = 16: 8 * 9 + 128 Toffolis, 4 * 9 + 32 Clifford layers per query
    assert float(c["toffoli_per_query"]) == 200 and float(c["clifford_per_query"]) == 68
    p = get_profile("optimistic")
    assert float(c["query_s"]) == pytest.approx(200 * p.t_toffoli + 68 * p.t_2q)
    assert float(c["total_s"]) == pytest.approx(float(c["queries"] * c["query_s"]))
    with_prep = QLSACostModel(profile="optimistic", eps=0.01).cost(64, 100.0, 8)
    assert float(with_prep["state_prep_s"]) == pytest.approx(float(c["queries"]) * 64 * p.t_2q)
    ro = QLSACostModel(profile="optimistic", eps=0.01, readout=True).cost(64, 100.0, 8)
    assert float(ro["readout_repetitions"]) == pytest.approx(64 / 0.01**2)
    assert float(ro["total_s"]) == pytest.approx(64 / 0.01**2 * (float(with_prep["run_s"]) +
                                                                2 * p.t_measure))
    be = QLSACostModel(profile="optimistic", block_encoding=True).cost(64, 100.0, 8)
    assert float(be["block_encoding_s"]) == pytest.approx(64 * 8 * p.t_2q)


def test_profiles_order_and_kappa_floor():
    costs = [float(QLSACostModel(profile=p).time(256, 1e3, 16))
             for p in ("superconducting-today", "today", "optimistic", "attosecond")]
    assert costs == sorted(costs, reverse=True) and costs[-1] < 1e-6
    m = QLSACostModel()
    assert float(m.time(16, 1.0, 4)) == float(m.time(16, KAPPA_MIN, 4))
    with pytest.raises(ValueError, match="kappa must be >= sqrt"):
        QLSACostModel(kappa_floor=False).time(16, 1.0, 4)
    with pytest.raises(ValueError, match="unknown hardware profile"):
        QLSACostModel(profile="warp-drive")
    with pytest.raises(ValueError, match="eps must be in"):
        QLSACostModel(eps=0.5)


def test_classical_models():
    a = ClassicalCostModel("analytic", flops=1e9)
    assert float(a.time(300)) == pytest.approx(300**3 / 3 / 1e9)
    m = ClassicalCostModel("measured", repeats=1)
    t = m.time(torch.tensor([8.0, 8.0, 64.0]))
    assert t.shape == (3,) and bool((t > 0).all()) and t[0] == t[1]
    assert ClassicalCostModel("analytic").calibrated_flops() > 1e6
    with pytest.raises(ValueError, match="mode must be"):
        ClassicalCostModel("guess")
    with pytest.raises(ValueError, match="flops must be positive"):
        ClassicalCostModel("analytic", flops=0)
