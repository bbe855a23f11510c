"""The table of kinds: one entry per kind of object, holding what the rest of shmtop asks of
a kind (how it is named, whether processes attach to it or wait on it, what it holds, which
pids it records, what the numbers in a table mean). Code reads `spec_of(obj)` instead of
asking an object's type; a kind added here and in the tables a test lists
(tests/test_kinds.py) is a kind everywhere.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from shmtop.model.found import Fifo, Memfd, Pipe, PipeLike, SharedAnon, SharedFile, SharedMemory
from shmtop.model.identity import (
    FOUND,
    POSIX_FILE,
    POSIX_QUEUE,
    QUEUE,
    SEGMENT,
    SET,
    Fields,
    Identity,
    decode_identity,
    encode_identity,
)
from shmtop.model.objects import (
    FileType,
    IpcObject,
    Kind,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.use import latest_time


class Address(enum.StrEnum):
    """How a reference names an object of the kind: `KIND:ID` or `KIND:/NAME`."""

    ID = "id"
    NAME = "name"
    INODE = "inode"  # `KIND:INODE`, or `KIND:MAJOR.MINOR:INODE` (shmtop.model.found)


class Contents(enum.StrEnum):
    """What looking inside shows."""

    BYTES = "bytes"  # a hex view and `dump`
    MEMBERS = "members"  # semaphore values, waiters, last pids
    MESSAGES = "messages"  # queued messages, copied
    NONE = "none"  # it holds nothing to show


class MappedAs(enum.StrEnum):
    """How a process's maps show the object: the segment's id on the System V device, or the
    (device, inode) of a file. Held-open descriptors show files the same way."""

    SHMID = "shmid"
    FILE = "file"
    FOUND = "found"  # found in processes: the walk that finds it names its users
    NOT = "not"


class RecordedPid(NamedTuple):
    """A pid the kernel recorded for an object: what it did, and when at the latest.

    `key` names it in JSON (`cpid` -> `cpid_alive`, `cpid_state`); `column` is the column of
    the all-objects table it shows in ("cpid" or "lpid"), if any.
    """

    role: str
    key: str
    pid: int
    since: int | None
    column: str | None = None


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What shmtop knows of one kind of object (see the module)."""

    kind: Kind
    type: type
    title: str  # "System V shared memory segment"
    short: str  # "SysV shm": the dashboard's view
    address: Address
    attachable: bool  # processes map it or hold it open
    mapped_as: MappedAs
    waitable: bool  # processes block in calls on it (semop, msgrcv, mq_timedreceive)
    contents: Contents
    contents_note: str  # what looking inside shows, or why it cannot
    contents_readable: bool  # whether they can be read without changing the object
    size: Callable[[Any], int | None]  # bytes it holds now (None: unknown or not bytes)
    use: Callable[[Any], int | None]  # its use figure: attachments, messages, members, value
    changed_at: Callable[[Any], float | None]  # its last change, epoch seconds
    recorded_pids: Callable[[Any], tuple[RecordedPid, ...]]
    key: Callable[[Any], int | None]  # its System V key
    identity: Identity  # what tells it from a later object at its id or name
    # Whether `shmtop list` shows it without --kind: a host has hundreds of idle pipes
    listed_by_default: Callable[[Any], bool] = lambda obj: True
    removable: bool = True  # False: the kernel frees it by itself, nothing to remove

    @property
    def found(self) -> bool:
        """Found in processes by the walk over /proc, not listed from a table or directory."""
        return self.mapped_as is MappedAs.FOUND


def spec_of(obj: IpcObject) -> KindSpec:
    return KINDS[obj.kind]


def identity_fields(obj: IpcObject) -> Fields:
    """What tells the object apart from a later one at its id or name (model.identity)."""
    return KINDS[obj.kind].identity.fields(obj)


def identity_of(obj: IpcObject) -> str:
    return encode_identity(obj.ref, KINDS[obj.kind].identity.values(obj))


