"""Kernel limits and how much of each is used: raw values, None where unknown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TmpfsStats:
    """statvfs of the /dev/shm filesystem."""

    size: int
    used: int
    available: int
    inodes: int
    inodes_free: int


@dataclass(frozen=True, slots=True)
class Limits:
    """Kernel limits as the kernel states them; None where a value could not be read."""

    page_size: int
    shmmax: int | None = None
    shmall: int | None = None
    shmmni: int | None = None
    shmmin: int = 1
    shm_rmid_forced: int | None = None
    msgmax: int | None = None
    msgmnb: int | None = None
    msgmni: int | None = None
    semmsl: int | None = None
    semmns: int | None = None
    semopm: int | None = None
    semmni: int | None = None
    semvmx: int = 32767
    mq_queues_max: int | None = None
    mq_msg_max: int | None = None
    mq_msgsize_max: int | None = None
    mq_msg_default: int | None = None
    mq_msgsize_default: int | None = None
    rlimit_msgqueue: int | None = None
    dev_shm: TmpfsStats | None = None

    @property
    def shmall_bytes(self) -> int | None:
        return None if self.shmall is None else self.shmall * self.page_size


@dataclass(frozen=True, slots=True)
class UsageItem:
    """One consumed resource: how much is used and of what limit (None: no limit exists).
    `unknown` counts the objects whose share could not be read (not permitted, or not given
    by this kernel): `used` then leaves them out and is only a lower bound."""

    used: int
    limit: int | None
    unit: str
    description: str
    unknown: int = 0

    @property
    def unlimited(self) -> bool:
        return self.limit is not None and is_unlimited(self.limit)

    @property
    def percent(self) -> float | None:
        if self.limit is None or self.limit <= 0 or self.unlimited:
            return None
        return 100.0 * self.used / self.limit


# Kernel defaults such as shmmax = ULONG_MAX - 2**24 mean "no limit"; anything from 2**62 bytes
# (4 EiB) up is treated so, which also keeps shmall * page_size from pretending to be a size.
UNLIMITED_FROM = 1 << 62


def is_unlimited(value: int) -> bool:
    return value >= UNLIMITED_FROM
