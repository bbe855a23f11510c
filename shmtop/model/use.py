"""Who uses each object: attachers (mappings), holders (open descriptors) and waiters, per
process; and whether a recorded pid is still the process it was."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Attacher:
    """One process using one object: how many mappings and descriptors it has on it, and
    whether it is blocked in a call on it (semop, msgrcv, mq_timedreceive...), and which
    (`call`: "msgrcv", "write"; "" when not waiting or not known)."""

    pid: int
    comm: str
    uid: int | None
    maps: int
    fds: int
    waiting: bool = False
    call: str = ""


@dataclass(frozen=True, slots=True)
class ProcessUse:
    """One process that uses IPC objects: which, and how many bytes of them it maps."""

    pid: int
    comm: str
    uid: int | None
    refs: tuple[str, ...]
    mapped_bytes: int


@dataclass(frozen=True, slots=True)
class PidLife:
    """What /proc says of a pid now: gone, or alive since `started` (epoch seconds)."""

    alive: bool
    started: float | None = None


@dataclass(frozen=True, slots=True)
class AttachMap:
    """One scan of /proc: attachers by object reference, and what could not be seen.

    `unreadable` counts processes of this namespace (or of unknown namespace) whose maps or
    descriptors could not be read: any of them may be using any object. `waits_unknown_pids`
    are readable processes whose system call could not be read: any of them may be blocked on
    a queue. `hidden` says why other processes may not be listed at all (hidepid), in which
    case nobody can be known not to use an object. `comms` names unreadable processes where
    their command name could still be read.
    """

    time: float
    attachers: Mapping[str, tuple[Attacher, ...]] = field(default_factory=dict)
    unknown: Mapping[str, int] = field(default_factory=dict)
    processes: Mapping[int, ProcessUse] = field(default_factory=dict)
    pids: Mapping[int, PidLife | None] = field(default_factory=dict)  # None: unknowable
    unreadable: int = 0
    scanned: int = 0
    unreadable_pids: frozenset[int] = frozenset()
    waits_unknown_pids: frozenset[int] = frozenset()
    hidden: str | None = None
    comms: Mapping[int, str] = field(default_factory=dict)

    @property
    def uninspected(self) -> frozenset[int]:
        """Processes that may use objects unseen: unreadable, or their waits unreadable."""
        return self.unreadable_pids | self.waits_unknown_pids


SLACK = 1.0  # object times have whole seconds; process start times have clock ticks


def pid_state(pid: int, since: float | None, lives: Mapping[int, PidLife | None]) -> str | None:
    """ "alive", "exited", "reused" (a later process has the pid), or None if unknowable.

    `since` is when the object recorded the pid (at the latest).
    """
    life = lives.get(pid) if pid > 0 else None
    if life is None:
        return None
    if not life.alive:
        return "exited"
    if since is not None and life.started is not None and life.started > since + SLACK:
        return "reused"
    return "alive"


def latest_time(*times: int | None) -> int | None:
    """The latest of the times an object recorded (None: never), as pid_state's `since`."""
    known = [t for t in times if t is not None]
    return max(known) if known else None


def is_alive(state: str | None) -> bool | None:
    return None if state is None else state == "alive"
