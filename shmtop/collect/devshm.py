"""POSIX shared memory and glibc named semaphores: the entries of /dev/shm."""

from __future__ import annotations

import os
import struct
import sys
from typing import Any

from shmtop.collect.entries import (
    Entry,
    Vanished,
    file_type,
    list_entries,
    open_directory,
    open_regular,
)
from shmtop.model import FileType, PosixEntry, PosixSem, PosixShm

SEM_PREFIX = b"sem."
GLIBC_SEM_SIZE = 32
_SEM_VALUE_MAX = 0x7FFFFFFF
_FUTEX_SHARED_FLAGS = (0, 128)  # glibc's `private` field: FUTEX_PRIVATE or FUTEX_SHARED
_GLIBC_LAYOUT = sys.byteorder == "little" and struct.calcsize("P") == 8
_SEM = struct.Struct("<QI20x")


def scan_dev_shm(root: str) -> tuple[list[PosixShm], list[PosixSem]]:
    """Every entry of the /dev/shm directory at root. Raises OSError if root is unreadable."""
    shms: list[PosixShm] = []
    sems: list[PosixSem] = []
    with open_directory(root) as dir_fd:
        for entry in list_entries(dir_fd):
            if entry.raw.startswith(SEM_PREFIX):
                sem = _semaphore(dir_fd, entry)
                if sem is not None:
                    sems.append(sem)
            else:
                shms.append(PosixShm(**entry_fields(entry, b"/" + entry.raw)))
    shms.sort(key=_by_name)
    sems.sort(key=_by_name)
    return shms, sems


def _by_name(entry: PosixEntry) -> bytes:
    return entry.name


def entry_fields(entry: Entry, name: bytes) -> dict[str, Any]:
    """The lstat fields every POSIX entry carries, keyed as in PosixEntry."""
    st = entry.st
    return {
        "name": name,
        "type": file_type(st.st_mode),
        "size": st.st_size,
        "allocated": st.st_blocks * 512,
        "uid": st.st_uid,
        "gid": st.st_gid,
        "mode": st.st_mode & 0o7777,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "dev": st.st_dev,
        "inode": st.st_ino,
        "nlink": st.st_nlink,
    }


def _semaphore(dir_fd: int, entry: Entry) -> PosixSem | None:
    fields = entry_fields(entry, b"/" + entry.raw[len(SEM_PREFIX) :])
    if fields["type"] is not FileType.FILE or entry.st.st_size != GLIBC_SEM_SIZE:
        return PosixSem(**fields)
    try:
        value, waiters = read_sem_value(dir_fd, entry)
    except Vanished:
        return None
    return PosixSem(**fields, value=value, waiters=waiters)


def read_sem_value(dir_fd: int, entry: Entry) -> tuple[int | None, int | None]:
    """(value, waiters) read with pread, never sem_open; (None, None) if unreadable."""
    if not _GLIBC_LAYOUT:
        return None, None
    try:
        with open_regular(dir_fd, entry) as fd:
            data = os.pread(fd, GLIBC_SEM_SIZE, 0)
    except OSError:  # permission denied, I/O error: listed, value unknown
        return None, None
    return decode_glibc_sem(data)


def decode_glibc_sem(data: bytes) -> tuple[int | None, int | None]:
    """glibc 64-bit sem_t: u64 data (value low, waiters high), u32 private, zero padding."""
    if len(data) != GLIBC_SEM_SIZE or any(data[12:]):
        return None, None
    word, private = _SEM.unpack(data)
    value, waiters = word & 0xFFFFFFFF, word >> 32
    if value > _SEM_VALUE_MAX or private not in _FUTEX_SHARED_FLAGS:
        return None, None
    return value, waiters
