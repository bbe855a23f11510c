"""Synthetic objects and snapshots for dashboard tests (no kernel involved)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shmtop.clean import stale
from shmtop.collect import processes
from shmtop.collect.usage import usage_of
from shmtop.model import (
    ALL_KINDS,
    Attacher,
    AttachMap,
    Endpoint,
    Fifo,
    FileType,
    IpcObject,
    Limits,
    MappedBy,
    Memfd,
    PidLife,
    Pipe,
    PosixMq,
    PosixSem,
    PosixShm,
    ProcessUse,
    Snapshot,
    SysvMsg,
    SysvSem,
    SysvShm,
    TmpfsStats,
)
from shmtop.model.contents import Member, Message
from shmtop.tui import detail

T0 = 1795300000  # 2026-11-21 22:26:40 UTC
PROCFS = str(Path(__file__).parent / "procfs")  # command lines of attach_map()'s processes


def shm(id: int, **fields: Any) -> SysvShm:
    """A segment, attached once, made at T0 by pid 100 + id; `fields` replace any field."""
    values: dict[str, Any] = dict(
        id=id, key=0x5EED0000 + id, mode=0o600, dest=False, locked=False, size=4096 * id,
        cpid=100 + id, lpid=100 + id, nattch=1, uid=0, gid=0, cuid=0, cgid=0,
        atime=T0, dtime=None, ctime=T0, rss=4096, swap=0,
    )  # fmt: skip
    return SysvShm(**{**values, **fields})


def msg(id: int, **fields: Any) -> SysvMsg:
    """An empty queue made at T0, never sent to."""
    values: dict[str, Any] = dict(
        id=id, key=0x1234000 + id, mode=0o620, cbytes=0, qnum=0, lspid=0, lrpid=0,
        uid=0, gid=0, cuid=0, cgid=0, stime=None, rtime=None, ctime=T0, qbytes=16384,
    )  # fmt: skip
    return SysvMsg(**{**values, **fields})


def sem(id: int, **fields: Any) -> SysvSem:
    """A set of three made at T0, never operated on."""
    values: dict[str, Any] = dict(
        id=id, key=0, mode=0o600, nsems=3, uid=0, gid=0, cuid=0, cgid=0, otime=None, ctime=T0,
    )  # fmt: skip
    return SysvSem(**{**values, **fields})


def _entry(name: bytes, size: int) -> dict[str, Any]:
    return dict(
        name=name, type=FileType.FILE, size=size, allocated=size, uid=0, gid=0, mode=0o600,
        mtime_ns=T0 * 10**9, ctime_ns=T0 * 10**9, dev=27, inode=1000, nlink=1,
    )  # fmt: skip


def pshm(name: bytes, size: int = 4096, **fields: Any) -> PosixShm:
    return PosixShm(**{**_entry(name, size), **fields})


def psem(name: bytes, value: int = 1, **fields: Any) -> PosixSem:
    return PosixSem(**{**_entry(name, 32), "value": value, "waiters": 0, **fields})


def pmq(name: bytes, curmsgs: int = 0, **fields: Any) -> PosixMq:
    queue = dict(qsize=curmsgs * 10, notify=0, signo=0, notify_pid=0, curmsgs=curmsgs,
                 maxmsg=10, msgsize=64)  # fmt: skip
    return PosixMq(**{**_entry(name, 80), **queue, **fields})


def snapshot(
    objects: Iterable[IpcObject], time: float = T0 + 60, dev_shm_used: int = 2**20
) -> Snapshot:
    objects = list(objects)
    limits = Limits(
        page_size=4096,
        shmmax=2**64 - 2**24 - 1,
        shmall=2**64 - 2**24 - 1,
        shmmni=4096,
        msgmni=32000,
        semmni=32000,
        semmns=1024000000,
        mq_queues_max=256,
        dev_shm=TmpfsStats(2**30, dev_shm_used, 2**30 - dev_shm_used, 1000, 990),
    )
    snap = Snapshot(
        time=time, host="testhost", kinds=frozenset(ALL_KINDS),
        by_kind={kind: tuple(o for o in objects if o.kind is kind) for kind in ALL_KINDS},
        limits=limits, users={0: "root", 65534: "nobody"},
    )  # fmt: skip
    return replace(snap, usage=usage_of(snap))


def mixed() -> list[IpcObject]:
    return [shm(1), shm(2, nattch=0), shm(3, dest=True, key=0), msg(10, qnum=2, cbytes=11),
            sem(20), pshm(b"/ring0", 1 << 20), pshm(b"/[@click=app.quit]x"),
            psem(b"/lock", 1), pmq(b"/jobs", 3)]  # fmt: skip


def mess() -> list[IpcObject]:
    """mixed(), and what an operator meets at 3 a.m.: a queue nearly full that nobody has
    ever received from, a POSIX queue at its maximum, a set with a process waiting on it, a
    sparse object, and a long name."""
    return [*mixed(),
            msg(11, qnum=260, cbytes=15_800, lspid=101, lrpid=0, stime=T0 + 50),
            pmq(b"/full", 10), sem(21, nsems=1, otime=T0 + 10),
            pshm(b"/sparse", 1 << 30, allocated=8192),
            pshm(b"/shmtop-demo-4242-leak-cache-of-a-long-name", 128 << 10)]  # fmt: skip


def mess_snapshot() -> Snapshot:
    return snapshot(mess(), dev_shm_used=(2**30 // 100) * 97)  # /dev/shm 97% full


def mess_attach() -> AttachMap:
    """attach_map(), with a process blocked in semop on sysv-sem:21."""
    found = attach_map()
    waiter = Attacher(6000, "gate-waiter", 0, 0, 0, True)
    return replace(
        found,
        attachers={**found.attachers, "sysv-sem:21": (waiter,)},
        processes={
            **found.processes,
            6000: ProcessUse(6000, "gate-waiter", 0, ("sysv-sem:21",), 0),
        },
    )


class FakeSource:
    """A snapshot source the test controls; counts calls and detects overlapping ones.

    Snapshots carry `attach` only when the poller asks for an attach scan, as the real
    collector does.
    """

    def __init__(self, first: Snapshot, attach: AttachMap | None = None) -> None:
        self.current = first
        self.attach = attach
        self.calls = 0
        self.scans = 0
        self.overlapped = False
        self._busy = threading.Lock()

    def __call__(self, attachers: bool = False) -> Snapshot:
        if not self._busy.acquire(blocking=False):
            self.overlapped = True
            raise RuntimeError("two polls at once")
        try:
            self.calls += 1
            if attachers and self.attach is not None:
                self.scans += 1
                return replace(self.current, attach=self.attach)
            return self.current
        finally:
            self._busy.release()


def attach_map() -> AttachMap:
    """Who uses the objects of mixed(): two processes on the segment, a fd holder, unknowns."""
    postgres = Attacher(4242, "postgres", 0, 1, 0)
    worker = Attacher(4243, "postgres: wal", 0, 2, 0)
    return AttachMap(
        time=T0 + 60,
        attachers={
            "sysv-shm:1": (postgres, worker),
            "posix-shm:/ring0": (Attacher(5000, "ring-writer", 0, 1, 1),),
            "posix-mq:/jobs": (Attacher(5001, "jobs[bad\x1b]", 65534, 0, 1),),
        },
        unknown={"sysv-shm:1": 0, "sysv-shm:2": 0, "sysv-shm:3": 1, "posix-shm:/ring0": 0,
                 "posix-shm:/[@click=app.quit]x": 0, "posix-sem:/lock": 0, "posix-mq:/jobs": 0},
        processes={
            4242: ProcessUse(4242, "postgres", 0, ("sysv-shm:1",), 4096),
            4243: ProcessUse(4243, "postgres: wal", 0, ("sysv-shm:1",), 4096),
            5000: ProcessUse(5000, "ring-writer", 0, ("posix-shm:/ring0",), 1 << 20),
            5001: ProcessUse(5001, "jobs[bad\x1b]", 65534, ("posix-mq:/jobs",), 0),
        },
        pids={101: PidLife(True, T0 - 100), 102: PidLife(False), 103: PidLife(True, T0 + 30)},
        unreadable=0,
        scanned=40,
    )  # fmt: skip


# The members of sem(20) of mixed() (pid 101 alive, 102 exited, as attach_map() says), and
# the messages of its msg(10): 2 messages, 11 bytes.
MEMBERS = [Member(0, 3, 0, 0, 101), Member(1, 10, 2, 0, 102), Member(2, 0, 0, 1, 101)]
MESSAGES = [Message(0, 1, 5, b"first"), Message(1, 700, 6, b"[b]x\x1b\n")]


def fake_contents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Members and messages of the fake objects (no kernel object behind them)."""

    def members(obj: IpcObject) -> list[Member]:
        return MEMBERS

    monkeypatch.setattr(detail, "set_members", members)
    # The leak verdicts read them too: the pids, and the waiters where no last user runs.
    monkeypatch.setattr(stale, "member_pids", lambda obj: [m.pid for m in MEMBERS])
    monkeypatch.setattr(stale, "member_waiting", lambda obj: [(m.ncnt, m.zcnt) for m in MEMBERS])
    monkeypatch.setattr(processes, "member_pids", lambda obj: [m.pid for m in MEMBERS])
    monkeypatch.setattr(detail, "peek_messages", lambda obj: MESSAGES)


