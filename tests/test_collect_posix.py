"""The collector against real POSIX objects: shared memory, named semaphores, queues."""

from __future__ import annotations

import os
import threading
import time

import posix_ipc

from shmtop.collect import Roots, collect_snapshot
from shmtop.model import FileType, Kind, PosixMq, PosixSem, PosixShm, Snapshot
from tests.ipcfactory import IpcFactory, unique
from tests.privileges import NOBODY


def posix_shm(snapshot: Snapshot, name: str) -> PosixShm:
    (found,) = [o for o in snapshot.posix_shm if o.name == name.encode()]
    return found


def posix_sem(snapshot: Snapshot, name: str) -> PosixSem:
    (found,) = [o for o in snapshot.posix_sem if o.name == name.encode()]
    return found


def posix_mq(snapshot: Snapshot, name: str) -> PosixMq:
    (found,) = [o for o in snapshot.posix_mq if o.name == name.encode()]
    return found


def test_shared_memory_object_fields_match_the_file(ipc: IpcFactory) -> None:
    name = ipc.posix_shm(size=5000, mode=0o640)
    os.chown("/dev/shm" + name, NOBODY, NOBODY)
    obj = posix_shm(collect_snapshot(), name)
    st = os.lstat("/dev/shm" + name)
    assert (obj.size, obj.mode, obj.uid, obj.gid) == (5000, 0o640, NOBODY, NOBODY)
    assert (obj.dev, obj.inode, obj.nlink, obj.type) == (st.st_dev, st.st_ino, 1, FileType.FILE)
    assert (obj.mtime_ns, obj.ctime_ns) == (st.st_mtime_ns, st.st_ctime_ns)
    assert obj.ref == f"posix-shm:{name}"


def test_sparse_object_shows_size_but_no_allocation(ipc: IpcFactory) -> None:
    name = ipc.posix_shm(size=1 << 30)
    with open("/dev/shm" + name, "r+b") as f:
        f.seek(8192)
        f.write(b"x")
    obj = posix_shm(collect_snapshot(), name)
    assert obj.size == 1 << 30
    assert obj.allocated == 4096


def test_named_semaphore_value_is_read_without_opening_it(ipc: IpcFactory) -> None:
    name = ipc.posix_sem(value=7)
    path = "/dev/shm/sem." + name[1:]
    before = os.stat(path)
    sem = posix_sem(collect_snapshot(), name)
    assert (sem.value, sem.waiters, sem.size, sem.type) == (7, 0, 32, FileType.FILE)
    assert sem.ref == f"posix-sem:{name}"
    assert os.stat(path).st_atime_ns == before.st_atime_ns  # O_NOATIME: no trace left


def test_named_semaphore_counts_a_blocked_waiter(ipc: IpcFactory) -> None:
    name = ipc.posix_sem(value=0)
    waiter = posix_ipc.Semaphore(name)
    thread = threading.Thread(target=waiter.acquire)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while posix_sem(collect_snapshot(), name).waiters != 1:
            assert time.monotonic() < deadline, "waiter never registered"
            time.sleep(0.01)
        assert posix_sem(collect_snapshot(), name).value == 0
    finally:
        waiter.release()
        thread.join(5)
        waiter.close()


def test_semaphore_file_of_unexpected_size_has_no_value(ipc: IpcFactory) -> None:
    raw = b"sem." + unique("odd").encode()
    ipc.file(raw, b"\x05" + b"\0" * 40)
    (sem,) = [s for s in collect_snapshot().posix_sem if s.name == b"/" + raw[4:]]
    assert (sem.value, sem.size) == (None, 41)


def test_semaphore_file_with_foreign_layout_has_no_value(ipc: IpcFactory) -> None:
    raw = b"sem." + unique("layout").encode()
    ipc.file(raw, b"\x05" + b"\0" * 7 + b"\x01" * 24)  # 32 bytes, padding not zero
    (sem,) = [s for s in collect_snapshot().posix_sem if s.name == b"/" + raw[4:]]
    assert sem.value is None


