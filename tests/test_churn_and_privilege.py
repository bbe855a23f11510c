"""Objects appearing and vanishing under the collector, and collecting as an ordinary user."""

from __future__ import annotations

import os
import threading

import posix_ipc
import sysv_ipc

from shmtop.collect import Collector, collect_snapshot
from shmtop.model import Kind, Snapshot
from tests.ipcfactory import IpcFactory, unique
from tests.privileges import NOBODY, run_as_nobody


class Churner(threading.Thread):
    """Creates and removes objects of every kind as fast as it can until stopped."""

    def __init__(self, prefix: str) -> None:
        super().__init__(daemon=True)
        self.prefix = prefix
        self.stop = threading.Event()
        self.cycles = 0
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self._cycle()
                self.cycles += 1
        except BaseException as exc:  # reported by the test, never swallowed
            self.failure = exc

    def _cycle(self) -> None:
        shm = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096)
        shm.detach()
        queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)
        queue.send(b"x")
        sem = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX)
        name = f"/{self.prefix}-{self.cycles}"
        pshm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096)
        pshm.close_fd()
        psem = posix_ipc.Semaphore(name, posix_ipc.O_CREX)
        pmq = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, max_messages=1, max_message_size=8)
        shm.remove()
        queue.remove()
        sem.remove()
        pshm.unlink()
        psem.unlink()
        psem.close()
        pmq.close()
        pmq.unlink()


def churned(snapshot: Snapshot, prefix: str) -> list[object]:
    tag = f"/{prefix}-".encode()
    posix = [*snapshot.posix_shm, *snapshot.posix_sem, *snapshot.posix_mq]
    return [o for o in posix if o.name.startswith(tag)]


def test_collect_survives_objects_created_and_removed_during_hundreds_of_runs(
    mqueue_mounted: str,
) -> None:
    prefix = unique("churn")
    churner = Churner(prefix)
    polling = Collector()
    churner.start()
    try:
        for i in range(300):
            snapshot = polling.collect() if i % 2 else collect_snapshot()
            assert snapshot.unavailable == {}
            for obj in snapshot.objects:
                assert obj.ref
    finally:
        churner.stop.set()
        churner.join(10)
    assert churner.failure is None, churner.failure
    assert churner.cycles > 50, "the churner barely ran: the race was not exercised"
    assert churned(polling.collect(), prefix) == []  # nothing stale after the next refresh


def collect_kinds_and_values(shm_id: int, msg_id: int, sem_name: str, mq_name: str) -> dict:
    """Runs as nobody: what the collector can see of root's 0600 objects."""
    snapshot = collect_snapshot()
    (seg,) = [s for s in snapshot.sysv_shm if s.id == shm_id]
    (queue,) = [q for q in snapshot.sysv_msg if q.id == msg_id]
    (sem,) = [s for s in snapshot.posix_sem if s.name == sem_name.encode()]
    (mq,) = [q for q in snapshot.posix_mq if q.name == mq_name.encode()]
    return {
        "uid": os.getuid(),
        "shm_size": seg.size,
        "qbytes": queue.qbytes,
        "sem_value": sem.value,
        "mq": (mq.curmsgs, mq.qsize),
        "unavailable": dict(snapshot.unavailable),
        "owner_root": snapshot.owner(0),
    }


def test_ordinary_user_sees_every_object_and_no_contents_of_others(
    ipc: IpcFactory, mqueue_mounted: str
) -> None:
    shm = ipc.sysv_shm(size=8192, mode=0o600)
    queue = ipc.sysv_msg(mode=0o600)
    queue.max_size = 5000
    sem = ipc.posix_sem(value=3, mode=0o600)
    mq = ipc.posix_mq(mode=0o600)
    seen = run_as_nobody(collect_kinds_and_values, shm.id, queue.id, sem, mq.name)
    assert seen["uid"] == NOBODY
    assert seen["shm_size"] == 8192
    assert seen["qbytes"] == 5000  # IPC_STAT is refused; MSG_STAT_ANY is not
    assert seen["sem_value"] is None  # 0600 root: unreadable, so unknown, not 0
    assert seen["mq"] == (None, None)
    assert seen["unavailable"] == {}
    assert seen["owner_root"] == "root"


def test_ordinary_user_reads_values_it_is_allowed_to(ipc: IpcFactory) -> None:
    sem = ipc.posix_sem(value=4, mode=0o644)

    def value_as_nobody() -> int | None:
        sems = collect_snapshot(kinds=[Kind.POSIX_SEM]).posix_sem
        (found,) = [s for s in sems if s.name == sem.encode()]
        return found.value

    assert run_as_nobody(value_as_nobody) == 4
