"""Opening the directories objects live in, without following what another may have planted.

A container's /dev/shm is reached from the host as /proc/PID/root/dev/shm. Below that root no
component is followed if it is a link: an absolute symlink a container planted at /dev/shm
would resolve on the host, and shmtop would list (and could remove) the host's files.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from shmtop.namespaces.mounts import mounts_of

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_BELOW = _DIR | os.O_NOFOLLOW


def open_below_root(procfs: str, pid: int | str, *names: str) -> int:
    """A descriptor of the directory /proc/PID/root/NAME/..., no component below the root
    followed if it is a link. Raises OSError (ELOOP, ENOTDIR for a link or a file; EREMOTE
    when a filesystem mounted on the way may wait on another process: see _may_block)."""
    blocking = _may_block(procfs, pid, names)
    if blocking:
        raise OSError(errno.EREMOTE, f"{blocking}: it may never answer, so it is not read")
    fd = os.open(f"{procfs}/{pid}/root", _DIR)
    try:
        for name in names:
            child = os.open(name, _BELOW, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


# Filesystems served by a process or over the network: an access waits for their answer, for
# ever if the server is stopped or never reads (a FUSE mount a container made on its /dev/shm).
_SERVED = ("fuse", "nfs", "cifs", "smb3", "9p", "ceph", "glusterfs")


def _may_block(procfs: str, pid: int | str, names: tuple[str, ...]) -> str | None:
    """What may block (`fuse at /dev/shm`) of the filesystems a process has mounted on the
    way to /NAME/... (at each point the last mount, the one seen), else None. Only
    /proc/PID/mountinfo is read: nothing of those filesystems is touched. The root itself is
    not judged: shmtop's own may well be on NFS."""
    points = {"/" + "/".join(names[: i + 1]) for i in range(len(names))}
    seen = {mount.point: mount.fstype for mount in mounts_of(procfs, pid) if mount.point in points}
    for point, fstype in sorted(seen.items()):
        if fstype.startswith(_SERVED):
            return f"{fstype} at {point}"
    return None


@contextmanager
def open_directory(path: str) -> Iterator[int]:
    """A descriptor for the directory at path. Below a process's root (`/proc/PID/root/dev/
    shm`: a container's), no component is followed if it is a link: a link a container
    planted there would otherwise resolve on the host."""
    fd = directory_fd(path)
    try:
        yield fd
    finally:
        os.close(fd)


def directory_fd(path: str) -> int:
    """What open_directory yields, for the caller to close."""
    head, root, below = path.partition("/root/")
    if root and head.rpartition("/")[2].isdigit():
        procfs, _, pid = head.rpartition("/")
        fd = open_below_root(procfs, pid, *below.strip("/").split("/"))
        expected = _expected.get(path)
        if expected is not None and os.fstat(fd).st_dev != expected:
            os.close(fd)
            raise OSError(errno.ESTALE, f"{path} is no longer the one read (its process ended)")
        return fd
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


# What a directory below a process's root was when its namespace was found: the process may
# end and its pid name a host process, whose /dev/shm the same path would then reach.
_expected: dict[str, int] = {}


def expect_device(path: str, device: int) -> None:
    """From now on, the directory at `path` (below a process's root) must be on `device`."""
    _expected[path] = device
