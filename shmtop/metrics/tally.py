"""One pass over a kind's objects and their verdicts: the figures its metric families show.

What could not be read is never added as 0: a tally counts the objects whose bytes are
unknown, so the family can leave the figure out. Entries of /dev/shm that are not IPC objects
(symlinks, FIFOs, directories) are counted as listed, but hold no IPC bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shmtop.clean.stale import last_used
from shmtop.model import FileType, IpcObject, Kind, PosixEntry, SharedMemory, SysvShm, Verdict
from shmtop.model.kinds import KINDS
from shmtop.model.verdict import Doubt

Measure = Callable[[Any], int | None]


def _held(obj: IpcObject) -> int | None:
    return KINDS[obj.kind].size(obj)


def _segment_memory(shm: SysvShm) -> int | None:
    """Pages of a segment really in use: resident plus swapped (None on kernels without)."""
    return None if shm.rss is None or shm.swap is None else shm.rss + shm.swap


def _file_allocated(entry: PosixEntry) -> int:
    return entry.allocated


def _shared_allocated(memory: SharedMemory) -> int | None:
    return memory.allocated


class Measures(NamedTuple):
    """How to read a kind's bytes: what an object holds (`shmtop_object_bytes`) and the
    memory it really uses (`shmtop_allocated_bytes`); None where the kind has no such figure."""

    held: Measure | None
    allocated: Measure | None


MEASURES: Mapping[Kind, Measures] = {
    Kind.SYSV_SHM: Measures(held=_held, allocated=_segment_memory),
    Kind.SYSV_MSG: Measures(held=_held, allocated=None),  # bytes queued; kernel memory unseen
    Kind.SYSV_SEM: Measures(held=None, allocated=None),  # values, not bytes
    Kind.POSIX_SHM: Measures(held=_held, allocated=_file_allocated),
    Kind.POSIX_SEM: Measures(held=None, allocated=_file_allocated),  # a 32-byte sem_t
    Kind.POSIX_MQ: Measures(held=_held, allocated=None),  # bytes queued; no blocks on mqueue
    Kind.PIPE: Measures(held=_held, allocated=None),  # bytes waiting
    Kind.FIFO: Measures(held=_held, allocated=None),
    Kind.MEMFD: Measures(held=_held, allocated=_shared_allocated),
    Kind.SHARED_FILE: Measures(held=_held, allocated=_shared_allocated),  # page cache, too
    Kind.SHARED_ANON: Measures(held=_held, allocated=_shared_allocated),
}


class Sum:
    """A sum of values, and how many were unknown (then the sum is no figure at all)."""

    __slots__ = ("total", "unknown")

    def __init__(self) -> None:
        self.total = 0
        self.unknown = 0

    def add(self, value: int | None) -> None:
        if value is None:
            self.unknown += 1
        else:
            self.total += value

    @property
    def known(self) -> int | None:
        return None if self.unknown else self.total


def known(total: Sum | None) -> int | None:
    """The sum, or None when the kind has no such figure or some value was unknown."""
    return None if total is None else total.known


class Leak(NamedTuple):
    age: float | None  # seconds since last used; None when never recorded
    ref: str


@dataclass
class KindTally:
    """The figures of one kind in one namespace (sums None where the kind has no such
    figure; `readable` False when its objects could not be listed: then no figures)."""

    kind: Kind
    readable: bool = True
    objects: int = 0
    held: Sum | None = None
    allocated: Sum | None = None
    leaked_held: Sum | None = None
    leaks: list[Leak] = field(default_factory=list)
    unjudged: Counter[Doubt] = field(default_factory=Counter)

    @property
    def leaks_known(self) -> bool:
        """Whether the leak figures are facts: some leak was found (a lower bound while
        others are in doubt), or every object was judged."""
        return bool(self.leaks) or not self.unjudged

    @property
    def oldest_leak_age(self) -> float:
        return max((leak.age for leak in self.leaks if leak.age is not None), default=0.0)


def tally_kind(
    kind: Kind, objects: tuple[IpcObject, ...], judged: Mapping[str, Verdict], now: float
) -> KindTally:
    held, allocated = MEASURES[kind]
    tally = KindTally(
        kind,
        objects=len(objects),
        held=None if held is None else Sum(),
        allocated=None if allocated is None else Sum(),
        leaked_held=None if held is None else Sum(),
    )
    for obj in objects:
        if isinstance(obj, PosixEntry) and obj.type is not FileType.FILE:
            continue  # listed, but not an IPC object: no bytes, never judged leaked
        if held is not None and tally.held is not None:
            tally.held.add(held(obj))
        if allocated is not None and tally.allocated is not None:
            tally.allocated.add(allocated(obj))
        _judge(tally, obj, judged.get(obj.ref), now, held)
    return tally


def _judge(
    tally: KindTally, obj: IpcObject, verdict: Verdict | None, now: float, held: Measure | None
) -> None:
    if verdict is None or verdict.unknown:
        tally.unjudged[Doubt.NO_SCAN if verdict is None else _doubt(verdict)] += 1
    elif verdict.stale:
        since = last_used(obj)
        tally.leaks.append(
            Leak(None if since is None else round(max(0.0, now - since), 3), obj.ref)
        )
        if held is not None and tally.leaked_held is not None:
            tally.leaked_held.add(held(obj))


def _doubt(verdict: Verdict) -> Doubt:
    return verdict.doubt or Doubt.UNREADABLE
