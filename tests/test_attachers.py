"""Who uses each object, found with real processes attaching, mapping and holding objects."""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import posix_ipc
import pytest
import sysv_ipc

from shmtop.attach import scan_attachers
from shmtop.attach.liveness import pid_lives
from shmtop.collect import collect_snapshot
from shmtop.model import Attacher, AttachMap, PidLife, Snapshot
from shmtop.model.use import pid_state
from tests.holders import Holder, holders
from tests.ipcfactory import IpcFactory, unique
from tests.privileges import NOBODY, run_as_nobody

Hold = Callable[[Callable[[], Any]], Holder]
PR_SET_DUMPABLE = 4


@pytest.fixture
def hold() -> Iterator[Hold]:
    with holders() as hold:
        yield hold


def scanned() -> tuple[Snapshot, AttachMap]:
    snapshot = collect_snapshot(attachers=True)
    assert snapshot.attach is not None
    return snapshot, snapshot.attach


def by_pid(attach: AttachMap, ref: str) -> dict[int, Attacher]:
    return {a.pid: a for a in attach.attachers.get(ref, ())}


def test_segment_attached_twice_by_one_process_and_once_by_another(
    ipc: IpcFactory, hold: Hold
) -> None:
    shm = ipc.sysv_shm()
    twice = hold(lambda: (sysv_ipc.attach(shm.id), sysv_ipc.attach(shm.id)))
    once = hold(lambda: sysv_ipc.attach(shm.id))
    snapshot, attach = scanned()
    users = by_pid(attach, shm_ref := f"sysv-shm:{shm.id}")
    assert {pid: a.maps for pid, a in users.items()} == {twice.pid: 2, once.pid: 1}
    (seg,) = [s for s in snapshot.sysv_shm if s.ref == shm_ref]
    assert seg.nattch == 3  # mappings, not processes
    assert attach.unknown[shm_ref] == 0
    assert users[twice.pid].comm.startswith("python")


def test_fork_doubles_the_mappings_and_both_processes_are_attachers(
    ipc: IpcFactory, hold: Hold
) -> None:
    shm = ipc.sysv_shm()

    def attach_then_fork() -> object:
        segment = sysv_ipc.attach(shm.id)
        child = Holder(lambda: None)  # inherits the mapping
        return segment, child

    parent = hold(attach_then_fork)
    _, attach = scanned()
    users = by_pid(attach, f"sysv-shm:{shm.id}")
    assert len(users) == 2 and parent.pid in users
    assert all(a.maps == 1 for a in users.values())


def test_segment_removed_while_attached_keeps_its_attachers(ipc: IpcFactory, hold: Hold) -> None:
    shm = ipc.sysv_shm(key=None)
    user = hold(lambda: sysv_ipc.attach(shm.id))
    shm.remove()
    snapshot, attach = scanned()
    (seg,) = [s for s in snapshot.sysv_shm if s.id == shm.id]
    assert (seg.dest, seg.key) == (True, 0)  # the name in maps still carries the old key
    assert list(by_pid(attach, seg.ref)) == [user.pid]


def test_private_segments_are_told_apart_by_inode_not_by_name(ipc: IpcFactory, hold: Hold) -> None:
    segments = [ipc.sysv_shm(key=sysv_ipc.IPC_PRIVATE) for _ in range(3)]
    users = [hold(lambda s=s: sysv_ipc.attach(s.id)) for s in segments]
    _, attach = scanned()
    for segment, user in zip(segments, users, strict=True):
        assert list(by_pid(attach, f"sysv-shm:{segment.id}")) == [user.pid]


def test_a_file_replaced_under_its_name_is_not_credited_with_the_old_mapping(
    ipc: IpcFactory, hold: Hold
) -> None:
    name = ipc.posix_shm(size=4096)

    def map_it() -> object:
        memory = posix_ipc.SharedMemory(name)
        mapping = mmap.mmap(memory.fd, 4096)
        memory.close_fd()
        return mapping

    mapper = hold(map_it)
    posix_ipc.unlink_shared_memory(name)
    posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096).close_fd()  # a new inode
    _, attach = scanned()
    assert mapper.pid not in by_pid(attach, f"posix-shm:{name}")


def test_named_semaphore_creator_is_found_through_glibcs_temporary_name(
    ipc: IpcFactory, hold: Hold
) -> None:
    name = "/" + unique("semcreator")
    ipc.defer(lambda: posix_ipc.unlink_semaphore(name))
    creator = hold(lambda: posix_ipc.Semaphore(name, posix_ipc.O_CREX, initial_value=1))
    with open(f"/proc/{creator.pid}/maps") as f:
        assert "/dev/shm/sem." in f.read()  # mapped as sem.XXXXXX (deleted), not sem.NAME
    _, attach = scanned()
    user = by_pid(attach, f"posix-sem:{name}")[creator.pid]
    assert (user.maps, user.fds) == (1, 0)


