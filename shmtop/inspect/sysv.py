"""Reading a System V segment's bytes while disturbing it as little as the kernel allows.

1. As root, when some process maps the segment (one the attach scan named, else the last
   and creating pids, else the first found by a pass over /proc/*/maps): open that process's
   /proc/PID/map_files/START-END, a descriptor of the segment's own file, and pread it.
   Nothing about the segment changes (no attach: nattch, lpid, atime stay), and pages never
   written read as zeros without being allocated.
2. Otherwise: attach read-only (never read-write) for the read alone and detach at once. The
   segment's lpid, atime and dtime then show shmtop; `note` says so. As root the bytes are
   still read through the file (map_files of our own mapping); without root they are read
   through the mapping, which allocates pages never written before.

Descriptors are opened per read and closed: holding one would keep a removed segment's memory
alive.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import sysv_ipc

from shmtop.attach.sysvdev import sysv_device
from shmtop.errors import NotPermitted, Vanished
from shmtop.model import SysvShm

ATTACH_NOTE = (
    "attached read-only to read it, so its lpid and atime/dtime now name shmtop "
    "(as root, shmtop reads through a process that maps it and changes nothing)"
)
UNPRIVILEGED_NOTE = ATTACH_NOTE[:-1] + "; without root, pages never written are allocated as read)"


class SysvReader:
    """Bounded reads of one System V segment."""

    def __init__(self, segment: SysvShm, mappers: Iterable[int], procfs: str = "/proc") -> None:
        self.ref = segment.ref
        self.shmid = segment.id
        self.size = segment.size
        self.note: str | None = None
        self._procfs = procfs
        self._mappers = list(mappers)
        self._hints = [segment.lpid, segment.cpid] if segment.nattch else []
        self._searched = not segment.nattch  # nobody maps it: no pass over /proc needed
        self._root = os.geteuid() == 0
        self._paths: dict[int, str] = {}  # mapper pid -> its map_files entry, checked per read

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
        return self._read_attached(offset, length)

    def close(self) -> None:
        """Nothing is held between reads."""

    def _read_mapped(self, offset: int, length: int) -> bytes | None:
        for pid in list(self._mappers):
            data = self._read_mapped_by(pid, offset, length)
            if data is not None:
                return data
            self._mappers.remove(pid)  # detached or gone since: try the next
        return None

    def _find_mappers(self) -> list[int]:
        """The first process found mapping the segment: likely pids first, then all."""
        own = os.getpid()
        for pid in [*self._hints, *_pids(self._procfs)]:
            if pid > 0 and pid != own and _map_file(self._procfs, pid, self.shmid) is not None:
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

    def _read_attached(self, offset: int, length: int) -> bytes:
        try:
            segment = sysv_ipc.attach(self.shmid, None, sysv_ipc.SHM_RDONLY)
        except sysv_ipc.PermissionsError:
            raise NotPermitted(f"{self.ref} is not readable by you") from None
        except sysv_ipc.ExistentialError:
            raise Vanished(f"{self.ref} no longer exists") from None
        self.note = ATTACH_NOTE if self._root else UNPRIVILEGED_NOTE
        try:
            if self._root:
                path = _map_file(self._procfs, os.getpid(), self.shmid)
                data = (
                    None
                    if path is None
                    else _pread_file(path, offset, length, self.shmid, self._procfs)
                )
                if data is not None:
                    return data
            return segment.read(length, offset)
        finally:
            segment.detach()


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
