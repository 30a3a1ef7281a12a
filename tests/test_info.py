"""The shared info shape: the seed rule, the solve context, stage timing."""

import numpy as np
import pytest

from qtrain._info import OPTIMIZER_TIMING_KEYS, TIMING_KEYS, SolveContext, Stopwatch, resolve_seed, stage_timing


def test_resolve_seed_passes_integers_through_and_draws_fresh_entropy_for_none():
    assert resolve_seed(0) == 0 and resolve_seed(2**32 - 1) == 2**32 - 1
    assert resolve_seed(np.int64(5)) == 5 and isinstance(resolve_seed(np.int64(5)), int)
    drawn = {resolve_seed(None) for _ in range(8)}
    assert all(0 <= s < 2**32 for s in drawn) and len(drawn) > 1


@pytest.mark.parametrize("bad", [-1, 2**32, 1.0, "3", True])
def test_resolve_seed_refuses_what_is_no_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        resolve_seed(bad)


def test_solve_context_ids_and_checks():
    assert SolveContext().ids_for(3) == [0, 1, 2]
    ctx = SolveContext(step=4, block_ids=[7, 9])
    assert ctx.block_ids == (7, 9) and ctx.ids_for(2) == [7, 9]
    with pytest.raises(ValueError, match="one id per problem"):
        ctx.ids_for(3)
    with pytest.raises(ValueError, match="step"):
        SolveContext(step=-1)


def test_stage_timing_and_stopwatch_add_up():
    t = stage_timing(10, 15, 40, 41)
    assert tuple(t) == TIMING_KEYS and t["total_ns"] == 31
    assert t["total_ns"] == t["preprocessing_ns"] + t["solve_ns"] + t["postprocessing_ns"]
    sw = Stopwatch()
    for stage in ("formulate", "solve", "apply", "solve"):
        sw.lap(stage)
    out = sw.timing()
    assert set(out) == set(OPTIMIZER_TIMING_KEYS)
    assert out["total_ns"] == out["formulate_ns"] + out["solve_ns"] + out["apply_ns"]
    with pytest.raises(ValueError, match="stage"):
        sw.lap("decode")