def test_a_process_holding_only_a_descriptor_is_a_holder(ipc: IpcFactory, hold: Hold) -> None:
    name = ipc.posix_shm()
    holder = hold(lambda: posix_ipc.SharedMemory(name))  # open, never mapped
    _, attach = scanned()
    user = by_pid(attach, f"posix-shm:{name}")[holder.pid]
    assert (user.maps, user.fds) == (0, 1)


def test_a_process_holding_a_message_queue_is_a_holder(
    ipc: IpcFactory, hold: Hold, mqueue_mounted: str
) -> None:
    queue = ipc.posix_mq()
    queue.close()  # else the holder inherits this descriptor too, and holds two
    holder = hold(lambda: posix_ipc.MessageQueue(queue.name))
    _, attach = scanned()
    assert by_pid(attach, f"posix-mq:{queue.name}")[holder.pid].fds == 1


def test_processes_coming_and_going_during_scans_are_skipped_quietly(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm()
    keeper = sysv_ipc.attach(shm.id)
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            subprocess.run(["true"], check=False)

    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    try:
        for _ in range(30):
            _, attach = scanned()
            assert os.getpid() in by_pid(attach, f"sysv-shm:{shm.id}")
    finally:
        stop.set()
        worker.join(10)
        keeper.detach()


def scan_counts(ref: str) -> tuple[int, int, int]:
    _, attach = scanned()
    return len(attach.attachers.get(ref, ())), attach.unknown[ref], attach.unreadable


def test_as_an_ordinary_user_other_users_processes_are_unknown_attachers(
    ipc: IpcFactory, hold: Hold
) -> None:
    shm = ipc.sysv_shm()
    hold(lambda: sysv_ipc.attach(shm.id))  # a root process
    seen, unknown, unreadable = run_as_nobody(scan_counts, f"sysv-shm:{shm.id}")
    assert seen == 0
    assert unknown == 1  # one mapping the kernel counts, none visible: "1 unknown", not "none"
    assert unreadable > 0


UNSHARED = """
import sys, sysv_ipc
open("/proc/sys/kernel/shm_next_id", "w").write(sys.argv[1])
seg = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, 4096)
print(seg.id, flush=True)
sys.stdin.read()
"""


def test_a_process_in_another_ipc_namespace_is_not_credited_with_a_host_segment(
    ipc: IpcFactory, hold: Hold
) -> None:
    shm = ipc.sysv_shm()
    host_user = hold(lambda: sysv_ipc.attach(shm.id))
    other = subprocess.Popen(
        ["unshare", "--ipc", sys.executable, "-c", UNSHARED, str(shm.id)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other.stdout is not None
        assert int(other.stdout.readline()) == shm.id  # its own segment, the same id
        _, attach = scanned()
        assert list(by_pid(attach, f"sysv-shm:{shm.id}")) == [host_user.pid]
    finally:
        other.communicate("", timeout=10)


def test_creator_liveness_says_exited_once_the_creator_is_gone(ipc: IpcFactory) -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        segment = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096)
        os.write(write_end, str(segment.id).encode())
        os._exit(0)
    os.close(write_end)
    shmid = int(os.read(read_end, 64))
    os.close(read_end)
    os.waitpid(pid, 0)
    ipc.defer(lambda: sysv_ipc.remove_shared_memory(shmid))
    out = subprocess.run([sys.executable, "-m", "shmtop", "list", "--json", "--kind",
                          "sysv-shm"], capture_output=True, check=True).stdout  # fmt: skip
    (seg,) = [o for o in json.loads(out)["objects"] if o["id"] == shmid]
    assert (seg["cpid"], seg["cpid_alive"], seg["cpid_state"]) == (pid, False, "exited")


def test_pid_state_tells_a_reused_pid_from_the_creator() -> None:
    lives = {10: PidLife(True, started=1000.0), 11: PidLife(False), 12: PidLife(True, None)}
    assert pid_state(10, since=1500, lives=lives) == "alive"  # running since before
    assert pid_state(10, since=900, lives=lives) == "reused"  # started after the event
    assert pid_state(11, since=900, lives=lives) == "exited"
    assert pid_state(12, since=900, lives=lives) == "alive"  # start time unreadable
    assert pid_state(0, since=900, lives=lives) is None  # no pid recorded
    assert pid_state(13, since=900, lives=lives) is None  # not asked about


def test_list_pid_shows_only_what_that_process_uses(ipc: IpcFactory, hold: Hold) -> None:
    used, unused = ipc.sysv_shm(), ipc.sysv_shm()
    name = ipc.posix_shm()
    user = hold(lambda: (sysv_ipc.attach(used.id), posix_ipc.SharedMemory(name)))
    out = subprocess.run([sys.executable, "-m", "shmtop", "list", "--json", "--pid",
                          str(user.pid)], capture_output=True, check=True).stdout  # fmt: skip
    objects = json.loads(out)["objects"]
    assert {o["ref"] for o in objects} == {f"sysv-shm:{used.id}", f"posix-shm:{name}"}
    assert f"sysv-shm:{unused.id}" not in {o["ref"] for o in objects}
    (attacher,) = next(o for o in objects if o["kind"] == "sysv-shm")["attachers"]
    assert attacher == {"pid": user.pid, "comm": attacher["comm"], "uid": 0, "user": "root",
                        "maps": 1, "fds": 0, "waiting": False}  # fmt: skip


def test_list_pid_of_no_process_is_a_clear_error() -> None:
    result = subprocess.run([sys.executable, "-m", "shmtop", "list", "--pid", "999999999"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert (result.returncode, result.stderr) == (1, "shmtop: no process 999999999\n")


def test_posix_objects_count_unreadable_processes_as_unknown(ipc: IpcFactory) -> None:
    name = ipc.posix_shm()
    _, attach = scanned()
    assert attach.unknown[f"posix-shm:{name}"] == attach.unreadable


def test_scan_without_objects_finds_no_one() -> None:
    attach = scan_attachers(Snapshot(time=time.time(), host="h", kinds=frozenset()))
    assert attach.attachers == {} and attach.processes == {}


def test_nobody_sees_its_own_processes(ipc: IpcFactory, hold: Hold) -> None:
    name = ipc.posix_shm(mode=0o644)

    def as_nobody() -> object:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        # Changing uid without exec leaves a process undumpable (its /proc closed even to
        # its own user); a program started as nobody would be dumpable.
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1)
        return posix_ipc.SharedMemory(name, read_only=True)

    holder = hold(as_nobody)
    seen = run_as_nobody(lambda: list(by_pid(scanned()[1], f"posix-shm:{name}")))
    assert holder.pid in seen


def lives_as_nobody(procfs: str) -> dict[int, PidLife | None]:
    return pid_lives([424242], procfs)


@pytest.mark.parametrize(("options", "expected"), [
    (["rw,nosuid,hidepid=invisible"], None),  # hidden, perhaps alive: unknown
    (["rw,nosuid,hidepid=2"], None),
    (["rw,nosuid,hidepid=ptraceable"], None),
    (["rw,nosuid,hidepid=0"], PidLife(alive=False)),
    (["rw,nosuid"], PidLife(alive=False)),
    (["rw,nosuid,hidepid=invisible,gid=65534"], PidLife(alive=False)),  # nobody is exempt
    (["rw,nosuid", "rw,hidepid=invisible"], None),  # the last mount is the /proc read
    (["rw,hidepid=invisible", "rw,nosuid"], PidLife(alive=False)),
])  # fmt: skip
def test_a_missing_pid_is_unknown_where_proc_hides_other_users(
    options: list[str], expected: PidLife | None
) -> None:
    base = Path(tempfile.mkdtemp(prefix=unique("proc")))  # readable by nobody, unlike tmp_path
    base.chmod(0o755)
    procfs = base / "proc"
    (procfs / "self").mkdir(parents=True)
    lines = [
        f"{22 + i} 1 0:21 / {procfs} rw,relatime - proc proc {o}\n" for i, o in enumerate(options)
    ]
    (procfs / "self" / "mountinfo").write_text("".join(lines))
    try:
        assert run_as_nobody(lives_as_nobody, str(procfs)) == {424242: expected}
    finally:
        shutil.rmtree(base)


OTHER_MOUNTS = """
import mmap, os, subprocess, sys
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/dev/shm"], check=True)
fd = os.open("/dev/shm/" + sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4096)
mapping = mmap.mmap(fd, 4096)
print("ready", flush=True)
sys.stdin.read()
"""


def test_a_process_in_another_mount_namespace_is_not_credited_with_a_host_file(
    ipc: IpcFactory,
) -> None:
    name = ipc.posix_shm()  # the host's /dev/shm/NAME
    other = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c",
         OTHER_MOUNTS, name[1:]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "ready"  # maps its own /dev/shm/NAME
        with open(f"/proc/{other.pid}/maps") as maps:
            assert f"/dev/shm{name}" in maps.read()
        _, attach = scanned()
        assert other.pid not in by_pid(attach, f"posix-shm:{name}")
    finally:
        other.communicate("", timeout=10)
