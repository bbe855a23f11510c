"""A leak verdict: whether an object looks leaked, always with the reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["leaked", "in use", "unknown"]
DEFAULT_MIN_AGE = 600.0  # seconds unchanged or idle before an object may look leaked


@dataclass(frozen=True, slots=True)
class Verdict:
    """`stale`: it looks leaked. `unknown`: not stale only because something could not be
    known (then `reasons` say what)."""

    stale: bool
    reasons: tuple[str, ...]
    unknown: bool = False

    @property
    def state(self) -> State:
        if self.stale:
            return "leaked"
        return "unknown" if self.unknown else "in use"