def identity_from(text: str) -> tuple[str, Fields]:
    """(reference, fields) of an identity string from `identity_of`; ValueError if it is not
    one (or names no kind, or holds another number of values than its kind compares)."""
    ref, values = decode_identity(text)
    kind_text = ref.partition(":")[0].partition("@")[0]
    try:
        names = KINDS[Kind(kind_text)].identity.names
    except ValueError:
        raise ValueError(f"{text!r} names no kind of object") from None
    if len(values) != len(names):
        raise ValueError(f"{text!r} is not an identity from this shmtop: list it again")
    return ref, dict(zip(names, values, strict=True))


def _segment_pids(s: SysvShm) -> tuple[RecordedPid, ...]:
    last = latest_time(s.atime, s.dtime, s.ctime)
    return (
        RecordedPid("creator", "cpid", s.cpid, s.ctime, "cpid"),
        RecordedPid("last user", "lpid", s.lpid, last, "lpid"),
    )


def _queue_pids(q: SysvMsg) -> tuple[RecordedPid, ...]:
    return (
        RecordedPid("last sender", "lspid", q.lspid, q.stime, "cpid"),
        RecordedPid("last receiver", "lrpid", q.lrpid, q.rtime, "lpid"),
    )


def _notify_pid(q: PosixMq) -> tuple[RecordedPid, ...]:
    return (RecordedPid("notify pid", "notify_pid", q.notify_pid or 0, None),)


def _none(obj: Any) -> tuple[RecordedPid, ...]:
    return ()


def _modified(e: PosixEntry) -> float:
    return e.mtime_ns / 1e9


def _no_key(obj: Any) -> None:
    return None


def _sysv_key(obj: SysvShm | SysvMsg | SysvSem) -> int:
    return obj.key


def _not_sized(obj: Any) -> None:
    return None


def _file_size(e: PosixShm) -> int | None:
    """A symlink's or directory's lstat size is not bytes held: unknown, shown as '-'."""
    return e.size if e.type is FileType.FILE else None


def _stuck(p: PipeLike) -> bool:
    """A pipe worth a line by default: bytes wait in it, or a writer sleeps on it. An empty
    pipe with a reader asleep is every shell pipeline between two lines of output."""
    return bool(p.buffered) or bool(p.blocked("w"))


def _buffered(p: PipeLike) -> int | None:
    return p.buffered


def _ends(p: PipeLike) -> int:
    return len(p.endpoints)


def _shared_size(m: SharedMemory) -> int | None:
    return m.size


def _mappers(m: SharedMemory) -> int:
    return len(m.mapped)


def _shared_mtime(m: SharedMemory) -> float | None:
    return None if m.mtime_ns is None else m.mtime_ns / 1e9


def _never(obj: Any) -> None:
    return None


_PIPE_NOTE = "bytes waiting and capacity only: reading a pipe's bytes would take them"
_FOUND_BYTES = "its bytes, read through a process that maps or holds it (root), unchanged"
_QUEUE_NOTE = "a POSIX queue's messages cannot be read without taking them off it"


def _shared_memory(
    kind: Kind,
    cls: type,
    title: str,
    short: str,
    listed_by_default: Callable[[Any], bool] = lambda obj: True,
) -> KindSpec:
    """The spec of a kind of shared memory found in processes (memfd, mapped files, anonymous
    shared memory): the same in all but its names and which are listed by default."""
    return KindSpec(
        kind, cls, title, short, Address.INODE,
        attachable=True, mapped_as=MappedAs.FOUND, waitable=False, contents=Contents.BYTES,
        contents_note=_FOUND_BYTES, contents_readable=True,
        size=_shared_size, use=_mappers, changed_at=_shared_mtime,
        recorded_pids=_none, key=_no_key, identity=FOUND, removable=False,
        listed_by_default=listed_by_default,
    )  # fmt: skip


