"""Mount tables (/proc/PID/mountinfo), read without touching any mounted filesystem.

What they tell: where the host itself has a container's /dev/shm tmpfs mounted (how long it
outlives the container's processes, and whether it is really a host filesystem bound into a
box); which filesystems on the way to a /dev/shm may never answer (FUSE, network); and which
entries of a directory are mount points, never to be examined (a FUSE server that does not
answer would block even an lstat of its mount point).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from typing import NamedTuple

_READ_AT_MOST = 4 << 20
_ESCAPE = re.compile(rb"\\([0-7]{3})")
_ESCAPED = {ord("\\"): "\\134", ord(" "): "\\040", ord("\t"): "\\011", ord("\n"): "\\012"}


class Mount(NamedTuple):
    point: str  # where it is mounted, in the reader's mount namespace
    fstype: str
    device: int


def mounts_of(procfs: str = "/proc", pid: int | str = "self") -> list[Mount]:
    """The mounts a process sees (its mount namespace's), oldest first; [] if unreadable."""
    text = _mountinfo(procfs, pid)
    return [] if text is None else _parsed(text)


def host_mount_points(procfs: str = "/proc") -> dict[int, tuple[str, ...]]:
    """Mount points of shmtop's own mount namespace (the host's), by device."""
    found: dict[int, list[str]] = defaultdict(list)
    for mount in mounts_of(procfs):
        found[mount.device].append(mount.point)
    return {dev: tuple(points) for dev, points in found.items()}


def mount_points_in(directory: str) -> frozenset[bytes]:
    """Names of the entries of `directory` that are mount points. Below a process's root
    (PROCFS/PID/root/X) that process's table tells; elsewhere shmtop's own. The table is
    parsed only when it mentions the directory at all (a quick search: big tables are
    common)."""
    procfs, pid, inner = _where(directory)
    text = _mountinfo(procfs, pid)
    prefix = inner.rstrip("/") + "/"
    if text is None or b" " + os.fsencode(prefix.translate(_ESCAPED)) not in text:
        return frozenset()
    return frozenset(
        os.fsencode(mount.point[len(prefix) :])
        for mount in _parsed(text)
        if mount.point.startswith(prefix) and "/" not in mount.point[len(prefix) :]
    )


def _where(directory: str) -> tuple[str, str, str]:
    """(procfs, pid, path in that process's mount namespace) of a directory."""
    head, root, below = directory.partition("/root/")
    procfs, _, pid = head.rpartition("/")
    if root and pid.isdigit():
        return procfs, pid, "/" + below
    return "/proc", "self", os.path.realpath(directory)


def _mountinfo(procfs: str, pid: int | str) -> bytes | None:
    try:
        with open(f"{procfs}/{pid}/mountinfo", "rb") as f:
            return f.read(_READ_AT_MOST)
    except OSError:
        return None


def _parsed(text: bytes) -> list[Mount]:
    found = []
    for line in text.splitlines():
        fields, _, after = line.partition(b" - ")
        words = fields.split(b" ")
        if len(words) < 5 or words[2].count(b":") != 1:
            continue
        major, minor = words[2].split(b":")
        if not (major.isdigit() and minor.isdigit()):
            continue
        point = os.fsdecode(_ESCAPE.sub(lambda m: bytes([int(m[1], 8) & 0xFF]), words[4]))
        fstype = os.fsdecode(after.split(b" ")[0])
        found.append(Mount(point, fstype, os.makedev(int(major), int(minor))))
    return found
