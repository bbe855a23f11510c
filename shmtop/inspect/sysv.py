"""Reading a System V segment's bytes while disturbing it as little as the kernel allows.

1. As root, when some process maps the segment (one the attach scan named, else the last
   and creating pids, else the first found by a pass over /proc/*/maps): open that process's
   /proc/PID/map_files/START-END, a descriptor of the segment's own file, and pread it.
   Nothing about the segment changes (no attach: nattch, lpid, atime stay), and pages never
   written read as zeros without being allocated.
2. Otherwise a short-lived child process attaches read-only, never shmtop itself: the
   segment's lpid and attach / detach times then name the child, which exits at once, so
   the segment does not start to look used by a process that keeps running (shmtop), and a
   leak verdict stays what it was. `note` says what moved. As root the child hands over a
   descriptor of the segment's file, read with pread for as long as the reader is open (a
   segment removed meanwhile keeps its memory until then); without root it copies each
   range asked for, through its mapping, which allocates pages never written before.

Descriptors of other processes' mappings are opened per read and closed: holding one would
keep a removed segment's memory alive.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn

import sysv_ipc

from shmtop.attach.sysvdev import sysv_device
from shmtop.errors import Vanished, from_errno
from shmtop.model import SysvShm
from shmtop.namespaces.discover import ipc_label_of
from shmtop.namespaces.enter import run_in

if TYPE_CHECKING:
    import socket

CHILD_SECONDS = 10.0
ATTACH_NOTE = (
    "no process maps it, so process {pid} attached it read-only to read it and has exited: "
    "its lpid and attach/detach times now name that process"
)
UNPRIVILEGED_NOTE = ATTACH_NOTE + "; without root, pages never written are allocated as read"


class SysvReader:
    """Bounded reads of one System V segment."""

    def __init__(self, segment: SysvShm, mappers: Iterable[int], procfs: str = "/proc") -> None:
        self.ref = segment.ref
        self.ns = segment.ns  # its IPC namespace: mappers must be in it, children join it
        self.shmid = segment.id
        self.size = segment.size
        self.note: str | None = None
        self._procfs = procfs
        self._mappers = list(mappers)
        self._hints = [segment.lpid, segment.cpid] if segment.nattch else []
        self._searched = not segment.nattch  # nobody maps it: no pass over /proc needed
        self._root = os.geteuid() == 0
        self._paths: dict[int, str] = {}  # mapper pid -> its map_files entry, checked per read
        self._file: int | None = None  # root: the segment's file, from a child

    def read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        if self._root:
            data = self._read_mapped(offset, length)
            if data is None and not self._searched:
                self._searched = True  # once: the attach scan may not have run yet
                self._mappers = self._find_mappers()
                data = self._read_mapped(offset, length)
            if data is not None:
                return data
            return os.pread(self._own_file(), length, offset)
        return self._read_by_child(offset, length)

    def close(self) -> None:
        """Only a descriptor a child handed over is held between reads."""
        if self._file is not None:
            os.close(self._file)
            self._file = None

    def _read_mapped(self, offset: int, length: int) -> bytes | None:
        for pid in list(self._mappers):
            data = self._read_mapped_by(pid, offset, length)
            if data is not None:
                return data
            self._mappers.remove(pid)  # detached or gone since: try the next
        return None

    def _find_mappers(self) -> list[int]:
        """The first process found mapping the segment: likely pids first, then all (in its
        IPC namespace: a process of another one maps its own segment of that id)."""
        own = os.getpid()
        for pid in [*self._hints, *_pids(self._procfs)]:
            if pid <= 0 or pid == own or _map_file(self._procfs, pid, self.shmid) is None:
                continue
            if ipc_label_of(self._procfs, pid) == self.ns:
                return [pid]
        return []

    def _read_mapped_by(self, pid: int, offset: int, length: int) -> bytes | None:
        known = self._paths.get(pid)
        if known is not None:
            data = _pread_file(known, offset, length, self.shmid, self._procfs)
            if data is not None:
                return data
        path = _map_file(self._procfs, pid, self.shmid)
        if path is None:
            return None
        self._paths[pid] = path
        return _pread_file(path, offset, length, self.shmid, self._procfs)

    def _own_file(self) -> int:
        """The segment's file, from a child that attached, handed it over and exited."""
        if self._file is None:
            kind, fds, pid = run_in(self.ns, _run_child, self, "fd")
            if kind != b"F" or len(fds) != 1:
                raise OSError(f"{self.ref}: the child that attaches it failed")
            if not _is_segment(fds[0], self.shmid, self._procfs):
                os.close(fds[0])
                raise Vanished(f"{self.ref} was replaced since it was listed")
            self._file = fds[0]
            self.note = ATTACH_NOTE.format(pid=pid)
        return self._file

    def _read_by_child(self, offset: int, length: int) -> bytes:
        kind, data, pid = run_in(self.ns, _run_child, self, "read", str(offset), str(length))
        if kind != b"D":
            raise OSError(f"{self.ref}: the child that attaches it failed")
        self.note = UNPRIVILEGED_NOTE.format(pid=pid)
        return bytes(data)


