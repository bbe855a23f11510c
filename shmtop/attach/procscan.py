"""Reading one process: which target objects its maps and descriptors point at.

A process's maps file is read once, and parsed only if it mentions one of the target devices
(most processes map no IPC at all). Matching is on (device, inode), never on names. Only
descriptors whose link could name a /dev/shm or mqueue file are stat'ed.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

Key = tuple[int, int]  # (device, inode)


@dataclass(frozen=True)
class Targets:
    """What a scan looks for.

    `sysv` maps a shmid to its reference (mapped on `sysv_dev`); `files` maps the
    (device, inode) of POSIX objects and queues to their references (hard links: several).
    """

    sysv_dev: int | None
    sysv: Mapping[int, str]
    files: Mapping[Key, tuple[str, ...]]
    file_devs: frozenset[int]

    def matcher(self, with_sysv: bool) -> MapsMatcher:
        devs = set(self.file_devs)
        if with_sysv and self.sysv and self.sysv_dev is not None:
            devs.add(self.sysv_dev)
        return MapsMatcher({_maps_field(dev): dev for dev in devs})


class MapsMatcher:
    """Finds the mappings on given devices in a maps file, in one pass of one regex.

    A maps line is "start-end perms offset dev inode [path]"; only the dev field is matched,
    so a path that happens to contain "00:01" matches nothing.
    """

    def __init__(self, fields: Mapping[bytes, int]) -> None:
        self.fields = fields
        alternatives = b"|".join(re.escape(field) for field in fields) or b"(?!)"
        self._line = re.compile(rb"^\S+ \S+ \S+ (" + alternatives + rb") (\d+)", re.MULTILINE)

    def mappings(self, data: bytes) -> list[Key]:
        if not any(field in data for field in self.fields):
            return []  # the common case: this process maps no IPC object at all
        return [(self.fields[m[1]], int(m[2])) for m in self._line.finditer(data)]


@dataclass(frozen=True)
class Finding:
    """What one readable process was found to use: mappings and descriptors per key."""

    pid: int
    maps: Counter[Key]
    fds: Counter[Key]


class Unreadable(Exception):
    """This process's maps or descriptors may not be read (another user, hidepid)."""


class Gone(Exception):
    """The process exited while it was being read."""


def read_process(base: str, pid: int, targets: Targets, matcher: MapsMatcher) -> Finding:
    """Raises Unreadable or Gone; a kernel thread or zombie simply uses nothing."""
    mapped = matcher.mappings(_read(f"{base}/maps"))
    maps = Counter(key for key in mapped if _wanted(key, targets))
    fds = _held(f"{base}/fd", targets)
    return Finding(pid, maps, fds)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb", buffering=0) as f:
            return f.read()
    except PermissionError:
        raise Unreadable(path) from None
    except (FileNotFoundError, ProcessLookupError):
        raise Gone(path) from None


def _wanted(key: Key, targets: Targets) -> bool:
    if key[0] == targets.sysv_dev:
        return key[1] in targets.sysv
    return key in targets.files


def _held(fd_dir: str, targets: Targets) -> Counter[Key]:
    try:
        names = os.listdir(fd_dir)
    except PermissionError:
        raise Unreadable(fd_dir) from None
    except (FileNotFoundError, ProcessLookupError):
        raise Gone(fd_dir) from None
    found: Counter[Key] = Counter()
    for name in names:
        key = _descriptor_key(f"{fd_dir}/{name}")
        if key is not None and key in targets.files:
            found[key] += 1
    return found


def _descriptor_key(path: str) -> Key | None:
    """(device, inode) of what a descriptor points at, if it may be a /dev/shm or mq file."""
    try:
        link = os.readlink(path)
        if not _may_be_ipc(link):
            return None
        st = os.stat(path)
    except OSError:  # closed meanwhile, or the process is gone
        return None
    return (st.st_dev, st.st_ino)


def _may_be_ipc(link: str) -> bool:
    """/dev/shm/NAME, /dev/mqueue/NAME, or /NAME (a queue opened with mq_open)."""
    if link.startswith(("/dev/shm/", "/dev/mqueue/")):
        return True
    return link.startswith("/") and link.count("/") == 1


def _maps_field(dev: int) -> bytes:
    """How /proc/PID/maps prints a device: %02x:%02x of major and minor."""
    return f"{os.major(dev):02x}:{os.minor(dev):02x}".encode()
