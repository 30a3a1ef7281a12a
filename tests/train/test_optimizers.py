"""One optimiser table through the shared conformance kit: QP-SBGD (several solvers), Q-Newton and baselines."""

import pytest
import torch

from qtrain.testing import assert_optimizer_conforms, assert_torch_optim_conventions
from qtrain.train import QPSBGD, BinaryConnect, ProxQuant, QNewton, SignSGD


def qpsbgd(**fixed):
    def make(model, **kw):
        return QPSBGD(model, **{"lr": 0.5, "seed": 0, **fixed, **kw})
    return make


def plain(cls, **fixed):
    def make(model, **kw):
        return cls(model.parameters(), **{**fixed, **kw})
    return make


TABLE = {
    "qpsbgd-exact": (qpsbgd(sampler="exact", max_rows=3), True),
    "qpsbgd-anneal": (qpsbgd(sampler="anneal", num_reads=4, sampler_params={"num_sweeps": 100}), True),
    "qpsbgd-anneal-refine": (qpsbgd(sampler="anneal", num_reads=2, refine=True,
                                    sampler_params={"num_sweeps": 20}), True),
    "qpsbgd-quadratic": (qpsbgd(sampler="exact", objective="quadratic"), True),
    "qpsbgd-quadratic-diagonal": (qpsbgd(sampler="exact", objective="quadratic",
                                         curvature="diagonal"), True),
    "qpsbgd-projected": (qpsbgd(sampler="exact", projected=True, max_rows=3), True),
    "qpsbgd-dwave-sa": (qpsbgd(sampler="dwave-sa", num_reads=4, max_rows=8,
                               sampler_params={"num_sweeps": 100}), True),
    "qpsbgd-tabu": (qpsbgd(sampler="tabu", num_reads=2, max_rows=8,
                           # restarts, not wall time, end each read: deterministic under load
                           sampler_params={"timeout": 5000, "num_restarts": 3}), True),
    "bc": (plain(BinaryConnect, lr=0.5), True),
    "bc-momentum": (plain(BinaryConnect, lr=0.5, momentum=0.9), True),
    "signsgd": (plain(SignSGD, lr=0.5), True),
    "proxquant": (plain(ProxQuant, lr=0.5, reg=0.1), False),
    "full-precision-adam": (plain(torch.optim.Adam, lr=0.1), False),
    "qnewton": (plain(QNewton, lr=0.5), False),
    "qnewton-layer-adam": (plain(QNewton, lr=0.1, blocking="layer", update="adam"), False),
    "qnewton-scheduled": (plain(QNewton, lr=0.5, solver="scheduled"), False),
}
# second-order optimisers form curvature from the gradient's graph, and need a closure (as LBFGS)
KIT_OPTIONS = {name: {"create_graph": True, "requires_closure": True} for name in TABLE
               if name.startswith("qnewton")}
# torch.optim conventions QP-SBGD does not keep yet
QPSBGD_SKIP = (
    # QP-SBGD steps the weights of the binary layers it hooks; a free parameter cannot join a group
    "add_param_group",
)
for _name in TABLE:
    if _name.startswith("qpsbgd"):
        KIT_OPTIONS[_name] = {"skip_conventions": QPSBGD_SKIP}
# the kit's last_info check (timing, solver_info) is off for these until they report it
# torch's own Adam (the full-precision reference) has no last_info
NO_INFO_CHECK = ("full-precision-adam",)
# torch's Adam accepts lr=0 (a no-op optimiser); only a negative lr is invalid there
INVALID = {"full-precision-adam": ({"lr": -1.0},)}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_optimizer_conforms(name):
    make, binary = TABLE[name]
    kw = {"invalid": INVALID[name]} if name in INVALID else {}
    assert_optimizer_conforms(make, binary=binary, **kw, check_info=name not in NO_INFO_CHECK,
                              **KIT_OPTIONS.get(name, {}))


def test_kit_rejects_an_optimizer_that_ignores_bad_hyperparameters():
    class Lax(torch.optim.SGD):
        def __init__(self, params, lr=0.1):
            super().__init__(params, lr=abs(lr) or 0.1)

    with pytest.raises(AssertionError, match="invalid hyperparameters"):
        assert_optimizer_conforms(plain(Lax), binary=False)


