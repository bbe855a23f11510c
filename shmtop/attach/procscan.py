"""Reading one process: which target objects its maps and descriptors point at.

A process's maps file is read once and searched only for the target devices (most processes
map no IPC at all). Matching is on (device, inode), never on names. Descriptors are read (one
readlink each, as bytes: no decoding) only when something looked for can be held by one (a
POSIX object, or a finder's kind), and only those whose link could name a /dev/shm or mqueue
file are stat'ed. Every file is reached relative to a descriptor of /proc/PID, so the kernel
walks that path once per process, not once per file. This runs once per process on the host:
it counts in plain dicts and calls as little as it can.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import NamedTuple

from shmtop.attach.finders import ProcessFinder, ProcessView, open_at, read_at
from shmtop.attach.waits import Wait
from shmtop.errors import NotPermitted
from shmtop.model import Kind

Key = tuple[int, int]  # (device, inode)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass(frozen=True)
class Targets:
    """What a scan looks for.

    `sysv` maps, per IPC namespace label ("" for shmtop's own), a shmid to its reference
    (mapped on `sysv_dev`: the same device in every namespace, so the process's namespace
    says which segment N it maps); `files` maps the (device, inode) of POSIX objects and
    queues to their references (hard links: several; devices differ between /dev/shm
    instances); `waitable` maps the id of a System V set or queue, by kind and namespace
    label, to its reference.
    """

    sysv_dev: int | None
    sysv: Mapping[str, Mapping[int, str]]
    files: Mapping[Key, tuple[str, ...]]
    file_devs: frozenset[int]
    waitable: Mapping[Kind, Mapping[str, Mapping[int, str]]] = field(default_factory=dict)
    queues: bool = False  # POSIX queues are among `files`
    finders: Sequence[ProcessFinder] = ()  # kinds found in processes (the second phase)

    @cached_property
    def anything(self) -> bool:
        """Whether there is anything to look for in processes at all."""
        return bool(self.sysv or self.files or self.finders or any(self.waitable.values()))

    @cached_property
    def wants_fds(self) -> bool:
        """Whether a descriptor could hold something looked for: a POSIX object (or queue),
        or a kind a finder finds (a pipe's end, a memfd)."""
        return bool(self.files or self.finders)

    @cached_property
    def wants_waits(self) -> bool:
        """Whether a blocked process could be waiting on something looked for."""
        return self.queues or any(self.waitable.values())

    def matcher(self) -> MapsMatcher:
        devs = set(self.file_devs)
        if self.sysv and self.sysv_dev is not None:
            devs.add(self.sysv_dev)
        return MapsMatcher({_maps_field(dev): dev for dev in devs})


class MapsMatcher:
    """Finds the mappings on given devices in a maps file.

    A maps line is "start-end perms offset dev inode [path]". The device field is searched
    for as bytes (most processes have none of it, and no line is split for them), and a hit
    counts only where it is the line's fourth field, so a path that happens to contain
    " 00:01 " matches nothing. The needle ends with the device's last digit rather than a
    space, which makes the search skip along fast.
    """

    def __init__(self, fields: Mapping[bytes, int]) -> None:
        self.needles = [(b" " + field, dev) for field, dev in fields.items()]

    def mappings(self, data: bytes) -> list[Key]:
        found: list[Key] = []
        for needle, dev in self.needles:
            at = data.find(needle)
            while at != -1:
                inode = _inode_after(data, at, len(needle))
                if inode is not None:
                    found.append((dev, inode))
                at = data.find(needle, at + 1)
        return found


def _inode_after(data: bytes, at: int, width: int) -> int | None:
    """The inode following a device field found at `at`, if it is the fourth field."""
    after = at + width
    if data[after : after + 1] != b" ":
        return None  # a longer device number that merely starts the same
    line_start = data.rfind(b"\n", 0, at) + 1
    if data.count(b" ", line_start, at) != 2:  # start-end, perms, offset: then the device
        return None
    end = data.find(b" ", after + 1)
    inode = data[after + 1 : end if end != -1 else None]
    return int(inode) if inode.isdigit() else None


class Finding(NamedTuple):
    """What one readable process was found to use: mappings and descriptors per key, the
    references it is blocked on (with the call it sleeps in), and whether its waits could not
    be read. (A tuple: one is made for every process that uses something.)"""

    pid: int
    comm: str
    uid: int | None
    maps: Mapping[Key, int]  # mappings per key
    fds: Mapping[Key, int]  # descriptors per key
    waiting: Mapping[str, str] = MappingProxyType({})  # reference -> call
    waits_unknown: bool = False
    ipc: str = ""  # its IPC namespace's label, where a System V mapping needed it


def read_process(
    procfs_fd: int, pid: int, targets: Targets, matcher: MapsMatcher, own_ipc: str | None
) -> Finding | None:
    """What the process uses, None if nothing. Raises NotPermitted (another user's, or
    hidepid) or Vanished (it exited while being read). `own_ipc`: the link of shmtop's IPC
    namespace (`ipc:[4026531839]`). Finders are shown the process as read here."""
    pid_fd = _open(str(pid), _DIR, procfs_fd)
    try:
        data = _read(pid_fd, "maps")
        fds: dict[Key, int] = {}
        if targets.wants_fds:
            fd_dir = _open("fd", _DIR, pid_fd)
            try:
                view = ProcessView(pid, pid_fd, fd_dir, data, _links(fd_dir))
                for finder in targets.finders:
                    finder.look(view)
                if targets.files:
                    fds = _held(fd_dir, view.links, targets.files)
            finally:
                os.close(fd_dir)
        else:  # only System V objects: no descriptor can hold one
            view = ProcessView(pid, pid_fd, -1, data, {})
        ipc = _IpcLabel(pid_fd, own_ipc)
        maps: dict[Key, int] = {}
        for key in matcher.mappings(data):
            if _wanted(key, targets, ipc):
                maps[key] = maps.get(key, 0) + 1
        waiting, waits_unknown = _waits(view, targets, ipc) if targets.wants_waits else _NO_WAITS
        if not (maps or fds or waiting or waits_unknown):
            return None
        comm, uid = view.identity()  # only for processes that use something
    finally:
        os.close(pid_fd)
    return Finding(pid, comm, uid, maps, fds, waiting, waits_unknown, ipc.known or "")


_NO_WAITS: tuple[dict[str, str], bool] = ({}, False)


class _IpcLabel:
    """A process's IPC namespace label, read once and only if asked ("" for shmtop's own;
    None when it cannot be read: then no System V object is credited to it)."""

    def __init__(self, pid_fd: int, own: str | None) -> None:
        self._pid_fd, self._own = pid_fd, own
        self.known: str | None = None
        self._read = False

    def get(self) -> str | None:
        if not self._read:
            self._read = True
            try:
                link = os.readlink("ns/ipc", dir_fd=self._pid_fd)
            except OSError:
                return None
            self.known = "" if link == self._own else link[link.find("[") + 1 : -1]
        return self.known


def _waits(view: ProcessView, targets: Targets, ipc: _IpcLabel) -> tuple[dict[str, str], bool]:
    """(references the process is blocked on, each with the call it sleeps in; whether that
    could not be read)."""
    waits = view.waits()
    if waits is None:
        return {}, True
    refs: dict[str, str] = {}
    for wait in waits:
        for ref in _waited_on(view.pid_fd, wait, targets, ipc):
            refs.setdefault(ref, wait.call)
    return refs, False


def _waited_on(pid_fd: int, wait: Wait, targets: Targets, ipc: _IpcLabel) -> tuple[str, ...]:
    if wait.kind is Kind.POSIX_MQ:
        key = _descriptor_key_of(pid_fd, wait.handle)
        return targets.files.get(key, ()) if key else ()
    label = ipc.get()  # id N of the process's own namespace
    ref = None if label is None else targets.waitable.get(wait.kind, {}).get(label, {})
    found = None if ref is None else ref.get(wait.handle)
    return () if found is None else (found,)


def _descriptor_key_of(pid_fd: int, fd: int) -> Key | None:
    try:
        st = os.stat(f"fd/{fd}", dir_fd=pid_fd)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _open(name: str, flags: int, dir_fd: int) -> int:
    return open_at(name, flags, dir_fd)


def _read(dir_fd: int, name: str) -> bytes:
    return read_at(dir_fd, name)


def _wanted(key: Key, targets: Targets, ipc: _IpcLabel) -> bool:
    if key[0] == targets.sysv_dev:
        label = ipc.get()  # segment N of the process's own namespace
        return label is not None and key[1] in targets.sysv.get(label, {})
    return key in targets.files


def _links(fd_dir: int) -> dict[int, bytes]:
    """What each descriptor points at, as readlink says (one call each), as bytes: what the
    finders compare and keep (a FIFO's path) is bytes, and nothing is decoded."""
    links: dict[int, bytes] = {}
    try:
        names = os.listdir(fd_dir)
    except PermissionError:
        raise NotPermitted("fd") from None
    readlink = os.readlink
    for name in names:
        try:
            links[int(name)] = readlink(name.encode(), dir_fd=fd_dir)
        except OSError:  # closed meanwhile, or the process is gone
            continue
    return links


def _held(fd_dir: int, links: Mapping[int, bytes], files: Mapping[Key, object]) -> dict[Key, int]:
    """Descriptors per key of the objects in `files` the process holds open."""
    found: dict[Key, int] = {}
    for fd, link in links.items():
        if link[:1] == b"/" and _may_be_ipc(link):
            key = _descriptor_key(fd_dir, str(fd))
            if key is not None and key in files:
                found[key] = found.get(key, 0) + 1
    return found


def _descriptor_key(fd_dir: int, name: str) -> Key | None:
    """(device, inode) of what a descriptor points at."""
    try:
        st = os.stat(name, dir_fd=fd_dir)
    except OSError:  # closed meanwhile, or the process is gone
        return None
    return (st.st_dev, st.st_ino)


def _may_be_ipc(link: bytes) -> bool:
    """/dev/shm/NAME, /dev/mqueue/NAME, or /NAME (a queue opened with mq_open)."""
    if link.startswith((b"/dev/shm/", b"/dev/mqueue/")):
        return True
    return link.startswith(b"/") and link.count(b"/") == 1


def _maps_field(dev: int) -> bytes:
    """How /proc/PID/maps prints a device: %02x:%02x of major and minor."""
    return f"{os.major(dev):02x}:{os.minor(dev):02x}".encode()
