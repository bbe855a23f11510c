"""Pipes and FIFOs, found by the walk over /proc: every end each process holds, which ends
sleep in a read or write, and how full each pipe is.

An end is a descriptor: `pipe:[INODE]` for a pipe, the FIFO's path for a FIFO (told apart
from other files by a stat of the descriptor, which opens nothing). Its mode is read from the
descriptor's entry in /proc/PID/fd, whose permission bits say how it was opened (r-x for
reading, -wx for writing), so no fdinfo file is read. A pipe is stat'ed once, at its first
end (every pipe is on the one pipefs device and its link names its inode): each further end
costs that lstat alone, and a descriptor of a file that is no FIFO the stat alone. A thread
asleep in read or write on that descriptor (/proc/PID/task/TID/syscall) is a blocked end. The
fill is read once per pipe after the walk (shmtop.attach.peek): never a byte taken, never an
end added where that could change what the pipe's users see.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from shmtop.attach.finders import Found, ProcessView
from shmtop.attach.peek import duplicate, other_side, pipe_fill
from shmtop.attach.waits import Wait
from shmtop.errors import NotPermitted, Vanished
from shmtop.model import Attacher, Endpoint, Fifo, IpcObject, Kind, Pipe
from shmtop.model.roots import Roots

_PIPE_LINK = b"pipe:["
_NOT_FIFO = (b"/dev/null", b"/dev/pts/", b"/dev/tty", b"/dev/urandom", b"/dev/random", b"/memfd:")
_REOPEN = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_NO_RIGHT = "its holders' descriptors cannot be duplicated here (ptrace rights)"


class _Fill(NamedTuple):
    """How full a pipe is (None: unknown, `note` says why), and whether it has a reader and a
    writer anywhere, as the kernel said it (None: not said)."""

    buffered: int | None = None
    capacity: int | None = None
    note: str | None = None
    has_reader: bool | None = None
    has_writer: bool | None = None


@dataclass
class _Seen:
    """One pipe or FIFO as the walk saw it."""

    kind: type[Pipe] | type[Fifo]
    dev: int
    inode: int
    uid: int
    gid: int
    mode: int
    path: bytes = b""
    ends: list[Endpoint] = field(default_factory=list)


class PipeFinder:
    """Finds pipes and FIFOs (a ProcessFinder)."""

    kinds = frozenset({Kind.PIPE, Kind.FIFO})

    def __init__(self, roots: Roots) -> None:
        self.procfs = roots.procfs
        self._seen: dict[tuple[int, int], _Seen] = {}
        self._pipes: dict[bytes, _Seen] = {}  # the pipes seen, by link (`pipe:[INODE]`)
        self._lock = threading.Lock()

    def look(self, process: ProcessView) -> None:
        ends = []
        pipes, fifos = Kind.PIPE in self.kinds, Kind.FIFO in self.kinds  # as narrowed
        for fd, link in process.links.items():
            if link.startswith(_PIPE_LINK):
                if not pipes:
                    continue
                seen = self._pipes.get(link)
                end = _end(process, fd, link) if seen is None else _further_end(process, fd, seen)
            elif fifos and link[:1] == b"/" and not link.startswith(_NOT_FIFO):
                end = _end(process, fd, link)
            else:
                continue
            if end is not None:
                ends.append(end)
        if not ends:
            return
        blocked = _blocked(process.waits())
        comm, uid = process.identity()
        with self._lock:
            for seen, fd, mode in ends:
                known = self._seen.setdefault((seen.dev, seen.inode), seen)
                if known.kind is Pipe:
                    self._pipes[process.links[fd]] = known
                calls = [w.call for w in blocked.get(fd, ()) if w.direction in mode]
                known.ends.append(
                    Endpoint(process.pid, comm, uid, fd, mode, bool(calls), "".join(calls[:1]))
                )

    def found(self) -> Found:
        objects: dict[Kind, list[IpcObject]] = defaultdict(list)
        users: dict[str, tuple[Attacher, ...]] = {}
        for seen in self._seen.values():
            ends = tuple(sorted(seen.ends, key=lambda e: (e.pid, e.fd)))
            fill = self._fill(seen, ends)
            obj = _made(seen, ends, fill)
            objects[obj.kind].append(obj)
            users[obj.ref] = _users(ends)
        return Found({kind: tuple(found) for kind, found in objects.items()}, users)

    def _fill(self, seen: _Seen, ends: tuple[Endpoint, ...]) -> _Fill:
        """Through a duplicate of a holder's descriptor, else a reopened end where a reader
        and a writer already exist (see peek)."""
        refused = False
        for end in ends:
            try:
                fd = duplicate(end.pid, end.fd)
            except NotPermitted:
                refused = True
                break
            except Vanished:
                continue
            found = _fill_of(fd, seen, sides=True)
            if found is not None:
                return found
        if not refused:
            return _Fill(note="every end was closed while it was read")
        if not (any(e.reads for e in ends) and any(e.writes for e in ends)):
            return _Fill(note=_NO_RIGHT + "; reopening it could add a reader it lacks")
        return self._reopened(seen, ends)

    def _reopened(self, seen: _Seen, ends: tuple[Endpoint, ...]) -> _Fill:
        for end in ends:
            try:
                fd = os.open(f"{self.procfs}/{end.pid}/fd/{end.fd}", _REOPEN)
            except OSError:
                continue
            found = _fill_of(fd, seen, sides=False)  # a new reader: poll would count itself
            if found is not None:
                return found
        return _Fill(note=_NO_RIGHT + ", nor reopened")


def _made(seen: _Seen, ends: tuple[Endpoint, ...], fill: _Fill) -> Pipe | Fifo:
    fields = (seen.dev, seen.inode, seen.uid, seen.gid, seen.mode, ends, *fill[:3])
    if seen.kind is Fifo:
        return Fifo(*fields, path=seen.path, has_reader=fill.has_reader,
                    has_writer=fill.has_writer)  # fmt: skip
    return Pipe(*fields, has_reader=fill.has_reader, has_writer=fill.has_writer)


def _fill_of(fd: int, seen: _Seen, sides: bool) -> _Fill | None:
    """The fill of the pipe `fd` is an end of, if it still is this pipe (a descriptor number
    may have been closed and reused since the walk read it), with the kernel's word on its
    other side when `sides` (`fd` is a holder's own end); `fd` is closed."""
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (seen.dev, seen.inode) or not stat.S_ISFIFO(st.st_mode):
            return None
        said = other_side(fd, anonymous=seen.kind is Pipe) if sides else (None, None)
        return _Fill(*pipe_fill(fd), None, *said)
    except OSError:
        return None
    finally:
        os.close(fd)


def _end(process: ProcessView, fd: int, link: bytes) -> tuple[_Seen, int, str] | None:
    """(what it is an end of, fd, mode) if descriptor `fd` holds a pipe or FIFO."""
    is_pipe = link.startswith(_PIPE_LINK)
    name = str(fd)
    try:
        st = os.stat(name, dir_fd=process.fd_dir)  # the pipe itself: nothing is opened
        if not stat.S_ISFIFO(st.st_mode):
            return None
        mode = _mode(os.lstat(name, dir_fd=process.fd_dir).st_mode)
    except OSError:
        return None
    kind: type[Pipe] | type[Fifo] = Pipe if is_pipe else Fifo
    path = b"" if is_pipe else link
    seen = _Seen(kind, st.st_dev, st.st_ino, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), path)
    return seen, fd, mode