@pytest.mark.parametrize("info, match", [
    ({"solver_info": []}, "timing"),
    ({"timing": {"formulate_ns": 1, "solve_ns": 1, "apply_ns": 1}, "solver_info": []}, "timing"),
    ({"timing": {"formulate_ns": 1.5, "solve_ns": 1, "apply_ns": 1, "total_ns": 4}, "solver_info": []},
     "formulate_ns"),
    ({"timing": {"formulate_ns": 1, "solve_ns": 9, "apply_ns": 1, "total_ns": 4}, "solver_info": []},
     "total_ns 4 < solve_ns 9"),
    ({"timing": {"formulate_ns": 1, "solve_ns": 1, "apply_ns": 1, "total_ns": 4}}, "solver_info"),
])
def test_kit_rejects_an_optimizer_whose_last_info_lacks_the_shared_shape(info, match):
    class Reporting(torch.optim.SGD):
        def step(self, closure=None):
            loss = super().step(closure)
            self.last_info = info
            return loss

    kit = {"binary": False, "invalid": ({"lr": -1.0},)}  # SGD accepts lr=0
    with pytest.raises(AssertionError, match=match):
        assert_optimizer_conforms(plain(Reporting, lr=0.1), **kit, conventions=False)
    # a local class does not pickle: the conventions (pickling among them) are not the point here
    assert_optimizer_conforms(plain(Reporting, lr=0.1), **kit, check_info=False, conventions=False)


def test_kit_rejects_an_optimizer_that_makes_no_progress():
    class Frozen(torch.optim.SGD):
        def step(self, closure=None):
            with torch.enable_grad():
                return closure() if closure is not None else None

    with pytest.raises(AssertionError, match="did not lower the loss"):
        assert_optimizer_conforms(plain(Frozen, lr=0.1), binary=False, invalid=())


@pytest.mark.parametrize("kw, match", [
    ({"momentum": 1.0}, "momentum"), ({"clip": -1.0}, "clip"), ({"lr": float("inf")}, "learning rate"),
])
def test_binaryconnect_rejects(kw, match):
    with pytest.raises(ValueError, match=match):
        BinaryConnect([torch.nn.Parameter(torch.zeros(2))], **{"lr": 0.1, **kw})


@pytest.mark.parametrize("make", [plain(torch.optim.SGD, lr=0.1), plain(torch.optim.SGD, lr=0.1, momentum=0.9)],
                         ids=["sgd", "sgd-momentum"])
def test_torch_sgd_is_the_reference_of_every_convention(make):
    assert_torch_optim_conventions(make)


@pytest.mark.parametrize("broken, check, skip", [
    ("captured", "add_param_group", ()), ("captured", "zero_grad", ("add_param_group",)),
    ("captured", "accumulation", ("add_param_group", "zero_grad")), ("lr", "lr", ()),
    ("state", "state_dict continuation", ()),
])
def test_conventions_catch_an_optimizer_that_breaks_them(broken, check, skip):
    class Broken(torch.optim.SGD):
        def __init__(self, params, lr=0.1):
            super().__init__(params, lr=lr)
            self._lr0, self._steps, self._captured = lr, 0, {}
            for group in self.param_groups:
                for p in group["params"]:  # "captured": step from the last backward's gradient
                    p.register_hook(lambda g, key=id(p): self._captured.__setitem__(key, g))

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            self._steps += 1
            for group in self.param_groups:
                for p in group["params"]:
                    g = self._captured.get(id(p)) if broken == "captured" else p.grad
                    if g is None:
                        continue
                    lr = self._lr0 if broken == "lr" else group["lr"]
                    if broken == "state":
                        lr = lr / self._steps  # a counter state_dict does not carry
                    p.add_(g, alpha=-lr)
            return loss

    with pytest.raises(AssertionError, match=check):
        assert_torch_optim_conventions(plain(Broken), skip=skip)


def test_conventions_refuse_an_unknown_skip():
    with pytest.raises(ValueError, match="unknown checks"):
        assert_torch_optim_conventions(plain(torch.optim.SGD, lr=0.1), skip=("no-such-check",))


def test_baseline_updates_match_their_formulas():
    w0 = torch.tensor([0.5, -0.2, 0.95, 0.0])
    g = torch.tensor([1.0, -2.0, -0.5, 0.0])
    for cls, kw, expect in [
        (BinaryConnect, {"lr": 0.1}, (w0 - 0.1 * g).clamp(-1, 1)),
        (SignSGD, {"lr": 0.1}, (w0 - 0.1 * torch.sign(g)).clamp(-1, 1)),
        # SGD step, then soft threshold towards +-1 by lr * reg = 0.05
        (ProxQuant, {"lr": 0.1, "reg": 0.5}, torch.tensor([0.45, 0.05, 1.0, 0.05])),
    ]:
        w = torch.nn.Parameter(w0.clone())
        w.grad = g.clone()
        cls([w], **kw).step()
        torch.testing.assert_close(w.detach(), expect, msg=cls.__name__)


def test_proxquant_strength_grows_each_epoch():
    w = torch.nn.Parameter(torch.tensor([0.0]))
    opt = ProxQuant([w], lr=0.1, reg=1.0, steps_per_epoch=2)
    pulls = []
    for _ in range(6):
        before = float(w.detach())
        w.grad = torch.zeros(1)
        opt.step()
        pulls.append(round(float(w.detach()) - before, 6))
    # +1 from 0 (sign(0) = +1): pulls of lr*reg*(1 + epoch) towards 1
    assert pulls[:4] == [0.1, 0.1, 0.2, 0.2]
