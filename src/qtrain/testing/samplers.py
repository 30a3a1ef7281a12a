"""Conformance kit for QUBO samplers: one call checks any sampler against exact references."""

from __future__ import annotations

import unittest
from typing import Any

import dimod
import dimod.testing
import numpy as np
import torch

from qtrain._info import SolveContext
from qtrain.qubo import QUBO, TIMING_KEYS, QUBOSampler
from qtrain.qubo.exact import enumerate_energies

__all__ = ["assert_dimod_sampler_suite", "assert_sampler_conforms", "random_qubo"]


def random_qubo(batch: int, n: int, seed: int = 0, integer: bool = False) -> QUBO:
    """A batch of random dense QUBOs: couplings uniform(-1, 1) (or integers in [-3, 3]) and a
    random offset, in float64."""
    rng = np.random.default_rng(seed)
    if integer:
        Q = rng.integers(-3, 4, size=(batch, n, n)).astype(np.float64)
    else:
        Q = rng.uniform(-1, 1, size=(batch, n, n))
    return QUBO(torch.from_numpy(Q), torch.from_numpy(rng.uniform(-1, 1, size=batch)))


def assert_dimod_sampler_suite(sampler: dimod.Sampler, max_num_variables: int | None = None) -> None:
    """Run dimod's own sampler checks on ``sampler``: ``dimod.testing.assert_sampler_api`` and
    every test of ``dimod.testing.load_sampler_bqm_tests`` (empty, one-variable and path BQMs of
    every BQM class, SPIN and BINARY, labelled variables; energies recomputed by dimod).

    Args:
        sampler: any ``dimod.Sampler``; the tests call it without parameters (its defaults).
        max_num_variables: the largest BQM dimod's tests may give it (``None``: no limit).

    Raises:
        AssertionError: naming every dimod test that failed or errored, with its message.
    """
    dimod.testing.assert_sampler_api(sampler)

    @dimod.testing.load_sampler_bqm_tests(sampler, max_num_variables=max_num_variables)
    class DimodSamplerTests(unittest.TestCase):
        pass

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(DimodSamplerTests).run(result)
    bad = result.failures + result.errors
    if bad:
        lines = [f"{test.id().rsplit('.', 1)[-1]}: {trace.strip().splitlines()[-1]}" for test, trace in bad]
        raise AssertionError(f"{len(bad)} of {result.testsRun} dimod sampler tests failed for "
                             f"{sampler!r}:\n" + "\n".join(lines))
    if not result.testsRun:  # pragma: no cover - dimod always generates tests
        raise AssertionError("dimod generated no sampler tests")


def _check_result_shape(res: Any, batch: tuple[int, ...], n: int, num_reads: int, seed: int) -> None:
    assert tuple(res.sample.shape) == (*batch, n), f"sample has shape {tuple(res.sample.shape)}"
    assert tuple(res.energy.shape) == batch, f"energy has shape {tuple(res.energy.shape)}"
    assert res.sample.dtype == torch.int8, f"sample dtype is {res.sample.dtype}, expected int8"
    assert bool(((res.sample == 0) | (res.sample == 1)).all()), "samples must be 0/1"
    assert tuple(res.samples.shape) == (*batch, num_reads, n), "samples shape"
    assert tuple(res.energies.shape) == (*batch, num_reads), "energies shape"
    info = res.info
    assert info["seed"] == seed, "info['seed'] must record the seed"
    assert set(TIMING_KEYS) <= set(info["timing"]), f"timing keys {sorted(info['timing'])}"
    assert all(isinstance(v, int) and v >= 0 for v in info["timing"].values()), "timing in ns"
    assert info["timing"]["solve_ns"] == info["timing"]["sampling_ns"], "solve_ns is sampling_ns"
    assert torch.equal(res.energy, res.energies.min(-1).values), "energy must be the best read's"


