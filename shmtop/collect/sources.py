"""The listed sources: where objects are read from a directory or a table, each saying which
kinds it yields. A source kept between polls remembers what it built, so an unchanged object
costs a lookup and is handed back as the same object.

Kinds found by walking processes (their second phase) come from the attach scan instead.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol, TypeVar

from shmtop.collect.devshm import DevShmBuilders, scan_dev_shm
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
from shmtop.errors import Vanished
from shmtop.libc import msg_qbytes
from shmtop.model import IpcObject, Kind, PosixMq, SysvMsg, SysvSem, SysvShm
from shmtop.model.roots import Roots

T = TypeVar("T", SysvShm, SysvMsg, SysvSem)


class Found(NamedTuple):
    """What one source read: objects by kind, and the kinds it could not read, with why."""

    objects: Mapping[Kind, list[IpcObject]]
    unavailable: Mapping[Kind, str]


class Source(Protocol):
    kinds: frozenset[Kind]

    def read(self, wanted: frozenset[Kind]) -> Found: ...


def listed_sources(roots: Roots) -> list[Source]:
    """Every listed source, in the order of the kinds they yield."""
    return [
        SysvTable(roots, Kind.SYSV_SHM, SHM_SPEC),
        SysvQueues(roots),
        SysvTable(roots, Kind.SYSV_SEM, SEM_SPEC),
        DevShm(roots),
        Mqueue(roots),
    ]


class SysvTable:
    """One /proc/sysvipc file; a line unchanged since the last read keeps its object."""

    def __init__(self, roots: Roots, kind: Kind, spec: TableSpec[Any]) -> None:
        self.kinds = frozenset({kind})
        self.kind = kind
        self.roots = roots
        self.spec = spec
        self._memo: Mapping[bytes, Any] | None = None

    def read(self, wanted: frozenset[Kind]) -> Found:
        path = f"{self.roots.procfs}/sysvipc/{self.spec.file}"
        try:
            with open(path, "rb", buffering=0) as f:
                text = f.read()
            parsed = parse_table(text, self._table(), self._memo, self._keep(), self.roots.ipc_ns)
        except OSError as exc:
            return Found({}, {self.kind: f"cannot read {path}: {exc.strerror}"})
        except TableFormatError as exc:
            return Found({}, {self.kind: str(exc)})
        self._memo = parsed
        return Found({self.kind: list(parsed.values())}, {})

    def _table(self) -> TableSpec[Any]:
        return self.spec

    def _keep(self) -> Callable[[Any], bool] | None:
        return None


class SysvQueues(SysvTable):
    """/proc/sysvipc/msg, with qbytes (not in /proc) asked of the kernel by id when the
    /proc read is this kernel's."""

    def __init__(self, roots: Roots) -> None:
        super().__init__(roots, Kind.SYSV_MSG, msg_spec(msg_qbytes))
        self._read_second = 0

    def _table(self) -> TableSpec[Any]:
        return self.spec if self.roots.live_procfs else msg_spec()

    def _keep(self) -> Callable[[SysvMsg], bool] | None:
        if not self.roots.live_procfs:
            return None
        previous_read, self._read_second = self._read_second, int(time.time())

        def keep(queue: SysvMsg) -> bool:
            # IPC_SET, the only way to change qbytes, also sets ctime to the current second.
            # A remembered line whose ctime is older than the previous read would show any
            # such change as a new ctime, so its qbytes needs no new question to the kernel.
            return (queue.ctime or 0) < previous_read or _qbytes_unchanged(queue)

        return keep


def _qbytes_unchanged(queue: SysvMsg) -> bool:
    """Whether a remembered queue still has its qbytes (IPC_SET can change it alone)."""
    try:
        return msg_qbytes(queue.id, queue.key) == queue.qbytes
    except Vanished:
        return False


class DevShm:
    """/dev/shm: POSIX shared memory objects and glibc named semaphores (sem.NAME)."""

    kinds = frozenset({Kind.POSIX_SHM, Kind.POSIX_SEM})

    def __init__(self, roots: Roots) -> None:
        self.roots = roots
        self._builders = DevShmBuilders(roots.shm_ns)

    def read(self, wanted: frozenset[Kind]) -> Found:
        try:
            shms, sems = scan_dev_shm(self.roots.dev_shm, self._builders)
        except OSError as exc:
            reason = f"cannot read {self.roots.dev_shm}: {exc.strerror}"
            return Found({}, dict.fromkeys(self.kinds & wanted, reason))
        found: dict[Kind, list[IpcObject]] = {Kind.POSIX_SHM: [*shms], Kind.POSIX_SEM: [*sems]}
        return Found({kind: found[kind] for kind in self.kinds & wanted}, {})


class Mqueue:
    """/dev/mqueue, where the mqueue filesystem is mounted: POSIX message queues."""

    kinds = frozenset({Kind.POSIX_MQ})

    def __init__(self, roots: Roots) -> None:
        self.roots = roots
        self._builder: Reuse[PosixMq] = Reuse(functools.partial(PosixMq, ns=roots.ipc_ns))

    def read(self, wanted: frozenset[Kind]) -> Found:
        root = self.roots.dev_mqueue
        try:
            queues = scan_mqueue(root, self._builder)
        except NotMounted as exc:
            return Found({}, {Kind.POSIX_MQ: str(exc)})
        except OSError as exc:
            return Found({}, {Kind.POSIX_MQ: f"cannot read {root}: {exc.strerror}"})
        return Found({Kind.POSIX_MQ: [*queues]}, {})
