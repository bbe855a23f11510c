"""A leak verdict: whether an object looks leaked, always with the reasons."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

State = Literal["leaked", "in use", "unknown"]
DEFAULT_MIN_AGE = 600.0  # seconds unchanged or idle before an object may look leaked


class Doubt(enum.StrEnum):
    """What could not be known, in a word: why a verdict is unknown (metrics count unjudged
    objects by it, so there are few)."""

    NO_SCAN = "no-scan"  # no /proc scan was made
    UNINSPECTED = "uninspected-processes"  # processes whose /proc could not be read
    HIDDEN = "hidden-processes"  # /proc hides other users' processes (hidepid)
    PID_FATE = "pid-fate-unknown"  # whether a recorded pid still runs
    NO_PID = "no-pid-recorded"  # a queue or set no process is recorded as having used
    LAST_USE = "last-use-unknown"  # when it was last used
    UNREADABLE = "unreadable"  # the object itself could not be analysed
    HOST_FILESYSTEM = "host-filesystem"  # a host tmpfs bound on another namespace's /dev/shm


@dataclass(frozen=True, slots=True)
class Verdict:
    """`stale`: it looks leaked. `unknown`: not stale only because something could not be
    known (then `reasons` say what, and `doubt` in a word)."""

    stale: bool
    reasons: tuple[str, ...]
    unknown: bool = False
    doubt: Doubt | None = None

    @property
    def state(self) -> State:
        if self.stale:
            return "leaked"
        return "unknown" if self.unknown else "in use"
