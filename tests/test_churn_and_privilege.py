"""Objects appearing and vanishing under the collector, and collecting as an ordinary user."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable

import posix_ipc
import sysv_ipc

from shmtop.collect import Collector, collect_snapshot
from shmtop.model import Kind
from tests.ipcfactory import IpcFactory, unique
from tests.privileges import NOBODY, run_as_nobody

CHURN_SECONDS = 4.0  # how long collections race the churner, whatever the machine's speed
CHURN_RATE = 300  # create/remove cycles per second at most: a race, not a denial of service


def churn(prefix: str, stop: int, report: int) -> None:
    """In a child process: create and remove objects of every kind, at most CHURN_RATE cycles a
    second, until `stop` is readable (or twice CHURN_SECONDS pass); write the count to `report`."""
    cycles, deadline = 0, time.monotonic() + 2 * CHURN_SECONDS
    while time.monotonic() < deadline and not select.select([stop], [], [], 1 / CHURN_RATE)[0]:
        churn_once(f"/{prefix}-{cycles}")
        cycles += 1
    os.write(report, str(cycles).encode())


def churn_once(name: str) -> None:
    shm = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096)
    shm.detach()
    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)
    queue.send(b"x")
    sem = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX)
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


def collect_while_churning() -> dict[str, object]:
    """In the sandbox: collections, fresh and polling, race a churning process for
    CHURN_SECONDS; then one more poll. Every object in the sandbox is the churner's."""
    stop_r, stop_w = os.pipe()
    report_r, report_w = os.pipe()
    churner = os.fork()
    if churner == 0:
        try:
            churn(unique("churn"), stop_r, report_w)
        finally:
            os._exit(0)
    polling, collects = Collector(), 0
    deadline = time.monotonic() + CHURN_SECONDS
    try:
        while time.monotonic() < deadline:
            snapshot = polling.collect() if collects % 2 else collect_snapshot()
            assert snapshot.unavailable == {}, snapshot.unavailable
            assert all(obj.ref for obj in snapshot.objects)
            collects += 1
    finally:
        os.write(stop_w, b"x")
        os.waitpid(churner, 0)
    cycles = int(os.read(report_r, 32) or b"0")
    return {"collects": collects, "cycles": cycles, "left": polling.collect().objects}


def test_collect_survives_objects_created_and_removed_while_it_runs(
    sandbox: Callable[..., dict[str, object]],
) -> None:
    found = sandbox(collect_while_churning)
    assert found["cycles"] >= 20, f"the churner barely ran ({found}): the race was not exercised"
    assert found["collects"] >= 5, f"too few collections raced the churner ({found})"
    assert found["left"] == ()  # the next refresh shows nothing the churner removed


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
