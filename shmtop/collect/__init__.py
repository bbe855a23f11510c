"""The collector: one typed Snapshot of every IPC object, limit and usage figure on the host.

`collect_snapshot()` reads everything once: the kinds listed from tables and directories by
default, and the kinds found in processes (pipes, memfd, shared mappings) when asked for, with
a walk over /proc. A `Collector` kept between calls (as the dashboard
does) remembers each /proc/sysvipc line it has parsed, so a poll re-parses only changed lines.
Trouble with one object (it vanished, it cannot be read) never fails the whole collection;
trouble with a whole source (not mounted, unreadable) is reported in `Snapshot.unavailable`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import NamedTuple

from shmtop.attach import Found, ProcessFinder, scan_attachers
from shmtop.attach.pipes import PipeFinder
from shmtop.attach.shared import SharedMemoryFinder
from shmtop.collect.found import with_found
from shmtop.collect.limits import read_limits
from shmtop.collect.sources import Source, listed_sources
from shmtop.collect.usage import usage_of
from shmtop.collect.users import resolve_users
from shmtop.model import LISTED_KINDS, AttachMap, IpcObject, Kind, Snapshot
from shmtop.model.kinds import KINDS
from shmtop.model.roots import Roots
from shmtop.namespaces.discover import own_namespace

__all__ = ["Collector", "Roots", "collect_snapshot"]


def collect_snapshot(
    roots: Roots | None = None, kinds: Iterable[Kind] = LISTED_KINDS, attachers: bool = False
) -> Snapshot:
    """Read the host's IPC state once (and, with `attachers`, who uses each object)."""
    return Collector(roots, kinds).collect(attachers)


class FoundInProcesses(NamedTuple):
    """A second-phase source: the kinds it finds in processes, and how to make one for a
    collection (a new one per scan: it gathers what one walk shows it)."""

    kinds: frozenset[Kind]
    make: Callable[[Roots], ProcessFinder]


PROCESS_SOURCES: tuple[FoundInProcesses, ...] = (
    FoundInProcesses(PipeFinder.kinds, PipeFinder),
    # memfd, shared mappings, and /dev/shm files deleted while held (posix-shm)
    FoundInProcesses(SharedMemoryFinder.kinds, SharedMemoryFinder),
)
NOT_SCANNED = "found only by a walk over /proc, which this collection did not make"


class Collector:
    """Collects snapshots of the chosen kinds from the sources that yield them, in two
    phases: listed sources (tables and directories) on every poll, and, with a scan of
    /proc, the kinds found in processes. Keep one instance to poll cheaply (each listed
    source remembers what it built)."""

    def __init__(
        self,
        roots: Roots | None = None,
        kinds: Iterable[Kind] = LISTED_KINDS,
        found_in_processes: Sequence[FoundInProcesses] = PROCESS_SOURCES,
    ) -> None:
        self.roots = roots or Roots()
        self.kinds = frozenset(kinds)
        self.sources: list[Source] = [
            source for source in listed_sources(self.roots) if source.kinds & self.kinds
        ]
        self.found_in_processes = [s for s in found_in_processes if s.kinds & self.kinds]
        self._found: list[Found] | None = None  # what the last walk found

    def collect(self, attachers: bool = False) -> Snapshot:
        """A snapshot; with `attachers`, also a /proc scan of who uses each object, which
        finds the kinds that live in processes."""
        return self.complete(self.listed(), attachers)

    def listed(self) -> Snapshot:
        """The first phase alone: the listed kinds, limits and usage."""
        return self._collect()

    def complete(self, snapshot: Snapshot, attachers: bool) -> Snapshot:
        """The second phase over `snapshot` (this Collector's first phase, or a merge of
        several): with `attachers`, the walk over /proc, with who uses what and the kinds
        found in processes. Without it, what the last walk found (a Collector kept between
        polls, as the dashboard's, shows those objects as of its last walk rather than none);
        before any walk, those kinds are unavailable."""
        if not attachers:
            return self._last_found_in(snapshot)
        finders = [source.make(self.roots) for source in self.found_in_processes]
        for finder in finders:  # a finder finds only the kinds asked for (the rest is work)
            finder.kinds = finder.kinds & self.kinds
        attach = scan_attachers(snapshot, self.roots.procfs, finders)
        snapshot = replace(snapshot, attach=attach)
        if finders:
            self._found = [finder.found() for finder in finders]
            snapshot = self._with_found(snapshot, self._found)
        assert snapshot.attach is not None
        users = resolve_users(_all_uids(snapshot, snapshot.attach))
        return replace(snapshot, users=users)

    def _with_found(self, snapshot: Snapshot, found: list[Found]) -> Snapshot:
        snapshot = with_found(snapshot, found)
        mine = {"", self.roots.ipc_ns, self.roots.shm_ns}  # usage is of its own namespace's
        own = [obj for obj in snapshot.objects if obj.ns in mine]
        counted = replace(snapshot, by_kind=_by_kind(own))
        return replace(snapshot, usage={**snapshot.usage, **usage_of(counted)})

    def _last_found_in(self, snapshot: Snapshot) -> Snapshot:
        if self._found is None:
            return self._not_scanned(snapshot)
        snapshot = self._with_found(snapshot, self._found)
        return replace(snapshot, users={**_found_users(self._found), **snapshot.users})

    def _not_scanned(self, snapshot: Snapshot) -> Snapshot:
        """Kinds found in processes are unknown without the walk: unavailable, not none."""
        missing = {k for source in self.found_in_processes for k in source.kinds if KINDS[k].found}
        if not missing & self.kinds:
            return snapshot
        unavailable = {**snapshot.unavailable, **dict.fromkeys(missing & self.kinds, NOT_SCANNED)}
        return replace(snapshot, unavailable=unavailable)

    def _collect(self) -> Snapshot:
        started = time.time()
        limits = read_limits(self.roots.procfs, self.roots.dev_shm)
        by_kind: dict[Kind, tuple[IpcObject, ...]] = {}
        unavailable: dict[Kind, str] = {}
        for source in self.sources:
            found = source.read(source.kinds & self.kinds)
            by_kind.update((kind, tuple(objects)) for kind, objects in found.objects.items())
            unavailable.update(found.unavailable)
        snapshot = Snapshot(
            time=started,
            host=os.uname().nodename,
            kinds=self.kinds,
            by_kind=by_kind,
            limits=limits,
            unavailable=unavailable,
            namespaces=(own_namespace(self.roots.procfs),) if self.roots.own else (),
        )
        return replace(
            snapshot,
            usage=usage_of(snapshot),
            users=resolve_users(obj.uid for obj in snapshot.objects if obj.uid is not None),
        )


def _by_kind(objects: list[IpcObject]) -> dict[Kind, tuple[IpcObject, ...]]:
    by_kind: dict[Kind, list[IpcObject]] = {}
    for obj in objects:
        by_kind.setdefault(obj.kind, []).append(obj)
    return {kind: tuple(found) for kind, found in by_kind.items()}


def _found_users(found: list[Found]) -> dict[int, str | None]:
    """Owners of what a walk found, named again (user names are resolved per snapshot)."""
    uids = {o.uid for part in found for objs in part.objects.values() for o in objs}
    return resolve_users(uid for uid in uids if uid is not None)


def _all_uids(snapshot: Snapshot, attach: AttachMap) -> Iterator[int]:
    yield from (obj.uid for obj in snapshot.objects if obj.uid is not None)
    yield from (p.uid for p in attach.processes.values() if p.uid is not None)
