"""Walking a directory that anyone can write to (/dev/shm, /dev/mqueue) without trusting it.

Entries are examined with lstat relative to a directory descriptor: never followed, never
opened unless lstat says "regular file", and then opened with O_NOFOLLOW | O_NONBLOCK and
checked with fstat to be the very inode lstat saw.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from typing import NamedTuple, TypeVar

from shmtop.errors import Vanished
from shmtop.model import FileType
from shmtop.namespaces.mounts import mount_points_in

R = TypeVar("R")

_TYPES = {
    stat.S_IFREG: FileType.FILE,
    stat.S_IFDIR: FileType.DIRECTORY,
    stat.S_IFLNK: FileType.SYMLINK,
    stat.S_IFIFO: FileType.FIFO,
    stat.S_IFSOCK: FileType.SOCKET,
    stat.S_IFCHR: FileType.CHAR_DEVICE,
    stat.S_IFBLK: FileType.BLOCK_DEVICE,
}
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class Entry(NamedTuple):
    """One directory entry: its raw name and what lstat said of it."""

    name: bytes
    st: os.stat_result


def file_type(mode: int) -> FileType:
    return _TYPES.get(stat.S_IFMT(mode), FileType.UNKNOWN)


def list_entries(dir_fd: int, directory: str) -> Iterator[Entry]:
    """lstat every entry of the directory (dir_fd, opened from `directory`); entries removed
    while listing are skipped, and so are mount points, never examined: even an lstat of one
    waits on its filesystem, for ever if it is a FUSE server that does not answer."""
    mounted = mount_points_in(directory)
    for name in os.listdir(dir_fd):
        if mounted and os.fsencode(name) in mounted:
            continue
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        yield Entry(os.fsencode(name), st)


def read_regular(dir_fd: int, entry: Entry, reader: Callable[[int], R], noatime: bool) -> R:
    """reader(fd) on the regular file lstat saw, and on nothing else.

    Raises Vanished if the name is gone or now names something else, PermissionError if it
    cannot be read. O_NOATIME (owner or CAP_FOWNER only) is tried first when asked, so that
    reading leaves no trace; without that right the file is opened plainly.
    """
    fd = _open_quietly(dir_fd, entry.name, noatime)
    try:
        now = os.fstat(fd)
        if now.st_ino != entry.st.st_ino or now.st_dev != entry.st.st_dev:
            raise Vanished(entry.name)
        if not stat.S_ISREG(now.st_mode):
            raise Vanished(entry.name)
        return reader(fd)
    finally:
        os.close(fd)


def _open_quietly(dir_fd: int, name: bytes, noatime: bool) -> int:
    try:
        if noatime:
            try:
                return os.open(name, _OPEN_FLAGS | os.O_NOATIME, dir_fd=dir_fd)
            except PermissionError:
                pass  # not the owner: O_NOATIME is refused, a plain open may still work
        return os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise Vanished(name) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since lstat
            raise Vanished(name) from None
        raise
