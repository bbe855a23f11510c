"""The kinds found in processes rather than listed: pipes and FIFOs (by the descriptors that
hold their ends), memfd objects, MAP_SHARED mappings of files and anonymous shared memory (by
the maps and descriptors that show them). Raw values, as in shmtop.model.objects.

Each is named by its inode: `pipe:81234`, `memfd:5678`, `shared-anon:9012` live on one
kernel-internal filesystem each, so the inode alone names them; a FIFO or a mapped file can be
on any filesystem, so its device comes first: `fifo:0.25:1234`, `shared-file:8.1:5678`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from shmtop.model.kind import Kind


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a pipe or FIFO: a descriptor of a process, opened for reading ("r"), writing
    ("w") or both ("rw"), and whether a thread of that process sleeps in a read or write on it
    (`call`: "read", "write", "readv" or "writev" when it does and the call is known)."""

    pid: int
    comm: str
    uid: int | None
    fd: int
    mode: str
    blocked: bool = False
    call: str = ""

    @property
    def reads(self) -> bool:
        return "r" in self.mode

    @property
    def writes(self) -> bool:
        return "w" in self.mode


@dataclass(frozen=True, slots=True)
class FoundObject:
    """What every kind found in processes shares: it is named by its device and inode (its
    reference derived from them once), and its id is the inode."""

    kind: ClassVar[Kind]
    dev: int
    inode: int
    ns: str = field(default="", kw_only=True)

    ref: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", found_ref(self.kind, self.dev, self.inode))

    @property
    def id(self) -> int:
        return self.inode


@dataclass(frozen=True, slots=True)
class PipeLike(FoundObject):
    """What pipes and FIFOs share: their ends, and how full they are (None: unknown, `note`
    says why). `buffered` is what FIONREAD says, `capacity` what F_GETPIPE_SZ says, both read
    on a duplicate of a holder's own descriptor: no byte taken, no end added."""

    uid: int
    gid: int
    mode: int
    endpoints: tuple[Endpoint, ...]
    buffered: int | None
    capacity: int | None
    note: str | None
    # Whether it has a reader / a writer anywhere, as the kernel said on a poll of a duplicate
    # end (None: not said). Counts ends shmtop cannot see, which `endpoints` leave out.
    has_reader: bool | None = field(default=None, kw_only=True)
    has_writer: bool | None = field(default=None, kw_only=True)

    @property
    def sides_unknown(self) -> str | None:
        """Why whether it has a reader and a writer is not known, else None: no end of one
        side among the ends seen, and the kernel not asked."""
        for count, anywhere, side in ((self.readers, self.has_reader, "reader"),
                                      (self.writers, self.has_writer, "writer")):  # fmt: skip
            if not count and anywhere is None:
                return (f"no {side} among the processes read here, and the kernel could not "
                        f"be asked: an end in a process not readable here may be one")  # fmt: skip
        return None

    @property
    def readers(self) -> int:
        return sum(1 for end in self.endpoints if end.reads)

    @property
    def writers(self) -> int:
        return sum(1 for end in self.endpoints if end.writes)

    @property
    def state(self) -> str | None:
        """ "no reader" (a write raises SIGPIPE), "no writer" (a read is at end of file),
        "full", "empty", "partly full"; None when its fill, or whether it has a reader and a
        writer (`sides_unknown`), is unknown. Only the kernel's word (`has_reader`,
        `has_writer`) or seen ends decide: never ends not seen."""
        for count, anywhere, missing in ((self.readers, self.has_reader, "no reader"),
                                         (self.writers, self.has_writer, "no writer")):  # fmt: skip
            if not count and not anywhere:
                return missing if anywhere is False else None
        if self.buffered is None or self.capacity is None:
            return None
        if self.buffered >= self.capacity:
            return "full"
        return "empty" if self.buffered == 0 else "partly full"

    def blocked(self, mode: str) -> tuple[Endpoint, ...]:
        """Ends asleep in a read ("r") or a write ("w") on it."""
        return tuple(e for e in self.endpoints if e.blocked and mode in e.mode)


@dataclass(frozen=True, slots=True)
class Pipe(PipeLike):
    """An anonymous pipe (pipe(2)): `pipe:[INODE]` in /proc/PID/fd."""

    kind: ClassVar[Kind] = Kind.PIPE


@dataclass(frozen=True, slots=True)
class Fifo(PipeLike):
    """A named pipe open in some process: its path as the first holder sees it (relative to
    that process's root; never opened by shmtop)."""

    kind: ClassVar[Kind] = Kind.FIFO
    path: bytes = b""


@dataclass(frozen=True, slots=True)
class MappedBy:
    """One process mapping a shared object: how many mappings, and how many bytes they span."""

    pid: int
    mappings: int
    bytes: int


@dataclass(frozen=True, slots=True)
class SharedMemory(FoundObject):
    """What memfd objects, mapped files and anonymous shared memory share. `places` are where
    a reader may find it under /proc ((pid, "fd/N") or (pid, "map_files/START-END")), which
    change with the processes and tell nothing of the object itself."""

    name: bytes
    size: int | None
    allocated: int | None
    uid: int | None
    gid: int | None
    mode: int | None
    mtime_ns: int | None
    mapped: tuple[MappedBy, ...]
    places: tuple[tuple[int, str], ...] = field(default=(), kw_only=True, compare=False)


@dataclass(frozen=True, slots=True)
class Memfd(SharedMemory):
    """An object of memfd_create: `/memfd:NAME (deleted)` in maps and descriptors. `seals`
    from F_GET_SEALS (None: unknown)."""

    kind: ClassVar[Kind] = Kind.MEMFD
    seals: int | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class SharedFile(SharedMemory):
    """A regular file some process maps MAP_SHARED (`s` in maps); `name` is its path as the
    first mapper's maps show it; `deleted`: unlinked since; `writable`: some mapping may
    write it (read-only shared mappings, like glibc's gconv cache, share nothing new)."""

    kind: ClassVar[Kind] = Kind.SHARED_FILE
    deleted: bool = field(default=False, kw_only=True)
    writable: bool = field(default=True, kw_only=True)  # some process maps it writable


@dataclass(frozen=True, slots=True)
class SharedAnon(SharedMemory):
    """Anonymous shared memory (mmap MAP_SHARED | MAP_ANONYMOUS, or of /dev/zero): `/dev/zero
    (deleted)` in maps, or `[anon_shmem:NAME]` when named; `name` is that NAME, or empty."""

    kind: ClassVar[Kind] = Kind.SHARED_ANON


ON_ANY_DEVICE = frozenset({Kind.FIFO, Kind.SHARED_FILE})  # named by device and inode


def found_ref(kind: Kind, dev: int, inode: int) -> str:
    """`pipe:81234`, or `fifo:0.25:1234` for kinds that live on any filesystem."""
    if kind in ON_ANY_DEVICE:
        return f"{kind}:{os.major(dev)}.{os.minor(dev)}:{inode}"
    return f"{kind}:{inode}"


SEALS = (
    (0x0001, "seal"), (0x0002, "shrink"), (0x0004, "grow"), (0x0008, "write"),
    (0x0010, "future-write"), (0x0020, "exec"),
)  # fmt: skip


def seal_names(seals: int) -> tuple[str, ...]:
    """F_SEAL_* bits by name: ("shrink", "grow")."""
    return tuple(name for bit, name in SEALS if seals & bit)
