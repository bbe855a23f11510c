"""Shared memory outside /dev/shm's names, found by the walk over /proc: memfd objects, files
mapped MAP_SHARED, anonymous shared memory, and /dev/shm files deleted while still held.

maps shows a MAP_SHARED mapping with `s` as its fourth permission letter, its device and
inode, and a name that says what it is: `/memfd:NAME (deleted)`, `/dev/zero (deleted)` or
`[anon_shmem:NAME]` (both on the kernel's internal shmem device), `/SYSV...` (a System V
segment, listed elsewhere), `/dev/shm/NAME (deleted)`, or a file's path. Descriptors show memfd
objects and deleted /dev/shm files held without a mapping. Objects are grouped by (device,
inode); what maps cannot say (size, blocks, owner) is asked of one holder's descriptor or
mapper's map_files entry with a stat, which opens nothing; a memfd's seals need one read-only
open of that entry, which changes nothing.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from shmtop.attach.finders import Found, ProcessView
from shmtop.attach.peek import seals
from shmtop.model import (
    Attacher,
    FileType,
    IpcObject,
    Kind,
    MappedBy,
    Memfd,
    PosixShm,
    SharedAnon,
    SharedFile,
)
from shmtop.model.roots import Roots

_SHARED = re.compile(
    rb"([0-9a-f]+)-([0-9a-f]+) [r-]([w-])[x-]s [0-9a-f]+ ([0-9a-f]+):([0-9a-f]+) (\d+) +(.+)"
)
_DELETED = b" (deleted)"
_MEMFD = b"/memfd:"
_DEV_SHM = b"/dev/shm/"
_HELD = (_MEMFD, _DEV_SHM)  # how the link of a descriptor worth a look starts
Key = tuple[int, int]
Mapping = tuple[int, int, int, int, bytes, bool]  # start, end, device, inode, name, writable


@dataclass
class _Seen:
    """One object as the walk saw it: what it is, its name, and each process's use."""

    kind: Kind
    name: bytes
    deleted: bool = False
    st: os.stat_result | None = None
    maps: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    fds: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    places: list[tuple[int, str]] = field(default_factory=list)
    comms: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    writable: bool = False  # some process maps it writable
    extent: int = 0  # the furthest byte a mapping reaches: the size when no stat can be made


