"""The second phase of collection: kinds found in processes rather than listed in a directory.

The attach scan reads every process once (its maps, its descriptors, the calls it is blocked
in). A ProcessFinder is handed each process it can read, as a ProcessView holding what the
scan already read (maps, the link of every descriptor) and reading the rest only when asked
(the calls its threads sleep in, its command name), so a kind found in processes costs no
second walk over /proc. The collector asks each finder for what it found once the walk is over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

from shmtop.attach.waits import CALLS, Wait, parse_syscall
from shmtop.errors import NotPermitted, Vanished
from shmtop.model import Attacher, IpcObject, Kind

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOT_READ = object()


class ProcessView:
    """One readable process as the scan read it. `pid_fd` is its /proc directory and `fd_dir`
    its fd directory (read relative to them: valid only during `look`); `links` maps each
    descriptor to what readlink said of it (bytes, as the kernel wrote it)."""

    def __init__(
        self, pid: int, pid_fd: int, fd_dir: int, maps: bytes, links: dict[int, bytes]
    ) -> None:
        self.pid, self.pid_fd, self.fd_dir = pid, pid_fd, fd_dir
        self.maps = maps
        self.links = links
        self._waits: object = _NOT_READ
        self._identity: tuple[str, int | None] | None = None

    def waits(self) -> tuple[Wait, ...] | None:
        """What each of its threads is blocked in (read once); None when that cannot be read
        (ptrace rules, or this architecture's call numbers are not known here)."""
        if self._waits is _NOT_READ:
            self._waits = read_waits(self.pid_fd)
        return self._waits  # type: ignore[return-value]

    def identity(self) -> tuple[str, int | None]:
        """Command name and owner (euid), read once."""
        if self._identity is None:
            self._identity = process_identity(self.pid_fd)
        return self._identity


class Found(NamedTuple):
    """What a finder found: its objects by kind, and who uses each (by reference)."""

    objects: Mapping[Kind, Sequence[IpcObject]]
    users: Mapping[str, tuple[Attacher, ...]] = {}


class ProcessFinder(Protocol):
    kinds: frozenset[Kind]  # what it finds; a collection narrows it to what it asks for

    def look(self, process: ProcessView) -> None:
        """One readable process. Called from the scan's threads, in no particular order."""

    def found(self) -> Found:
        """What was found, once every process has been looked at."""


def read_waits(pid_fd: int) -> tuple[Wait, ...] | None:
    """The call each thread of a process sleeps in, where it is one shmtop knows."""
    if CALLS is None:
        return None
    try:
        if _thread_count(pid_fd) == 1:  # most processes: its own syscall file, no listing
            texts = [read_small(pid_fd, "syscall")]
        else:
            texts = [read_small(pid_fd, f"task/{tid}/syscall") for tid in _threads(pid_fd)]
    except (NotPermitted, PermissionError):
        return None  # ptrace rules (Yama) may refuse it even for our own processes
    except Vanished:
        return ()
    return tuple(wait for wait in map(parse_syscall, texts) if wait is not None)


def _thread_count(pid_fd: int) -> int:
    """How many threads a process has: procfs counts them in its task directory's links
    (two plus one a thread), which one stat reads; 0 when that cannot be said."""
    try:
        return max(os.stat("task", dir_fd=pid_fd).st_nlink - 2, 0)
    except OSError:
        return 0


def _threads(pid_fd: int) -> list[str]:
    """The process's threads: any of them may be the one blocked."""
    task_fd = open_at("task", _DIR, pid_fd)
    try:
        return os.listdir(task_fd)
    finally:
        os.close(task_fd)


def process_identity(pid_fd: int) -> tuple[str, int | None]:
    """Command name and owner (euid) of a process; what cannot be read stays unknown."""
    try:
        comm = read_small(pid_fd, "comm").rstrip(b"\n").decode("utf-8", "surrogateescape")
    except (NotPermitted, Vanished, OSError):
        comm = "?"
    try:
        uid: int | None = os.fstat(pid_fd).st_uid
    except OSError:
        uid = None
    return comm, uid


_READ_CHUNK = 1 << 17
_SMALL = 4096


def open_at(name: str, flags: int, dir_fd: int) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:
        raise NotPermitted(name) from None
    except (FileNotFoundError, ProcessLookupError):
        raise Vanished(name) from None


def read_at(dir_fd: int, name: str) -> bytes:
    """A file's bytes, read to its end."""
    return _read_file(dir_fd, name, _READ_CHUNK, short_is_whole=False)


def read_small(dir_fd: int, name: str) -> bytes:
    """A file of one short record (`comm`, `syscall`: procfs writes it whole in one read of
    a page), with one read where read_at takes two: a read shorter than asked is the whole."""
    return _read_file(dir_fd, name, _SMALL, short_is_whole=True)


def _read_file(dir_fd: int, name: str, first: int, short_is_whole: bool) -> bytes:
    fd = open_at(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd)
    try:
        data = os.read(fd, first)
        if short_is_whole and len(data) < first:
            return data
        chunks = [data]
        while chunk := os.read(fd, _READ_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    except ProcessLookupError:
        raise Vanished(name) from None
    finally:
        os.close(fd)
