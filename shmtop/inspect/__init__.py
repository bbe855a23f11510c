"""Looking inside objects without disturbing them: bytes, semaphore members, queued messages.

No UI imports. Every function raises Vanished (gone or replaced), NotPermitted, or
Unsupported (not possible for this object or kernel) with a message for people.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, assert_never, runtime_checkable

from shmtop.attach.members import failure
from shmtop.errors import Unsupported
from shmtop.inspect.hexdump import hexdump_lines
from shmtop.inspect.posix import PosixReader
from shmtop.inspect.shared import SharedReader
from shmtop.inspect.sysv import SysvReader
from shmtop.libc import MessageCopier, sem_members
from shmtop.model import (
    AttachMap,
    Fifo,
    IpcObject,
    Memfd,
    Pipe,
    PosixMq,
    PosixSem,
    PosixShm,
    SharedAnon,
    SharedFile,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.contents import Member, Message
from shmtop.model.kinds import Contents, spec_of
from shmtop.model.roots import Roots
from shmtop.namespaces.enter import run_in

__all__ = [
    "MEMBER_LIMIT",
    "MESSAGE_LIMIT",
    "ContentReader",
    "Member",
    "Message",
    "SparseReader",
    "has_bytes",
    "hexdump_lines",
    "listed_contents",
    "open_reader",
    "peek_messages",
    "set_members",
]

MESSAGE_HEAD = 32  # bytes of each message shown
MESSAGE_LIMIT = 1000  # messages listed at most
MEMBER_LIMIT = 4096  # members listed at most (semmsl allows 32000)
_CAPACITY_LIMIT = 16 << 20


class ContentReader(Protocol):
    ref: str
    note: str | None

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...

    def close(self) -> None: ...


@runtime_checkable
class SparseReader(Protocol):
    """A reader that can say where its data is (optional: a copy of a reader without it
    reads everything and leaves out the blocks that are all zeros)."""

    def data_ranges(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """(offset, end) of each stretch of [start, end) that may hold data; the rest reads
        as zeros."""
        ...


def has_bytes(obj: IpcObject) -> bool:
    """Whether the object holds bytes to show (segments, POSIX objects, semaphore files)."""
    return spec_of(obj).contents is Contents.BYTES


def open_reader(obj: IpcObject, attach: AttachMap | None, roots: Roots | None = None
                ) -> ContentReader:  # fmt: skip
    """A reader of the object's bytes (segments, POSIX objects and semaphore files)."""
    roots = roots or Roots()
    spec = spec_of(obj)
    if spec.contents is not Contents.BYTES:
        raise Unsupported(_no_bytes(obj, spec.contents, spec.contents_note))
    match obj:
        case SysvShm():
            mappers = [a.pid for a in attach.attachers.get(obj.ref, ()) if a.maps] if attach else []
            return SysvReader(obj, mappers, roots.procfs)
        case PosixShm() if obj.deleted:
            return SharedReader(obj.ref, obj.dev, obj.inode, obj.places, roots.procfs)
        case PosixShm() | PosixSem():
            return PosixReader(obj, roots.path(obj))
        case Memfd() | SharedFile() | SharedAnon():
            return SharedReader(obj.ref, obj.dev, obj.inode, obj.places, roots.procfs)
        case SysvMsg() | SysvSem() | PosixMq() | Pipe() | Fifo():
            raise AssertionError(f"{obj.kind} holds no bytes")  # its table entry says so
        case _:
            assert_never(obj)


def _no_bytes(obj: IpcObject, contents: Contents, note: str) -> str:
    if not spec_of(obj).contents_readable or contents is Contents.NONE:
        return f"{obj.ref}: {note}"
    return f"{obj.ref} holds no bytes to dump: `shmtop show {obj.ref}` lists {note}"


def listed_contents(obj: IpcObject) -> list[Member] | list[Message]:
    """A set's members or a queue's messages (copies). Unsupported for objects whose
    contents are bytes (`open_reader`) or cannot be read without changing them."""
    spec = spec_of(obj)
    if not spec.contents_readable:
        raise Unsupported(spec.contents_note)
    match obj:
        case SysvSem():
            return set_members(obj)
        case SysvMsg():
            return peek_messages(obj)
        case (SysvShm() | PosixShm() | PosixSem() | PosixMq() | Memfd() | SharedFile()
              | SharedAnon()):  # fmt: skip
            raise Unsupported(f"{obj.ref} holds bytes: `shmtop dump {obj.ref}` shows them")
        case Pipe() | Fifo():
            raise Unsupported(spec.contents_note)
        case _:
            assert_never(obj)


def set_members(semset: SysvSem, limit: int = MEMBER_LIMIT) -> list[Member]:
    """The first `limit` members, in order."""
    try:
        members = run_in(semset.ns, sem_members, semset.id, semset.nsems, limit)
    except OSError as exc:
        raise failure(semset, exc, "its members") from None
    return [Member(num, *member) for num, member in enumerate(members)]


def peek_messages(queue: SysvMsg, limit: int = MESSAGE_LIMIT) -> list[Message]:
    """Up to `limit` messages in queue order; the queue's qnum, lrpid and rtime stay."""
    return run_in(queue.ns, _peek_messages, queue, limit)


def _peek_messages(queue: SysvMsg, limit: int) -> list[Message]:
    copier = MessageCopier(min(max(queue.cbytes, _msgmax()), _CAPACITY_LIMIT))
    messages = []
    for index in range(limit):
        try:
            copied = copier.copy(queue.id, index)
        except OSError as exc:
            raise failure(queue, exc, "its messages") from None
        if copied is None:
            break
        mtype, body = copied
        messages.append(Message(index, mtype, len(body), body[:MESSAGE_HEAD]))
    return messages


def _msgmax() -> int:
    try:
        with open("/proc/sys/kernel/msgmax") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 8192
