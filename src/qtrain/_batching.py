"""Group problems by size, solve each group in one batched call, scatter the results back.

Solvers take batches of problems of one size (a ``QUBO`` ``[B, n, n]``, linear systems
``[B, N, N]``); a training step or a file of problems has several sizes. :func:`solve_by_size` is
the one place that groups them: QP-SBGD's layers, Q-Newton's curvature blocks and
``qtrain solve``'s problems all go through it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

__all__ = ["group_by_size", "solve_by_size"]

T = TypeVar("T")
R = TypeVar("R")


def group_by_size(sizes: Sequence[Hashable], *, sort: bool = False) -> dict[Any, list[int]]:
    """``size -> indices`` of the items with that size, each list in item order; groups in order
    of first appearance, or by size when ``sort``.

    Example:
        >>> group_by_size([3, 5, 3])
        {3: [0, 2], 5: [1]}
    """
    groups: dict[Any, list[int]] = {}
    for i, s in enumerate(sizes):
        groups.setdefault(s, []).append(i)
    return dict(sorted(groups.items())) if sort else groups


def solve_by_size(items: Sequence[T], size: Callable[[T], Hashable],
                  solve: Callable[[Any, list[T]], Sequence[R]], *, sort: bool = False) -> list[R]:
    """Call ``solve(size, group)`` once per size on the items of that size (in item order) and
    return the per-item results in the order of ``items``.

    Args:
        items: the problems.
        size: the key a batched solver needs equal within one call (the number of variables).
        solve: ``solve(size, group) -> results``, one result per item of ``group``, in order.
        sort: solve the groups by increasing size (default: order of first appearance).

    Raises:
        ValueError: ``solve`` returned a different number of results than it was given items.

    Example:
        >>> solve_by_size(["ab", "c", "de"], len, lambda n, g: [s.upper() for s in g])
        ['AB', 'C', 'DE']
    """
    out: list[Any] = [None] * len(items)
    for key, idx in group_by_size([size(it) for it in items], sort=sort).items():
        results = list(solve(key, [items[i] for i in idx]))
        if len(results) != len(idx):
            raise ValueError(f"solve returned {len(results)} results for {len(idx)} problems of size {key}")
        for i, r in zip(idx, results, strict=True):
            out[i] = r
    return out