def _run_child(reader: SysvReader, mode: str, *args: str) -> tuple[bytes, Any, int]:
    """Fork a child that attaches, answers and exits; wait for it: (kind, data or fds, pid)."""
    import socket  # noqa: PLC0415 (only when no process maps the segment: not at start-up)

    ours, theirs = socket.socketpair()
    with ours:
        try:
            child = os.fork()
            if child == 0:  # never returns: only the child's answer leaves it
                ours.close()
                _child(theirs, reader.shmid, mode, [int(a) for a in args])
        finally:
            theirs.close()
        try:
            kind, payload = _answer(ours, mode == "fd")
        finally:
            os.waitpid(child, 0)
    if kind == b"E":
        raise from_errno(int(payload), reader.ref)
    return kind, payload, child


def _child(sock: socket.socket, shmid: int, mode: str, numbers: list[int]) -> NoReturn:
    """In the child: attach read-only, send the segment's file or the bytes asked, exit."""
    import socket  # noqa: PLC0415 (already imported by _run_child)

    try:
        segment = sysv_ipc.attach(shmid, None, sysv_ipc.SHM_RDONLY)
        try:
            if mode == "fd":
                socket.send_fds(sock, [b"F"], [_mapped_file(segment.address)])
            else:
                sock.sendall(b"D" + segment.read(numbers[1], numbers[0]))
        finally:
            segment.detach()
    except sysv_ipc.PermissionsError:
        sock.sendall(b"E%d" % errno.EACCES)
    except sysv_ipc.ExistentialError:
        sock.sendall(b"E%d" % errno.EINVAL)
    except BaseException:
        sock.sendall(b"E%d" % errno.EIO)
    finally:
        os._exit(0)


def _mapped_file(address: int) -> int:
    """A descriptor of the file mapped at address in this process (map_files: root)."""
    start = f"{address:x}-".encode()
    with open("/proc/self/maps", "rb") as maps:
        line = next(line for line in maps if line.startswith(start))
    return os.open(b"/proc/self/map_files/" + line.split(None, 1)[0], os.O_RDONLY)


def _answer(sock: socket.socket, descriptor: bool) -> tuple[bytes, Any]:
    import socket  # noqa: PLC0415 (already imported by _run_child)

    sock.settimeout(CHILD_SECONDS)
    if descriptor:
        message, fds, _, _ = socket.recv_fds(sock, 64, 1)
        return message[:1], (fds if message[:1] == b"F" else message[1:])
    chunks = []
    while chunk := sock.recv(1 << 20):
        chunks.append(chunk)
    message = b"".join(chunks)
    return message[:1], message[1:]


def _is_segment(fd: int, shmid: int, procfs: str) -> bool:
    found = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (sysv_device(procfs), shmid)


def _map_file(procfs: str, pid: int, shmid: int) -> str | None:
    """The map_files entry of pid's mapping of segment shmid, if it has one."""
    device = sysv_device(procfs)
    if device is None:
        return None
    field = f" {os.major(device):02x}:{os.minor(device):02x} {shmid} ".encode()
    try:
        with open(f"{procfs}/{pid}/maps", "rb") as f:
            for line in f:
                if field in line:
                    return f"{procfs}/{pid}/map_files/{line.split(None, 1)[0].decode()}"
    except OSError:
        return None
    return None


def _pids(procfs: str) -> list[int]:
    try:
        return [int(name) for name in os.listdir(procfs) if name.isdigit()]
    except OSError:
        return []


def _pread_file(path: str, offset: int, length: int, shmid: int, procfs: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        found = os.fstat(fd)
        if (found.st_dev, found.st_ino) != (sysv_device(procfs), shmid):
            return None  # the range now maps something else
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)
