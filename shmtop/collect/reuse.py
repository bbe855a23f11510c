"""Handing back the previous poll's object when one is built from identical values.

Objects are frozen and built only from the values given, so equal values mean an equal
object: reusing it saves the construction and lets consumers see "unchanged" by identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Reuse(Generic[T]):
    """Builds `make(*values)`, or returns what the previous round built from equal values."""

    def __init__(self, make: Callable[..., T]) -> None:
        self._make = make
        self._previous: dict[tuple[Any, ...], T] = {}
        self._current: dict[tuple[Any, ...], T] = {}

    def __call__(self, *values: Any) -> T:
        obj = self._previous.get(values)
        if obj is None:
            obj = self._make(*values)
        self._current[values] = obj
        return obj

    def next_round(self) -> None:
        """Forget what this round did not use: memory stays bounded by the live objects."""
        self._previous, self._current = self._current, {}
