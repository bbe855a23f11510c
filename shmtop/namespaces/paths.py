"""Opening the directories objects live in, without following what another may have planted.

A container's /dev/shm is reached from the host as /proc/PID/root/dev/shm. Below that root no
component is followed if it is a link: an absolute symlink a container planted at /dev/shm
would resolve on the host, and shmtop would list (and could remove) the host's files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_BELOW = _DIR | os.O_NOFOLLOW


def open_below_root(procfs: str, pid: int | str, *names: str) -> int:
    """A descriptor of the directory /proc/PID/root/NAME/..., no component below the root
    followed if it is a link. Raises OSError (ELOOP, ENOTDIR for a link or a file)."""
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
        return open_below_root(procfs, pid, *below.strip("/").split("/"))
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
