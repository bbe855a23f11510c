"""How much of each limit is used, computed from the objects of one snapshot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shmtop.model import (
    ALL_KINDS,
    Kind,
    Limits,
    PipeLike,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SharedMemory,
    Snapshot,
    SysvMsg,
    SysvSem,
    SysvShm,
    UsageItem,
)

Counted = dict[str, UsageItem]


def usage_of(snapshot: Snapshot) -> Counted:
    """Usage of every resource whose objects were collected (unknown is not zero)."""
    found: Counted = {}
    for kind in ALL_KINDS:
        if kind in snapshot.kinds and kind not in snapshot.unavailable:
            found.update(USAGE[kind](snapshot.of(kind), snapshot.limits))
    found.update(dev_shm_usage(snapshot.limits))
    return found


def sysv_shm_usage(segments: Sequence[SysvShm], limits: Limits) -> Counted:
    page = limits.page_size
    return {
        "sysv-shm.segments": UsageItem(
            len(segments), limits.shmmni, "count", "System V shared memory segments (SHMMNI)"
        ),
        # The kernel charges each segment whole pages against shmall.
        "sysv-shm.pages": UsageItem(
            sum(-(-s.size // page) for s in segments),
            limits.shmall,
            "pages",
            "System V shared memory pages (SHMALL)",
        ),
        "sysv-shm.bytes": UsageItem(
            sum(s.size for s in segments),
            limits.shmall_bytes,
            "bytes",
            "System V shared memory size",
        ),
        "sysv-shm.rss": _unlimited_sum(
            [s.rss for s in segments], "bytes", "System V shared memory resident"
        ),
        "sysv-shm.swap": _unlimited_sum(
            [s.swap for s in segments], "bytes", "System V shared memory swapped"
        ),
    }


def sysv_msg_usage(queues: Sequence[SysvMsg], limits: Limits) -> Counted:
    return {
        "sysv-msg.queues": UsageItem(
            len(queues), limits.msgmni, "count", "System V message queues (MSGMNI)"
        ),
        "sysv-msg.messages": UsageItem(
            sum(q.qnum for q in queues), None, "count", "System V messages queued"
        ),
        "sysv-msg.bytes": UsageItem(
            sum(q.cbytes for q in queues), None, "bytes", "System V message bytes queued"
        ),
    }


def sysv_sem_usage(sets: Sequence[SysvSem], limits: Limits) -> Counted:
    return {
        "sysv-sem.sets": UsageItem(
            len(sets), limits.semmni, "count", "System V semaphore sets (SEMMNI)"
        ),
        "sysv-sem.semaphores": UsageItem(
            sum(s.nsems for s in sets), limits.semmns, "count", "System V semaphores (SEMMNS)"
        ),
    }


def posix_shm_usage(files: Sequence[PosixShm], limits: Limits) -> Counted:
    named = [f for f in files if not f.deleted]
    found = posix_file_usage(Kind.POSIX_SHM, "POSIX shared memory objects", named)
    if len(named) < len(files):  # deleted files only appear where a walk found them
        deleted = [f for f in files if f.deleted]
        found["posix-shm.deleted"] = UsageItem(
            sum(f.allocated for f in deleted), None, "bytes",
            "/dev/shm files deleted but still held or mapped: memory allocated",
        )  # fmt: skip
    return found


def posix_sem_usage(files: Sequence[PosixSem], limits: Limits) -> Counted:
    return posix_file_usage(Kind.POSIX_SEM, "POSIX named semaphores", files)


def posix_file_usage(kind: Kind, label: str, files: Sequence[PosixEntry]) -> Counted:
    size = sum(f.size for f in files)
    allocated = sum(f.allocated for f in files)
    return {
        f"{kind}.objects": UsageItem(len(files), None, "count", label),
        f"{kind}.bytes": UsageItem(size, None, "bytes", f"{label}: size"),
        f"{kind}.allocated": UsageItem(allocated, None, "bytes", f"{label}: memory allocated"),
    }


def posix_mq_usage(queues: Sequence[PosixMq], limits: Limits) -> Counted:
    return {
        "posix-mq.queues": UsageItem(
            len(queues), limits.mq_queues_max, "count", "POSIX message queues (queues_max)"
        ),
        "posix-mq.messages": _unlimited_sum(
            [q.curmsgs for q in queues], "count", "POSIX messages queued"
        ),
        "posix-mq.bytes": _unlimited_sum(
            [q.qsize for q in queues], "bytes", "POSIX message bytes queued"
        ),
    }


def _unlimited_sum(values: Sequence[int | None], unit: str, description: str) -> UsageItem:
    """A figure no limit bounds: the sum of the values known, and how many were not (not
    permitted, or not given by this kernel), so that none is taken for 0."""
    known = [value for value in values if value is not None]
    return UsageItem(sum(known), None, unit, description, unknown=len(values) - len(known))


def dev_shm_usage(limits: Limits) -> Counted:
    fs = limits.dev_shm
    if fs is None:
        return {}
    return {
        "dev-shm.bytes": UsageItem(fs.used, fs.size, "bytes", "/dev/shm tmpfs space"),
        "dev-shm.inodes": UsageItem(
            fs.inodes - fs.inodes_free, fs.inodes, "count", "/dev/shm tmpfs inodes"
        ),
    }


def pipe_usage(kind: Kind, label: str) -> Callable[[Sequence[PipeLike], Limits], Counted]:
    def usage(pipes: Sequence[PipeLike], limits: Limits) -> Counted:
        return {
            f"{kind}.objects": UsageItem(len(pipes), None, "count", label),
            f"{kind}.buffered": _unlimited_sum(
                [p.buffered for p in pipes], "bytes", f"{label}: bytes waiting"
            ),
        }

    return usage


def shared_usage(kind: Kind, label: str) -> Callable[[Sequence[SharedMemory], Limits], Counted]:
    def usage(objects: Sequence[SharedMemory], limits: Limits) -> Counted:
        return {
            f"{kind}.objects": UsageItem(len(objects), None, "count", label),
            f"{kind}.bytes": _unlimited_sum([o.size for o in objects], "bytes", f"{label}: size"),
            f"{kind}.allocated": _unlimited_sum(
                [o.allocated for o in objects], "bytes", f"{label}: memory allocated"
            ),
        }

    return usage


USAGE: Mapping[Kind, Callable[[Any, Limits], Counted]] = {
    Kind.SYSV_SHM: sysv_shm_usage,
    Kind.SYSV_MSG: sysv_msg_usage,
    Kind.SYSV_SEM: sysv_sem_usage,
    Kind.POSIX_SHM: posix_shm_usage,
    Kind.POSIX_SEM: posix_sem_usage,
    Kind.POSIX_MQ: posix_mq_usage,
    Kind.PIPE: pipe_usage(Kind.PIPE, "pipes"),
    Kind.FIFO: pipe_usage(Kind.FIFO, "FIFOs open"),
    Kind.MEMFD: shared_usage(Kind.MEMFD, "memfd objects"),
    Kind.SHARED_FILE: shared_usage(Kind.SHARED_FILE, "files mapped MAP_SHARED"),
    Kind.SHARED_ANON: shared_usage(Kind.SHARED_ANON, "anonymous shared memory"),
}
