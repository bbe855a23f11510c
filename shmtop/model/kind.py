"""The names of the kinds of object, and what a directory entry is: enums only, so that every
module of the model can name a kind without importing the others."""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """The kinds of IPC object, named as in references (`sysv-shm:32769`, `pipe:81234`).

    The first six are listed from tables and directories; the others are found in processes
    by the walk over /proc (they have no table and no directory of their own).
    """

    SYSV_SHM = "sysv-shm"
    SYSV_MSG = "sysv-msg"
    SYSV_SEM = "sysv-sem"
    POSIX_SHM = "posix-shm"
    POSIX_SEM = "posix-sem"
    POSIX_MQ = "posix-mq"
    PIPE = "pipe"
    FIFO = "fifo"
    MEMFD = "memfd"
    SHARED_FILE = "shared-file"
    SHARED_ANON = "shared-anon"


ALL_KINDS: tuple[Kind, ...] = tuple(Kind)
FOUND_KINDS = frozenset(
    {Kind.PIPE, Kind.FIFO, Kind.MEMFD, Kind.SHARED_FILE, Kind.SHARED_ANON}
)  # fmt: skip
LISTED_KINDS: tuple[Kind, ...] = tuple(kind for kind in Kind if kind not in FOUND_KINDS)


class FileType(enum.StrEnum):
    """What an entry of /dev/shm or /dev/mqueue is, from lstat (never followed)."""

    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    FIFO = "fifo"
    SOCKET = "socket"
    CHAR_DEVICE = "char-device"
    BLOCK_DEVICE = "block-device"
    UNKNOWN = "unknown"
