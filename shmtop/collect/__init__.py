"""The collector: one typed Snapshot of every IPC object, limit and usage figure on the host.

`collect_snapshot()` reads everything once. A `Collector` kept between calls (as the dashboard
does) remembers each /proc/sysvipc line it has parsed, so a poll re-parses only changed lines.
Trouble with one object (it vanished, it cannot be read) never fails the whole collection;
trouble with a whole source (not mounted, unreadable) is reported in `Snapshot.unavailable`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from shmtop.attach import scan_attachers
from shmtop.collect.devshm import DevShmBuilders, scan_dev_shm
from shmtop.collect.limits import read_limits
from shmtop.collect.mqueue import NotMounted, scan_mqueue
from shmtop.collect.reuse import Reuse
from shmtop.collect.sysvipc import (
    SEM_SPEC,
    SHM_SPEC,
    TableFormatError,
    TableSpec,
    msg_spec,
    parse_table,
)
from shmtop.collect.usage import usage_of
from shmtop.collect.users import resolve_users
from shmtop.errors import Vanished
from shmtop.libc import msg_qbytes
from shmtop.model import (
    ALL_KINDS,
    AttachMap,
    Kind,
    PosixMq,
    PosixSem,
    PosixShm,
    Snapshot,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.roots import Roots

__all__ = ["Collector", "Roots", "collect_snapshot"]

T = TypeVar("T", SysvShm, SysvMsg, SysvSem)


def collect_snapshot(
    roots: Roots | None = None, kinds: Iterable[Kind] = ALL_KINDS, attachers: bool = False
) -> Snapshot:
    """Read the host's IPC state once (and, with `attachers`, who uses each object)."""
    return Collector(roots, kinds).collect(attachers)


class Collector:
    """Collects snapshots of the chosen kinds; keep one instance to poll cheaply."""

    def __init__(self, roots: Roots | None = None, kinds: Iterable[Kind] = ALL_KINDS) -> None:
        self.roots = roots or Roots()
        self.kinds = frozenset(kinds)
        self._memos: dict[Kind, Mapping[bytes, Any]] = {}
        self._dev_shm_builders = DevShmBuilders()
        self._mq_builder: Reuse[PosixMq] = Reuse(PosixMq)
        self._msg_read_second = 0
        self._unavailable: dict[Kind, str] = {}

    def collect(self, attachers: bool = False) -> Snapshot:
        """A snapshot; with `attachers`, also a /proc scan of who uses each object."""
        snapshot = self._collect()
        if not attachers:
            return snapshot
        attach = scan_attachers(snapshot, self.roots.procfs)
        users = resolve_users(_all_uids(snapshot, attach))
        return replace(snapshot, attach=attach, users=users)

    def _collect(self) -> Snapshot:
        started = time.time()
        self._unavailable = {}
        limits = read_limits(self.roots.procfs, self.roots.dev_shm)
        shm = self._sysv(Kind.SYSV_SHM, SHM_SPEC)
        msg = self._sysv_msg()
        sem = self._sysv(Kind.SYSV_SEM, SEM_SPEC)
        posix_shm, posix_sem = self._dev_shm()
        posix_mq = self._mqueue()
        snapshot = Snapshot(
            time=started,
            host=os.uname().nodename,
            kinds=self.kinds,
            sysv_shm=tuple(shm),
            sysv_msg=tuple(msg),
            sysv_sem=tuple(sem),
            posix_shm=tuple(posix_shm),
            posix_sem=tuple(posix_sem),
            posix_mq=tuple(posix_mq),
            limits=limits,
            unavailable=dict(self._unavailable),
        )
        return replace(
            snapshot,
            usage=usage_of(snapshot),
            users=resolve_users(obj.uid for obj in snapshot.objects),
        )

    def _wants(self, kind: Kind) -> bool:
        return kind in self.kinds

    def _sysv(
        self, kind: Kind, spec: TableSpec[T], keep: Callable[[T], bool] | None = None
    ) -> list[T]:
        if not self._wants(kind):
            return []
        path = f"{self.roots.procfs}/sysvipc/{spec.file}"
        try:
            with open(path, "rb", buffering=0) as f:
                text = f.read()
            parsed = parse_table(text, spec, self._memos.get(kind), keep)
        except OSError as exc:
            self._unavailable[kind] = f"cannot read {path}: {exc.strerror}"
            return []
        except TableFormatError as exc:
            self._unavailable[kind] = str(exc)
            return []
        self._memos[kind] = parsed
        return list(parsed.values())

    def _sysv_msg(self) -> list[SysvMsg]:
        """Queues, with qbytes (not in /proc) asked of the kernel by id when /proc is live."""
        if not self.roots.live_procfs:
            return self._sysv(Kind.SYSV_MSG, msg_spec())
        previous_read = self._msg_read_second
        self._msg_read_second = int(time.time())

        def keep(queue: SysvMsg) -> bool:
            # IPC_SET, the only way to change qbytes, also sets ctime to the current second.
            # A remembered line whose ctime is older than the previous read would show any
            # such change as a new ctime, so its qbytes needs no new question to the kernel.
            return (queue.ctime or 0) < previous_read or _qbytes_unchanged(queue)

        return self._sysv(Kind.SYSV_MSG, msg_spec(msg_qbytes), keep)

    def _dev_shm(self) -> tuple[list[PosixShm], list[PosixSem]]:
        if not (self._wants(Kind.POSIX_SHM) or self._wants(Kind.POSIX_SEM)):
            return [], []
        try:
            shms, sems = scan_dev_shm(self.roots.dev_shm, self._dev_shm_builders)
        except OSError as exc:
            reason = f"cannot read {self.roots.dev_shm}: {exc.strerror}"
            self._unavailable.update({Kind.POSIX_SHM: reason, Kind.POSIX_SEM: reason})
            return [], []
        return (
            shms if self._wants(Kind.POSIX_SHM) else [],
            sems if self._wants(Kind.POSIX_SEM) else [],
        )

    def _mqueue(self) -> list[PosixMq]:
        if not self._wants(Kind.POSIX_MQ):
            return []
        root = self.roots.dev_mqueue
        try:
            return scan_mqueue(root, f"{self.roots.procfs}/self/mountinfo", self._mq_builder)
        except NotMounted as exc:
            self._unavailable[Kind.POSIX_MQ] = str(exc)
        except OSError as exc:
            self._unavailable[Kind.POSIX_MQ] = f"cannot read {root}: {exc.strerror}"
        return []


def _all_uids(snapshot: Snapshot, attach: AttachMap) -> Iterator[int]:
    yield from (obj.uid for obj in snapshot.objects)
    yield from (p.uid for p in attach.processes.values() if p.uid is not None)


def _qbytes_unchanged(queue: SysvMsg) -> bool:
    """Whether a remembered queue still has its qbytes (IPC_SET can change it alone)."""
    try:
        return msg_qbytes(queue.id, queue.key) == queue.qbytes
    except Vanished:
        return False
