"""Kernel limits (what `ipcs -l` and `lsipc -g` show) and the /dev/shm tmpfs capacity."""

from __future__ import annotations

import os
import resource

from shmtop.model import Limits, TmpfsStats
from shmtop.namespaces.paths import open_directory


def read_limits(procfs: str, dev_shm: str) -> Limits:
    """Every limit that can be read; unreadable ones stay None."""

    def kernel(name: str) -> int | None:
        return _first_int(read_ints(f"{procfs}/sys/kernel/{name}"))

    def mqueue(name: str) -> int | None:
        return _first_int(read_ints(f"{procfs}/sys/fs/mqueue/{name}"))

    sem = read_ints(f"{procfs}/sys/kernel/sem")  # SEMMSL SEMMNS SEMOPM SEMMNI
    semmsl, semmns, semopm, semmni = sem if len(sem) == 4 else (None, None, None, None)
    return Limits(
        page_size=os.sysconf("SC_PAGE_SIZE"),
        shmmax=kernel("shmmax"),
        shmall=kernel("shmall"),
        shmmni=kernel("shmmni"),
        shm_rmid_forced=kernel("shm_rmid_forced"),
        msgmax=kernel("msgmax"),
        msgmnb=kernel("msgmnb"),
        msgmni=kernel("msgmni"),
        semmsl=semmsl,
        semmns=semmns,
        semopm=semopm,
        semmni=semmni,
        mq_queues_max=mqueue("queues_max"),
        mq_msg_max=mqueue("msg_max"),
        mq_msgsize_max=mqueue("msgsize_max"),
        mq_msg_default=mqueue("msg_default"),
        mq_msgsize_default=mqueue("msgsize_default"),
        rlimit_msgqueue=_rlimit_msgqueue(),
        dev_shm=tmpfs_stats(dev_shm),
    )


def read_ints(path: str) -> list[int]:
    """The whitespace-separated integers of a small /proc file; [] if unreadable or not ints."""
    try:
        with open(path, "rb") as f:
            return [int(word) for word in f.read(4096).split()]
    except (OSError, ValueError):
        return []


def _first_int(values: list[int]) -> int | None:
    return values[0] if len(values) == 1 else None


def _rlimit_msgqueue() -> int | None:
    """This process's soft RLIMIT_MSGQUEUE in bytes; None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_MSGQUEUE)
    return None if soft == resource.RLIM_INFINITY else soft


def tmpfs_stats(path: str) -> TmpfsStats | None:
    try:
        with open_directory(path) as fd:
            vfs = os.fstatvfs(fd)
    except OSError:
        return None
    return TmpfsStats(
        size=vfs.f_blocks * vfs.f_frsize,
        used=(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize,
        available=vfs.f_bavail * vfs.f_frsize,
        inodes=vfs.f_files,
        inodes_free=vfs.f_ffree,
    )
