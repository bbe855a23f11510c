"""Looking inside real objects: `dump` against hexdump -C, members against ipcs, peeks that
leave queues as they were, reads that leave segments and tmpfs as they were."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import subprocess
import time
from collections.abc import Iterator

import pytest
import sysv_ipc

from shmtop.cli import main
from shmtop.collect import collect_snapshot
from shmtop.inspect import open_reader
from shmtop.libc import sem_set_value
from shmtop.model import Kind, SysvShm
from tests.holders import holders, waiting_for_zero
from tests.ipcfactory import IpcFactory
from tests.privileges import run_as_nobody, run_without

MiB = 1 << 20


def shmtop(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in this process: (status, stdout, stderr)."""
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    out.flush()
    return status, out.buffer.getvalue().decode(), err.getvalue()


def hexdump(path: str, *options: str) -> str:
    return subprocess.run(["hexdump", "-C", *options, path], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.fixture
def hold() -> Iterator[object]:
    with holders() as hold:
        yield hold


# dump == hexdump -C ----------------------------------------------------------------------


def test_dump_shows_bytes_written_at_known_offsets(ipc: IpcFactory) -> None:
    name, path = ipc.posix_shm_holding(b"", size=MiB)
    with open(path, "r+b") as f:
        for offset, marker in ((0, b"HEAD"), (0x12345, b"MIDDLE"), (MiB - 4, b"TAIL")):
            f.seek(offset)
            f.write(marker)
    status, out, _ = shmtop("dump", f"posix-shm:{name}", "--offset", "0x12340", "--length", "32")
    assert status == 0
    assert out.splitlines() == [
        "00012340  00 00 00 00 00 4d 49 44  44 4c 45 00 00 00 00 00  |.....MIDDLE.....|",
        "00012350  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
        "00012360",
    ]
    status, out, _ = shmtop("dump", f"posix-shm:{name}")
    assert "00000000  48 45 41 44 00" in out
    assert "000ffff0  00 00 00 00 00 00 00 00  00 00 00 00 54 41 49 4c  |............TAIL|" in out
    assert out.splitlines()[-1] == "00100000"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(random.Random(1).randbytes(70_001), id="random"),
        pytest.param(b"A" * 100 + b"B" * 64 + b"A" * 32 + bytes(200_000) + b"end", id="repeats"),
        pytest.param(b"", id="empty"),
        pytest.param(b"x" * 15, id="short"),
    ],
)
def test_dump_equals_hexdump_of_the_same_file(ipc: IpcFactory, data: bytes) -> None:
    name, path = ipc.posix_shm_holding(data)
    assert shmtop("dump", f"posix-shm:{name}") == (0, hexdump(path), "")


@pytest.mark.parametrize(("offset", "length"), [(0, 1), (7, 33), (65_530, 100), (1000, 200_000),
                                                (69_990, 50), (80_000, 10), (3, 0)])  # fmt: skip
def test_dump_of_a_range_equals_hexdump_s_n(ipc: IpcFactory, offset: int, length: int) -> None:
    data = random.Random(offset).randbytes(40_000) + bytes(30_000) + b"\xff" * 1
    name, path = ipc.posix_shm_holding(data)
    expected = hexdump(path, "-s", str(offset), "-n", str(length))
    argv = ("dump", f"posix-shm:{name}", "--offset", str(offset), "--length", str(length))
    assert shmtop(*argv) == (0, expected, "")


def test_dump_of_a_large_sparse_object_equals_hexdump(ipc: IpcFactory) -> None:
    name, path = ipc.posix_shm_holding(b"start", size=64 * MiB)
    with open(path, "r+b") as f:
        f.seek(40 * MiB + 3)
        f.write(b"island")
    assert shmtop("dump", f"posix-shm:{name}") == (0, hexdump(path), "")


def test_dump_of_a_segment_equals_hexdump_of_its_bytes(ipc: IpcFactory, tmp_path: object) -> None:
    data = random.Random(5).randbytes(5000) + bytes(9000) + b"\x00\x01" * 600
    shm = ipc.sysv_shm(size=len(data))
    shm.attach()
    shm.write(data)
    shm.detach()
    copy = f"{tmp_path}/copy"
    with open(copy, "wb") as f:
        f.write(data)
    assert shmtop("dump", f"sysv-shm:{shm.id}", "--offset", "100")[:2] == (
        0, hexdump(copy, "-s", "100"))  # fmt: skip


