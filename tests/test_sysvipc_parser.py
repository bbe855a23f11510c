"""Crafted /proc/sysvipc text: formats of several kernels, and lines that do not fit."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shmtop.collect.sysvipc import (
    MSG_SPEC,
    SEM_SPEC,
    SHM_SPEC,
    TableFormatError,
    msg_spec,
    parse_table,
)
from shmtop.errors import Vanished
from shmtop.model import SysvMsg, SysvSem, SysvShm

SHM16 = (
    b"       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid"
    b"  cgid      atime      dtime      ctime                   rss                  swap\n"
)
SHM14 = (
    b"       key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid"
    b"      atime      dtime      ctime\n"
)


def test_16_column_kernel_line_parses_every_field() -> None:
    line = (
        b" -559038737      32769  1640    10000  2104  2105      2  1000  1001     0     0"
        b" 1795313159          0 1795313150        12288         4096\n"
    )
    (shm,) = parse_table(SHM16 + line, SHM_SPEC).values()
    assert shm == SysvShm(
        id=32769,
        key=0xDEADBEEF,
        mode=0o640,
        dest=True,
        locked=False,
        size=10000,
        cpid=2104,
        lpid=2105,
        nattch=2,
        uid=1000,
        gid=1001,
        cuid=0,
        cgid=0,
        atime=1795313159,
        dtime=None,
        ctime=1795313150,
        rss=12288,
        swap=4096,
    )


def test_14_column_kernel_has_no_rss_or_swap() -> None:
    line = b"0 7 2600 4096 1 1 0 0 0 0 0 0 0 5\n"
    (shm,) = parse_table(SHM14 + line, SHM_SPEC).values()
    assert (shm.rss, shm.swap, shm.locked, shm.dest, shm.mode) == (None, None, True, False, 0o600)
    assert (shm.atime, shm.ctime) == (None, 5)


def test_columns_are_found_by_header_name_not_position() -> None:
    header = b"shmid key perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n"
    (shm,) = parse_table(header + b"9 1234 600 1 2 3 4 5 6 7 8 10 11 12\n", SHM_SPEC).values()
    assert (shm.id, shm.key, shm.nattch) == (9, 1234, 4)


def test_header_without_a_required_column_is_a_format_error() -> None:
    with pytest.raises(TableFormatError, match="nattch"):
        parse_table(
            b"key shmid perms size cpid lpid uid gid cuid cgid atime dtime ctime\n", SHM_SPEC
        )


@pytest.mark.parametrize(
    "bad_line",
    [
        b"0 7 600 4096 1 1 0 0 0 0 0 0 0\n",  # one column short
        b"0 7 600 4096 1 1 0 0 0 0 0 0 0 5 6\n",  # one column long
        b"0 7 600 4096 1 x 0 0 0 0 0 0 0 5\n",  # not a number
        b"0 7 698 4096 1 1 0 0 0 0 0 0 0 5\n",  # perms not octal
        b"0 -7 600 4096 1 1 0 0 0 0 0 0 0 5\n",  # negative id
        b"0 7 600 -1 1 1 0 0 0 0 0 0 0 5\n",  # negative size
        b"0 2147483648 600 1 1 1 0 0 0 0 0 0 0 5\n",  # id beyond INT_MAX
        b"4294967296 7 600 1 1 1 0 0 0 0 0 0 0 5\n",  # key beyond 32 bits
        b"0 7 600 1 1 1 0 4294967296 0 0 0 0 0 5\n",  # uid beyond 32 bits
        b"\xff\xfe\n",
        b"\n",
    ],
)
def test_a_line_that_does_not_fit_is_skipped_and_the_rest_parse(bad_line: bytes) -> None:
    good = b"0 8 600 4096 1 1 0 0 0 0 0 0 0 5\n"
    parsed = parse_table(SHM14 + bad_line + good, SHM_SPEC)
    assert [shm.id for shm in parsed.values()] == [8]


def test_huge_sizes_and_times_are_kept_exactly() -> None:
    line = b"0 7 600 18446744073709551615 1 1 0 0 0 0 0 18446744073709551615 0 5\n"
    (shm,) = parse_table(SHM14 + line, SHM_SPEC).values()
    assert shm.size == 2**64 - 1
    assert shm.atime == 2**64 - 1


def test_unchanged_line_reuses_the_object_from_the_memo() -> None:
    text = SHM14 + b"0 7 600 4096 1 1 0 0 0 0 0 0 0 5\n"
    first = parse_table(text, SHM_SPEC)
    second = parse_table(text, SHM_SPEC, first)
    assert next(iter(second.values())) is next(iter(first.values()))
    changed = parse_table(text.replace(b" 1 1 0 ", b" 1 1 3 "), SHM_SPEC, first)
    assert next(iter(changed.values())).nattch == 3


def test_msg_and_sem_tables_parse() -> None:
    msg = (
        b"       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
        b"      stime      rtime      ctime\n"
        b" 305441741          0   600           5          1  2104     0     0     0     0     0"
        b" 1795313159          0 1795313159\n"
    )
    (queue,) = parse_table(msg, MSG_SPEC).values()
    assert (queue.key, queue.cbytes, queue.qnum, queue.lspid, queue.rtime) == (
        0x1234ABCD,
        5,
        1,
        2104,
        None,
    )
    sem = (
        b"       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
        b"-559038737         65   600          5     0     0     0     0          0 1795313159\n"
    )
    (sset,) = parse_table(sem, SEM_SPEC).values()
    assert (sset.id, sset.key, sset.nsems, sset.otime) == (65, 0xDEADBEEF, 5, None)


# Property-based: whatever the bytes, parsing never raises; what the kernel could print
# round-trips.

u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)


@given(st.binary(max_size=400))
def test_parser_never_raises_on_arbitrary_bytes_after_a_valid_header(body: bytes) -> None:
    for spec, header in ((SHM_SPEC, SHM16), (SHM_SPEC, SHM14)):
        parse_table(header + body, spec)


@given(st.lists(st.binary(max_size=30).filter(lambda b: b"\n" not in b), max_size=4))
def test_parser_skips_or_raises_format_error_for_any_header(words: list[bytes]) -> None:
    with contextlib.suppress(TableFormatError):
        parse_table(b" ".join(words) + b"\n0 1 2\n", SEM_SPEC)


@st.composite
def kernel_shm(draw: st.DrawFn) -> SysvShm:
    perms = draw(st.integers(0, 0o3777))
    return SysvShm(
        id=draw(st.integers(0, 2**31 - 1)),
        key=draw(u32),
        mode=perms & 0o777,
        dest=bool(perms & 0o1000),
        locked=bool(perms & 0o2000),
        size=draw(u64),
        cpid=draw(st.integers(0, 2**22)),
        lpid=draw(st.integers(0, 2**22)),
        nattch=draw(u64),
        uid=draw(u32),
        gid=draw(u32),
        cuid=draw(u32),
        cgid=draw(u32),
        atime=draw(st.one_of(st.none(), st.integers(1, 2**63))),
        dtime=draw(st.one_of(st.none(), st.integers(1, 2**63))),
        ctime=draw(st.one_of(st.none(), st.integers(1, 2**63))),
        rss=draw(u64),
        swap=draw(u64),
    )


def kernel_line(s: SysvShm) -> bytes:
    """Print a segment the way ipc/shm.c's sysvipc_shm_proc_show does."""
    signed_key = s.key - 2**32 if s.key >= 2**31 else s.key
    perms = s.mode | (0o1000 if s.dest else 0) | (0o2000 if s.locked else 0)
    fields = (
        f"{signed_key:10d} {s.id:10d} {perms:4o} {s.size:21d} {s.cpid:5d} {s.lpid:5d} "
        f"{s.nattch:5d} {s.uid:5d} {s.gid:5d} {s.cuid:5d} {s.cgid:5d} {s.atime or 0:10d} "
        f"{s.dtime or 0:10d} {s.ctime or 0:10d} {s.rss:21d} {s.swap:21d}\n"
    )
    return fields.encode()


