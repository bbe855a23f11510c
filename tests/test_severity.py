"""What needs a look first (shmtop/severity.py), and how USE and the mark column say it."""

from __future__ import annotations

from shmtop.columns import COLUMN_BY_ID, Context, use_of
from shmtop.model import Attacher, AttachMap, Endpoint, Pipe, Verdict
from shmtop.severity import (
    BLOCKED,
    LEAKED,
    NEARLY_FULL,
    SEVERITY_OF_MARK,
    UNKNOWN,
    UNREAD,
    WAITED,
    Severity,
    flags,
    fullness,
)
from tests.tui.fakes import msg, pmq, psem, pshm, sem, shm

LEAKED_VERDICT = Verdict(True, ("nattch 0",))
UNKNOWN_VERDICT = Verdict(False, ("cannot know",), unknown=True)


def test_a_queue_is_as_full_as_its_bytes_of_qbytes_a_posix_queue_its_messages() -> None:
    assert fullness(msg(1, cbytes=15_800, qbytes=16_384)).percent > 96
    assert fullness(msg(1, qbytes=None)) is None  # not permitted to read it: unknown
    assert fullness(pmq(b"/q", 10)).percent == 100.0
    assert fullness(shm(1)) is None and fullness(pshm(b"/x")) is None


def pipe(buffered: int | None, writer_blocked: bool = False) -> Pipe:
    ends = (
        Endpoint(10, "producer", 0, 1, "w", writer_blocked),
        Endpoint(11, "consumer", 0, 0, "r"),
    )
    return Pipe(0x10, 4242, 0, 0, 0o600, ends, buffered, 65536, None)


def test_a_pipe_is_as_full_as_its_bytes_of_its_capacity() -> None:
    """A full pipe is the classic stall (its writer sleeps): the worst mark but a leak's."""
    assert flags(pipe(65536, writer_blocked=True), None) == (BLOCKED,)
    assert flags(pipe(60000), None) == (NEARLY_FULL,)
    assert flags(pipe(0), None) == () and fullness(pipe(None)) is None


def test_flags_worst_first() -> None:
    queue = msg(1, qnum=260, cbytes=15_800, lspid=5, lrpid=0)
    assert flags(queue, None) == (NEARLY_FULL, UNREAD)
    assert flags(queue, LEAKED_VERDICT)[0] == LEAKED
    assert flags(pmq(b"/q", 10), None) == (BLOCKED,)
    assert flags(pmq(b"/q", 3), None) == ()
    assert flags(sem(2), None, waiting=1) == (WAITED,)
    assert flags(psem(b"/s", 0, waiters=2), None) == (WAITED,)
    assert flags(shm(1), UNKNOWN_VERDICT) == (UNKNOWN,)
    assert flags(shm(1), Verdict(False, ("in use",))) == ()


def test_each_mark_means_one_severity() -> None:
    assert SEVERITY_OF_MARK["!"] is Severity.LEAKED and SEVERITY_OF_MARK["?"] is Severity.UNKNOWN
    assert SEVERITY_OF_MARK["%"] is SEVERITY_OF_MARK["#"] is Severity.WARNING


def test_use_says_how_full_and_how_many_wait() -> None:
    waiter = Attacher(7, "gate-waiter", 0, 0, 0, True)
    ctx = Context({}, AttachMap(0.0, attachers={"sysv-sem:2": (waiter,)}))
    assert use_of(msg(1, qnum=260, cbytes=15_800), ctx).text == "260 msgs 96%"
    assert use_of(pmq(b"/q", 10), ctx).text == "10/10 msgs 100%"
    assert use_of(sem(2, nsems=1), ctx).text == "1 sem, 1 waiting"
    mark = COLUMN_BY_ID["mark"]
    assert mark.cell(sem(2), ctx) == "~" and mark.cell(shm(1), ctx) == ""


def test_sorting_by_use_puts_the_fullest_last() -> None:
    use = COLUMN_BY_ID["use"]
    ctx = Context({})
    order = sorted([pmq(b"/half", 5), pmq(b"/full", 10), shm(1), msg(3, cbytes=16_000)],
                   key=lambda o: use.sort(o, ctx))  # fmt: skip
    assert [o.ref for o in order][-2:] == ["sysv-msg:3", "posix-mq:/full"]


def test_alloc_is_what_an_object_takes_in_memory() -> None:
    alloc, ctx = COLUMN_BY_ID["alloc"], Context({})
    assert alloc.cell(pshm(b"/sparse", 1 << 30, allocated=8192), ctx) == "8K"
    assert alloc.cell(shm(1, rss=4096, swap=4096), ctx) == "8K"
    assert alloc.cell(msg(1), ctx) == "-"
