"""The dashboard over real pipes, a FIFO pair and a memfd, with the real collector as root:
the All view shows the stuck pipe and hides the idle one, the Pipes view shows both with
their fill, state and blocked ends, the Mem view the memfd and its holders, the Waiting
view names the blocked writer, its call and its pipe (Enter: the pipe's detail), nothing of
these kinds is offered for removal, and after all that looking every byte is still in the
pipe."""

from __future__ import annotations

import fcntl
import mmap
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from textual.pilot import Pilot

from shmtop.collect.everywhere import Everywhere, collect_everywhere
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.hexscreen import HexScreen
from shmtop.tui.processes import KeyedTable
from shmtop.tui.removal import ConfirmRemoval
from shmtop.tui.waiting import WaitingScreen
from tests.holders import holders
from tests.ipcfactory import unique
from tests.privileges import require_root
from tests.test_pipes import F_GETPIPE_SZ, BlockedWriter, in_write, wait_until, waiting_bytes
from tests.tui.screen import screen_text, until

SIZE = (160, 50)


@dataclass
class Objects:
    stuck: str  # a full pipe with its writer asleep
    idle: str  # a pipe with a reader and a writer and nothing in it
    fifo: str
    fifo_path: str
    memfd: str
    writer: int  # the blocked writer's pid
    memfd_holder: int


def only(keep: Any, *others: int) -> Any:
    """In a holder (a forked child): close the other tests objects' descriptors it
    inherited, so that each object has exactly the ends and holders the test gives it."""
    for fd in others:
        os.close(fd)
    return keep


def fifo_reader(path: str, *others: int) -> int:
    return only(os.open(path, os.O_RDONLY | os.O_NONBLOCK), *others)


def fifo_writer(path: str, *others: int) -> int:
    fd = os.open(path, os.O_WRONLY)  # a reader holds it open: this does not block
    os.write(fd, b"fifo bytes")
    return only(fd, *others)


@pytest.fixture
def objects() -> Iterator[tuple[Objects, int, int]]:
    """The objects, and (the stuck pipe's read end, its capacity) for the test to drain."""
    require_root("reading other processes' descriptors and blocked calls")
    with holders() as hold, tempfile.TemporaryDirectory() as directory:
        r, w = os.pipe()
        capacity = fcntl.fcntl(r, F_GETPIPE_SZ)
        writer = BlockedWriter(w, r, capacity)
        os.close(w)
        try:
            idle_r, idle_w = os.pipe()
            idle_inode = os.fstat(idle_r).st_ino
            hold(lambda: only(r, idle_r, idle_w))  # the stuck pipe's second reader, awake
            hold(lambda: only((idle_r, idle_w), r))  # both ends of the idle pipe
            os.close(idle_r)
            os.close(idle_w)
            path = os.path.join(directory, unique("fifo"))
            os.mkfifo(path, 0o600)
            hold(lambda: fifo_reader(path, r))
            hold(lambda: fifo_writer(path, r))
            with shared_memfd(hold, r) as (memfd, memfd_holder):
                wait_until(lambda: waiting_bytes(r) == capacity and in_write(writer.pid), "")
                yield Objects(
                    stuck=f"pipe:{os.fstat(r).st_ino}", idle=f"pipe:{idle_inode}",
                    fifo=_fifo_ref(path), fifo_path=path, memfd=memfd, writer=writer.pid,
                    memfd_holder=memfd_holder,
                ), r, capacity  # fmt: skip
        finally:
            drain(r)  # the writer writes its last byte and ends
            writer.wait()
            os.close(r)


@contextmanager
def shared_memfd(hold: Any, r: int) -> Iterator[tuple[str, int]]:
    """A memfd held and mapped by this process and shared through fork with a holder."""
    fd = os.memfd_create(unique("memfd"), os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, 8192)
        with mmap.mmap(fd, 8192) as mapping:
            mapping[:11] = b"hello memfd"
            holder = hold(lambda: only((fd, mapping), r))
            yield f"memfd:{os.fstat(fd).st_ino}", holder.pid
    finally:
        os.close(fd)


def drain(r: int) -> None:
    os.set_blocking(r, False)
    try:
        while os.read(r, 1 << 16):
            pass
    except BlockingIOError:
        pass


