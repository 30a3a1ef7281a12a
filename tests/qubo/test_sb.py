"""The ``sb`` sampler: the conformance kit, the SB equations by hand, the package as a peer."""

import pytest
import torch

from qtrain.qubo import QUBO, get_sampler
from qtrain.qubo.exact import enumerate_energies
from qtrain.qubo.sb import bifurcate, ising_couplings
from qtrain.testing import assert_sampler_conforms, random_qubo


def test_ballistic_conforms():
    assert_sampler_conforms(get_sampler("sb"), sizes=(1, 2, 5, 8))


def test_discrete_conforms():
    assert_sampler_conforms(get_sampler("sb", mode="discrete"), sizes=(1, 3, 6))


def test_ising_convention_gives_the_qubo_energies():
    q = random_qubo(2, 5, seed=3)
    J, h = ising_couplings(q)
    s = 2 * ((torch.arange(32)[:, None] >> torch.arange(5)) & 1).double() - 1
    E_sb = -0.5 * torch.einsum("ki,bij,kj->bk", s, J, s) - h @ s.T  # [2, 32]
    E = q.energy(((s + 1) / 2).expand(2, -1, -1))
    diff = E - E_sb
    assert torch.allclose(diff, diff[:, :1].expand(-1, 32))  # equal up to a constant per problem


def test_one_step_by_hand():
    J = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]])
    h = torch.tensor([[0.5, 0.0]])
    x = torch.tensor([[[0.1, -0.2]]])
    y = torch.tensor([[[0.0, 0.3]]])
    bifurcate(J, h, x, y, num_steps=1, dt=0.5, a0=1.0, c0=torch.tensor([2.0]), discrete=False)
    # a(0) = 0: y += (-x + c0 (J x + h)) dt; x += y dt
    y_ref = torch.tensor([0.0 + (-0.1 + 2 * (-0.2 + 0.5)) * 0.5, 0.3 + (0.2 + 2 * 0.1) * 0.5])
    assert torch.allclose(y[0, 0], y_ref)
    assert torch.allclose(x[0, 0], torch.tensor([0.1, -0.2]) + y_ref * 0.5)


def test_ferromagnet_aligns_and_walls_hold():
    n = 6
    Q = torch.zeros(n, n, dtype=torch.float64)
    Q[torch.arange(n - 1), torch.arange(1, n)] = -1.0  # chain: aligned neighbours lower the energy
    res = get_sampler("sb").sample_qubo_batch(QUBO(Q), num_reads=16, seed=0, return_all=True)
    assert float(res.energy) == pytest.approx(-(n - 1))


@pytest.mark.parametrize("mode", ["ballistic", "discrete"])
def test_finds_ground_states_of_small_problems(mode):
    q = random_qubo(10, 12, seed=7)
    exact = enumerate_energies(q).min(-1).values
    res = get_sampler("sb").sample_qubo_batch(q, num_reads=32, seed=2, mode=mode, polish=True)
    assert int(((res.energy - exact).abs() < 1e-8).sum()) >= 9


def test_matches_the_simulated_bifurcation_package():
    sbp = pytest.importorskip("simulated_bifurcation")  # the dev extra installs it
    q = random_qubo(1, 48, seed=11)
    ours = get_sampler("sb").sample_qubo_batch(q, num_reads=64, num_steps=400, seed=0)
    torch.manual_seed(0)
    vec, _ = sbp.minimize(q.Q[0].float(), domain="binary", agents=64, max_steps=400, early_stopping=False,
                          verbose=False)
    theirs = float(q.energy(vec[None].double())[0])
    assert float(ours.energy[0]) <= theirs + 0.005 * abs(theirs)


def test_bad_parameters():
    s = get_sampler("sb")
    q = random_qubo(1, 3)
    for kw, msg in (({"num_steps": 0}, "num_steps"), ({"mode": "heated"}, "mode"), ({"dt": -1.0}, "dt"),
                    ({"c0": float("nan")}, "c0"), ({"precision": "float16"}, "precision")):
        with pytest.raises(ValueError, match=msg):
            s.sample_qubo_batch(q, **kw)