class SharedMemoryFinder:
    """Finds memfd objects, shared mappings and deleted /dev/shm files (a ProcessFinder)."""

    kinds = frozenset({Kind.MEMFD, Kind.SHARED_FILE, Kind.SHARED_ANON, Kind.POSIX_SHM})

    def __init__(self, roots: Roots) -> None:
        self.procfs = roots.procfs
        try:
            self.dev_shm: int | None = os.stat(roots.dev_shm).st_dev
        except OSError:
            self.dev_shm = None
        self._seen: dict[Key, _Seen] = {}
        self._lock = threading.Lock()

    def look(self, process: ProcessView) -> None:
        kinds = self.kinds  # narrowed to the kinds asked for: posix-shm alone wants the
        # /dev/shm files deleted while held, and none of the files every process maps shared
        shared = _shared_mappings(process.maps) if _wants_maps(kinds, process.maps) else []
        mapped = [_exact(process, m) for m in shared if self._kind_of(*m[2:4], m[4]) in kinds]
        prefixes = _HELD if Kind.MEMFD in kinds else _DEV_SHM
        held = [h for fd, link in process.links.items()
                if link.startswith(prefixes) and (h := self._held(process, fd, link))
                and self._kind_of(h[1].st_dev, h[1].st_ino, link) in kinds]  # fmt: skip
        if not (mapped or held):
            return
        identity = process.identity()
        with self._lock:
            for start, end, dev, inode, name, writable in mapped:
                seen = self._entry((dev, inode), name)
                seen.writable = seen.writable or writable
                use = seen.maps[process.pid]
                use[0] += 1
                use[1] += end - start
                seen.extent = max(seen.extent, end - start)
                seen.places.append((process.pid, f"map_files/{start:x}-{end:x}"))
                seen.comms[process.pid] = identity
            for fd, st, name in held:
                seen = self._entry((st.st_dev, st.st_ino), name)
                seen.name = _bare(name)  # a link's name is exact; maps escapes a newline
                seen.st = st
                seen.fds[process.pid] += 1
                seen.places.insert(0, (process.pid, f"fd/{fd}"))
                seen.comms[process.pid] = identity

    def found(self) -> Found:
        objects: dict[Kind, list[IpcObject]] = defaultdict(list)
        users: dict[str, tuple[Attacher, ...]] = {}
        for key, seen in self._seen.items():
            obj = self._object(key, seen)
            if obj is not None:
                objects[obj.kind].append(obj)
                users[obj.ref] = _users(seen)
        return Found({kind: tuple(found) for kind, found in objects.items()}, users)

    def _kind_of(self, dev: int, inode: int, name: bytes) -> Kind | None:
        if name.startswith(_MEMFD):
            return Kind.MEMFD
        if name == b"/dev/zero" + _DELETED or name.startswith(b"[anon_shmem:"):
            return Kind.SHARED_ANON
        if name.startswith(_DEV_SHM):  # listed from /dev/shm, unless deleted
            deleted = dev == self.dev_shm and name.endswith(_DELETED)
            return Kind.POSIX_SHM if deleted else None
        if name.startswith(b"/") and not name.startswith((b"/dev/", b"/SYSV")):
            return Kind.SHARED_FILE
        return None  # a device's memory, a System V segment, a pseudo-file

    def _held(self, process: ProcessView, fd: int, name: bytes) -> tuple[int, os.stat_result,
                                                                       bytes] | None:  # fmt: skip
        """A memfd, or a deleted /dev/shm file, behind descriptor `fd`."""
        if not (name.startswith(_MEMFD) or (name.startswith(_DEV_SHM) and
                                            name.endswith(_DELETED))):  # fmt: skip
            return None
        try:
            st = os.stat(str(fd), dir_fd=process.fd_dir)  # opens nothing
        except OSError:
            return None
        if name.startswith(_DEV_SHM) and (st.st_dev != self.dev_shm or st.st_nlink):
            return None  # another tmpfs, or a live file whose name ends so: listed already
        return fd, st, name

    def _entry(self, key: Key, name: bytes) -> _Seen:
        seen = self._seen.get(key)
        if seen is None:
            kind = self._kind_of(key[0], key[1], name)
            assert kind is not None
            seen = self._seen[key] = _Seen(kind, _bare(name), name.endswith(_DELETED))
        return seen

    def _object(self, key: Key, seen: _Seen) -> IpcObject | None:
        st = seen.st or self._stat(seen)
        dev, inode = key
        if seen.kind is Kind.POSIX_SHM:
            if st is None or st.st_nlink:  # unknown, or not deleted after all (linked again)
                return None
            return PosixShm(
                b"/" + seen.name[len(_DEV_SHM) :], FileType.FILE, st.st_size, st.st_blocks * 512,
                st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_ctime_ns,
                dev, inode, 0, deleted=True, places=tuple(seen.places),
            )  # fmt: skip
        known = _known(seen, st)
        mapped = tuple(MappedBy(pid, n, size) for pid, (n, size) in sorted(seen.maps.items()))
        places = tuple(seen.places)
        if seen.kind is Kind.MEMFD:
            name = seen.name[len(_MEMFD) :]
            seal = self._seals(seen)
            return Memfd(dev, inode, name, *known, mapped, places=places, seals=seal)
        if seen.kind is Kind.SHARED_ANON:
            name = seen.name[len(b"[anon_shmem:") : -1] if seen.name.startswith(b"[") else b""
            return SharedAnon(dev, inode, name, *known, mapped, places=places)
        if st is not None and not stat.S_ISREG(st.st_mode):
            return None  # not a regular file after all
        return SharedFile(dev, inode, seen.name, *known, mapped, places=places,
                          deleted=seen.deleted, writable=seen.writable)  # fmt: skip

    def _stat(self, seen: _Seen) -> os.stat_result | None:
        """What a mapper's map_files entry says of the object (root: CAP_SYS_ADMIN)."""
        for pid, place in seen.places:
            try:
                return os.stat(f"{self.procfs}/{pid}/{place}")
            except OSError:
                continue
        return None

    def _seals(self, seen: _Seen) -> int | None:
        for pid, place in seen.places:
            try:
                fd = os.open(f"{self.procfs}/{pid}/{place}", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                return seals(fd)
            finally:
                os.close(fd)
        return None


class _Known(NamedTuple):
    """What a stat said of an object (all None: no stat could be made)."""

    size: int | None
    allocated: int | None
    uid: int | None
    gid: int | None
    mode: int | None
    mtime_ns: int | None


def _known(seen: _Seen, st: os.stat_result | None) -> _Known:
    if st is None:  # the size of its largest mapping, at least
        return _Known(seen.extent or None, None, None, None, None, None)
    return _Known(st.st_size, st.st_blocks * 512, st.st_uid, st.st_gid,
                  stat.S_IMODE(st.st_mode), st.st_mtime_ns)  # fmt: skip


def _shared_mappings(maps: bytes) -> list[Mapping]:
    """(start, end, device, inode, name, writable) of each MAP_SHARED mapping of something
    named. A shared mapping's permissions end in "s " (a private one's in "p "): that is
    searched for as bytes, one pass (most lines are private, and no line is split for
    them), and only the lines it hits parsed; a hit inside a path finds a line whose
    permissions then do not match."""
    found = []
    at = maps.find(b"s ")
    while at != -1:
        start = maps.rfind(b"\n", 0, at) + 1
        end = maps.find(b"\n", at)
        end = len(maps) if end == -1 else end
        m = _SHARED.match(maps, start, end)
        if m is not None and m.start(3) + 2 == at:  # the hit is this line's permissions
            dev = os.makedev(int(m[4], 16), int(m[5], 16))
            found.append((int(m[1], 16), int(m[2], 16), dev, int(m[6]), m[7], m[3] == b"w"))
        at = maps.find(b"s ", end)
    return found


def _wants_maps(kinds: frozenset[Kind], maps: bytes) -> bool:
    """Whether a process's maps can show a mapping of the kinds looked for: with posix-shm
    alone, only where it names a file of /dev/shm."""
    return bool(kinds - {Kind.POSIX_SHM}) or _DEV_SHM in maps


def _bare(name: bytes) -> bytes:
    return name[: -len(_DELETED)] if name.endswith(_DELETED) else name


def _exact(process: ProcessView, mapping: Mapping) -> Mapping:
    """The mapping with its exact name. maps writes a newline in a name as `\\012` (and a
    backslash as itself, so `\\012` there may be either): a name with a backslash is read
    again from the mapping's map_files link (root), which escapes nothing; failing that, it
    stays as maps wrote it."""
    start, end, dev, inode, name, writable = mapping
    if b"\\" not in name:
        return mapping
    try:
        exact = os.readlink(f"map_files/{start:x}-{end:x}".encode(), dir_fd=process.pid_fd)
    except OSError:
        return mapping
    return start, end, dev, inode, exact, writable


def _users(seen: _Seen) -> tuple[Attacher, ...]:
    found = []
    for pid in sorted({*seen.maps, *seen.fds}):
        maps = seen.maps[pid][0] if pid in seen.maps else 0
        found.append(Attacher(pid, *seen.comms[pid], maps, seen.fds.get(pid, 0)))
    return tuple(found)
