"""One moment of a host's IPC state: every object, limit and usage figure, and who uses what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from shmtop.model.limits import Limits, UsageItem
from shmtop.model.namespace import Namespace
from shmtop.model.objects import (
    ALL_KINDS,
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
    """Everything collected at one moment. `kinds` says which kinds were asked for;
    `by_kind` holds their objects, in the order each source listed them."""

    time: float
    host: str
    kinds: frozenset[Kind]
    by_kind: Mapping[Kind, tuple[IpcObject, ...]] = field(default_factory=dict)
    limits: Limits = field(default_factory=lambda: Limits(page_size=4096))
    usage: Mapping[str, UsageItem] = field(default_factory=dict)
    users: Mapping[int, str | None] = field(default_factory=dict)
    unavailable: Mapping[Kind, str] = field(default_factory=dict)
    attach: AttachMap | None = None  # who uses what, when a /proc scan was asked for
    namespaces: tuple[Namespace, ...] = ()  # every namespace read (empty: shmtop's own only)

    @property
    def objects(self) -> tuple[IpcObject, ...]:
        """Every object, kind by kind in the order of ALL_KINDS."""
        found = self.by_kind
        return tuple(obj for kind in ALL_KINDS for obj in found.get(kind, ()))

    def of(self, kind: Kind) -> tuple[IpcObject, ...]:
        return self.by_kind.get(kind, ())

    # Typed views of one kind each, for code that needs that kind's own fields.

    @property
    def sysv_shm(self) -> tuple[SysvShm, ...]:
        return cast("tuple[SysvShm, ...]", self.of(Kind.SYSV_SHM))

    @property
    def sysv_msg(self) -> tuple[SysvMsg, ...]:
        return cast("tuple[SysvMsg, ...]", self.of(Kind.SYSV_MSG))

    @property
    def sysv_sem(self) -> tuple[SysvSem, ...]:
        return cast("tuple[SysvSem, ...]", self.of(Kind.SYSV_SEM))

    @property
    def posix_shm(self) -> tuple[PosixShm, ...]:
        return cast("tuple[PosixShm, ...]", self.of(Kind.POSIX_SHM))

    @property
    def posix_sem(self) -> tuple[PosixSem, ...]:
        return cast("tuple[PosixSem, ...]", self.of(Kind.POSIX_SEM))

    @property
    def posix_mq(self) -> tuple[PosixMq, ...]:
        return cast("tuple[PosixMq, ...]", self.of(Kind.POSIX_MQ))

    def owner(self, uid: int) -> str | None:
        """The user name of uid, resolved once per snapshot; None when it has no name."""
        return self.users.get(uid)