@given(st.lists(kernel_shm(), max_size=5, unique_by=lambda s: s.id))
def test_every_segment_the_kernel_could_print_round_trips(segments: list[SysvShm]) -> None:
    text = SHM16 + b"".join(kernel_line(s) for s in segments)
    assert list(parse_table(text, SHM_SPEC).values()) == segments


MSG_HEADER = (
    b"       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
    b"      stime      rtime      ctime\n"
)
SEM_HEADER = (
    b"       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
)
when = st.one_of(st.none(), st.integers(1, 2**63))


@st.composite
def kernel_msg(draw: st.DrawFn) -> SysvMsg:
    return SysvMsg(
        id=draw(st.integers(0, 2**31 - 1)),
        key=draw(u32),
        mode=draw(st.integers(0, 0o777)),
        cbytes=draw(u64),
        qnum=draw(u64),
        lspid=draw(st.integers(0, 2**22)),
        lrpid=draw(st.integers(0, 2**22)),
        uid=draw(u32),
        gid=draw(u32),
        cuid=draw(u32),
        cgid=draw(u32),
        stime=draw(when),
        rtime=draw(when),
        ctime=draw(when),
        qbytes=None,
    )


@st.composite
def kernel_sem(draw: st.DrawFn) -> SysvSem:
    return SysvSem(
        id=draw(st.integers(0, 2**31 - 1)),
        key=draw(u32),
        mode=draw(st.integers(0, 0o777)),
        nsems=draw(u64),
        uid=draw(u32),
        gid=draw(u32),
        cuid=draw(u32),
        cgid=draw(u32),
        otime=draw(when),
        ctime=draw(when),
    )


