"""What needs a look first: how full an object is, and what is wrong with it (no UI library).

A `Flag` is one finding about one object, with a word and a one-character mark, so that a
table can say it without colour; its `Severity` decides the colour the dashboard gives it
(from its theme). `flags()` lists an object's flags, the worst first; `fullness()` is how
full an object with a limit is (a queue's bytes of qbytes, a POSIX queue's messages of
maxmsg).
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from shmtop.model import IpcObject, PipeLike, PosixMq, PosixSem, SysvMsg, Verdict

NEARLY_FULL_AT = 90.0  # percent of its limit from which an object is "nearly full"


class Severity(enum.IntEnum):
    """How urgently a row wants a look; the dashboard colours rows by it."""

    NONE = 0
    UNKNOWN = 1  # cannot tell whether it is used
    WAITED = 2  # processes wait on it: normal, but worth knowing
    WARNING = 3  # nearly full, blocked, filling with nobody receiving
    LEAKED = 4


class Flag(NamedTuple):
    severity: Severity
    word: str  # what it means, for the detail view, the help and the legend
    mark: str  # one character in the table's mark column


LEAKED = Flag(Severity.LEAKED, "leaked", "!")
NEARLY_FULL = Flag(Severity.WARNING, "nearly full", "%")
BLOCKED = Flag(Severity.WARNING, "full: senders block", "#")
UNREAD = Flag(Severity.WARNING, "never received from", ">")
WAITED = Flag(Severity.WAITED, "waited on: a process is blocked on it", "~")
UNKNOWN = Flag(Severity.UNKNOWN, "cannot tell if it is used", "?")
ALL_FLAGS = (LEAKED, BLOCKED, NEARLY_FULL, UNREAD, WAITED, UNKNOWN)


class Fullness(NamedTuple):
    """How much of its limit an object uses: `used` of `limit` (in `unit`)."""

    used: int
    limit: int
    unit: str  # "bytes" or "msgs"

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit if self.limit > 0 else 100.0

    @property
    def shown(self) -> int:
        """The percentage rounded down: 100 only when full (when senders block)."""
        return int(self.percent)


def fullness(obj: IpcObject) -> Fullness | None:
    """A System V queue's bytes of qbytes; a POSIX queue's messages of maxmsg; a pipe's
    bytes waiting of its capacity (a full pipe is the classic stall: its writers sleep);
    else None (no limit of its own, or unknown)."""
    if isinstance(obj, SysvMsg) and obj.qbytes is not None:
        return Fullness(obj.cbytes, obj.qbytes, "bytes")
    if isinstance(obj, PosixMq) and obj.curmsgs is not None and obj.maxmsg is not None:
        return Fullness(obj.curmsgs, obj.maxmsg, "msgs")
    if isinstance(obj, PipeLike) and obj.buffered is not None and obj.capacity:
        return Fullness(obj.buffered, obj.capacity, "bytes")
    return None


def flags(obj: IpcObject, verdict: Verdict | None, waiting: int = 0) -> tuple[Flag, ...]:
    """Everything worth a look about obj, the worst first. `waiting`: processes seen blocked
    on it (a semaphore's own count of waiters is read from the object)."""
    found: list[Flag] = []
    if verdict is not None:
        found += [LEAKED] if verdict.stale else [UNKNOWN] if verdict.unknown else []
    full = fullness(obj)
    if full is not None and full.percent >= NEARLY_FULL_AT:
        found.append(BLOCKED if full.used >= full.limit else NEARLY_FULL)
    if isinstance(obj, SysvMsg) and obj.qnum and obj.lrpid == 0:
        found.append(UNREAD)
    if waiting or (isinstance(obj, PosixSem) and obj.waiters):
        found.append(WAITED)
    return tuple(sorted(found, key=lambda flag: -flag.severity))


def worst(found: tuple[Flag, ...]) -> Flag | None:
    return found[0] if found else None


SEVERITY_OF_MARK = {flag.mark: flag.severity for flag in ALL_FLAGS}  # one severity per mark
