"""Joining what the finders found in processes to the snapshot of the same walk: their
objects, and who uses each (as attachers, so that every command and verdict reads them like
any other kind's users)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from shmtop.attach import Found
from shmtop.model import Attacher, AttachMap, IpcObject, Kind, ProcessUse, SharedMemory, Snapshot
from shmtop.model.kinds import KINDS

Users = dict[str, tuple[Attacher, ...]]


def with_found(snapshot: Snapshot, founds: Sequence[Found]) -> Snapshot:
    """The snapshot with the objects of the kinds it asked for, and their users in its
    attach map. Processes that could not be read may hold any of them unseen."""
    by_kind: dict[Kind, tuple[IpcObject, ...]] = dict(snapshot.by_kind)
    users: Users = {}
    for found in founds:
        for kind, objects in found.objects.items():
            if kind in snapshot.kinds:
                by_kind[kind] = (*by_kind.get(kind, ()), *objects)
                users.update((o.ref, found.users.get(o.ref, ())) for o in objects)
    for kind in snapshot.kinds:
        if KINDS[kind].found:
            by_kind.setdefault(kind, ())
    attach = snapshot.attach
    if attach is not None:
        attach = _with_users(attach, users, _mapped_bytes(by_kind))
    return replace(snapshot, by_kind=by_kind, attach=attach)


def _mapped_bytes(by_kind: Mapping[Kind, tuple[IpcObject, ...]]) -> dict[tuple[str, int], int]:
    """Bytes each process maps of each shared memory object found, by (reference, pid)."""
    return {
        (obj.ref, mapper.pid): mapper.bytes
        for objects in by_kind.values()
        for obj in objects
        if isinstance(obj, SharedMemory)
        for mapper in obj.mapped
    }


def _with_users(attach: AttachMap, users: Users, sizes: dict[tuple[str, int], int]) -> AttachMap:
    attachers = {**attach.attachers, **users}
    unknown = {**attach.unknown, **dict.fromkeys(users, attach.unreadable)}
    processes = dict(attach.processes)
    for pid, (user, refs, mapped) in _uses_by_pid(users, sizes).items():
        before = processes.get(pid)
        if before is None:
            processes[pid] = ProcessUse(pid, user.comm, user.uid, tuple(sorted(refs)), mapped)
        else:
            processes[pid] = replace(before, refs=tuple(sorted({*before.refs, *refs})),
                                     mapped_bytes=before.mapped_bytes + mapped)  # fmt: skip
    return replace(attach, attachers=attachers, unknown=unknown, processes=processes)


def _uses_by_pid(
    users: Users, sizes: dict[tuple[str, int], int]
) -> dict[int, tuple[Attacher, set[str], int]]:
    """Each process's found objects and the bytes it maps of them, gathered once per process:
    a pipe a thousand processes hold is a thousand users, not a thousand rebuilt records."""
    by_pid: dict[int, tuple[Attacher, set[str], list[int]]] = {}
    for ref, found in users.items():
        for user in found:
            entry = by_pid.setdefault(user.pid, (user, set(), [0]))
            entry[1].add(ref)
            entry[2][0] += sizes.get((ref, user.pid), 0)
    return {pid: (user, refs, mapped[0]) for pid, (user, refs, mapped) in by_pid.items()}