def signed(key: int) -> int:
    return key - 2**32 if key >= 2**31 else key


def msg_line(q: SysvMsg) -> bytes:
    """As ipc/msg.c's sysvipc_msg_proc_show prints it."""
    return (
        f"{signed(q.key):10d} {q.id:10d} {q.mode:4o} {q.cbytes:10d} {q.qnum:10d} {q.lspid:5d} "
        f"{q.lrpid:5d} {q.uid:5d} {q.gid:5d} {q.cuid:5d} {q.cgid:5d} {q.stime or 0:10d} "
        f"{q.rtime or 0:10d} {q.ctime or 0:10d}\n"
    ).encode()


def sem_line(s: SysvSem) -> bytes:
    """As ipc/sem.c's sysvipc_sem_proc_show prints it."""
    return (
        f"{signed(s.key):10d} {s.id:10d} {s.mode:4o} {s.nsems:10d} {s.uid:5d} {s.gid:5d} "
        f"{s.cuid:5d} {s.cgid:5d} {s.otime or 0:10d} {s.ctime or 0:10d}\n"
    ).encode()


@given(st.lists(kernel_msg(), max_size=5, unique_by=lambda q: q.id))
def test_every_queue_the_kernel_could_print_round_trips(queues: list[SysvMsg]) -> None:
    text = MSG_HEADER + b"".join(msg_line(q) for q in queues)
    assert list(parse_table(text, MSG_SPEC).values()) == queues


@given(st.lists(kernel_sem(), max_size=5, unique_by=lambda s: s.id))
def test_every_semaphore_set_the_kernel_could_print_round_trips(sets: list[SysvSem]) -> None:
    text = SEM_HEADER + b"".join(sem_line(s) for s in sets)
    assert list(parse_table(text, SEM_SPEC).values()) == sets


QUEUE_LINES = MSG_HEADER + b"5 7 600 0 0 0 0 0 0 0 0 0 0 9\n5 8 600 0 0 0 0 0 0 0 0 0 0 9\n"


def test_queue_qbytes_come_from_the_lookup_and_vanished_queues_are_skipped() -> None:
    def lookup(msqid: int, key: int) -> int | None:
        if msqid == 8:
            raise Vanished("sysv-msg:8")
        return 1000 + key

    (queue,) = parse_table(QUEUE_LINES, msg_spec(lookup)).values()
    assert (queue.id, queue.qbytes) == (7, 1005)


def test_a_remembered_object_is_rebuilt_when_keep_rejects_it() -> None:
    qbytes = {7: 100, 8: 200}
    spec = msg_spec(lambda msqid, key: qbytes[msqid])
    first = parse_table(QUEUE_LINES, spec)
    qbytes[7] = 150  # IPC_SET changed qbytes: the /proc line may look the same
    again = parse_table(QUEUE_LINES, spec, first, keep=lambda q: q.qbytes == qbytes[q.id])
    assert [q.qbytes for q in again.values()] == [150, 200]
    assert list(again.values())[1] is list(first.values())[1]
