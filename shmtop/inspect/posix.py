"""Reading a /dev/shm file's bytes without disturbing it: pread, never mmap.

A read-only mapping of a sparse tmpfs file allocates pages when read and dies with SIGBUS if
the file is truncated meanwhile; pread allocates nothing (holes read as zeros) and returns
fewer bytes past the end of a shrunk file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.model import FileType, PosixEntry
from shmtop.namespaces.paths import open_directory

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class PosixReader:
    """Bounded reads of one POSIX shared memory object (or semaphore file)."""

    note: str | None = None

    def __init__(self, entry: PosixEntry, path: bytes) -> None:
        if entry.type is not FileType.FILE:
            raise Unsupported(f"{entry.ref} is a {entry.type.value}, not a shared memory object")
        self.ref = entry.ref
        self._fd = _open(path, entry)
        try:
            now = os.fstat(self._fd)
            same = (now.st_dev, now.st_ino) == (entry.dev, entry.inode)
            if not (stat.S_ISREG(now.st_mode) and same):
                raise Vanished(f"{entry.ref} was replaced since it was listed")
        except BaseException:
            os.close(self._fd)
            raise

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`; fewer at the end of the object."""
        return os.pread(self._fd, length, offset)

    def data_ranges(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """(offset, end) of each stretch of [start, end) that may hold data, in order; holes
        (never written, so read as zeros) are left out. Asked of the filesystem with
        SEEK_DATA / SEEK_HOLE; where it cannot tell, all of [start, end) is data."""
        offset = start
        while offset < end:
            try:
                data = os.lseek(self._fd, offset, os.SEEK_DATA)
                hole = os.lseek(self._fd, data, os.SEEK_HOLE)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # no data past offset (or it shrank meanwhile)
                    return
                if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                    yield offset, end
                    return
                raise
            if data >= end:
                return
            yield data, min(hole, end)
            offset = hole

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _open(path: bytes, entry: PosixEntry) -> int:
    """The file at path, opened relative to its directory (below a container's root, no
    component followed: see open_directory)."""
    directory, _, name = path.rpartition(b"/")
    try:
        with open_directory(os.fsdecode(directory)) as dir_fd:
            try:  # leaves atime alone: owner or root
                return os.open(name, _FLAGS | os.O_NOATIME, dir_fd=dir_fd)
            except PermissionError:
                return os.open(name, _FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise Vanished(f"{entry.ref} no longer exists") from None
    except PermissionError:
        raise NotPermitted(f"{entry.ref} is not readable by you (mode {entry.mode:04o})") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Vanished(f"{entry.ref} was replaced by a symlink") from None
        raise