def test_dump_of_a_queue_or_set_is_a_usage_error(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    status, out, err = shmtop("dump", f"sysv-msg:{queue.id}")
    assert (status, out) == (2, "")
    assert err.startswith(f"shmtop: sysv-msg:{queue.id} holds no bytes to dump: `shmtop show")


def test_dump_of_a_missing_object_says_so(ipc: IpcFactory) -> None:
    assert shmtop("dump", "posix-shm:/shmtop-test-no-such-object") == (
        1, "", "shmtop: posix-shm:/shmtop-test-no-such-object: no such object (it may have "
        "been removed)\n")  # fmt: skip


# Reading disturbs nothing -----------------------------------------------------------------


def test_a_sparse_gibibyte_is_read_without_allocating_tmpfs(ipc: IpcFactory) -> None:
    name, path = ipc.posix_shm_holding(b"first page", size=1 << 30)
    before = os.stat(path).st_blocks
    entry = next(o for o in collect_snapshot(kinds=[Kind.POSIX_SHM]).objects if o.name.decode()
                 == name)  # fmt: skip
    reader = open_reader(entry, None)
    try:
        assert reader.size == 1 << 30
        assert reader.read(0, 10) == b"first page"
        for offset in range(0, 1 << 30, 64 * MiB):  # pages all over the object
            assert reader.read(offset + 4096, 4096) == bytes(4096)
        assert reader.read((1 << 30) - 16, 4096) == bytes(16)  # short read at the end
    finally:
        reader.close()
    status, out, _ = shmtop("dump", f"posix-shm:{name}", "--offset", str((1 << 30) - 16))
    assert status == 0
    assert out.splitlines()[-1] == "40000000"
    assert os.stat(path).st_blocks == before


def test_an_object_truncated_while_read_gives_short_reads(ipc: IpcFactory) -> None:
    name, path = ipc.posix_shm_holding(b"z" * 100_000)
    entry = next(o for o in collect_snapshot(kinds=[Kind.POSIX_SHM]).objects if o.name.decode()
                 == name)  # fmt: skip
    reader = open_reader(entry, None)
    try:
        assert reader.read(90_000, 100) == b"z" * 100
        os.truncate(path, 50_005)
        assert reader.size == 50_005
        assert reader.read(90_000, 100) == b""
        assert reader.read(50_000, 100) == b"z" * 5
        os.truncate(path, 0)
        assert reader.read(0, 4096) == b""
    finally:
        reader.close()


def segment_line(shmid: int) -> list[str]:
    with open("/proc/sysvipc/shm") as f:
        for line in f:
            if line.split()[1] == str(shmid):
                return line.split()
    raise AssertionError(f"segment {shmid} is gone")


NATTCH, LPID, ATIME, DTIME = 6, 5, 10, 11  # columns of /proc/sysvipc/shm


def test_root_reads_a_mapped_segment_without_touching_it(ipc: IpcFactory, hold: object) -> None:
    shm = ipc.sysv_shm(size=3 * MiB)
    shm.attach()
    shm.write(b"live data", MiB)
    shm.detach()
    holder = hold(lambda: sysv_ipc.attach(shm.id))
    time.sleep(1.1)  # a later attach would show in atime, which counts seconds
    before = segment_line(shm.id)
    status, out, err = shmtop("dump", f"sysv-shm:{shm.id}", "--offset", str(MiB), "--length", "9")
    assert (status, err) == (0, "")
    assert "6c 69 76 65 20 64 61 74  61" in out
    after = segment_line(shm.id)
    assert [after[i] for i in (NATTCH, LPID, ATIME, DTIME)] == [
        before[i] for i in (NATTCH, LPID, ATIME, DTIME)
    ]
    assert after[LPID] == str(holder.pid)  # type: ignore[attr-defined]


def test_an_unmapped_segment_is_read_by_a_child_that_attaches_and_exits(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm(size=8192)
    shm.attach()
    shm.write(b"kept", 4096)
    shm.detach()
    status, out, err = shmtop("dump", f"sysv-shm:{shm.id}", "--offset", "4096", "--length", "4")
    assert status == 0
    assert "6b 65 70 74" in out
    note = re.fullmatch(
        rf"shmtop: note: sysv-shm:{shm.id}: no process maps it, so process (\d+) attached it "
        r"read-only to read it and has exited: its lpid and attach/detach times now name that "
        r"process\n",
        err,
    )
    assert note is not None, err
    line = segment_line(shm.id)
    assert (line[NATTCH], line[LPID]) == ("0", note[1])  # detached again, by the child
    assert note[1] != str(os.getpid()) and not os.path.exists(f"/proc/{note[1]}")


def test_reading_root_s_object_as_nobody_names_the_owner(ipc: IpcFactory) -> None:
    name, _ = ipc.posix_shm_holding(b"secret")
    shm = ipc.sysv_shm(size=4096)
    posix = run_as_nobody(shmtop, "dump", f"posix-shm:{name}")
    sysv = run_as_nobody(shmtop, "dump", f"sysv-shm:{shm.id}")
    assert posix == (1, "", f"shmtop: posix-shm:{name} belongs to root (uid 0), mode 0600: "
                     "reading it needs root\n")  # fmt: skip
    assert sysv[:2] == (1, "")
    assert re.match(rf"shmtop: sysv-shm:{shm.id} belongs to root \(uid 0\)", sysv[2])


# Semaphore members and queued messages ----------------------------------------------------


def ipcs_members(semid: int) -> list[list[int]]:
    """semnum, value, ncount, zcount, pid rows of `ipcs -s -i ID`."""
    text = subprocess.run(["ipcs", "-s", "-i", str(semid)], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    rows = text.split("semnum")[1].splitlines()[1:]
    return [[int(v) for v in row.split()] for row in rows if row.strip()]


def test_five_members_with_a_waiter_for_zero(ipc: IpcFactory) -> None:
    semid = ipc.sysv_sem(nsems=5)
    for num, value in enumerate((3, 0, 1, 7, 0)):
        sem_set_value(semid, num, value)
    with waiting_for_zero(semid, 2):
        status, out, _ = shmtop("show", f"sysv-sem:{semid}", "--json")
        assert status == 0
        members = json.loads(out)["semaphores"]
        assert [m["zcnt"] for m in members] == [0, 0, 1, 0, 0]
        assert [m["value"] for m in members] == [3, 0, 1, 7, 0]
        assert [[m[k] for k in ("num", "value", "ncnt", "zcnt", "pid")] for m in members] == (
            ipcs_members(semid)
        )
        text = shmtop("show", f"sysv-sem:{semid}")[1]
        assert re.search(r"\n\s*2\s+1\s+0\s+1\s+\d+\s*\n", text.split("Members")[1])


def test_peeking_three_messages_leaves_them_queued(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    bodies = [(1, b"first"), (7, b"\x00\x1b[2Jsecond" + bytes(40)), (2, b"third")]
    for mtype, body in bodies:
        queue.send(body, type=mtype)
    before = queue.current_messages, queue.last_receive_pid, queue.last_receive_time
    status, out, _ = shmtop("show", f"sysv-msg:{queue.id}", "--json")
    assert status == 0
    messages = json.loads(out)["messages"]
    assert [(m["index"], m["mtype"], m["size"]) for m in messages] == [
        (0, 1, 5), (1, 7, 51), (2, 2, 5)]  # fmt: skip
    assert bytes.fromhex(messages[1]["head_hex"]) == bodies[1][1][:32]
    text = shmtop("show", f"sysv-msg:{queue.id}")[1]
    assert "\x1b" not in text
    assert "\\x1b[2Jsecond" in text
    assert (queue.current_messages, queue.last_receive_pid, queue.last_receive_time) == before
    assert [queue.receive(block=False) for _ in bodies] == [(b, t) for t, b in bodies]


def test_a_kernel_without_msg_copy_is_named_plainly(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    queue.send(b"kept", type=1)
    status, out, err = run_without("msgrcv", shmtop, "show", f"sysv-msg:{queue.id}", "--json")
    document = json.loads(out)
    assert status == 0  # the queue itself is still shown
    assert document["messages"] is None and document["qnum"] == 1
    assert "cannot copy messages without taking them" in document["problem"]
    assert err.startswith("shmtop: note: this kernel cannot copy messages")
    assert queue.current_messages == 1


def test_a_posix_queue_says_its_messages_cannot_be_peeked(ipc: IpcFactory,
                                                          mqueue_mounted: str) -> None:  # fmt: skip
    queue = ipc.posix_mq(maxmsg=4, msgsize=16)
    queue.send(b"waiting")
    status, out, _ = shmtop("show", f"posix-mq:{queue.name}", "--json")
    document = json.loads(out)
    assert status == 0
    assert document["messages"] is None
    assert "cannot be read without taking them" in document["problem"]
    assert document["curmsgs"] == 1
    assert queue.current_messages == 1


def test_members_of_root_s_set_as_nobody_are_refused_plainly(ipc: IpcFactory) -> None:
    semid = ipc.sysv_sem(nsems=2)
    status, out, err = run_as_nobody(shmtop, "show", f"sysv-sem:{semid}", "--json")
    assert status == 0  # the object itself is still shown
    assert json.loads(out)["semaphores"] is None
    assert err.startswith(f"shmtop: note: sysv-sem:{semid} belongs to root (uid 0), mode 0600")


def test_reads_stop_at_the_end_of_a_segment(ipc: IpcFactory) -> None:
    shm = ipc.sysv_shm(size=4096)
    objects = collect_snapshot(kinds=[Kind.SYSV_SHM]).objects
    segment = next(o for o in objects if isinstance(o, SysvShm) and o.id == shm.id)
    reader = open_reader(segment, None)
    assert reader.read(4000, 200) == b" " * 96  # sysv_ipc fills new segments with spaces
    reader.close()