KINDS: Mapping[Kind, KindSpec] = {
    Kind.SYSV_SHM: KindSpec(
        Kind.SYSV_SHM, SysvShm, "System V shared memory segment", "SysV shm", Address.ID,
        attachable=True, mapped_as=MappedAs.SHMID, waitable=False, contents=Contents.BYTES,
        contents_note="its bytes, read through a process that maps it", contents_readable=True,
        size=lambda s: s.size, use=lambda s: s.nattch, changed_at=lambda s: s.ctime,
        recorded_pids=_segment_pids, key=_sysv_key, identity=SEGMENT,
    ),
    Kind.SYSV_MSG: KindSpec(
        Kind.SYSV_MSG, SysvMsg, "System V message queue", "SysV msg", Address.ID,
        attachable=False, mapped_as=MappedAs.NOT, waitable=True,
        contents=Contents.MESSAGES,
        contents_note="its messages, copied and left on the queue", contents_readable=True,
        size=lambda q: q.cbytes, use=lambda q: q.qnum, changed_at=lambda q: q.ctime,
        recorded_pids=_queue_pids, key=_sysv_key, identity=QUEUE,
    ),
    Kind.SYSV_SEM: KindSpec(
        Kind.SYSV_SEM, SysvSem, "System V semaphore set", "SysV sem", Address.ID,
        attachable=False, mapped_as=MappedAs.NOT, waitable=True,
        contents=Contents.MEMBERS,
        contents_note="its members: values, waiters and last pids", contents_readable=True,
        size=_not_sized, use=lambda s: s.nsems, changed_at=lambda s: s.ctime,
        recorded_pids=_none, key=_sysv_key, identity=SET,
    ),
    Kind.POSIX_SHM: KindSpec(
        Kind.POSIX_SHM, PosixShm, "POSIX shared memory object", "POSIX shm", Address.NAME,
        attachable=True, mapped_as=MappedAs.FILE, waitable=False, contents=Contents.BYTES,
        contents_note="its bytes, read with pread", contents_readable=True,
        size=_file_size, use=_not_sized, changed_at=_modified,
        recorded_pids=_none, key=_no_key, identity=POSIX_FILE,
    ),
    Kind.POSIX_SEM: KindSpec(
        Kind.POSIX_SEM, PosixSem, "POSIX named semaphore", "POSIX sem", Address.NAME,
        attachable=True, mapped_as=MappedAs.FILE, waitable=False, contents=Contents.BYTES,
        contents_note="its 32 bytes (glibc's sem_t), read with pread",
        contents_readable=True,
        size=_not_sized, use=lambda s: s.value, changed_at=_modified,
        recorded_pids=_none, key=_no_key, identity=POSIX_FILE,
    ),
    Kind.POSIX_MQ: KindSpec(
        Kind.POSIX_MQ, PosixMq, "POSIX message queue", "POSIX mq", Address.NAME,
        attachable=True, mapped_as=MappedAs.FILE, waitable=True,
        contents=Contents.MESSAGES, contents_note=_QUEUE_NOTE, contents_readable=False,
        size=lambda q: q.qsize, use=lambda q: q.curmsgs, changed_at=_modified,
        recorded_pids=_notify_pid, key=_no_key, identity=POSIX_QUEUE,
    ),
    Kind.PIPE: KindSpec(
        Kind.PIPE, Pipe, "pipe", "Pipes", Address.INODE,
        attachable=True, mapped_as=MappedAs.FOUND, waitable=True, contents=Contents.NONE,
        contents_note=_PIPE_NOTE, contents_readable=False,
        size=_buffered, use=_ends, changed_at=_never,
        recorded_pids=_none, key=_no_key, identity=FOUND,
        listed_by_default=_stuck, removable=False,
    ),
    Kind.FIFO: KindSpec(
        Kind.FIFO, Fifo, "FIFO (named pipe)", "FIFOs", Address.INODE,
        attachable=True, mapped_as=MappedAs.FOUND, waitable=True, contents=Contents.NONE,
        contents_note=_PIPE_NOTE, contents_readable=False,
        size=_buffered, use=_ends, changed_at=_never,
        recorded_pids=_none, key=_no_key, identity=FOUND, removable=False,
    ),
    Kind.MEMFD: _shared_memory(Kind.MEMFD, Memfd, "memfd object (memfd_create)", "memfd"),
    Kind.SHARED_FILE: _shared_memory(
        Kind.SHARED_FILE, SharedFile, "file mapped MAP_SHARED", "Shared files",
        listed_by_default=lambda f: f.writable,
    ),
    Kind.SHARED_ANON: _shared_memory(
        Kind.SHARED_ANON, SharedAnon, "anonymous shared memory", "Shared anon"
    ),
}  # fmt: skip
