"""Reading memory found in processes (memfd objects, MAP_SHARED files, anonymous shared memory,
/dev/shm files deleted while held) through a process that holds or maps it, unchanged.

Such memory has no name to open: it is reached through /proc/PID/fd/N of a holder or
/proc/PID/map_files/START-END of a mapper (the latter needs root: CAP_SYS_ADMIN or
CAP_CHECKPOINT_RESTORE). Each read opens one such place, checks it is still the object listed
(device and inode: a descriptor number or an address range may have been reused), preads and
closes it: pread of shared memory allocates nothing (holes read as zeros, past the end reads
nothing), and no descriptor is kept that would keep the memory alive after its last holder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from shmtop.errors import NotPermitted, Vanished

T = TypeVar("T")
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class SharedReader:
    """Bounded reads of one object found in processes, through `places` under procfs."""

    note: str | None = None

    def __init__(self, ref: str, dev: int, inode: int, places: tuple[tuple[int, str], ...],
                 procfs: str = "/proc") -> None:  # fmt: skip
        self.ref = ref
        self._key = (dev, inode)
        self._paths = [f"{procfs}/{pid}/{place}" for pid, place in places]
        self._denied = False
        self._size = self._with_file(lambda fd: os.fstat(fd).st_size)

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`; fewer at the end of the object."""
        return self._with_file(lambda fd: os.pread(fd, length, offset))

    def close(self) -> None:
        """Nothing is held between reads."""

    def _with_file(self, use: Callable[[int], T]) -> T:
        for path in list(self._paths):
            fd = self._open(path)
            if fd is None:
                self._paths.remove(path)  # closed, unmapped or exited since: try the next
                continue
            try:
                return use(fd)
            finally:
                os.close(fd)
        if self._denied:
            raise NotPermitted(f"{self.ref}: reading another process's memory needs root")
        raise Vanished(f"{self.ref}: no process holds or maps it any more")

    def _open(self, path: str) -> int | None:
        try:
            try:  # leaves a file's atime alone: owner or root
                fd = os.open(path, _FLAGS | os.O_NOATIME)
            except PermissionError:
                fd = os.open(path, _FLAGS)
        except PermissionError:
            self._denied = True
            return None
        except OSError:
            return None
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != self._key:
            os.close(fd)
            return None
        return fd