def found_objects() -> list[IpcObject]:
    """What the walk over /proc finds: a full pipe with its writer asleep, an idle one, a
    FIFO with bytes waiting, a sealed memfd shared by two processes, and a deleted /dev/shm
    file still mapped."""
    writer = Endpoint(7001, "producer", 0, 1, "w", True, "write")
    reader = Endpoint(7002, "consumer", 0, 0, "r")
    stuck = Pipe(0x10, 700001, 0, 0, 0o600, (writer, reader), 65536, 65536, None)
    idle = Pipe(0x10, 700002, 0, 0, 0o600, (Endpoint(7003, "sh", 0, 1, "w"),
                Endpoint(7003, "sh", 0, 0, "r")), 0, 65536, None)  # fmt: skip
    ends = (Endpoint(7004, "logger", 0, 3, "r"), Endpoint(7005, "app", 0, 4, "w"))
    fifo = Fifo(0x801, 700003, 0, 0, 0o600, ends, 10, 65536, None, path=b"/run/app.fifo")
    memfd = Memfd(0x1, 700004, b"wayland-shm", 8192, 4096, 0, 0, 0o777, (T0 - 100) * 10**9,
                  (MappedBy(7001, 1, 8192), MappedBy(7002, 1, 8192)), seals=0x6)  # fmt: skip
    deleted = pshm(b"/gone", 5 << 20, allocated=5 << 20, deleted=True)
    return [stuck, idle, fifo, memfd, deleted]


def found_attach() -> AttachMap:
    """mess_attach(), with the users of found_objects(): the writer waiting in write."""
    found = mess_attach()
    users = {
        "pipe:700001": (Attacher(7001, "producer", 0, 0, 1, True, "write"),
                        Attacher(7002, "consumer", 0, 0, 1)),
        "pipe:700002": (Attacher(7003, "sh", 0, 0, 2),),
        "fifo:8.1:700003": (Attacher(7004, "logger", 0, 0, 1), Attacher(7005, "app", 0, 0, 1)),
        "memfd:700004": (Attacher(7001, "producer", 0, 1, 0), Attacher(7002, "consumer", 0, 1, 1)),
        "posix-shm:/gone/deleted:1000": (Attacher(7006, "leaver", 0, 1, 0),),
    }  # fmt: skip
    processes = dict(found.processes)
    for ref, seen in users.items():
        for user in seen:
            before = processes.get(user.pid)
            refs = (*before.refs, ref) if before else (ref,)
            processes[user.pid] = ProcessUse(user.pid, user.comm, user.uid, refs, 0)
    return replace(found, attachers={**found.attachers, **users}, processes=processes)
