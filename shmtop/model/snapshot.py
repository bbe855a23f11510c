"""One moment of a host's IPC state: every object, limit and usage figure, and who uses what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shmtop.model.limits import Limits, UsageItem
from shmtop.model.objects import (
    IpcObject,
    Kind,
    PosixMq,
    PosixSem,
    PosixShm,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.use import AttachMap


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything collected at one moment. `kinds` says which kinds were asked for."""

    time: float
    host: str
    kinds: frozenset[Kind]
    sysv_shm: tuple[SysvShm, ...] = ()
    sysv_msg: tuple[SysvMsg, ...] = ()
    sysv_sem: tuple[SysvSem, ...] = ()
    posix_shm: tuple[PosixShm, ...] = ()
    posix_sem: tuple[PosixSem, ...] = ()
    posix_mq: tuple[PosixMq, ...] = ()
    limits: Limits = field(default_factory=lambda: Limits(page_size=4096))
    usage: Mapping[str, UsageItem] = field(default_factory=dict)
    users: Mapping[int, str | None] = field(default_factory=dict)
    unavailable: Mapping[Kind, str] = field(default_factory=dict)
    attach: AttachMap | None = None  # who uses what, when a /proc scan was asked for

    @property
    def objects(self) -> tuple[IpcObject, ...]:
        return (
            *self.sysv_shm,
            *self.sysv_msg,
            *self.sysv_sem,
            *self.posix_shm,
            *self.posix_sem,
            *self.posix_mq,
        )

    def owner(self, uid: int) -> str | None:
        """The user name of uid, resolved once per snapshot; None when it has no name."""
        return self.users.get(uid)