def test_queue_reports_messages_bytes_and_attributes(ipc: IpcFactory, mqueue_mounted: str) -> None:
    queue = ipc.posix_mq(maxmsg=5, msgsize=100, mode=0o640)
    queue.send(b"hello")
    queue.send(b"world!!")
    q = posix_mq(collect_snapshot(), queue.name)
    assert (q.curmsgs, q.qsize, q.maxmsg, q.msgsize) == (2, 12, 5, 100)
    assert (q.notify_pid, q.mode, q.type) == (0, 0o640, FileType.FILE)
    assert q.ref == f"posix-mq:{queue.name}"


def test_queue_notify_pid_is_reported(ipc: IpcFactory, mqueue_mounted: str) -> None:
    queue = ipc.posix_mq()
    queue.request_notification(10)  # signal 10 to this process when a message arrives
    q = posix_mq(collect_snapshot(), queue.name)
    assert (q.notify_pid, q.signo) == (os.getpid(), 10)
    queue.request_notification(None)


def test_collecting_does_not_consume_queued_messages(ipc: IpcFactory, mqueue_mounted: str) -> None:
    queue = ipc.posix_mq()
    queue.send(b"keep me")
    before = os.stat(f"{mqueue_mounted}{queue.name}").st_mtime_ns
    for _ in range(3):
        collect_snapshot()
    assert queue.current_messages == 1
    assert os.stat(f"{mqueue_mounted}{queue.name}").st_mtime_ns == before
    assert queue.receive(0)[0] == b"keep me"


def test_unmounted_mqueue_is_reported_with_the_mount_command(tmp_path) -> None:
    snapshot = collect_snapshot(Roots(dev_mqueue=str(tmp_path)), kinds=[Kind.POSIX_MQ])
    assert snapshot.posix_mq == ()
    assert "mount -t mqueue none /dev/mqueue" in snapshot.unavailable[Kind.POSIX_MQ]
    assert "posix-mq.queues" not in snapshot.usage


def test_missing_dev_shm_makes_both_posix_kinds_unavailable(tmp_path) -> None:
    snapshot = collect_snapshot(Roots(dev_shm=str(tmp_path / "absent")))
    assert Kind.POSIX_SHM in snapshot.unavailable
    assert Kind.POSIX_SEM in snapshot.unavailable
    assert snapshot.posix_shm == () and snapshot.posix_sem == ()


def test_posix_usage_sums_sizes_and_allocation(ipc: IpcFactory) -> None:
    before = collect_snapshot().usage
    name = ipc.posix_shm(size=10000)
    with open("/dev/shm" + name, "r+b") as f:
        f.write(b"x")
    after = collect_snapshot().usage
    assert after["posix-shm.objects"].used == before["posix-shm.objects"].used + 1
    assert after["posix-shm.bytes"].used == before["posix-shm.bytes"].used + 10000
    assert after["posix-shm.allocated"].used == before["posix-shm.allocated"].used + 4096
    assert after["dev-shm.bytes"].limit == os.statvfs("/dev/shm").f_blocks * 4096


def test_posix_objects_are_listed_in_name_order(ipc: IpcFactory) -> None:
    names = {ipc.posix_shm(tag=f"order{i}").encode() for i in (3, 1, 2)}
    listed = [o.name for o in collect_snapshot().posix_shm if o.name in names]
    assert listed == sorted(listed)


def test_polling_an_idle_queue_reuses_its_object(ipc: IpcFactory, mqueue_mounted: str) -> None:
    """Reading QSIZE moves a queue's ctime; that must not make it look changed every poll."""
    from shmtop.collect import Collector

    queue = ipc.posix_mq()
    collector = Collector(kinds=[Kind.POSIX_MQ])
    first = posix_mq(collector.collect(), queue.name)
    time.sleep(0.02)
    second = posix_mq(collector.collect(), queue.name)
    assert second is first
    assert first.ctime_ns is None
