"""Placing rows in a sorted order, and where the cursor goes when its row leaves it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def insertion_point(order: list[str], keys: Mapping[str, Any], key: Any, reverse: bool) -> int:
    """Where a row with this sort key belongs in order (ascending, or descending)."""
    low, high = 0, len(order)
    while low < high:
        middle = (low + high) // 2
        other = keys[order[middle]]
        if (other > key) if reverse else (other < key):
            low = middle + 1
        else:
            high = middle
    return low


def follow(
    cursor: str | None, old_order: list[str], index: Mapping[str, int], order: list[str]
) -> str | None:
    """The cursor's object if still shown, else its old next (then previous) neighbour."""
    if cursor in index:
        return cursor
    if not order:
        return None
    position = old_order.index(cursor) if cursor in old_order else None
    if position is not None:
        after = (ref for ref in old_order[position + 1 :] if ref in index)
        before = (ref for ref in reversed(old_order[:position]) if ref in index)
        return next(after, None) or next(before, None) or order[0]
    return order[0]
