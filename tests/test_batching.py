"""Group by size, solve each group once, scatter back."""

import pytest

from qtrain._batching import group_by_size, solve_by_size


def test_groups_keep_item_order_and_first_appearance_or_sorted_order():
    assert group_by_size([4, 2, 4, 3, 2]) == {4: [0, 2], 2: [1, 4], 3: [3]}
    assert list(group_by_size([4, 2, 4, 3, 2], sort=True)) == [2, 3, 4]


def test_each_size_is_solved_in_one_call_and_results_return_in_item_order():
    calls = []

    def solve(n, group):
        calls.append((n, list(group)))
        return [s[::-1] for s in group]

    items = ["abc", "de", "fgh", "i", "jk"]
    assert solve_by_size(items, len, solve) == ["cba", "ed", "hgf", "i", "kj"]
    assert calls == [(3, ["abc", "fgh"]), (2, ["de", "jk"]), (1, ["i"])]
    calls.clear()
    solve_by_size(items, len, solve, sort=True)
    assert [n for n, _ in calls] == [1, 2, 3]
    assert solve_by_size([], len, solve) == []


def test_a_solver_that_drops_results_is_refused():
    with pytest.raises(ValueError, match="2 results for 3 problems"):
        solve_by_size(["a", "b", "c"], len, lambda n, g: g[:2])
