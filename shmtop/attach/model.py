"""Who uses each object: attachers (mappings) and holders (open descriptors), per process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Attacher:
    """One process using one object: how many mappings and descriptors it has on it, and
    whether it is blocked in a call on it (semop, msgrcv, mq_timedreceive...)."""

    pid: int
    comm: str
    uid: int | None
    maps: int
    fds: int
    waiting: bool = False


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