def _further_end(process: ProcessView, fd: int, seen: _Seen) -> tuple[_Seen, int, str] | None:
    """Another end of a pipe already seen: only its mode is read."""
    try:
        return seen, fd, _mode(os.lstat(str(fd), dir_fd=process.fd_dir).st_mode)
    except OSError:
        return None


def _mode(link_mode: int) -> str:
    """How a descriptor was opened, from its /proc/PID/fd entry's permission bits."""
    return ("r" if link_mode & stat.S_IRUSR else "") + ("w" if link_mode & stat.S_IWUSR else "")


def _blocked(waits: tuple[Wait, ...] | None) -> dict[int, list[Wait]]:
    """The reads and writes some thread sleeps in, by descriptor."""
    found: dict[int, list[Wait]] = defaultdict(list)
    for wait in waits or ():
        if wait.kind is Kind.PIPE:
            found[wait.handle].append(wait)
    return found


def _users(ends: tuple[Endpoint, ...]) -> tuple[Attacher, ...]:
    by_pid: dict[int, list[Endpoint]] = defaultdict(list)
    for end in ends:
        by_pid[end.pid].append(end)
    return tuple(
        Attacher(pid, held[0].comm, held[0].uid, 0, len(held), any(e.blocked for e in held),
                 next((e.call for e in held if e.blocked), ""))
        for pid, held in sorted(by_pid.items())
    )  # fmt: skip