def _fifo_ref(path: str) -> str:
    st = os.stat(path)
    return f"fifo:{os.major(st.st_dev)}.{os.minor(st.st_dev)}:{st.st_ino}"


def dashboard() -> ShmtopApp:
    """As root: the every-namespace poller, as `shmtop` itself runs."""
    return ShmtopApp(source=Everywhere().collect, interval=60,
                     fresh=lambda: collect_everywhere(attachers=True))  # fmt: skip


async def loaded(pilot: Pilot, app: ShmtopApp, found: Objects) -> None:
    await until(pilot, lambda: found.stuck in app.model.objects, timeout=30)
    await until(pilot, lambda: app.model.context.attach is not None, timeout=30)


async def view(pilot: Pilot, app: ShmtopApp, key: str, view_id: str) -> None:
    await pilot.press(key)
    await until(pilot, lambda: app.model.view.id == view_id)
    await pilot.pause()


def cells(app: ShmtopApp, ref: str) -> dict[str, str]:
    ids = [column.id for column in app.model.columns]
    return dict(zip(ids, app.model.cells(ref), strict=True))


async def to_row(pilot: Pilot, app: ShmtopApp, ref: str) -> None:
    app.model.cursor = ref
    app.table.sync()
    await pilot.pause()


async def test_views_over_real_pipes_fifo_and_memfd(objects: tuple[Objects, int, int]) -> None:
    found, r, capacity = objects
    app = dashboard()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, found)
        shown = set(app.model.order)  # the All view: what is stuck, never what is idle
        assert {found.stuck, found.fifo, found.memfd} <= shown
        assert found.idle in app.model.objects and found.idle not in shown

        await view(pilot, app, "8", "pipes")
        assert {found.stuck, found.idle, found.fifo} <= set(app.model.order)
        stuck = cells(app, found.stuck)
        assert (stuck["state"], stuck["blocked"], stuck["ends"], stuck["full"]) == (
            "full",
            "writer",
            "2r 1w",
            "100%",
        )  # this test's r, the holder's r, the writer
        idle = cells(app, found.idle)
        assert (idle["buffered"], idle["state"], idle["blocked"]) == ("0B", "empty", "-")
        fifo = cells(app, found.fifo)
        assert (fifo["buffered"], fifo["ends"], fifo["state"]) == ("10B", "1r 1w", "partly full")
        assert fifo["path"] == found.fifo_path  # as its holders see it

        await view(pilot, app, "9", "mapped")
        assert found.memfd in app.model.order
        memfd = cells(app, found.memfd)
        assert (memfd["size"], memfd["alloc"]) == ("8K", "4K")
        assert memfd["procs"].partition("+")[0] == "2"  # this process and its child
        await to_row(pilot, app, found.memfd)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await until(pilot, lambda: str(found.memfd_holder) in screen_text(app))  # its holders
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, HexScreen))
        await until(pilot, lambda: "hello memfd" in screen_text(app))
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen is app.screen_stack[0])

        await to_row(pilot, app, found.memfd)
        await pilot.press("delete")  # not offered: the kernel frees it with its holders
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmRemoval)
        assert any("not offered for removal" in n.message for n in app._notifications)

        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WaitingScreen))
        key = f"{found.writer} {found.stuck}"
        await until(pilot, lambda: key in rows(app), timeout=10)
        assert rows(app)[key][2:4] == ["write", found.stuck]
        table = app.screen.query_one(KeyedTable)
        table.move_cursor(row=list(rows(app)).index(key))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await until(pilot, lambda: "asleep in a write" in screen_text(app))  # its ends
        assert "a write blocks" in screen_text(app)  # its state, full, in words

    assert waiting_bytes(r) == capacity  # every byte is still in the pipe after all that
    os.set_blocking(r, False)
    drained = b""
    while len(drained) < capacity + 1:
        try:
            drained += os.read(r, 1 << 16)
        except BlockingIOError:
            wait_until(lambda: waiting_bytes(r) > 0, "the last byte")
    assert drained == b"x" * capacity + b"y"


def rows(app: ShmtopApp) -> dict[str, list[str]]:
    table = app.screen.query_one(KeyedTable)
    return {str(key.value): [str(cell) for cell in table.get_row(key)] for key in table.rows}
