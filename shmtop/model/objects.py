"""The IPC objects of a host: frozen dataclasses holding raw kernel values.

Nothing here formats, colours or escapes: sizes are bytes, times are epoch seconds (None for
"never"), names are the raw bytes the kernel holds. Display code decides how things look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from shmtop.model.found import Fifo, Memfd, Pipe, SharedAnon, SharedFile
from shmtop.model.kind import ALL_KINDS, LISTED_KINDS, FileType, Kind
from shmtop.names import escape_name

__all__ = [
    "ALL_KINDS",
    "LISTED_KINDS",
    "Fifo",
    "FileType",
    "IpcObject",
    "Kind",
    "Memfd",
    "Pipe",
    "PosixEntry",
    "PosixMq",
    "PosixSem",
    "PosixShm",
    "SharedAnon",
    "SharedFile",
    "SysvMsg",
    "SysvSem",
    "SysvShm",
    "posix_ref",
    "sysv_ref",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SysvShm:
    """A System V shared memory segment (a line of /proc/sysvipc/shm)."""

    kind: ClassVar[Kind] = Kind.SYSV_SHM
    id: int
    key: int
    mode: int
    dest: bool
    locked: bool
    size: int
    cpid: int
    lpid: int
    nattch: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    atime: int | None
    dtime: int | None
    ctime: int | None
    rss: int | None
    swap: int | None
    ns: str = field(default="", kw_only=True)  # its namespace, "" for shmtop's own

    ref: str = field(init=False, repr=False, compare=False)  # made once: it keys everything

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", sysv_ref(self.kind, self.id, self.ns))


@dataclass(frozen=True, slots=True)
class SysvMsg:
    """A System V message queue; qbytes comes from IPC_STAT/MSG_STAT_ANY when permitted."""

    kind: ClassVar[Kind] = Kind.SYSV_MSG
    id: int
    key: int
    mode: int
    cbytes: int
    qnum: int
    lspid: int
    lrpid: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    stime: int | None
    rtime: int | None
    ctime: int | None
    qbytes: int | None
    ns: str = field(default="", kw_only=True)  # its namespace, "" for shmtop's own

    ref: str = field(init=False, repr=False, compare=False)  # made once: it keys everything

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", sysv_ref(self.kind, self.id, self.ns))


@dataclass(frozen=True, slots=True)
class SysvSem:
    """A System V semaphore set (member values are read on demand, not here)."""

    kind: ClassVar[Kind] = Kind.SYSV_SEM
    id: int
    key: int
    mode: int
    nsems: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    otime: int | None
    ctime: int | None
    ns: str = field(default="", kw_only=True)  # its namespace, "" for shmtop's own

    ref: str = field(init=False, repr=False, compare=False)  # made once: it keys everything

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", sysv_ref(self.kind, self.id, self.ns))


@dataclass(frozen=True, slots=True)
class PosixEntry:
    """What lstat says of one directory entry; `name` is the raw name with its leading '/'."""

    kind: ClassVar[Kind]
    name: bytes
    type: FileType
    size: int
    allocated: int
    uid: int
    gid: int
    mode: int
    mtime_ns: int
    ctime_ns: int | None  # None for queues: reading their status line moves it
    dev: int
    inode: int
    nlink: int
    ns: str = field(default="", kw_only=True)  # the /dev/shm or mqueue it is in, "" if ours

    ref: str = field(init=False, repr=False, compare=False)  # made once: it keys everything

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", posix_ref(self.kind, self.name, self.ns))


@dataclass(frozen=True, slots=True)
class PosixShm(PosixEntry):
    """A POSIX shared memory object: an entry of /dev/shm not named sem.*."""

    kind: ClassVar[Kind] = Kind.POSIX_SHM
    deleted: bool = False  # unlinked, still held open or mapped: found in processes
    # where a deleted one can still be read under /proc: (pid, "fd/N" or "map_files/A-B")
    places: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        PosixEntry.__post_init__(self)
        if self.deleted:  # a later file may have its name: the inode tells them apart
            object.__setattr__(self, "ref", f"{self.ref}{DELETED_MARK}{self.inode}")


@dataclass(frozen=True, slots=True)
class PosixSem(PosixEntry):
    """A glibc named semaphore, /dev/shm/sem.NAME; value and waiters read with pread."""

    kind: ClassVar[Kind] = Kind.POSIX_SEM
    value: int | None = None
    waiters: int | None = None


@dataclass(frozen=True, slots=True)
class PosixMq(PosixEntry):
    """A POSIX message queue in /dev/mqueue: the QSIZE line and mq_getattr where permitted.

    `mtime` moves on every send and receive. Reading the QSIZE line moves the queue's ctime,
    as every reader (shmtop included) does, so `ctime_ns` carries nothing and is None.
    """

    kind: ClassVar[Kind] = Kind.POSIX_MQ
    qsize: int | None = None
    notify: int | None = None
    signo: int | None = None
    notify_pid: int | None = None
    curmsgs: int | None = None
    maxmsg: int | None = None
    msgsize: int | None = None


IpcObject = (
    SysvShm | SysvMsg | SysvSem | PosixShm | PosixSem | PosixMq
    | Pipe | Fifo | Memfd | SharedFile | SharedAnon
)  # fmt: skip


DELETED_MARK = "/deleted:"  # no name holds a '/': `posix-shm:/job/deleted:4242` is no name


def sysv_ref(kind: Kind, ident: int, ns: str = "") -> str:
    """`sysv-shm:32769`, or `sysv-shm@4026532190:0` for an object of another namespace."""
    return f"{kind}@{ns}:{ident}" if ns else f"{kind}:{ident}"


def posix_ref(kind: Kind, name: bytes, ns: str = "") -> str:
    """`posix-shm:/ring0` (the name escaped), or `posix-shm@0.53:/ring0` elsewhere."""
    return f"{kind}@{ns}:/{escape_name(name[1:])}" if ns else f"{kind}:/{escape_name(name[1:])}"
