"""Property tests and a CLI fuzz (issue 13 item 16): whatever a user passes, the only outcomes are
a result or a clear error (`ValueError`/`TypeError` from the APIs; one line and exit code 2 from
the CLI), never a traceback, a hang or non-standard JSON.

Hypothesis draws QUBO files and arrays (shapes, dtypes, NaN/Inf, huge and tiny magnitudes, empty,
ragged) and systems and cost vectors at N = 0, 1, 2. ``derandomize=True`` keeps the examples the
same on every run, so a failure reproduces.
"""

import json
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from typer.testing import CliRunner

from qtrain.cli.main import app
from qtrain.linalg import UnconvergedWarning, get_linear_solver
from qtrain.quantum import get_search_solver
from qtrain.qubo import QUBO, get_sampler

FAST = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# numbers a user may write: ordinary, huge, tiny, non-finite, integers, and things that are not numbers
NUMBERS = st.one_of(
    st.floats(-10, 10), st.sampled_from([1e308, -1e308, 1.7e308, 1e-308, 5e-324, 1e200, 0.0, -0.0]),
    st.sampled_from([math.nan, math.inf, -math.inf]), st.integers(-3, 3), st.integers(-(2**70), 2**70),
)
JUNK = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.just([]), st.just({}))


def square(n, elements):
    return st.lists(st.lists(elements, min_size=n, max_size=n), min_size=n, max_size=n)


MATRICES = st.one_of(
    st.integers(0, 4).flatmap(lambda n: square(n, NUMBERS)),            # square, maybe empty
    st.lists(st.lists(NUMBERS, max_size=4), max_size=4),                  # ragged or rectangular
    st.integers(1, 3).flatmap(lambda n: square(n, st.one_of(NUMBERS, JUNK))),  # junk entries
    st.lists(NUMBERS, max_size=3),                                        # one-dimensional
    st.integers(1, 2).flatmap(lambda n: st.lists(square(n, NUMBERS), min_size=1, max_size=2)),  # 3-D
    JUNK, NUMBERS,
)
PROBLEM = st.one_of(
    st.fixed_dictionaries({"Q": MATRICES}, optional={"offset": st.one_of(NUMBERS, JUNK)}),
    st.fixed_dictionaries({"type": st.just("BinaryQuadraticModel")},
                          optional={"linear_biases": st.lists(NUMBERS, max_size=3), "version": JUNK}),
    st.dictionaries(st.text(max_size=3), NUMBERS, max_size=2),
)
VALID = st.integers(1, 4).flatmap(lambda n: st.fixed_dictionaries(
    {"Q": square(n, st.one_of(st.floats(-10, 10), st.sampled_from([1e200, 1e-300, 0.0])))},
    optional={"offset": st.floats(-5, 5)}))
FILES = st.one_of(VALID, st.lists(VALID, min_size=1, max_size=3), PROBLEM, st.lists(PROBLEM, max_size=3),
                  JUNK, NUMBERS)
runner = CliRunner()


def assert_result_or_one_line_exit_2(res):
    assert res.exit_code in (0, 2), f"exit {res.exit_code}: {res.output}\n{res.exception!r}"
    assert "Traceback" not in res.output
    if res.exit_code == 2:
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), res.output


def no_constants(name):
    raise AssertionError(f"non-standard JSON constant {name}")


@FAST
@given(content=FILES, sampler=st.sampled_from(["exact", "steepest"]),
       num_reads=st.one_of(st.integers(1, 4), st.integers(-2, 0)),
       seed=st.one_of(st.none(), st.integers(0, 2**32 - 1), st.integers(-2, 2**33)))
def test_cli_solve_gives_a_result_or_one_line(content, sampler, num_reads, seed):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "q.json"
        f.write_text(json.dumps(content))  # NaN/Infinity tokens included: Python's json reads them
        args = ["solve", str(f), "-s", sampler, "--num-reads", str(num_reads), "--json"]
        if seed is not None:
            args += ["--seed", str(seed)]
        res = runner.invoke(app, args)
    assert_result_or_one_line_exit_2(res)
    if res.exit_code == 0:
        out = json.loads(res.output, parse_constant=no_constants)
        assert all(isinstance(e, float) and math.isfinite(e) for e in out["energy"])


@FAST
@given(text=st.one_of(st.text(max_size=40), st.binary(max_size=40).map(lambda b: b.decode("latin-1"))),
       params=st.lists(st.text(max_size=12), max_size=2))
def test_cli_solve_survives_any_file_text_and_params(text, params):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "q.json"
        f.write_text(text, encoding="utf-8", errors="surrogateescape")
        args = ["solve", str(f), "-s", "exact"]
        for p in params:
            args += ["--param", p]
        assert_result_or_one_line_exit_2(runner.invoke(app, args))


DTYPES = st.one_of(hnp.floating_dtypes(), hnp.integer_dtypes(), hnp.boolean_dtypes(),
                   hnp.complex_number_dtypes())


@FAST
@given(arr=DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                                      max_side=3))))
def test_qubo_constructor_and_sampler_accept_or_refuse_clearly(arr):
    try:
        q = QUBO(arr)
    except (ValueError, TypeError):
        return
    res = get_sampler("exact").sample_qubo_batch(q, num_reads=2)
    assert tuple(res.sample.shape) == (*q.batch_shape, q.num_variables)
    assert bool(torch.isfinite(res.energy).all())


COSTS = st.tuples(st.integers(0, 2), st.integers(0, 2)).flatmap(
    lambda bn: hnp.arrays(np.float64, (bn[0], bn[1]),
                          elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))


