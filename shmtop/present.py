"""How one object reads in a table of all kinds: short, escaped text per column.

Shared by `shmtop list` and the dashboard so both say the same thing the same way. Every string
that came from outside (names, owners) passes through shmtop.names here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from shmtop.humanize import human_bytes, local_time, octal_mode
from shmtop.model import (
    AttachMap,
    FileType,
    IpcObject,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.names import owner_text

NONE = "-"


class ObjectRow(NamedTuple):
    ref: str
    key: str
    owner: str
    mode: str
    size: str
    use: str
    procs: str
    cpid: str
    lpid: str
    changed: str


def object_row(
    obj: IpcObject, users: Mapping[int, str | None], attach: AttachMap | None = None
) -> ObjectRow:
    cpid, lpid = pids(obj)
    return ObjectRow(
        ref=obj.ref,
        key=key_text(obj),
        owner=owner_text(obj.uid, users),
        mode=octal_mode(obj.mode),
        size=size_text(obj),
        use=use_text(obj),
        procs=procs_text(obj, attach),
        cpid=cpid,
        lpid=lpid,
        changed=local_time(changed_at(obj)),
    )


def procs_text(obj: IpcObject, attach: AttachMap | None) -> str:
    """Processes using it: "2", or "2+3?" when 3 more may be unseen (unreadable /proc)."""
    if attach is None or isinstance(obj, SysvMsg | SysvSem):
        return NONE
    seen = len(attach.attachers.get(obj.ref, ()))
    unknown = attach.unknown.get(obj.ref, 0)
    return f"{seen}+{unknown}?" if unknown else str(seen)


def key_text(obj: IpcObject) -> str:
    return f"0x{obj.key:08x}" if isinstance(obj, SysvShm | SysvMsg | SysvSem) else NONE


def size_text(obj: IpcObject) -> str:
    """Bytes the object holds: segment or file size, bytes queued."""
    match obj:
        case SysvShm():
            return human_bytes(obj.size)
        case SysvMsg():
            return human_bytes(obj.cbytes)
        case PosixMq():
            return NONE if obj.qsize is None else human_bytes(obj.qsize)
        case PosixShm() if obj.type is FileType.FILE:
            return human_bytes(obj.size)
    return NONE


def use_text(obj: IpcObject) -> str:
    """Attachments, messages, semaphores or value: what the object is being used for."""
    match obj:
        case SysvShm():
            return _shm_use(obj)
        case SysvMsg():
            return _plural(obj.qnum, "msg")
        case SysvSem():
            return _plural(obj.nsems, "sem")
    return _posix_use(obj)


def _shm_use(s: SysvShm) -> str:
    flags = [flag for flag, on in (("dest", s.dest), ("locked", s.locked)) if on]
    return ", ".join([_plural(s.nattch, "attach", "es"), *flags])


def _posix_use(obj: PosixEntry) -> str:
    if obj.type is not FileType.FILE:
        return f"{obj.type.value}, not IPC"
    if isinstance(obj, PosixSem):
        return NONE if obj.value is None else _sem_value(obj)
    if isinstance(obj, PosixMq):
        return NONE if obj.curmsgs is None else _plural(obj.curmsgs, "msg")
    return _plural(obj.nlink, "link") if obj.nlink > 1 else NONE


def _sem_value(s: PosixSem) -> str:
    waiting = f", {s.waiters} waiting" if s.waiters else ""
    return f"value {s.value}{waiting}"


def _plural(n: int, word: str, suffix: str = "s") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{suffix}"


def pids(obj: IpcObject) -> tuple[str, str]:
    """Creator and last user for segments; last sender and receiver for queues."""
    match obj:
        case SysvShm():
            return str(obj.cpid), str(obj.lpid)
        case SysvMsg():
            return str(obj.lspid), str(obj.lrpid)
    return NONE, NONE


def changed_at(obj: IpcObject) -> float | None:
    """Last change: ctime for System V objects, last modification for POSIX ones."""
    if isinstance(obj, PosixEntry):
        return obj.mtime_ns / 1e9
    return obj.ctime
