"""Reading one process: which target objects its maps and descriptors point at.

A process's maps file is read once and searched only for the target devices (most processes
map no IPC at all). Matching is on (device, inode), never on names. Only descriptors whose
link could name a /dev/shm or mqueue file are stat'ed. Every file is reached relative to a
descriptor of /proc/PID, so the kernel walks that path once per process, not once per file.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shmtop.attach.finders import ProcessFinder
from shmtop.attach.waits import CALLS, Wait, parse_syscall
from shmtop.errors import NotPermitted, Vanished
from shmtop.model import Kind

Key = tuple[int, int]  # (device, inode)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_READ_CHUNK = 1 << 17


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

    @property
    def anything(self) -> bool:
        """Whether there is anything to look for in processes at all."""
        return bool(self.sysv or self.files or self.finders or any(self.waitable.values()))

    @property
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


@dataclass(frozen=True)
class Finding:
    """What one readable process was found to use: mappings and descriptors per key, the
    references it is blocked on, and whether its waits could not be read."""

    pid: int
    comm: str
    uid: int | None
    maps: Counter[Key]
    fds: Counter[Key]
    waiting: tuple[str, ...] = ()
    waits_unknown: bool = False
    ipc: str = ""  # its IPC namespace's label, where a System V mapping needed it


def read_process(
    procfs_fd: int, pid: int, targets: Targets, matcher: MapsMatcher, own_ipc: str | None
) -> Finding | None:
    """What the process uses, None if nothing. Raises NotPermitted (another user's, or
    hidepid) or Vanished (it exited while being read). `own_ipc`: the link of shmtop's IPC
    namespace (`ipc:[4026531839]`)."""
    pid_fd = _open(str(pid), _DIR, procfs_fd)
    try:
        data = _read(pid_fd, "maps")
        for finder in targets.finders:
            finder.look(pid, pid_fd, data)
        mapped = matcher.mappings(data)
        ipc = _IpcLabel(pid_fd, own_ipc)
        maps = Counter(key for key in mapped if _wanted(key, targets, ipc))
        fds = _held(pid_fd, targets)
        waiting, waits_unknown = _waits(pid_fd, targets, ipc)
        if not (maps or fds or waiting or waits_unknown):
            return None
        comm, uid = _identity(pid_fd)  # only for processes that use something
    finally:
        os.close(pid_fd)
    return Finding(pid, comm, uid, maps, fds, waiting, waits_unknown, ipc.known or "")


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


def _waits(pid_fd: int, targets: Targets, ipc: _IpcLabel) -> tuple[tuple[str, ...], bool]:
    """(references the process is blocked on, whether that could not be read)."""
    if not targets.wants_waits:
        return (), False
    if CALLS is None:
        return (), True  # this architecture's call numbers are not known here
    try:
        waits = [parse_syscall(_read(pid_fd, f"task/{tid}/syscall")) for tid in _threads(pid_fd)]
    except (NotPermitted, PermissionError):
        return (), True  # ptrace rules (Yama) may refuse it even for our own processes
    refs: list[str] = []
    for wait in waits:
        if wait is not None:
            refs.extend(_waited_on(pid_fd, wait, targets, ipc))
    return tuple(dict.fromkeys(refs)), False


def _threads(pid_fd: int) -> list[str]:
    """The process's threads: any of them may be the one blocked."""
    task_fd = _open("task", _DIR, pid_fd)
    try:
        return os.listdir(task_fd)
    finally:
        os.close(task_fd)


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
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:
        raise NotPermitted(name) from None
    except (FileNotFoundError, ProcessLookupError):
        raise Vanished(name) from None


def _read(dir_fd: int, name: str) -> bytes:
    fd = _open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd)
    try:
        chunks = []
        while chunk := os.read(fd, _READ_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    except ProcessLookupError:
        raise Vanished(name) from None
    finally:
        os.close(fd)


def _wanted(key: Key, targets: Targets, ipc: _IpcLabel) -> bool:
    if key[0] == targets.sysv_dev:
        label = ipc.get()  # segment N of the process's own namespace
        return label is not None and key[1] in targets.sysv.get(label, {})
    return key in targets.files


def _held(pid_fd: int, targets: Targets) -> Counter[Key]:
    fd_dir = _open("fd", _DIR, pid_fd)
    found: Counter[Key] = Counter()
    try:
        for name in os.listdir(fd_dir):
            key = _descriptor_key(fd_dir, name)
            if key is not None and key in targets.files:
                found[key] += 1
    except PermissionError:
        raise NotPermitted("fd") from None
    finally:
        os.close(fd_dir)
    return found


def _descriptor_key(fd_dir: int, name: str) -> Key | None:
    """(device, inode) of what a descriptor points at, if it may be a /dev/shm or mq file."""
    try:
        if not _may_be_ipc(os.readlink(name, dir_fd=fd_dir)):
            return None
        st = os.stat(name, dir_fd=fd_dir)
    except OSError:  # closed meanwhile, or the process is gone
        return None
    return (st.st_dev, st.st_ino)


def _may_be_ipc(link: str) -> bool:
    """/dev/shm/NAME, /dev/mqueue/NAME, or /NAME (a queue opened with mq_open)."""
    if link.startswith(("/dev/shm/", "/dev/mqueue/")):
        return True
    return link.startswith("/") and link.count("/") == 1


def _identity(pid_fd: int) -> tuple[str, int | None]:
    """Command name and owner (euid) of a process; what cannot be read stays unknown."""
    try:
        comm = _read(pid_fd, "comm").rstrip(b"\n").decode("utf-8", "surrogateescape")
    except (NotPermitted, Vanished, OSError):
        comm = "?"
    try:
        uid: int | None = os.fstat(pid_fd).st_uid
    except OSError:
        uid = None
    return comm, uid


def _maps_field(dev: int) -> bytes:
    """How /proc/PID/maps prints a device: %02x:%02x of major and minor."""
    return f"{os.major(dev):02x}:{os.minor(dev):02x}".encode()