@FAST
@given(costs=COSTS, name=st.sampled_from(["exhaustive", "durr-hoyer", "grover-threshold"]),
       seed=st.integers(0, 2**32 - 1))
def test_search_solvers_at_n_0_1_2(costs, name, seed):
    params = {"threshold": 0.0} if name == "grover-threshold" else {}
    try:
        res = get_search_solver(name).search(torch.from_numpy(costs), seed=seed, **params)
    except ValueError:
        assert costs.shape[-1] == 0 or not np.isfinite(costs).all()
        return
    assert costs.shape[-1] >= 1 and np.isfinite(costs).all()
    idx = res.index.numpy()
    assert idx.shape == costs.shape[:-1] and ((0 <= idx) & (idx < costs.shape[-1])).all()
    assert np.array_equal(res.value.numpy(), np.take_along_axis(costs, idx[..., None], -1)[..., 0])
    if name != "grover-threshold":
        assert np.array_equal(res.value.numpy(), costs.min(-1))


SYSTEM = st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from([np.float32, np.float64]),
                   st.sampled_from([np.float32, np.float64])).flatmap(
    lambda t: st.tuples(
        hnp.arrays(t[2], (t[0], t[1], t[1]), elements=st.one_of(
            st.floats(-4, 4, width=32), st.sampled_from([0.0, 1.0, 1e30, math.nan, math.inf]))),
        hnp.arrays(t[3], (t[0], t[1]), elements=st.floats(-4, 4, width=32))))


@FAST
@given(system=SYSTEM, name=st.sampled_from(["cholesky", "cg", "simulated-qlsa", "scheduled"]),
       symmetrize=st.booleans())
def test_linear_solvers_at_n_0_1_2(system, name, symmetrize):
    A, b = (torch.from_numpy(np.ascontiguousarray(a)) for a in system)
    if symmetrize:
        A = (A + A.mT) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnconvergedWarning)
        try:
            res = get_linear_solver(name).solve(A, b, seed=0)
        except (ValueError, TypeError):
            return
    assert A.shape[-1] >= 1 and A.dtype == b.dtype and bool(torch.isfinite(A).all())
    assert res.x.shape == b.shape and isinstance(res.info["converged"], bool)
    if res.info["converged"]:
        assert bool(torch.isfinite(res.x).all())
        tol = 1e-3 if A.dtype == torch.float32 else 1e-6
        assert all(r <= tol for r in res.residual.reshape(-1).tolist())


@pytest.mark.parametrize("N", [0, 1, 2])
def test_linear_solvers_refuse_n0_and_solve_n1_n2(N):
    A = 2 * torch.eye(N, dtype=torch.float64)
    b = torch.ones(N, dtype=torch.float64)
    for name in ("cholesky", "cg", "simulated-qlsa", "scheduled"):
        if N == 0:
            with pytest.raises(ValueError, match="non-empty"):
                get_linear_solver(name).solve(A, b)
        else:
            assert torch.allclose(get_linear_solver(name).solve(A, b, seed=0).x, b / 2)


HYPER = st.one_of(NUMBERS, JUNK)


@FAST
@given(lr=HYPER, momentum=HYPER, weight_decay=HYPER,
       cls=st.sampled_from(["QNewton", "BinaryConnect", "SignSGD", "ProxQuant"]))
def test_optimizer_constructors_accept_exactly_the_finite_in_range_values(lr, momentum, weight_decay, cls):
    import qtrain.train as train

    w = torch.nn.Parameter(torch.zeros(2))
    kwargs = {"lr": lr}
    if cls in ("QNewton", "BinaryConnect"):
        kwargs["momentum"] = momentum
    if cls == "QNewton":
        kwargs["weight_decay"] = weight_decay
    rules = {"lr": lambda v: v > 0, "momentum": lambda v: 0 <= v < 1, "weight_decay": lambda v: v >= 0}
    valid = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and rules[k](v)
                for k, v in kwargs.items())
    try:
        getattr(train, cls)([w], **kwargs)
    except ValueError as exc:
        assert not valid, f"{cls}({kwargs}) refused valid values: {exc}"
    else:
        assert valid, f"{cls}({kwargs}) accepted invalid values"


SAMPLER_PARAMS = {
    "anneal": {"num_sweeps": st.one_of(st.integers(-2, 50), st.just(2**70), JUNK), "beta_range": st.one_of(
        st.tuples(NUMBERS, NUMBERS), JUNK), "device": st.one_of(st.sampled_from(["cpu", "tpu", "cuda:x"]), JUNK),
        "precision": st.one_of(st.sampled_from(["float32", "float64"]), JUNK)},
    "steepest": {"backend": st.one_of(st.sampled_from(["auto", "numba", "torch"]), JUNK),
                 "device": st.one_of(st.sampled_from(["cpu", "tpu"]), JUNK)},
    "grover": {"lam": st.one_of(NUMBERS, JUNK), "max_oracle_calls": st.one_of(st.integers(-2, 200), JUNK)},
}


@FAST
@given(data=st.data(), name=st.sampled_from(sorted(SAMPLER_PARAMS)))
def test_sampler_parameters_give_a_result_or_a_clear_error(data, name):
    params = {k: data.draw(v, label=k) for k, v in SAMPLER_PARAMS[name].items() if data.draw(st.booleans())}
    try:
        res = get_sampler(name).sample_qubo_batch(torch.tensor([[-1.0, 2.0], [0.0, -1.0]]), num_reads=2,
                                                  seed=0, **params)
    except (ValueError, TypeError):
        return
    assert res.sample.shape == (2,) and math.isfinite(float(res.energy))
