"""Who a System V semaphore set's members record: the pid of each member's last operation,
and how many processes wait on each. What a leak verdict asks of a set, apart from the rest
of shmtop.inspect (its readers and what they import), so judging costs no more start-up than
it needs."""

from __future__ import annotations

import errno

from shmtop.errors import Unsupported, from_errno
from shmtop.libc import sem_pids, sem_waiting
from shmtop.model import IpcObject, SysvSem
from shmtop.namespaces.enter import run_in


def member_pids(semset: SysvSem) -> list[int]:
    """The pid of each member's last operation: all a verdict needs while one lives."""
    try:
        return run_in(semset.ns, sem_pids, semset.id, semset.nsems)
    except OSError as exc:
        raise failure(semset, exc, "its members") from None


def member_waiting(semset: SysvSem) -> list[tuple[int, int]]:
    """(ncnt, zcnt) of each member."""
    try:
        return run_in(semset.ns, sem_waiting, semset.id, semset.nsems)
    except OSError as exc:
        raise failure(semset, exc, "its members") from None


def failure(obj: IpcObject, exc: OSError, what: str) -> Exception:
    """The error to raise for a failed read of an object's members or messages."""
    if exc.errno == errno.ENOSYS:
        return Unsupported(
            "this kernel cannot copy messages without taking them (MSG_COPY needs "
            "CONFIG_CHECKPOINT_RESTORE)"
        )
    return from_errno(exc.errno, obj.ref, f"is not readable by you, so neither are {what}")
