"""The kernel's own totals (SHM_INFO, MSG_INFO, SEM_INFO): an oracle for usage figures."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

SHM_INFO, MSG_INFO, SEM_INFO = 14, 12, 19
_libc = ctypes.CDLL(None, use_errno=True)


class _ShmInfo(ctypes.Structure):
    _fields_ = (
        ("used_ids", ctypes.c_int),
        ("shm_tot", ctypes.c_ulong),
        ("shm_rss", ctypes.c_ulong),
        ("shm_swp", ctypes.c_ulong),
        ("swap_attempts", ctypes.c_ulong),
        ("swap_successes", ctypes.c_ulong),
    )


class _MsgInfo(ctypes.Structure):
    _fields_ = (
        *((name, ctypes.c_int) for name in ("msgpool", "msgmap", "msgmax", "msgmnb", "msgmni")),
        ("msgssz", ctypes.c_int),
        ("msgtql", ctypes.c_int),
        ("msgseg", ctypes.c_ushort),
    )


class _SemInfo(ctypes.Structure):
    _fields_ = tuple(
        (name, ctypes.c_int)
        for name in (
            "semmap",
            "semmni",
            "semmns",
            "semmnu",
            "semmsl",
            "semopm",
            "semume",
            "semusz",
            "semvmx",
            "semaem",
        )
    )


@dataclass(frozen=True)
class KernelTotals:
    shm_segments: int
    shm_pages: int
    shm_rss_pages: int
    msg_queues: int
    msg_messages: int
    msg_bytes: int
    sem_sets: int
    semaphores: int


def kernel_totals() -> KernelTotals:
    shm, msg, sem = _ShmInfo(), _MsgInfo(), _SemInfo()
    assert _libc.shmctl(0, SHM_INFO, ctypes.byref(shm)) >= 0
    assert _libc.msgctl(0, MSG_INFO, ctypes.byref(msg)) >= 0
    assert _libc.semctl(0, 0, SEM_INFO, ctypes.byref(sem)) >= 0
    return KernelTotals(
        shm_segments=shm.used_ids,
        shm_pages=shm.shm_tot,
        shm_rss_pages=shm.shm_rss,
        msg_queues=msg.msgpool,
        msg_messages=msg.msgmap,
        msg_bytes=msg.msgtql,
        sem_sets=sem.semusz,
        semaphores=sem.semaem,
    )
