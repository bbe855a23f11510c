"""The collector against real System V objects the tests create."""

from __future__ import annotations

import ctypes
import os
import time

import sysv_ipc

from shmtop.collect import Collector, collect_snapshot
from shmtop.model import Kind, Snapshot, SysvMsg, SysvSem, SysvShm
from tests.ipcfactory import IpcFactory, unique_key
from tests.privileges import NOBODY

_libc = ctypes.CDLL(None, use_errno=True)


def shm_by_id(snapshot: Snapshot, shmid: int) -> SysvShm:
    (found,) = [s for s in snapshot.sysv_shm if s.id == shmid]
    return found


def msg_by_id(snapshot: Snapshot, msqid: int) -> SysvMsg:
    (found,) = [q for q in snapshot.sysv_msg if q.id == msqid]
    return found


def sem_by_id(snapshot: Snapshot, semid: int) -> SysvSem:
    (found,) = [s for s in snapshot.sysv_sem if s.id == semid]
    return found


def test_segment_fields_match_what_was_created(ipc: IpcFactory) -> None:
    before = int(time.time())
    key = unique_key()
    shm = ipc.sysv_shm(size=10000, mode=0o640, key=key)
    seg = shm_by_id(collect_snapshot(), shm.id)
    assert (seg.key, seg.size, seg.mode, seg.nattch) == (key, 10000, 0o640, 0)
    assert (seg.uid, seg.gid, seg.cuid, seg.cgid) == (os.getuid(), os.getgid()) * 2
    assert seg.cpid == os.getpid()
    assert seg.ctime is not None and seg.ctime >= before
    assert seg.atime is not None  # sysv_ipc attached (then detached) at creation
    assert (seg.dest, seg.locked) == (False, False)
    assert seg.ref == f"sysv-shm:{shm.id}"


def test_key_above_2_31_reads_unsigned(ipc: IpcFactory) -> None:
    key = unique_key() | 0x80000000
    shm = ipc.sysv_shm(key=key)
    assert shm_by_id(collect_snapshot(), shm.id).key == key


def test_private_segment_has_key_zero(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm(key=sysv_ipc.IPC_PRIVATE)
    assert shm_by_id(collect_snapshot(), shm.id).key == 0


def test_nattch_counts_attachments_and_rss_grows_when_touched(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm(size=3 * 4096, attach=True)
    second = sysv_ipc.attach(shm.id)
    try:
        shm.write(b"x" * 3 * 4096)
        seg = shm_by_id(collect_snapshot(), shm.id)
        assert seg.nattch == 2
        assert seg.lpid == os.getpid()
        assert seg.rss == 3 * 4096
        assert seg.swap == 0
    finally:
        second.detach()
    assert shm_by_id(collect_snapshot(), shm.id).nattch == 1


def test_segment_removed_while_attached_is_dest_with_key_zero(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm(key=unique_key(), attach=True)
    shm.remove()
    seg = shm_by_id(collect_snapshot(), shm.id)
    assert (seg.dest, seg.key, seg.nattch) == (True, 0, 1)


def test_queue_counts_messages_bytes_and_reads_qbytes(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg(mode=0o620)
    queue.send(b"hello", type=3)
    queue.send(b"world!", type=4)
    queue.max_size = 4000  # IPC_SET: qbytes is not in /proc, only IPC_STAT tells
    q = msg_by_id(collect_snapshot(), queue.id)
    assert (q.qnum, q.cbytes, q.qbytes, q.mode) == (2, 11, 4000, 0o620)
    assert (q.lspid, q.lrpid, q.rtime) == (os.getpid(), 0, None)
    assert q.stime is not None


def test_receive_updates_lrpid_and_rtime(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    queue.send(b"x")
    queue.receive()
    q = msg_by_id(collect_snapshot(), queue.id)
    assert (q.qnum, q.cbytes, q.lrpid) == (0, 0, os.getpid())
    assert q.rtime is not None


def test_semaphore_set_reports_its_member_count(ipc: IpcFactory) -> None:
    semid = ipc.sysv_sem(nsems=5, mode=0o640)
    sset = sem_by_id(collect_snapshot(), semid)
    assert (sset.nsems, sset.mode, sset.key, sset.otime) == (5, 0o640, 0, None)
    assert sset.ref == f"sysv-sem:{semid}"


def test_owner_change_shows_new_uid_and_keeps_creator(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm()
    shm.uid = NOBODY
    snapshot = collect_snapshot()
    seg = shm_by_id(snapshot, shm.id)
    assert (seg.uid, seg.cuid) == (NOBODY, os.getuid())
    assert snapshot.owner(NOBODY) == "nobody"


def test_user_names_are_looked_up_once_per_distinct_uid(ipc: IpcFactory, monkeypatch) -> None:
    import pwd

    for _ in range(3):
        ipc.sysv_shm().uid = NOBODY
        ipc.sysv_msg()
    asked: list[int] = []
    real = pwd.getpwuid
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: asked.append(uid) or real(uid))
    collect_snapshot()
    assert sorted(asked) == sorted(set(asked))
    assert {0, NOBODY} <= set(asked)


def test_kinds_not_asked_for_are_not_collected(ipc: IpcFactory) -> None:
    ipc.sysv_shm()
    ipc.sysv_msg()
    snapshot = collect_snapshot(kinds=[Kind.SYSV_MSG])
    assert snapshot.sysv_shm == ()
    assert snapshot.sysv_msg
    assert "sysv-shm.segments" not in snapshot.usage
    assert snapshot.kinds == {Kind.SYSV_MSG}


def test_polling_collector_sees_changes_between_polls(ipc: IpcFactory) -> None:
    collector = Collector(kinds=[Kind.SYSV_SHM, Kind.SYSV_MSG])
    queue = ipc.sysv_msg()
    assert msg_by_id(collector.collect(), queue.id).qnum == 0
    queue.send(b"abc")
    assert msg_by_id(collector.collect(), queue.id).qnum == 1
    queue.max_size = 3000
    assert msg_by_id(collector.collect(), queue.id).qbytes == 3000
    queue.remove()
    assert all(q.id != queue.id for q in collector.collect().sysv_msg)


def test_usage_counts_created_objects(ipc: IpcFactory) -> None:
    before = collect_snapshot().usage
    ipc.sysv_shm(size=4096 + 1)
    ipc.sysv_sem(nsems=3)
    after = collect_snapshot().usage
    assert after["sysv-shm.segments"].used == before["sysv-shm.segments"].used + 1
    assert after["sysv-shm.pages"].used == before["sysv-shm.pages"].used + 2  # whole pages
    assert after["sysv-shm.bytes"].used == before["sysv-shm.bytes"].used + 4097
    assert after["sysv-sem.semaphores"].used == before["sysv-sem.semaphores"].used + 3
    with open("/proc/sys/kernel/sem") as f:
        assert after["sysv-sem.sets"].limit == int(f.read().split()[3])