def assert_sampler_conforms(sampler: QUBOSampler, *, params: dict[str, Any] | None = None,
                            num_reads: int = 8, sizes: tuple[int, ...] = (1, 2, 5, 8),
                            batch: int = 3, seed: int = 1234, ground_state: bool = True,
                            seeded: bool | None = None, dimod_suite: bool = True) -> None:
    """Check a sampler against the interface contract and exact references; raise on a failure.

    Checks, for random dense problems of each size in ``sizes`` (a batch of ``batch`` problems):

    1. API shape: ``sample_qubo_batch`` shapes and dtypes, ``info`` with ``seed`` and every key
       of ``TIMING_KEYS`` in integer ns; a single (unbatched) problem works; ``num_reads=0`` and an
       unknown parameter are refused.
    2. Energies match the model: every returned energy equals ``x^T Q x + c`` recomputed here, and
       the dimod API (``sample_qubo`` on the BQM) returns a SampleSet with dimod's own energies.
    3. Same seed, same samples (skipped when ``seeded`` is False, e.g. a QPU), also when a
       :class:`~qtrain._info.SolveContext` is passed.
    4. A batch equals its problems solved one by one with the same seed: identical samples when
       seeded, else equal best energies on the ground-state instances.
    5. Small instances reach the exact ground state (brute force), when ``ground_state``.
    6. dimod's own sampler suite (:func:`assert_dimod_sampler_suite`), when ``dimod_suite``;
       dimod's tests call the sampler with its constructor defaults, so construct it with any
       parameter it needs there (e.g. a short tabu ``timeout``).
    7. An empty batch ``[0, n, n]`` gives an empty result.

    Args:
        sampler: any :class:`~qtrain.qubo.QUBOSampler`.
        params: extra sampler parameters for every call (e.g. a small ``timeout``).
        seeded: whether the same seed must give the same samples; default: the sampler's
            ``properties.get("seeded", True)``.
    """
    params = dict(params or {})
    seeded = sampler.properties.get("seeded", True) if seeded is None else seeded
    assert isinstance(sampler, dimod.Sampler), "a sampler must be a dimod.Sampler"
    assert {"num_reads", "seed"} <= set(sampler.parameters), "parameters must list num_reads, seed"
    for n in sizes:
        qubo = random_qubo(batch, n, seed=seed + n)
        res = sampler.sample_qubo_batch(qubo, num_reads=num_reads, seed=seed, return_all=True,
                                        **params)
        _check_result_shape(res, (batch,), n, num_reads, seed)
        recomputed = qubo.energy(res.samples.to(torch.float64))
        assert torch.allclose(res.energies, recomputed, rtol=1e-9, atol=1e-9), "energies != model"
        if seeded:
            again = sampler.sample_qubo_batch(qubo, num_reads=num_reads, seed=seed,
                                              return_all=True, **params)
            assert torch.equal(again.samples, res.samples), "same seed must give same samples"
            ctx = SolveContext(step=3, block_ids=tuple(range(batch)))
            with_ctx = sampler.sample_qubo_batch(qubo, num_reads=num_reads, seed=seed,
                                                 return_all=True, context=ctx, **params)
            assert torch.equal(with_ctx.samples, res.samples), "a SolveContext changed the samples"
        exact = enumerate_energies(qubo).min(-1).values
        for b in range(batch):
            one = sampler.sample_qubo_batch(qubo[b], num_reads=num_reads, seed=seed,
                                            return_all=True, **params)
            _check_result_shape(one, (), n, num_reads, seed)
            if seeded:
                assert torch.equal(one.samples, res.samples[b]), (
                    f"problem {b} solved alone differs from the same problem inside the batch")
            elif ground_state:
                assert abs(float(one.energy) - float(exact[b])) < 1e-8, "single-problem ground state"
        if ground_state:
            gap = (res.energy - exact).abs().max()
            assert float(gap) < 1e-8, f"n={n}: best energy misses the exact ground state by {gap}"
    # dimod API: energies are dimod's own, for BINARY and SPIN models.
    bqm = random_qubo(1, 4, seed=seed)[0].to_bqm()
    ss = sampler.sample(bqm, num_reads=num_reads, seed=seed, **params)
    assert isinstance(ss, dimod.SampleSet)
    assert np.allclose(ss.record.energy, bqm.energies(ss)), "SampleSet energies != bqm.energies"
    spin = bqm.change_vartype("SPIN", inplace=False)
    ss = sampler.sample(spin, num_reads=num_reads, seed=seed, **params)
    assert set(np.unique(ss.record.sample)) <= {-1, 1}, "SPIN models must get spin samples"
    assert np.allclose(ss.record.energy, spin.energies(ss)), "SPIN energies != bqm.energies"
    ss = sampler.sample_qubo({(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0}, num_reads=num_reads,
                             seed=seed, **params)
    assert ss.first.energy == -1.0, "sample_qubo must find the ground state of a 2-variable QUBO"
    # Bad input is refused before any work.
    for bad in (0, -1, 2.5):
        try:
            sampler.sample_qubo_batch(random_qubo(1, 2), num_reads=bad, **params)
        except ValueError:
            pass
        else:
            raise AssertionError(f"num_reads={bad!r} must raise ValueError")
    try:
        sampler.sample_qubo_batch(random_qubo(1, 2), no_such_parameter=1, **params)
    except TypeError:
        pass
    else:
        raise AssertionError("an unknown parameter must raise TypeError")
    empty = sampler.sample_qubo_batch(QUBO(torch.zeros(0, 3, 3)), num_reads=2, return_all=True, **params)
    assert tuple(empty.sample.shape) == (0, 3) and tuple(empty.samples.shape) == (0, 2, 3), "empty batch"
    if dimod_suite:
        assert_dimod_sampler_suite(sampler, max_num_variables=sampler.max_variables)
