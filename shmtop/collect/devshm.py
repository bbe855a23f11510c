"""POSIX shared memory and glibc named semaphores: the entries of /dev/shm."""

from __future__ import annotations

import functools
import os
import struct
import sys

from shmtop.collect.entries import Entry, file_type, list_entries, read_regular
from shmtop.collect.reuse import Reuse
from shmtop.errors import Vanished
from shmtop.model import FileType, PosixEntry, PosixSem, PosixShm
from shmtop.model.roots import SEM_PREFIX
from shmtop.namespaces.paths import open_directory

GLIBC_SEM_SIZE = 32
_SEM_VALUE_MAX = 0x7FFFFFFF
_FUTEX_SHARED_FLAGS = (0, 128)  # glibc's `private` field: FUTEX_PRIVATE or FUTEX_SHARED
_GLIBC_LAYOUT = sys.byteorder == "little" and struct.calcsize("P") == 8
_SEM = struct.Struct("<QI20x")


class DevShmBuilders:
    """How entries become objects; keep one between polls to reuse unchanged objects."""

    def __init__(self, ns: str = "") -> None:
        self.shm: Reuse[PosixShm] = Reuse(functools.partial(PosixShm, ns=ns))
        self.sem: Reuse[PosixSem] = Reuse(functools.partial(PosixSem, ns=ns))

    def next_round(self) -> None:
        self.shm.next_round()
        self.sem.next_round()


def scan_dev_shm(
    root: str, builders: DevShmBuilders | None = None
) -> tuple[list[PosixShm], list[PosixSem]]:
    """Every entry of the /dev/shm directory at root. Raises OSError if root is unreadable."""
    make = builders or DevShmBuilders()
    shms: list[PosixShm] = []
    sems: list[PosixSem] = []
    with open_directory(root) as dir_fd:
        for entry in list_entries(dir_fd, root):
            if entry.name.startswith(SEM_PREFIX):
                sem = _semaphore(dir_fd, entry, make.sem)
                if sem is not None:
                    sems.append(sem)
            else:
                shms.append(make.shm(*entry_values(entry, b"/" + entry.name)))
    make.next_round()
    shms.sort(key=_by_name)
    sems.sort(key=_by_name)
    return shms, sems


def _by_name(entry: PosixEntry) -> bytes:
    return entry.name


# name, type, size, allocated, uid, gid, mode, mtime_ns, ctime_ns, dev, inode, nlink
EntryValues = tuple[bytes, FileType, int, int, int, int, int, int, int | None, int, int, int]


def entry_values(entry: Entry, name: bytes) -> EntryValues:
    """The lstat fields every POSIX entry carries, in PosixEntry's field order."""
    st = entry.st
    return (
        name, file_type(st.st_mode), st.st_size, st.st_blocks * 512, st.st_uid, st.st_gid,
        st.st_mode & 0o7777, st.st_mtime_ns, st.st_ctime_ns, st.st_dev, st.st_ino, st.st_nlink,
    )  # fmt: skip


def _semaphore(dir_fd: int, entry: Entry, make: Reuse[PosixSem]) -> PosixSem | None:
    values = entry_values(entry, b"/" + entry.name[len(SEM_PREFIX) :])
    if values[1] is not FileType.FILE or entry.st.st_size != GLIBC_SEM_SIZE:
        return make(*values, None, None)
    try:
        value, waiters = read_sem_value(dir_fd, entry)
    except Vanished:
        return None
    return make(*values, value, waiters)


def read_sem_value(dir_fd: int, entry: Entry) -> tuple[int | None, int | None]:
    """(value, waiters) read with pread, never sem_open; (None, None) if unreadable."""
    if not _GLIBC_LAYOUT:
        return None, None
    try:
        data = read_regular(dir_fd, entry, _read_sem_bytes, noatime=True)
    except OSError:  # permission denied, I/O error: listed, value unknown
        return None, None
    return decode_glibc_sem(data)


def _read_sem_bytes(fd: int) -> bytes:
    return os.pread(fd, GLIBC_SEM_SIZE, 0)


def decode_glibc_sem(data: bytes) -> tuple[int | None, int | None]:
    """glibc 64-bit sem_t: u64 data (value low, waiters high), u32 private, zero padding."""
    if len(data) != GLIBC_SEM_SIZE or any(data[12:]):
        return None, None
    word, private = _SEM.unpack(data)
    value, waiters = word & 0xFFFFFFFF, word >> 32
    if value > _SEM_VALUE_MAX or private not in _FUTEX_SHARED_FLAGS:
        return None, None
    return value, waiters
